"""Bad inputs, one case each: what a user gets wrong, and how it is run.

The single list behind docs/errors.md (tests/support/errors_table.py runs
every case and renders the table; tests/test_errors_table.py checks that the
doc is what the cases give today) and behind the bad-input figures of
`make reliability` (tests/reliability_suite.py).

A case is a function `run(ws)` that does the wrong thing once; `ws` is a
`Workspace` holding a fresh directory (`ws.model_dir` inside it does not
exist unless the case's setup made it). It should raise (API, data,
TF_CONFIG, files) or return the CLI's exit code.
"""
import dataclasses
import json
import os
import shutil
import socket
import time
from typing import Callable

import numpy as np
import tensorflow as tf

import estweight
from estweight import driver
from support import models

v1 = tf.compat.v1
AREAS = ("API", "data", "TF_CONFIG", "files", "CLI")


@dataclasses.dataclass(frozen=True)
class Case:
  """One bad input.

  Attributes:
    area: one of AREAS.
    what: the mistake, as the table shows it (Markdown).
    run: does it, given a Workspace.
    raises: the exception class name expected (CLI cases: 'exit <code>').
    setup: prepares the workspace before `model_dir` is snapshotted
      ('trained': a model_dir trained to step 30; 'cli': a CSV and config;
      'cli_trained': that config trained by the CLI once).
    damage: then does this to the workspace (also before the snapshot).
  """
  area: str
  what: str
  run: Callable
  raises: str
  setup: str | None = None
  damage: Callable | None = None


@dataclasses.dataclass
class Workspace:
  root: str

  @property
  def model_dir(self):
    return os.path.join(self.root, "model")

  @property
  def config(self):
    return os.path.join(self.root, "config.py")

  @property
  def data(self):
    return os.path.join(self.root, "data.csv")

  def path(self, *names):
    return os.path.join(self.model_dir, *names)


XY = models.xy_input_fn([1.0, 2.0], [2.0, 4.0], repeat=True)
NUM = [tf.feature_column.numeric_column("x")]


def _est(ws, **config):
  config.setdefault("save_checkpoints_steps", 10)
  return models.make_estimator(ws.model_dir, tf_random_seed=1, **config)


def _dataset(x, y, w=None, batch=2):
  def input_fn():
    parts = ({"x": np.asarray(x, np.float32)}, np.asarray(y))
    if w is not None:
      parts += (np.asarray(w, np.float32),)
    return tf.data.Dataset.from_tensor_slices(parts).batch(batch)
  return input_fn


def _no_train_op(features, labels, mode):
  w = v1.get_variable("w", [], initializer=v1.zeros_initializer())
  return estweight.EstimatorSpec(
      mode, loss=tf.reduce_mean(tf.square(w * features["x"] - labels)))


def _vector_loss(features, labels, mode):
  w = v1.get_variable("w", [], initializer=v1.zeros_initializer())
  loss = tf.square(w * features["x"] - labels)
  return estweight.EstimatorSpec(
      mode, loss=loss,
      train_op=v1.train.GradientDescentOptimizer(0.1).minimize(loss))


def _cls(ws, n_classes=3, **kwargs):
  return estweight.LinearClassifier(NUM, n_classes=n_classes,
                                    model_dir=ws.model_dir, **kwargs)


def _with_tf_config(value, fn):
  """Runs fn() with TF_CONFIG set to `value` (a dict, or a raw string)."""
  old = os.environ.get("TF_CONFIG")
  os.environ["TF_CONFIG"] = value if isinstance(value, str) else json.dumps(
      value)
  try:
    return fn()
  finally:
    if old is None:
      del os.environ["TF_CONFIG"]
    else:
      os.environ["TF_CONFIG"] = old


def _cluster(task_type, index, **cluster):
  return {"cluster": cluster or {"chief": ["127.0.0.1:1"],
                                 "worker": ["127.0.0.1:2"],
                                 "ps": ["127.0.0.1:3"]},
          "task": {"type": task_type, "index": index}}


def _tae(ws, train_max_steps=5, **config):
  est = _est(ws, **config)
  return estweight.train_and_evaluate(
      est, estweight.TrainSpec(XY, max_steps=train_max_steps),
      estweight.EvalSpec(models.xy_input_fn([1.0], [2.0]), steps=1))


