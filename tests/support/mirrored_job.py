"""Trains with strategies over two logical CPUs and prints the numbers.

Logical devices must be configured before TensorFlow initialises its
devices, so this runs in its own process (tests/test_mirrored.py starts
it): `python -m tests.support.mirrored_job <workdir> <scenario>...`. It
prints one JSON line, `{scenario: result}`; a scenario that raises records
`{"error": "<type>: <message>"}`.

The data: 64 examples of 3 features, binary labels and example weights in
[0.5, 2]. A mirrored run reads `batch(16)` per replica (2 replicas: 32
examples a step); its single-device twin reads `batch(32)`, the same
examples per step.
"""
from __future__ import annotations

import json
import os
import sys
import traceback

import numpy as np
import tensorflow as tf

_CPUS = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    _CPUS[0], [tf.config.LogicalDeviceConfiguration()] * 2)

import estweight  # pylint: disable=g-import-not-at-top,wrong-import-position

_v1 = tf.compat.v1
_DEVICES = ["/cpu:0", "/cpu:1"]
_ROWS = 64
_RNG = np.random.RandomState(0)
X = _RNG.randn(_ROWS, 3).astype(np.float32)
Y = (X @ np.array([1.0, -2.0, 0.5], np.float32) > 0).astype(np.int64)
W = _RNG.uniform(0.5, 2.0, _ROWS).astype(np.float32)
STEPS = 6


def _features():
  return {"x": X, "w": W}


def input_fn_of(batch, *, triples=False, repeat=True):
  """(features, labels) or (features, labels, weights) batches."""
  def input_fn():
    if triples:
      ds = tf.data.Dataset.from_tensor_slices(({"x": X}, Y, W))
    else:
      ds = tf.data.Dataset.from_tensor_slices((_features(), Y))
    ds = ds.batch(batch)
    return ds.repeat() if repeat else ds
  return input_fn


def custom_model_fn(features, labels, mode, weights=None):
  """Two v1 dense layers (constant initial values), a weighted mean loss
  (tf.compat.v1.losses: reduction SUM_BY_NONZERO_WEIGHTS) and a v1
  Adagrad optimizer; v1 metrics."""
  layers = estweight.compat.v1.layers
  hidden = layers.dense(
      features["x"], 4, activation=tf.nn.relu,
      kernel_initializer=_v1.constant_initializer(
          0.1 * np.arange(12).reshape(3, 4) - 0.3))
  logits = layers.dense(hidden, 2, kernel_initializer=_v1.constant_initializer(
      0.05 * np.arange(8).reshape(4, 2) - 0.2))
  loss = _v1.losses.sparse_softmax_cross_entropy(labels, logits,
                                                 weights=weights)
  if mode == estweight.ModeKeys.EVAL:
    classes = tf.argmax(logits, 1)
    return estweight.EstimatorSpec(mode, loss=loss, eval_metric_ops={
        "accuracy": _v1.metrics.accuracy(labels, classes, weights=weights),
        "auc": _v1.metrics.auc(labels, tf.nn.softmax(logits)[:, 1],
                               weights=weights),
        "mean_prob": _v1.metrics.mean(tf.nn.softmax(logits)[:, 1],
                                      weights=weights)})
  optimizer = _v1.train.AdagradOptimizer(0.3)
  train_op = optimizer.minimize(loss, global_step=_v1.train.get_global_step())
  return estweight.EstimatorSpec(mode, loss=loss, train_op=train_op)


class LossRecorder(_v1.train.SessionRunHook):
  """Records the loss the train loop reports (the merged one)."""

  def __init__(self):
    self.losses = []

  def begin(self):
    # The train loop adds the spec's loss last.
    self._loss = _v1.get_collection(_v1.GraphKeys.LOSSES)[-1]

  def before_run(self, run_context):
    return _v1.train.SessionRunArgs(self._loss)

  def after_run(self, run_context, run_values):
    self.losses.append(float(run_values.results))


def _config(strategy=None, eval_strategy=None, **kwargs):
  return estweight.RunConfig(train_distribute=strategy,
                             eval_distribute=eval_strategy, tf_random_seed=7,
                             **kwargs)


def _variables(model_dir):
  path = tf.train.latest_checkpoint(model_dir)
  return {name: tf.train.load_variable(path, name).tolist()
          for name, _ in tf.train.list_variables(path)}


def _floats(metrics):
  return {k: float(v) for k, v in metrics.items()}


def _train(make_estimator, model_dir, input_fn, steps=STEPS):
  est = make_estimator(model_dir)
  recorder = LossRecorder()
  est.train(input_fn, steps=steps, hooks=[recorder])
  return est, recorder.losses


