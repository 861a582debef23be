"""The estweight command line, in process: config flow, commands, errors.

Every run goes through `estweight.cli.app.run(argv)`, the function the
console script calls, on a small CSV written by the test.
"""
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from estweight.cli import app
from estweight.cli import config as config_lib
from support import models

CONFIG = '''
def get_config():
  return {{
      "data": {{"train": {train!r}, "eval_fraction": 0.25, "batch_size": 8}},
      "model": {{"name": "DNNClassifier", "hidden_units": [4],
                "optimizer": "Adam", "learning_rate": 0.05}},
      "run": {{"tf_random_seed": 7, "log_step_count_steps": 10}},
      "driver": {{"steps_per_iteration": 10, "max_steps": 30}},
      "search": {{"grid": {{"model.learning_rate": [0.01, 0.1]}}}},
  }}
'''


def write_data(path, n=64, seed=0):
  rng = np.random.RandomState(seed)
  x1, x2 = rng.normal(size=n), rng.normal(size=n)
  color = rng.choice(["red", "blue"], size=n)
  target = (x1 + 0.5 * (color == "red") > 0).astype(int)
  with open(path, "w") as f:
    f.write("x1,x2,color,target\n")
    for row in zip(x1, x2, color, target):
      f.write("%.5f,%.5f,%s,%d\n" % row)
  return str(path)


@pytest.fixture(name="setup")
def fixture_setup(tmp_path):
  data = write_data(tmp_path / "data.csv")
  config = tmp_path / "config.py"
  config.write_text(CONFIG.format(train=data))
  return str(config), str(tmp_path / "run")


def run(*args):
  return app.run(["estweight", *args])


def test_config_layers_defaults_file_and_overrides(setup):
  config_path, _ = setup
  config = config_lib.resolve(config_path, [
      config_lib.parse_override("--config.driver.max_steps=50"),
      config_lib.parse_override("--config.model.hidden_units=[8, 2]"),
      config_lib.parse_override("--config.model.name=LinearClassifier"),
      config_lib.parse_override("--config.model.learning_rate=1")])
  assert config.driver.max_steps == 50  # override
  assert config.driver.steps_per_iteration == 10  # file
  assert config.driver.early_stopping.patience == 3  # default
  assert list(config.model.hidden_units) == [8, 2]
  assert config.model.name == "LinearClassifier"  # bare string
  assert config.model.learning_rate == 1.0 and isinstance(
      config.model.learning_rate, float)  # an int is a valid float


def test_train_saves_the_config_resumes_and_prints_metrics(setup, capsys):
  config_path, model_dir = setup
  assert run("train", f"--config={config_path}",
             f"--model_dir={model_dir}") == 0
  out = capsys.readouterr().out
  assert "Trained to step 30; 3 evaluations.\nBest checkpoint: " in out
  assert "Evaluation at step 30 (best):" in out and "accuracy" in out
  with open(os.path.join(model_dir, "config.json")) as f:
    saved = json.load(f)
  assert saved["driver"]["max_steps"] == 30
  assert saved["data"]["train"].endswith("data.csv")
  with open(os.path.join(model_dir, "driver", "state.json")) as f:
    steps = [h["global_step"] for h in json.load(f)["history"]]
  assert steps == [10, 20, 30]
  assert os.path.exists(os.path.join(model_dir, "learning_curve.png"))
  before = models.snapshot(model_dir)
  # The same command again: nothing left to train, nothing rewritten.
  assert run("train", f"--config={config_path}",
             f"--model_dir={model_dir}") == 0
  after = models.snapshot(model_dir)
  assert after == before


def test_a_changed_config_is_refused_with_a_diff_unless_forced(setup,
                                                               capsys):
  config_path, model_dir = setup
  assert run("train", f"--config={config_path}",
             f"--model_dir={model_dir}") == 0
  capsys.readouterr()
  before = models.snapshot(model_dir)
  assert run("train", f"--config={config_path}", f"--model_dir={model_dir}",
             "--config.driver.max_steps=40",
             "--config.model.learning_rate=0.1") == 1
  err = capsys.readouterr().err.strip()
  assert len(err.splitlines()) == 1 and "Traceback" not in err
  assert ("driver.max_steps: 30 -> 40; model.learning_rate: 0.05 -> 0.1"
          in err) and "--force" in err
  assert models.snapshot(model_dir) == before
  assert run("train", f"--config={config_path}", f"--model_dir={model_dir}",
             "--config.driver.max_steps=40", "--force") == 0
  with open(os.path.join(model_dir, "driver", "state.json")) as f:
    steps = [h["global_step"] for h in json.load(f)["history"]]
  assert steps == [10, 20, 30, 40]