def _iterations(ws, **kwargs):
  args = {"steps_per_iteration": 10, "max_steps": 40}
  args.update(kwargs)
  return driver.run_iterations(_est(ws), XY, models.xy_input_fn([1.0], [2.0]),
                               **args)


def _grid(ws, grid=None):
  return driver.grid_search(
      lambda params, run_config: models.make_estimator(run_config.model_dir),
      grid if grid is not None else {"learning_rate": [0.01]}, XY,
      models.xy_input_fn([1.0], [2.0]), model_dir=ws.model_dir,
      metric="loss", mode="min", steps_per_iteration=10, max_steps=10)


def _write(path, text):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "w") as f:
    f.write(text)


def _endless_generator_input():
  def endless():
    while True:
      yield 1.0, 0
  return tf.data.Dataset.from_generator(endless, output_signature=(
      tf.TensorSpec([], tf.float32), tf.TensorSpec([], tf.int64))).map(
          lambda x, y: ({"x": x}, y)).repeat().batch(4)


def _live_lock(ws):
  """trainer.lock of a live process on this host (our parent), fresh."""
  _write(ws.path("trainer.lock"), json.dumps({
      "pid": os.getppid(), "host": socket.gethostname(), "started": 0.0,
      "heartbeat": time.time(), "token": "other"}))


def _cli(ws, *args, command="train", config=True):
  from estweight.cli import app  # pylint: disable=g-import-not-at-top
  argv = ["estweight", command]
  if config:
    argv.append(f"--config={ws.config}")
  return app.run(argv + [f"--model_dir={ws.model_dir}", *args])


CLI_CONFIG = '''
def get_config():
  return {{
      "data": {{"train": {train!r}, "eval_fraction": 0.25, "batch_size": 8}},
      "model": {{"name": "DNNClassifier", "hidden_units": [4],
                "optimizer": "Adam", "learning_rate": 0.05}},
      "run": {{"tf_random_seed": 7}},
      "driver": {{"steps_per_iteration": 10, "max_steps": 20}},
  }}
'''


def write_cli_files(ws, n=48, inf_row=None):
  """A CSV (x1, x2, color, target) and CLI_CONFIG reading it."""
  rng = np.random.RandomState(0)
  x1, x2 = rng.normal(size=n), rng.normal(size=n)
  color = rng.choice(["red", "blue"], size=n)
  target = (x1 + 0.5 * (color == "red") > 0).astype(int)
  lines = ["x1,x2,color,target"] + ["%.5f,%.5f,%s,%d" % row
                                    for row in zip(x1, x2, color, target)]
  if inf_row is not None:
    lines[inf_row + 1] = "inf," + lines[inf_row + 1].split(",", 1)[1]
  _write(ws.data, "\n".join(lines) + "\n")
  _write(ws.config, CLI_CONFIG.format(train=ws.data))


def _cli_inf(ws):
  write_cli_files(ws, inf_row=3)
  return _cli(ws)


def setup(kind, ws, template):
  """Prepares `ws` for a case; `template` caches the trained model_dirs."""
  if kind is None:
    return
  if kind == "trained":
    if "trained" not in template:
      source = Workspace(os.path.join(template["root"], "trained"))
      _est(source).train(XY, max_steps=30)  # checkpoints 0, 10, 20, 30
      template["trained"] = source.model_dir
    shutil.copytree(template["trained"], ws.model_dir)
    return
  write_cli_files(ws)
  if kind == "cli_trained":
    if "cli_trained" not in template:
      source = Workspace(os.path.join(template["root"], "cli_trained"))
      write_cli_files(source)
      assert _cli(source) == 0
      template["cli_trained"] = source.model_dir
    shutil.copytree(template["cli_trained"], ws.model_dir)
    # The saved config names the template's data file: same bytes, here.
    saved = os.path.join(ws.model_dir, "config.json")
    with open(saved) as f:
      text = f.read().replace(template["cli_trained"][:-len("/model")],
                              ws.root)
    _write(saved, text)


def _delete_every_index(ws):
  for name in os.listdir(ws.model_dir):
    if name.endswith(".index"):
      os.remove(ws.path(name))