def _pair(workdir, name, make_estimator, *, eval_strategy=None,
          triples=False, eval_batch=16):
  """Trains a mirrored model and its single-device twin; evaluates both,
  and the mirrored checkpoint with a single-device Estimator."""
  mirrored = tf.distribute.MirroredStrategy(_DEVICES)
  out = {}
  runs = (("mirrored", mirrored, 16), ("single", None, 32))
  for label, strategy, batch in runs:
    model_dir = os.path.join(workdir, f"{name}_{label}")
    est, losses = _train(
        lambda d, s=strategy: make_estimator(d, _config(
            s, eval_strategy if s is not None else None)),
        model_dir, input_fn_of(batch, triples=triples))
    # eval_distribute reads `eval_batch` per replica: its single-device
    # twin reads twice as many.
    per_call = eval_batch if (strategy and eval_strategy) else 2 * eval_batch
    metrics = est.evaluate(input_fn_of(per_call, triples=triples,
                                       repeat=False))
    out[label] = {"losses": losses, "variables": _variables(model_dir),
                  "eval": _floats(metrics)}
  reader = make_estimator(os.path.join(workdir, f"{name}_mirrored"),
                          _config())
  out["mirrored_read_by_single"] = _floats(reader.evaluate(
      input_fn_of(2 * eval_batch, triples=triples, repeat=False),
      name="single"))
  return out


def scenario_custom(workdir):
  """Custom model_fn, v1 optimizer, weights from (features, labels,
  weights) batches; eval_distribute too."""
  return _pair(workdir, "custom",
               lambda d, c: estweight.Estimator(custom_model_fn, d, config=c),
               eval_strategy=tf.compat.v1.distribute.MirroredStrategy(
                   _DEVICES), triples=True)


def _dnn(loss_reduction=None, v1=False):
  def make(model_dir, config):
    columns = [tf.feature_column.numeric_column("x", shape=[3])]
    kwargs = {} if loss_reduction is None else {
        "loss_reduction": loss_reduction}
    cls = (estweight.compat.v1.estimator.DNNClassifier if v1 else
           estweight.DNNClassifier)
    return cls(hidden_units=[4], feature_columns=columns, weight_column="w",
               optimizer="Adagrad", model_dir=model_dir, config=config,
               **kwargs)
  return make


def scenario_dnn_sum(workdir):
  """Weighted DNNClassifier, loss_reduction='sum', Keras Adagrad."""
  return _pair(workdir, "dnn_sum", _dnn("sum"))


def scenario_dnn_mean(workdir):
  """Weighted DNNClassifier with the default 'sum_over_batch_size'; its
  checkpoint evaluated under eval_distribute too."""
  out = _pair(workdir, "dnn_mean", _dnn())
  strategy = tf.distribute.MirroredStrategy(_DEVICES)
  est = _dnn()(os.path.join(workdir, "dnn_mean_mirrored"),
               _config(eval_strategy=strategy))
  try:
    out["eval_distributed"] = _floats(est.evaluate(
        input_fn_of(16, repeat=False), name="distributed"))
  except Exception as e:  # pylint: disable=broad-except
    out["eval_distributed"] = {"error": f"{type(e).__name__}: {e}"[:500]}
  return out


def _factory(reduction, optimizer):
  """make_weighted_model_fn: one v1 dense layer (constant initial values),
  two-class softmax cross-entropy weighted by weight_key 'w'."""
  def network_fn(features):
    return estweight.compat.v1.layers.dense(
        features["x"], 2, kernel_initializer=_v1.constant_initializer(
            [[0.2, -0.2], [-0.1, 0.1], [0.3, 0.0]]))

  model_fn = estweight.weights.make_weighted_model_fn(
      network_fn, loss="sparse_softmax_cross_entropy", weight_key="w",
      reduction=reduction, optimizer=optimizer, learning_rate=0.3)
  return lambda d, c: estweight.Estimator(model_fn, d, config=c)


def scenario_factory_sum(workdir):
  """make_weighted_model_fn with reduction 'sum' (Keras Adagrad)."""
  return _pair(workdir, "factory_sum", _factory("sum", "Adagrad"))


def scenario_factory_sum_v1(workdir):
  """The same with a v1 optimizer (it scales by the recorded reduction)."""
  return _pair(workdir, "factory_sum_v1",
               _factory("sum", _v1.train.AdagradOptimizer(0.3)))


