"""What the command line answers before TensorFlow is imported.

`--help`, a mistyped command, config typos and bad values, bad flags and
missing extras are answered by real processes that never import
TensorFlow (checked in the child's `sys.modules`). The in-process tests of
the same checks are fast because nothing but the config is read.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from estweight.cli import app
from estweight.cli import config as config_lib
from estweight.cli import extras

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "estweight")
FLAGSHIP = os.path.join(ROOT, "configs", "breast_cancer_weighted_dnn.py")

# Runs app.run(argv) and prints, as its last stdout line, the exit code and
# whether tensorflow was imported. With `bypass`, the estweight package is
# registered without running estweight/__init__.py, so only the CLI's own
# imports count.
_CHILD = textwrap.dedent("""
    import json, sys, types
    if {bypass}:
      package = types.ModuleType("estweight")
      package.__path__ = [{package!r}]
      sys.modules["estweight"] = package
    for name in {blocked!r}:
      sys.modules[name] = None  # as if not installed
    from estweight.cli import app
    code = app.run(["estweight", *{args!r}])
    print(json.dumps({{"code": code,
                      "tensorflow": "tensorflow" in sys.modules}}))
""")


def child(*args, bypass=True, blocked=()):
  """(exit code, imported tensorflow, stdout without the last line, stderr)
  of app.run(args) in a fresh interpreter."""
  code = _CHILD.format(bypass=bypass, package=PACKAGE, blocked=list(blocked),
                       args=list(args))
  done = subprocess.run([sys.executable, "-c", code], capture_output=True,
                        text=True, timeout=120, check=False, cwd=ROOT)
  lines = done.stdout.rstrip("\n").split("\n")
  result = json.loads(lines[-1])
  return (result["code"], result["tensorflow"], "\n".join(lines[:-1]),
          done.stderr)


def run(*args):
  return app.run(["estweight", *args])


@pytest.mark.parametrize("args, code, out, err", [
    (["--help"], 0, "commands:", ""),
    (["trian"], 2, "",
     "estweight: error: unknown command 'trian'. Did you mean 'train'? "
     "Commands: train, evaluate, predict, export, search, config.\n"),
    (["train", "--help"], 0, "usage: estweight train", ""),
    (["train", f"--config={FLAGSHIP}", "--model_dir=/tmp/never",
      "--config.model.learnin_rate=0.1"], 1, "",
     "estweight train: error: Unknown config key 'model.learnin_rate'. Did "
     "you mean 'model.learning_rate'?\n"),
    (["train", f"--config={FLAGSHIP}", "--model_dir=/tmp/never",
      "--config.model.learning_rate=-0.01"], 1, "",
     "estweight train: error: model.learning_rate must be a finite number > 0"
     " (or None for the optimizer's default). Received: "
     "model.learning_rate=-0.01.\n"),
    (["config", f"--config={FLAGSHIP}", "--show"], 0, '"learning_rate"', ""),
])
def test_answers_without_importing_tensorflow(args, code, out, err):
  got_code, tensorflow, stdout, stderr = child(*args)
  assert (got_code, tensorflow) == (code, False), stderr
  assert out in stdout
  if err:
    assert stderr.endswith(err)
  assert not os.path.exists("/tmp/never")


def test_the_installed_package_answers_help_without_tensorflow():
  code, tensorflow, stdout, _ = child("--help", bypass=False)
  assert (code, tensorflow) == (0, False) and "commands:" in stdout


def test_a_missing_extra_is_named_before_tensorflow(tmp_path):
  code, tensorflow, _, err = child(
      "train", f"--config={FLAGSHIP}", f"--model_dir={tmp_path / 'run'}",
      blocked=["sklearn"])
  assert (code, tensorflow) == (1, False)
  assert err.endswith(
      "estweight train: error: data.train='sklearn:breast_cancer' needs "
      "scikit-learn, which is not installed: pip install "
      "\"estweight[examples]\" (or pip install scikit-learn).\n")
  assert not os.path.exists(tmp_path / "run")


# ------------------------------------------------ the same checks in process
def test_config_show_prints_every_field_resolved(tmp_path, capsys):
  assert run("config", f"--config={FLAGSHIP}", "--show",
             "--config.driver.max_steps=77") == 0
  shown = json.loads(capsys.readouterr().out)
  expected = config_lib.resolve(FLAGSHIP, [("driver.max_steps", 77)])
  assert shown == expected.to_dict()
  assert shown["driver"]["max_steps"] == 77  # the override
  assert shown["run"]["keep_checkpoint_max"] == 5  # a default
  assert run("config") == 0  # no --config: the defaults
  assert json.loads(capsys.readouterr().out) == (
      config_lib.default_config().to_dict())


def test_config_show_reads_the_config_saved_in_model_dir(tmp_path, capsys):
  model_dir = tmp_path / "run"
  config = config_lib.resolve(FLAGSHIP, [("model.hidden_units", [3])])
  config_lib.save(config, str(model_dir))
  assert run("config", f"--model_dir={model_dir}") == 0
  assert json.loads(capsys.readouterr().out)["model"]["hidden_units"] == [3]


def test_config_example_prints_the_file(capsys):
  assert run("config", "--example=breast_cancer_weighted_dnn") == 0
  with open(FLAGSHIP) as f:
    assert capsys.readouterr().out == f.read()
  assert run("config", "--example=breast_cancer") == 1
  err = capsys.readouterr().err
  assert ("--example='breast_cancer' is not an example config. Did you mean"
          in err) and "'wine_weighted_model_fn'" in err


@pytest.mark.parametrize("args, message", [
    (["--config.model.learning_rate=0"],
     "model.learning_rate must be a finite number > 0 (or None for the "
     "optimizer's default). Received: model.learning_rate=0.0."),
    (["--config.model.learning_rate=1e999"],
     "model.learning_rate must be a finite number > 0 (or None for the "
     "optimizer's default). Received: model.learning_rate=inf."),
    (["--config.driver.early_stopping.patience=0"],
     "driver.early_stopping.patience must be a positive integer. Received: "
     "driver.early_stopping.patience=0."),
    (["--config.driver.early_stopping.min_delta=-1"],
     "driver.early_stopping.min_delta must be a finite number >= 0. "
     "Received: driver.early_stopping.min_delta=-1.0."),
    (["--config.data.class_weight={0: -2}"],
     "data.class_weight[0] must be a finite number >= 0. Received: "
     "data.class_weight[0]=-2."),
    (["--config.run.keep_checkpoint_max=-1"],
     "run.keep_checkpoint_max must be an integer >= 0. Received: "
     "run.keep_checkpoint_max=-1."),
    (["--config.data.batch_size=0"],
     "`data.batch_size` must be a positive integer. Received: "
     "data.batch_size=0."),
    (["--config.model.name=weighted_model_fn", "--config.model.network=cnn"],
     "model.network must be one of ['mlp', 'linear']. Received: "
     "model.network='cnn'."),
])
def test_bad_values_are_refused_with_the_key_and_value(tmp_path, capsys, args,
                                                       message):
  model_dir = tmp_path / "run"
  assert run("train", f"--config={FLAGSHIP}", f"--model_dir={model_dir}",
             *args) == 1
  assert capsys.readouterr().err == f"estweight train: error: {message}\n"
  assert not os.path.exists(model_dir)


def test_a_bad_grid_value_names_the_grid_key(tmp_path, capsys):
  assert run("search", f"--config={FLAGSHIP}", f"--model_dir={tmp_path}",
             "--config.search.grid={'model.learning_rate': [0.1, -1]}") == 1
  assert capsys.readouterr().err == (
      "estweight search: error: search.grid['model.learning_rate'] value -1:"
      " model.learning_rate must be a finite number > 0 (or None for the "
      "optimizer's default). Received: model.learning_rate=-1.0.\n")


def _saved_run(tmp_path, checkpoints=("model.ckpt-10",)):
  """A model_dir with a saved config and empty checkpoint files (enough for
  the checks, which read no checkpoint)."""
  model_dir = tmp_path / "run"
  config_lib.save(config_lib.resolve(FLAGSHIP), str(model_dir))
  for prefix in checkpoints:
    (model_dir / f"{prefix}.index").write_text("")
  return str(model_dir)


@pytest.mark.parametrize("args, code, message", [
    (["train", "--input=x.csv"], 2,
     "--input is not a flag of `estweight train`; it is for predict."),
    (["predict", "--output=p.txt"], 1,
     "--output='p.txt': the format comes from the extension, which must be "
     ".csv, .jsonl or .json."),
    (["predict", "--input=/no/new.csv"], 1,
     "--input='/no/new.csv' does not exist."),
    (["predict", "--input=new.parquet"], 1,
     "--input='new.parquet': cannot tell the format from the file name"),
    (["evaluate", "--checkpoint=best"], 1,
     "--checkpoint=best: {model_dir} has no best checkpoint (the best/ "
     "directory `estweight train` keeps). Use --checkpoint=latest or a "
     "checkpoint path."),
    (["export", "--checkpoint={model_dir}/model.ckpt-7"], 1,
     "--checkpoint='{model_dir}/model.ckpt-7' is not a checkpoint: give "
     "'best', 'latest', a checkpoint prefix such as "
     "'{model_dir}/model.ckpt-100' (its .index file must exist) or a "
     "directory holding a checkpoint."),
])
def test_bad_flags_are_refused_before_any_work(tmp_path, capsys, args, code,
                                               message):
  model_dir = _saved_run(tmp_path)
  before = sorted(os.listdir(model_dir))
  args = [a.format(model_dir=model_dir) for a in args]
  assert run(*args, f"--model_dir={model_dir}") == code
  err = capsys.readouterr().err
  assert err.startswith(f"estweight {args[0]}: error: "
                        f"{message.format(model_dir=model_dir)}"), err
  assert sorted(os.listdir(model_dir)) == before


def test_commands_reading_a_model_dir_need_a_checkpoint(tmp_path, capsys):
  model_dir = _saved_run(tmp_path, checkpoints=())
  assert run("evaluate", f"--model_dir={model_dir}") == 1
  assert capsys.readouterr().err == (
      f"estweight evaluate: error: --model_dir={model_dir!r} has no "
      "checkpoint; run `estweight train` first.\n")


def test_a_missing_optional_module_names_its_extra():
  error = extras.explain(ModuleNotFoundError(
      "No module named 'matplotlib.pyplot'", name="matplotlib.pyplot"))
  assert isinstance(error, ImportError)
  assert str(error) == (
      "This command needs matplotlib, which is not installed: pip install "
      "\"estweight[plots]\" (or pip install matplotlib).")
  assert str(extras.explain(ModuleNotFoundError(
      "No module named 'pandas'", name="pandas"))) == (
          "This command needs pandas, which is not installed: pip install "
          "\"estweight[pandas]\" (or pip install pandas).")
  other = ModuleNotFoundError("No module named 'yaml'", name="yaml")
  assert extras.explain(other) is other