CASES = [
    # ---------------------------------------------------------------- API
    Case("API", "`train(steps=0)`",
         lambda ws: _est(ws).train(XY, steps=0), "ValueError"),
    Case("API", "`train(steps=2.5)`",
         lambda ws: _est(ws).train(XY, steps=2.5), "ValueError"),
    Case("API", "`train(max_steps=-1)`",
         lambda ws: _est(ws).train(XY, max_steps=-1), "ValueError"),
    Case("API", "`train(steps=1, max_steps=5)`",
         lambda ws: _est(ws).train(XY, steps=1, max_steps=5), "ValueError"),
    Case("API", "`evaluate(steps=0)`",
         lambda ws: _est(ws).evaluate(XY, steps=0), "ValueError"),
    Case("API", "model_fn returns no `train_op` in TRAIN",
         lambda ws: estweight.Estimator(_no_train_op, ws.model_dir).train(
             XY, steps=1), "ValueError"),
    Case("API", "model_fn returns a loss of shape `[batch_size]`",
         lambda ws: estweight.Estimator(_vector_loss, ws.model_dir).train(
             XY, steps=1), "ValueError"),
    Case("API", "model_fn returns a dict, not an `EstimatorSpec`",
         lambda ws: estweight.Estimator(
             lambda features, labels: {"loss": 1}, ws.model_dir).train(
                 XY, steps=1), "ValueError"),
    Case("API", "model_fn takes an argument the Estimator cannot fill",
         lambda ws: estweight.Estimator(
             lambda features, labels, mode, hidden_units: None,
             ws.model_dir), "ValueError"),
    Case("API", "`params=` given, model_fn takes no `params`",
         lambda ws: estweight.Estimator(
             lambda features, labels, mode: None, ws.model_dir,
             params={"lr": 1}), "ValueError"),
    Case("API", "input_fn takes an argument the Estimator cannot fill",
         lambda ws: _est(ws).train(lambda batch_size: None, steps=1),
         "ValueError"),
    Case("API", "`hooks=['not a hook']`",
         lambda ws: _est(ws).train(XY, steps=1, hooks=["not a hook"]),
         "TypeError"),
    Case("API", "`saving_listeners` without checkpoints",
         lambda ws: _est(ws, save_checkpoints_steps=None).train(
             XY, steps=1,
             saving_listeners=[estweight.CheckpointSaverListener()]),
         "ValueError"),
    Case("API", "`model_dir` differs from `RunConfig.model_dir`",
         lambda ws: estweight.Estimator(
             models.scalar_model_fn, ws.model_dir,
             config=estweight.RunConfig(model_dir=ws.model_dir + "2")),
         "ValueError"),
    Case("API", "`RunConfig(save_checkpoints_steps=10, "
         "save_checkpoints_secs=10)`",
         lambda ws: estweight.RunConfig(save_checkpoints_steps=10,
                                        save_checkpoints_secs=10),
         "ValueError"),
    Case("API", "`RunConfig(keep_checkpoint_max=-1)`",
         lambda ws: estweight.RunConfig(keep_checkpoint_max=-1),
         "ValueError"),
    Case("API", "`DNNClassifier(n_classes=1)`",
         lambda ws: estweight.DNNClassifier([4], NUM, n_classes=1),
         "ValueError"),
    Case("API", "`DNNClassifier(optimizer='Adamm')`",
         lambda ws: estweight.DNNClassifier([4], NUM, optimizer="Adamm"),
         "ValueError"),
    Case("API", "`class_weight={5: 2.0}` with `n_classes=2`",
         lambda ws: _cls(ws, n_classes=2, class_weight={5: 2.0}),
         "ValueError"),
    Case("API", "`class_weight={0: -1.0}`",
         lambda ws: _cls(ws, class_weight={0: -1.0}), "ValueError"),
    Case("API", "`run_iterations(steps_per_iteration=0)`",
         lambda ws: _iterations(ws, steps_per_iteration=0), "ValueError"),
    Case("API", "`EarlyStopping(mode='up')`",
         lambda ws: driver.EarlyStopping("loss", "up"), "ValueError"),
    Case("API", "`grid_search(param_grid={})`",
         lambda ws: _grid(ws, grid={}), "ValueError"),
    Case("API", "`TrainSpec(max_steps=0)`",
         lambda ws: estweight.TrainSpec(XY, max_steps=0), "ValueError"),
    Case("API", "`train_and_evaluate` without checkpoints",
         lambda ws: _tae(ws, save_checkpoints_steps=None), "ValueError"),
    # --------------------------------------------------------------- data
    Case("data", "input_fn returns a 4-tuple",
         lambda ws: _est(ws).train(
             lambda: ({"x": tf.constant([[1.0]])},) * 4, steps=1),
         "ValueError"),
    Case("data", "`(features, labels, weights)` for a model_fn without "
         "`weights`",
         lambda ws: _est(ws).train(_dataset([1, 2], [2, 4], [1, 1]), steps=1),
         "ValueError"),
    Case("data", "example weights of shape `[batch_size, 3]`",
         lambda ws: _cls(ws).train(
             _dataset([1, 2], [0, 1], np.ones((2, 3))), steps=1),
         "ValueError"),
    Case("data", "a negative example weight",
         lambda ws: _cls(ws).train(_dataset([1, 2], [0, 1], [1, -1]),
                                   steps=1), "InvalidDataError"),
    Case("data", "a NaN example weight",
         lambda ws: _cls(ws).train(_dataset([1, 2], [0, 1], [np.nan, 1]),
                                   steps=1), "InvalidDataError"),
    Case("data", "a label >= `n_classes`",
         lambda ws: _cls(ws).train(_dataset([1, 2], [0, 5]), steps=1),
         "InvalidDataError"),
    Case("data", "a negative label",
         lambda ws: _cls(ws).train(_dataset([1, 2], [0, -1]), steps=1),
         "InvalidDataError"),
    Case("data", "a label outside `label_vocabulary`",
         lambda ws: _cls(ws, n_classes=2, label_vocabulary=["no", "yes"]
                         ).train(_dataset([1, 2], ["no", "maybe"]), steps=1),
         "InvalidDataError"),
    Case("data", "float labels (1.7) for 3 classes",
         lambda ws: _cls(ws).train(_dataset([1, 2], [0.0, 1.7]), steps=1),
         "ValueError"),
    Case("data", "a feature of shape `[batch_size, 3]` for "
         "`numeric_column('x')`",
         lambda ws: _cls(ws).train(_dataset(np.ones((2, 3)), [0, 1]),
                                   steps=1), "InvalidDataError"),
    Case("data", "`weight_column='w'` missing from the features",
         lambda ws: _cls(ws, weight_column="w").train(
             _dataset([1, 2], [0, 1]), steps=1), "ValueError"),
    Case("data", "an Inf label (Inf loss)",
         lambda ws: _est(ws).train(_dataset(
             [1, 2], np.array([2, np.inf], np.float32)), steps=1),
         "NonFiniteLossError"),
    Case("data", "`class_weight='balanced'` on an endless generator",
         lambda ws: _cls(ws, n_classes=2, class_weight="balanced").train(
             _endless_generator_input, steps=1), "ValueError"),
    # ---------------------------------------------------------- TF_CONFIG
    Case("TF_CONFIG", "malformed JSON",
         lambda ws: _with_tf_config("{cluster", estweight.RunConfig),
         "JSONDecodeError"),
    Case("TF_CONFIG", "task index out of range",
         lambda ws: _with_tf_config(_cluster("worker", 3),
                                    estweight.RunConfig), "ValueError"),
    Case("TF_CONFIG", "two chiefs",
         lambda ws: _with_tf_config(_cluster(
             "chief", 0, chief=["127.0.0.1:1", "127.0.0.1:2"]),
                                    estweight.RunConfig), "ValueError"),
    Case("TF_CONFIG", "workers but no chief",
         lambda ws: _with_tf_config(_cluster(
             "worker", 0, worker=["127.0.0.1:1"], ps=["127.0.0.1:2"]),
                                    estweight.RunConfig), "ValueError"),
    Case("TF_CONFIG", "task type not in the cluster",
         lambda ws: _with_tf_config(_cluster("ps", 0, chief=["127.0.0.1:1"]),
                                    estweight.RunConfig), "ValueError"),
    Case("TF_CONFIG", "`service` that is not a dict",
         lambda ws: _with_tf_config(dict(_cluster("chief", 0), service=3),
                                    estweight.RunConfig), "TypeError"),
    Case("TF_CONFIG", "a second evaluator (index 1)",
         lambda ws: _with_tf_config(_cluster("evaluator", 1),
                                    lambda: _tae(ws)), "ValueError"),
    Case("TF_CONFIG", "`run_iterations` on a worker task",
         lambda ws: _with_tf_config(_cluster("worker", 0),
                                    lambda: _iterations(ws)), "ValueError"),
    # -------------------------------------------------------------- files
    Case("files", "every checkpoint `.index` deleted",
         lambda ws: _est(ws).train(XY, steps=5), "CheckpointError",
         setup="trained", damage=_delete_every_index),
    Case("files", "`driver/state.json` is not JSON", _iterations,
         "StateFileError", setup="trained",
         damage=lambda ws: _write(ws.path("driver", "state.json"), "{half")),
    Case("files", "`driver/state.json` holds `[]`", _iterations,
         "StateFileError", setup="trained",
         damage=lambda ws: _write(ws.path("driver", "state.json"), "[]")),
    Case("files", "grid `results.json` is not JSON", _grid,
         "StateFileError",
         damage=lambda ws: _write(ws.path("results.json"), "[{")),
    Case("files", "grid `results.json` records other params", _grid,
         "ValueError", damage=lambda ws: _write(
             ws.path("results.json"), json.dumps([{
                 "trial": 0, "status": "done",
                 "params": {"learning_rate": 9}}]))),
    Case("files", "`class_weights.json` without `class_weight`",
         lambda ws: _cls(ws, n_classes=2, class_weight="balanced").train(
             _dataset([1, 2], [0, 1]), steps=1), "StateFileError",
         damage=lambda ws: _write(ws.path("class_weights.json"), "{}")),
    Case("files", "`trainer.lock` of a live trainer",
         lambda ws: _est(ws).train(XY, steps=5), "ModelDirLockedError",
         setup="trained", damage=_live_lock),
    Case("files", "CLI `config.json` is not JSON", _cli, "exit 1",
         setup="cli_trained",
         damage=lambda ws: _write(ws.path("config.json"), "{")),
    # ---------------------------------------------------------------- CLI
    Case("CLI", "unknown config key (`--config.model.learnin_rate=0.1`)",
         lambda ws: _cli(ws, "--config.model.learnin_rate=0.1"), "exit 1",
         setup="cli"),
    Case("CLI", "wrong type (`--config.driver.max_steps='many'`)",
         lambda ws: _cli(ws, "--config.driver.max_steps='many'"), "exit 1",
         setup="cli"),
    Case("CLI", "a data file that does not exist",
         lambda ws: _cli(ws, "--config.data.train=/no/such.csv"), "exit 1",
         setup="cli"),
    Case("CLI", "a label that is not a column",
         lambda ws: _cli(ws, "--config.data.label=label"), "exit 1",
         setup="cli"),
    Case("CLI", "a model name typo (`DNNClasifier`)",
         lambda ws: _cli(ws, "--config.model.name=DNNClasifier"), "exit 1",
         setup="cli"),
    Case("CLI", "`--config.driver.steps_per_iteration=0`",
         lambda ws: _cli(ws, "--config.driver.steps_per_iteration=0"),
         "exit 1", setup="cli"),
    Case("CLI", "an early-stopping metric that is not evaluated",
         lambda ws: _cli(ws, "--config.driver.early_stopping.metric=acc"),
         "exit 1", setup="cli"),
    Case("CLI", "a model argument typo (`model.args.hiden_units`)",
         lambda ws: _cli(ws, "--config.model.args={'hiden_units': [2]}"),
         "exit 1", setup="cli"),
    Case("CLI", "a negative learning rate",
         lambda ws: _cli(ws, "--config.model.learning_rate=-0.1"), "exit 1",
         setup="cli"),
    Case("CLI", "an Inf in a CSV feature", _cli_inf, "exit 1"),
    Case("CLI", "a config file that does not exist",
         lambda ws: _cli(ws, "--config=/no/config.py", config=False),
         "exit 1"),
    Case("CLI", "`evaluate` of a model_dir without `config.json`",
         lambda ws: _cli(ws, command="evaluate", config=False), "exit 1"),
    Case("CLI", "an unknown command (`trian`)",
         lambda ws: _cli(ws, command="trian", config=False), "exit 2"),
    Case("CLI", "an unknown flag (`--modeldir`)",
         lambda ws: _cli(ws, "--modeldir=x"), "exit 2", setup="cli"),
    Case("CLI", "a changed config without `--force`",
         lambda ws: _cli(ws, "--config.driver.max_steps=40"), "exit 1",
         setup="cli_trained"),
]
