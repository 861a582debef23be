"""The estweight command line as real processes: every subcommand, a bad
config, and SIGKILL during `estweight train` followed by a rerun."""
import json
import os
import signal
import subprocess
import sys

import pytest
import tensorflow as tf

from test_cli import CONFIG, write_data

pytestmark = pytest.mark.slow
CONSOLE_SCRIPT = os.path.join(os.path.dirname(sys.executable), "estweight")


def command(*args, module=False):
  if module:
    return [sys.executable, "-m", "estweight", *args]
  return [CONSOLE_SCRIPT, *args]


def env():
  out = dict(os.environ)
  out.pop("TF_CPP_MIN_LOG_LEVEL", None)  # the CLI quiets TensorFlow itself
  return out


def run(*args, module=False, timeout=300):
  done = subprocess.run(command(*args, module=module), capture_output=True,
                        text=True, env=env(), timeout=timeout, check=False)
  return done.returncode, done.stdout, done.stderr


@pytest.fixture(name="config_path")
def fixture_config_path(tmp_path):
  data = write_data(tmp_path / "data.csv", n=96)
  path = tmp_path / "config.py"
  path.write_text(CONFIG.format(train=data))
  return str(path)


def history(model_dir):
  with open(os.path.join(model_dir, "driver", "state.json")) as f:
    return [(h["global_step"], round(h["metrics"]["loss"], 6))
            for h in json.load(f)["history"]]


def test_every_subcommand_as_a_process(config_path, tmp_path):
  model_dir = str(tmp_path / "run")
  code, out, err = run("train", f"--config={config_path}",
                       f"--model_dir={model_dir}")
  assert code == 0, err
  assert "Evaluation at step 30 (best):" in out
  assert "step 30 | loss" in err  # the progress lines (absl log, stderr)
  code, out, err = run("evaluate", f"--model_dir={model_dir}", module=True)
  assert code == 0 and "accuracy" in out, err
  code, out, err = run("predict", f"--model_dir={model_dir}")
  assert code == 0 and "predictions of predict.split='eval' to" in out, err
  code, out, err = run("export", f"--model_dir={model_dir}")
  assert code == 0, err
  # The path is the last line, after the checkpoint and the serving schema.
  assert os.path.exists(os.path.join(out.strip().splitlines()[-1],
                                     "saved_model.pb"))
  code, out, err = run("search", f"--config={config_path}",
                       f"--model_dir={tmp_path / 'search'}",
                       "--config.driver.max_steps=10")
  assert code == 0 and "Best:" in out, err


def test_a_bad_config_exits_non_zero_with_one_line(config_path, tmp_path):
  model_dir = str(tmp_path / "run")
  code, out, err = run("train", f"--config={config_path}",
                       f"--model_dir={model_dir}", "--config.data.label=y")
  assert code == 1 and out == ""
  assert err.strip().splitlines() == [err.strip()]  # TF's own logs quiet too
  assert err.startswith("estweight train: error: data.label='y' is not a "
                        "column")
  assert not os.path.exists(model_dir)


def _latest_step(model_dir):
  path = tf.train.latest_checkpoint(model_dir)
  return int(path.rsplit("-", 1)[1]) if path else 0


def test_sigkill_then_the_same_command_resumes(config_path, tmp_path):
  args = [f"--config={config_path}", "--config.driver.max_steps=300",
          "--config.driver.steps_per_iteration=20"]
  reference = str(tmp_path / "uninterrupted")
  code, _, err = run("train", *args, f"--model_dir={reference}")
  assert code == 0, err

  model_dir = str(tmp_path / "killed")
  # Killed right after step 65: the last checkpoint is the iteration's at
  # step 60 (steps_per_iteration=20), and steps 61-65 are lost.
  killed = subprocess.run(
      command("train", *args, f"--model_dir={model_dir}"),
      capture_output=True, text=True, timeout=300, check=False,
      env=dict(env(), ESTWEIGHT_KILL_AFTER="step:65"))
  assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
  assert _latest_step(model_dir) == 60

  code, _, err = run("train", *args, f"--model_dir={model_dir}")
  assert code == 0, err
  assert _latest_step(model_dir) == 300
  # Same evaluations at the same steps as the run that was never killed.
  assert history(model_dir) == history(reference)