def test_evaluate_predict_export_use_the_saved_config(setup, capsys):
  config_path, model_dir = setup
  assert run("train", f"--config={config_path}",
             f"--model_dir={model_dir}") == 0
  capsys.readouterr()
  assert run("evaluate", f"--model_dir={model_dir}") == 0
  assert "global_step           30" in capsys.readouterr().out
  out_csv = os.path.join(model_dir, "p.csv")
  assert run("predict", f"--model_dir={model_dir}",
             f"--output={out_csv}") == 0
  with open(out_csv) as f:
    lines = f.read().splitlines()
  assert lines[0].startswith("row,label,")
  assert "probabilities_1" in lines[0]
  with open(os.path.join(os.path.dirname(model_dir), "data.csv")) as f:
    targets = [int(l.rsplit(",", 1)[1]) for l in f.read().splitlines()[1:]]
  # The eval split takes round-half-up(0.25 * count) rows of each class.
  expected = sum(int(0.25 * targets.count(c) + 0.5) for c in (0, 1))
  assert len(lines) == 1 + expected
  assert run("predict", f"--model_dir={model_dir}",
             "--config.predict.format=jsonl") == 0
  with open(os.path.join(model_dir, "predictions.jsonl")) as f:
    first = json.loads(f.readline())
  assert set(first) >= {"row", "label", "class_ids", "probabilities"}
  capsys.readouterr()
  assert run("export", f"--model_dir={model_dir}") == 0
  path = capsys.readouterr().out.strip().splitlines()[-1]
  assert os.path.exists(os.path.join(path, "saved_model.pb"))
  assert path.startswith(os.path.join(model_dir, "export"))


def test_search_runs_every_grid_point(setup, capsys):
  config_path, model_dir = setup
  assert run("search", f"--config={config_path}", f"--model_dir={model_dir}",
             "--config.driver.max_steps=10") == 0
  out = capsys.readouterr().out
  assert "Best: {'model.learning_rate':" in out
  with open(os.path.join(model_dir, "results.json")) as f:
    results = json.load(f)
  assert [r["params"] for r in results] == [{"model.learning_rate": 0.01},
                                            {"model.learning_rate": 0.1}]
  assert os.path.exists(os.path.join(model_dir, "grid_summary.png"))


@pytest.mark.parametrize("args, message", [
    (["--config.model.learnin_rate=0.1"],
     "Unknown config key 'model.learnin_rate'. Did you mean "
     "'model.learning_rate'?"),
    (["--config.driver.max_steps='many'"],
     "Config key 'driver.max_steps' must be a int. Received: "
     "driver.max_steps='many'."),
    (["--config.data.train=/no/such.csv"], "does not exist"),
    (["--config.data.label=label"],
     "data.label='label' is not a column"),
    (["--config.model.name=DNNClasifier"], "Did you mean 'DNNClassifier'?"),
    (["--config.driver.steps_per_iteration=0"],
     "driver.steps_per_iteration must be a positive integer"),
    (["--config.driver.early_stopping.metric=acc"],
     "driver.early_stopping.metric='acc' is not an evaluation metric"),
    (["--config.model.args={'hiden_units': [2]}"],
     "has no argument model.args.hiden_units. Did you mean"),
])
def test_bad_input_is_one_line_and_leaves_no_model_dir(setup, capsys, args,
                                                       message):
  config_path, model_dir = setup
  assert run("train", f"--config={config_path}", f"--model_dir={model_dir}",
             *args) == 1
  err = capsys.readouterr().err.strip()
  assert err.startswith("estweight train: error: ")
  assert message in err, err
  assert len(err.splitlines()) == 1 and "Traceback" not in err
  assert not os.path.exists(model_dir)