def scenario_factory_mean(workdir):
  """make_weighted_model_fn with 'sum_over_batch_size' (Keras Adagrad)."""
  return _pair(workdir, "factory_mean",
               _factory("sum_over_batch_size", "Adagrad"))


def scenario_dnn_v1(workdir):
  """compat.v1 weighted DNNClassifier (sum loss, v1 Adagrad and metrics),
  eval_distribute too."""
  return _pair(workdir, "dnn_v1", _dnn(v1=True),
               eval_strategy=tf.distribute.MirroredStrategy(_DEVICES))


def scenario_switch(workdir):
  """A single-device model_dir trained on under MirroredStrategy and back."""
  model_dir = os.path.join(workdir, "switch")
  mirrored = tf.distribute.MirroredStrategy(_DEVICES)
  steps = []
  for strategy, batch in ((None, 32), (mirrored, 16), (None, 32)):
    est = _dnn()(model_dir, _config(strategy))
    est.train(input_fn_of(batch), steps=2)
    steps.append(int(est.get_variable_value("global_step")))
  return {"steps": steps, "variables": sorted(_variables(model_dir))}


def scenario_input_context(workdir):
  """What input_fn receives as `input_context`; skipped batches count per
  replica (a driver's resumed position)."""
  seen = []

  def input_fn(input_context):
    seen.append([input_context.num_replicas_in_sync,
                 input_context.num_input_pipelines,
                 input_context.input_pipeline_id])
    return input_fn_of(16, triples=True)()
  est = estweight.Estimator(custom_model_fn,
                            os.path.join(workdir, "context"),
                            config=_config(tf.distribute.MirroredStrategy(
                                _DEVICES)))
  est.train(input_fn, steps=1)
  return {"seen": seen}


def scenario_partial_eval(workdir):
  """An evaluation whose last group of batches is incomplete (5 batches of
  13 over 2 replicas) covers the 4 batches of the complete groups."""
  model_dir = os.path.join(workdir, "partial")
  strategy = tf.distribute.MirroredStrategy(_DEVICES)
  est = estweight.Estimator(custom_model_fn, model_dir,
                            config=_config(strategy, strategy))
  est.train(input_fn_of(16, triples=True), steps=2)
  def rows(n):
    return lambda: tf.data.Dataset.from_tensor_slices(
        ({"x": X[:n]}, Y[:n], W[:n])).batch(13)
  single = estweight.Estimator(custom_model_fn, model_dir, config=_config())
  return {"mirrored_64": _floats(est.evaluate(rows(64), name="m")),
          "single_52": _floats(single.evaluate(rows(52), name="s52")),
          "single_64": _floats(single.evaluate(rows(64), name="s64"))}


