"""RunConfig strategies: MirroredStrategy over two logical CPUs equals
single-device training on the same global batch; what cannot run is refused.

The two-CPU runs happen in one subprocess (tests/support/mirrored_job.py):
logical devices must be set before TensorFlow initialises its devices.

Tolerance: float32 sums of the same numbers in another order. A mirrored
step computes each replica's mean over 16 examples, halves it and sums the
two replicas' gradients; the single-device step averages 32 examples. Each
reordered sum may differ in its last bit (relative 2**-24 ~ 6e-8), and a
few steps of Adagrad carry that on: observed differences are below 3e-7
relative. We assert `rtol=1e-5` (plus `atol=1e-6` for values near 0, such
as biases after a few steps), far above rounding and far below what a wrong
scaling (a factor of 2 on a gradient) or a missed batch would give.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from unittest import mock

import numpy as np
import pytest
import tensorflow as tf

import estweight
from estweight.runtime import distribute

RTOL, ATOL = 1e-5, 1e-6
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SCENARIOS = ("custom", "dnn_sum", "dnn_mean", "dnn_v1", "factory_sum",
              "factory_sum_v1", "factory_mean", "train_resume", "switch",
              "input_context", "partial_eval", "other_strategies", "driver",
              "warm_start", "refusals")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
  """Every scenario of mirrored_job.py, run once in one process."""
  workdir = tmp_path_factory.mktemp("mirrored")
  env = dict(os.environ, PYTHONPATH=_ROOT)
  env.pop("TF_CONFIG", None)
  proc = subprocess.run(
      [sys.executable, "-m", "tests.support.mirrored_job", str(workdir),
       *_SCENARIOS], cwd=_ROOT, env=env, capture_output=True, text=True,
      timeout=1800, check=False)
  lines = [l for l in proc.stdout.splitlines() if l.startswith("RESULTS ")]
  assert lines, proc.stderr[-3000:]
  return json.loads(lines[-1][len("RESULTS "):])


def _result(runs, name):
  result = runs[name]
  assert "error" not in result, result
  return result


def _close(a, b, rtol=RTOL, atol=ATOL):
  np.testing.assert_allclose(np.asarray(a, np.float64),
                             np.asarray(b, np.float64), rtol=rtol, atol=atol)


def _assert_same_metrics(a, b):
  assert sorted(a) == sorted(b)
  for key in a:
    _close(a[key], b[key], atol=0)


def _assert_pair_equal(result, single_name=lambda name: name):
  mirrored, single = result["mirrored"], result["single"]
  assert len(mirrored["losses"]) == len(single["losses"]) == 6
  _close(mirrored["losses"], single["losses"], atol=0)
  # Same checkpoint names as single-device training: nothing per replica.
  names = {single_name(n): n for n in mirrored["variables"]}
  assert sorted(names) == sorted(single["variables"])
  for name, value in single["variables"].items():
    _close(mirrored["variables"][names[name]], value)
  _assert_same_metrics(mirrored["eval"], single["eval"])
  # A single-device Estimator reads the mirrored checkpoint.
  _assert_same_metrics(result["mirrored_read_by_single"], mirrored["eval"])


@pytest.mark.slow
def test_custom_model_fn_with_v1_optimizer_equals_single_device(runs):
  result = _result(runs, "custom")
  _assert_pair_equal(result)
  assert result["mirrored"]["variables"]["global_step"] == 6
  assert "dense/kernel/Adagrad" in result["mirrored"]["variables"]


@pytest.mark.slow
def test_weighted_dnn_classifier_summed_loss_equals_single_device(runs):
  _assert_pair_equal(_result(runs, "dnn_sum"))


@pytest.mark.slow
def test_weighted_dnn_classifier_default_reduction_equals_single_device(
    runs):
  _assert_pair_equal(_result(runs, "dnn_mean"))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["factory_sum", "factory_sum_v1",
                                  "factory_mean"])
def test_make_weighted_model_fn_equals_single_device(runs, name):
  """A summed loss is summed over the replicas too (not averaged, not
  divided by their number before the update), with Keras and v1
  optimizers; 'sum_over_batch_size' is averaged."""
  result = _result(runs, name)
  _assert_pair_equal(result)
  # 64 examples of weights in [0.5, 2] (sum ~80) and a loss near log 2 at
  # the start: a summed loss over 32 examples is ~20-40, a mean ~0.7.
  first = result["mirrored"]["losses"][0]
  assert first > 10 if name.startswith("factory_sum") else first < 2


@pytest.mark.slow
def test_interrupted_train_resumes_its_input_position_under_a_strategy(runs):
  """Without the skip, steps 4-6 would read the data's first half again
  (64 examples, 32 a step) and end elsewhere; with it, bit-exact."""
  result = _result(runs, "train_resume")
  assert result["checkpoint_after_interrupt"] == 3
  assert result["resumed"] == result["uninterrupted"]


@pytest.mark.slow
def test_weighted_dnn_classifier_metrics_under_eval_distribute(runs):
  result = _result(runs, "dnn_mean")
  assert "error" not in result["eval_distributed"], result["eval_distributed"]
  _assert_same_metrics(result["eval_distributed"],
                       result["mirrored_read_by_single"])


def _v1_slot_name(name):
  """The name single-device training gives a compat.v1 canned model's
  optimizer slot (its layers are partitioned there, which strategies do not
  do; tf.estimator 2.15 named them so too)."""
  if name.startswith("dnn/dnn/") and name.endswith("/Adagrad"):
    return name[len("dnn/"):-len("/Adagrad")] + "/t_0/Adagrad"
  return name


@pytest.mark.slow
def test_compat_v1_dnn_classifier_with_eval_distribute(runs):
  _assert_pair_equal(_result(runs, "dnn_v1"), single_name=_v1_slot_name)


@pytest.mark.slow
def test_model_dir_moves_between_single_device_and_mirrored(runs):
  result = _result(runs, "switch")
  assert result["steps"] == [2, 4, 6]
  assert not [n for n in result["variables"] if "replica" in n]


@pytest.mark.slow
def test_input_fn_gets_input_context(runs):
  assert _result(runs, "input_context")["seen"] == [[2, 1, 0]]


@pytest.mark.slow
def test_evaluation_drops_an_incomplete_last_group_of_batches(runs):
  result = _result(runs, "partial_eval")
  # 5 batches over 2 replicas: 2 whole steps (4 batches, 52 rows), as
  # tf.estimator 2.15 did; never part of the last step.
  _assert_same_metrics(result["mirrored_64"], result["single_52"])
  assert result["single_52"]["loss"] != result["single_64"]["loss"]


@pytest.mark.slow
@pytest.mark.parametrize("name,replicas", [
    ("one_device", 1), ("one_device_v1", 1), ("central_storage", 2),
    ("multi_worker_mirrored_local", 1), ("parameter_server_v1_local", 1)])
def test_other_in_graph_strategies(runs, name, replicas):
  result = _result(runs, "other_strategies")[name]
  assert "error" not in result, result
  assert result["replicas"] == replicas
  _close(result["losses"], result["single"], atol=0)


@pytest.mark.slow
def test_driver_under_mirrored_equals_single_device(runs):
  result = _result(runs, "driver")
  assert len(result["mirrored"]) == len(result["single"]) == 2
  for mirrored, single in zip(result["mirrored"], result["single"]):
    _assert_same_metrics(mirrored, single)


@pytest.mark.slow
def test_warm_start_under_eval_distribute(runs):
  result = _result(runs, "warm_start")
  source, warm = result["source"], result["warm"]
  assert warm.pop("global_step") == 0
  source.pop("global_step")
  _assert_same_metrics(warm, source)


@pytest.mark.slow
def test_a_strategy_on_a_tf_config_cluster_is_refused(runs):
  result = _result(runs, "refusals")["mirrored_on_cluster"]
  assert result["error"].startswith(
      "NotImplementedError: RunConfig.train_distribute is not run on a "
      "TF_CONFIG cluster")
  assert "train_and_evaluate" in result["error"]
  assert result["written"] == []


# ------------------------------------------------ in this process (1 CPU)
def _model_fn(features, labels, mode):
  logits = estweight.compat.v1.layers.dense(
      features["x"], 2, kernel_initializer=tf.compat.v1.ones_initializer())
  loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(labels, logits)
  if mode == estweight.ModeKeys.EVAL:
    return estweight.EstimatorSpec(mode, loss=loss, eval_metric_ops={
        "accuracy": tf.compat.v1.metrics.accuracy(labels,
                                                  tf.argmax(logits, 1))})
  train_op = tf.compat.v1.train.GradientDescentOptimizer(0.5).minimize(
      loss, global_step=tf.compat.v1.train.get_global_step())
  return estweight.EstimatorSpec(mode, loss=loss, train_op=train_op)


def _input_fn():
  x = np.arange(24, dtype=np.float32).reshape(8, 3) / 10 - 1
  y = (x.sum(axis=1) > 0).astype(np.int64)
  return tf.data.Dataset.from_tensor_slices(({"x": x}, y)).batch(4)


@pytest.mark.parametrize("make", [
    lambda: tf.distribute.MirroredStrategy(["/cpu:0"]),
    lambda: tf.compat.v1.distribute.MirroredStrategy(["/cpu:0"])])
def test_one_replica_mirrored_equals_no_strategy(tmp_path, make):
  strategy = make()
  results = []
  for name, config in (
      ("plain", estweight.RunConfig(tf_random_seed=1)),
      ("mirrored", estweight.RunConfig(tf_random_seed=1,
                                       train_distribute=strategy,
                                       eval_distribute=strategy))):
    est = estweight.Estimator(_model_fn, str(tmp_path / name), config=config)
    est.train(_input_fn, steps=2)
    results.append(est.evaluate(_input_fn))
  assert results[0] == results[1]
  assert results[1]["global_step"] == 2


def _mock_strategy(cls, cluster=None):
  """A stand-in of `cls` (building some of them waits for their cluster)."""
  strategy = mock.Mock(spec=cls)
  strategy.cluster_resolver.cluster_spec.return_value = tf.train.ClusterSpec(
      cluster or {})
  strategy.extended.worker_devices = (
      "/job:localhost/replica:0/task:0/device:CPU:0",)
  strategy.update_config_proto.side_effect = lambda config: config
  strategy.__deepcopy__ = lambda memo: strategy  # as RunConfig copies it
  return strategy


@pytest.mark.parametrize("strategy,match", [
    (_mock_strategy(tf.distribute.MultiWorkerMirroredStrategy,
                    {"worker": ["h0:1", "h1:1"]}),
     "across workers is not run by estweight: its collective all-reduce "
     "needs every worker to run every step in lockstep"),
    (_mock_strategy(
        tf.compat.v1.distribute.experimental.MultiWorkerMirroredStrategy,
        {"worker": ["h0:1", "h1:1"]}), "across workers"),
    (_mock_strategy(
        tf.compat.v1.distribute.experimental.ParameterServerStrategy,
        {"worker": ["h0:1"], "ps": ["h1:1"]}), "with a cluster is not run"),
    (_mock_strategy(tf.distribute.TPUStrategy), "TPUs are not supported"),
    (_mock_strategy(tf.distribute.Strategy),
     "it runs the in-graph strategies MirroredStrategy"),
])
def test_strategies_that_cannot_run_are_refused_before_anything(
    tmp_path, strategy, match):
  est = estweight.Estimator(_model_fn, str(tmp_path),
                            config=estweight.RunConfig(
                                train_distribute=strategy,
                                eval_distribute=strategy))
  with pytest.raises(NotImplementedError, match=match) as info:
    est.train(_input_fn, steps=1)
  assert "MirroredStrategy" in str(info.value)
  assert "TF_CONFIG cluster" in str(info.value)
  with pytest.raises(NotImplementedError, match=match):
    est.evaluate(_input_fn)
  assert os.listdir(tmp_path) == []


def test_tf2_parameter_server_strategy_is_refused_by_run_config():
  strategy = _mock_strategy(tf.distribute.experimental.ParameterServerStrategy)
  with pytest.raises(ValueError, match="Please use `tf.compat.v1.distribute."
                     "experimental.ParameterServerStrategy`"):
    estweight.RunConfig(train_distribute=strategy)
  with pytest.raises(ValueError, match="eval_distribute"):
    estweight.RunConfig(eval_distribute=strategy)


def _strategy_on(devices):
  strategy = _mock_strategy(tf.distribute.MirroredStrategy)
  strategy.extended.worker_devices = tuple(devices)
  return strategy


def test_session_config_counts_the_logical_cpus_a_strategy_uses():
  strategy = _strategy_on(["/job:localhost/replica:0/task:0/device:CPU:0",
                           "/job:localhost/replica:0/task:0/device:CPU:1"])
  base = tf.compat.v1.ConfigProto(allow_soft_placement=True)
  config = distribute.session_config_for(base, [strategy, None])
  assert config.device_count["CPU"] == 2 and config.allow_soft_placement
  assert "CPU" not in base.device_count  # the caller's proto is not changed
  est_config = estweight.Estimator(
      _model_fn, config=estweight.RunConfig(train_distribute=strategy)).config
  assert est_config.session_config.device_count["CPU"] == 2
  with pytest.raises(ValueError, match=r"device_count\['CPU'\]` is 1, but "
                     "the strategy .* uses 2 CPU devices"):
    distribute.session_config_for(
        tf.compat.v1.ConfigProto(device_count={"CPU": 1}), [strategy])


def test_a_non_dataset_input_is_refused_under_a_strategy(tmp_path):
  strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
  est = estweight.Estimator(_model_fn, str(tmp_path), config=estweight.
                            RunConfig(train_distribute=strategy))
  def tensors():
    return {"x": tf.zeros([4, 3])}, tf.zeros([4], tf.int64)
  with pytest.raises(ValueError, match="With RunConfig.train_distribute, "
                     "input_fn must return a tf.data.Dataset"):
    est.train(tensors, steps=1)