def test_missing_config_file_and_usage_errors(tmp_path, capsys):
  model_dir = str(tmp_path / "run")
  assert run("train", "--config=/no/config.py", f"--model_dir={model_dir}") == 1
  assert "Config file --config='/no/config.py' does not exist." in (
      capsys.readouterr().err)
  assert run("trian") == 2
  assert "Did you mean 'train'?" in capsys.readouterr().err
  assert run("train", "--modeldir=x") == 2
  assert run("evaluate", f"--model_dir={model_dir}") == 1
  assert "has no saved config.json" in capsys.readouterr().err
  assert not os.path.exists(model_dir)


def test_verbosity_shows_the_traceback(setup, capsys):
  config_path, model_dir = setup
  assert run("train", f"--config={config_path}", f"--model_dir={model_dir}",
             "--config.data.label=nope", "--verbosity=1") == 1
  assert "Traceback" in capsys.readouterr().err


def test_help_per_command(capsys):
  assert run("--help") == 0
  assert "commands:" in capsys.readouterr().out
  for command in ("train", "evaluate", "predict", "export", "search"):
    assert run(command, "--help") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: estweight {command}")
    assert "--model_dir" in out and "--config" in out


def test_example_configs_resolve():
  root = os.path.join(os.path.dirname(__file__), "..", "configs")
  names = sorted(f for f in os.listdir(root) if f.endswith(".py"))
  assert len(names) >= 4 and any("search" in n or "grid" in n for n in names)
  for name in names:
    config = config_lib.resolve(os.path.join(root, name))
    assert config.data.train, name


def test_factory_model_fn_with_string_labels_and_named_class_weights(
    tmp_path, capsys):
  rng = np.random.RandomState(1)
  path = tmp_path / "d.csv"
  rows = ["x,label"] + ["%.4f,%s" % (v, "yes" if v > 0.5 else "no")
                        for v in rng.normal(size=48)]
  path.write_text("\n".join(rows) + "\n")
  config = tmp_path / "c.py"
  config.write_text(
      "def get_config():\n"
      f"  return {{'data': {{'train': {str(path)!r}, 'label': 'label',\n"
      "                   'class_weight': {'yes': 3.0, 'no': 1.0}},\n"
      "          'model': {'name': 'weighted_model_fn', 'hidden_units': [4]},\n"
      "          'driver': {'steps_per_iteration': 10, 'max_steps': 20}}\n")
  model_dir = str(tmp_path / "run")
  assert run("train", f"--config={config}", f"--model_dir={model_dir}") == 0
  assert "Evaluation at step 20 (best):" in capsys.readouterr().out
  assert run("train", f"--config={config}", f"--model_dir={tmp_path / 'r2'}",
             "--config.data.class_weight={'maybe': 2.0}") == 1
  assert "names classes ['maybe']" in capsys.readouterr().err


def test_flags_do_not_leak_from_one_run_to_the_next(setup, capsys):
  # run() parses into its own FlagValues, reset at every call: an in-process
  # caller needs no flag saver, and --force given once is not kept.
  config_path, model_dir = setup
  assert run("train", f"--config={config_path}", f"--model_dir={model_dir}",
             "--force", "--config.driver.max_steps=10") == 0
  assert run("train", f"--config={config_path}",
             f"--model_dir={model_dir}") == 1
  assert "--force" in capsys.readouterr().err


def test_in_process_runs_restore_the_callers_logging(setup):
  import logging as std_logging  # pylint: disable=g-import-not-at-top
  tf_logger = std_logging.getLogger("tensorflow")
  tf_logger.setLevel(std_logging.INFO)
  config_path, model_dir = setup
  assert run("train", f"--config={config_path}", f"--model_dir={model_dir}",
             "--config.driver.max_steps=10") == 0
  assert tf_logger.level == std_logging.INFO


def test_run_save_checkpoints_steps_reaches_the_trainer(setup):
  config_path, model_dir = setup
  assert run("train", f"--config={config_path}", f"--model_dir={model_dir}",
             "--config.run.save_checkpoints_steps=4",
             "--config.run.keep_checkpoint_max=100") == 0
  state = tf.train.get_checkpoint_state(model_dir)
  steps = [int(p.rsplit("-", 1)[1]) for p in state.all_model_checkpoint_paths]
  # Iterations of 10 to 30: every 4 steps from each iteration's start, and
  # at each iteration's end.
  assert steps == [0, 4, 8, 10, 14, 18, 20, 24, 28, 30]