def scenario_other_strategies(workdir):
  """In-graph strategies besides Mirrored: losses of 3 steps, and those of
  single-device training on the same examples per step."""
  out = {}
  strategies = {
      "one_device": (lambda: tf.distribute.OneDeviceStrategy("/cpu:0"), 16),
      "one_device_v1": (
          lambda: _v1.distribute.OneDeviceStrategy("/cpu:0"), 16),
      "central_storage": (
          lambda: tf.distribute.experimental.CentralStorageStrategy(
              _DEVICES), 32),
      "multi_worker_mirrored_local": (
          tf.distribute.MultiWorkerMirroredStrategy, 16),
      "parameter_server_v1_local": (
          _v1.distribute.experimental.ParameterServerStrategy, 16),
  }
  singles = {}
  for name, (make, global_batch) in strategies.items():
    try:
      strategy = make()
      replicas = strategy.num_replicas_in_sync
      _, losses = _train(
          lambda d, s=strategy: estweight.Estimator(
              custom_model_fn, d, config=_config(s)),
          os.path.join(workdir, "other_" + name),
          input_fn_of(global_batch // replicas, triples=True), steps=3)
      if global_batch not in singles:
        singles[global_batch] = _train(
            lambda d: estweight.Estimator(custom_model_fn, d,
                                          config=_config()),
            os.path.join(workdir, f"other_single_{global_batch}"),
            input_fn_of(global_batch, triples=True), steps=3)[1]
      out[name] = {"replicas": replicas, "losses": losses,
                   "single": singles[global_batch]}
    except Exception as e:  # pylint: disable=broad-except
      out[name] = {"error": f"{type(e).__name__}: {e}"}
  return out


def scenario_driver(workdir):
  """run_iterations under a strategy, stopped after one iteration and rerun
  (its input resumes past the batches trained on: one per replica and
  step), equals one uninterrupted run on one device."""
  out = {}
  runs = (("mirrored", tf.distribute.MirroredStrategy(_DEVICES), 16, (3, 6)),
          ("single", None, 32, (6,)))
  for label, strategy, batch, max_steps_of_calls in runs:
    for max_steps in max_steps_of_calls:
      est = estweight.Estimator(custom_model_fn,
                                os.path.join(workdir, "driver_" + label),
                                config=_config(strategy))
      result = estweight.driver.run_iterations(
          est, input_fn_of(batch, triples=True),
          input_fn_of(32, triples=True, repeat=False), steps_per_iteration=3,
          max_steps=max_steps)
    out[label] = [_floats(h["metrics"]) for h in result.history]
  return out


class _Interrupt(Exception):
  pass


class _StopAt(_v1.train.SessionRunHook):
  """Raises in step `step` (its checkpoint not saved): an interrupted call."""

  def __init__(self, step):
    self._step = step

  def begin(self):
    self._global_step = _v1.train.get_global_step()

  def before_run(self, run_context):
    return _v1.train.SessionRunArgs(self._global_step)

  def after_run(self, run_context, run_values):
    if run_values.results + 1 >= self._step:
      raise _Interrupt()


def scenario_train_resume(workdir):
  """Estimator.train(max_steps=6) under MirroredStrategy, interrupted in
  step 4 (checkpoints every 3 steps) and called again, equals one
  uninterrupted call: the rerun skips the 3 steps' batches (one per
  replica each) it had trained on."""
  out = {}
  for label, stop in (("uninterrupted", None), ("resumed", 4)):
    model_dir = os.path.join(workdir, "train_resume_" + label)
    config = _config(tf.distribute.MirroredStrategy(_DEVICES),
                     save_checkpoints_steps=3)
    est = estweight.Estimator(custom_model_fn, model_dir, config=config)
    train_input = input_fn_of(16, triples=True)
    if stop is not None:
      try:
        est.train(train_input, max_steps=6, hooks=[_StopAt(stop)])
      except _Interrupt:
        pass
      out["checkpoint_after_interrupt"] = int(est.get_variable_value(
          "global_step"))
    est.train(train_input, max_steps=6)
    out[label] = _variables(model_dir)
  return out


def scenario_warm_start(workdir):
  """An evaluation under eval_distribute of a model warm-started from a
  single-device checkpoint equals that checkpoint's evaluation."""
  source = os.path.join(workdir, "warm_source")
  est = estweight.Estimator(custom_model_fn, source, config=_config())
  est.train(input_fn_of(32, triples=True), steps=3)
  strategy = tf.distribute.MirroredStrategy(_DEVICES)
  warm = estweight.Estimator(custom_model_fn, os.path.join(workdir, "warm"),
                             config=_config(eval_strategy=strategy),
                             warm_start_from=source)
  eval_fn = input_fn_of(16, triples=True, repeat=False)
  return {"source": _floats(est.evaluate(input_fn_of(32, triples=True,
                                                     repeat=False))),
          "warm": _floats(warm.evaluate(eval_fn))}


def scenario_refusals(workdir):
  """Errors of strategies that cannot run, and whether anything was
  written first."""
  out = {}
  cases = {}
  model_dir = os.path.join(workdir, "refused_cluster")
  os.environ["TF_CONFIG"] = json.dumps({
      "cluster": {"chief": ["localhost:1"], "worker": ["localhost:2"]},
      "task": {"type": "chief", "index": 0}})
  try:
    cluster_config = _config(tf.distribute.MirroredStrategy(_DEVICES))
  finally:
    del os.environ["TF_CONFIG"]
  cases["mirrored_on_cluster"] = (model_dir, cluster_config)
  for name, (model_dir, config) in cases.items():
    os.makedirs(model_dir, exist_ok=True)
    est = estweight.Estimator(custom_model_fn, model_dir, config=config)
    try:
      est.train(input_fn_of(16), steps=1)
      out[name] = {"error": None}
    except Exception as e:  # pylint: disable=broad-except
      out[name] = {"error": f"{type(e).__name__}: {e}",
                   "written": sorted(os.listdir(model_dir))}
  return out


def main(argv):
  workdir, names = argv[1], argv[2:]
  results = {}
  for name in names:
    try:
      results[name] = globals()["scenario_" + name](workdir)
    except Exception as e:  # pylint: disable=broad-except
      traceback.print_exc()
      results[name] = {"error": f"{type(e).__name__}: {e}"}
  print("RESULTS " + json.dumps(results), flush=True)


if __name__ == "__main__":
  main(sys.argv)
