"""tf.estimator 2.15 behaviours found to differ (issue: build 8), each run for
real here; the wider reference check is tests/test_probes.py."""
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
import tf_keras

import estweight
from support import models

v1 = tf.compat.v1


def _x_input():
  return tf.data.Dataset.from_tensor_slices(
      {"x": np.arange(4, dtype=np.float32)}).batch(1)


@pytest.mark.parametrize("metric_cls", [keras.metrics.Mean,
                                        tf_keras.metrics.Mean])
@pytest.mark.parametrize("how", ["update_state", "call"])
def test_keras_metric_objects_in_eval_metric_ops(tmp_path, metric_cls, how):
  def model_fn(features, labels, mode):
    del labels
    w = v1.get_variable("w", [], initializer=v1.zeros_initializer())
    metric = metric_cls()
    if how == "call":
      metric(features["x"])
    else:
      metric.update_state(features["x"])
    return estweight.EstimatorSpec(
        mode, loss=tf.reduce_mean(features["x"] * w),
        train_op=v1.assign_add(v1.train.get_or_create_global_step(), 1),
        eval_metric_ops={"mean_x": metric})
  est = estweight.Estimator(model_fn, model_dir=str(tmp_path))
  est.train(_x_input, steps=1)
  # Four one-example batches x = 0, 1, 2, 3: (0 + 1 + 2 + 3) / 4 = 1.5,
  # every time (the metric's variables restart per evaluation).
  for _ in range(2):
    assert est.evaluate(_x_input)["mean_x"] == 1.5


def test_keep_checkpoint_every_n_hours_none_trains(tmp_path):
  est = models.make_estimator(tmp_path, keep_checkpoint_every_n_hours=None)
  est.train(models.xy_input_fn([1.0], [2.0], repeat=True), steps=2)
  assert est.get_variable_value("global_step") == 2


def test_whole_float_max_steps_in_train_and_evaluate(tmp_path):
  est = models.make_estimator(tmp_path, save_checkpoints_steps=5)
  batches = 40 / 8 * 4  # a float in Python 3, as in the census tutorial
  train = estweight.TrainSpec(models.xy_input_fn([1.0], [2.0], repeat=True),
                              max_steps=batches)
  evaluate = estweight.EvalSpec(models.xy_input_fn([1.0], [2.0]), steps=1,
                                throttle_secs=0)
  metrics, _ = estweight.train_and_evaluate(est, train, evaluate)
  assert train.max_steps == 20 and metrics["global_step"] == 20


def test_parse_example_specs():
  cols = [tf.feature_column.numeric_column("x", shape=[2])]
  spec = estweight.classifier_parse_example_spec(cols, "label",
                                                 weight_column="w")
  assert spec == {"x": tf.io.FixedLenFeature((2,), tf.float32),
                  "label": tf.io.FixedLenFeature((1,), tf.int64),
                  "w": tf.io.FixedLenFeature((1,), tf.float32)}
  spec = estweight.regressor_parse_example_spec(cols, "y", label_dimension=3)
  assert spec["y"] == tf.io.FixedLenFeature((3,), tf.float32)
  with pytest.raises(ValueError, match="label_key.*Received: label_key='x'"):
    estweight.classifier_parse_example_spec(cols, "x")


def test_stop_at_checkpoint_step_hook(tmp_path):
  chief = models.make_estimator(tmp_path, save_checkpoints_steps=3)
  hook = estweight.experimental.make_stop_at_checkpoint_step_hook(chief, 5)
  assert isinstance(hook, v1.train.StopAtStepHook)
  chief.train(models.xy_input_fn([1.0], [2.0], repeat=True), hooks=[hook])
  assert chief.get_variable_value("global_step") == 5
  # A worker stops as soon as it sees the chief's checkpoint at step >= 5.
  os.environ["TF_CONFIG"] = (
      '{"cluster": {"chief": ["h:1"], "worker": ["h:2"]}, '
      '"task": {"type": "worker", "index": 0}}')
  try:
    config = estweight.RunConfig(model_dir=str(tmp_path))
  finally:
    del os.environ["TF_CONFIG"]
  worker = estweight.Estimator(models.scalar_model_fn, config=config,
                               params={"learning_rate": 0.01})
  hook = estweight.experimental.make_stop_at_checkpoint_step_hook(
      worker, 5, wait_after_file_check_secs=0)
  assert not isinstance(hook, v1.train.StopAtStepHook)
  with tf.Graph().as_default():
    step = v1.train.create_global_step()
    with v1.train.MonitoredSession(hooks=[hook]) as session:
      session.run(step)
      assert session.should_stop()


def test_early_stopping_condition_true_at_start(tmp_path):
  """tf.estimator 2.15 trained one step, then returned its evaluation
  ({'loss': 2.56, 'global_step': 1} in the probe); estweight trains none
  and returns the evaluation of the initial model (deliberate, README)."""
  est = models.make_estimator(tmp_path, save_checkpoints_steps=5)
  hook = estweight.experimental.make_early_stopping_hook(
      est, lambda: True, run_every_secs=None, run_every_steps=1)
  train = estweight.TrainSpec(models.xy_input_fn([1.0], [2.0], repeat=True),
                              max_steps=100, hooks=[hook])
  evaluate = estweight.EvalSpec(models.xy_input_fn([1.0], [2.0]), steps=1,
                                throttle_secs=0)
  metrics, _ = estweight.train_and_evaluate(est, train, evaluate)
  # w = 0: loss = (0 * 1 - 2)^2 = 4.
  assert metrics["global_step"] == 0 and metrics["loss"] == 4.0


def test_keras3_sequential_takes_the_keras2_input_name(tmp_path):
  """The TF docs' keras_model_to_estimator tutorial keys features by
  `dense_input` (Keras 2's name for a Sequential's input). The tutorial
  runs in a fresh process, where the first Dense layer is named `dense`;
  clearing the session resets Keras's name counters to that state (tests
  run before this one have made layers named dense_1, dense_2, ...)."""
  keras.backend.clear_session()
  model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,),
                                               use_bias=False,
                                               kernel_initializer="ones")])
  model.compile("sgd", "mse")
  est = estweight.model_to_estimator(keras_model=model,
                                     model_dir=str(tmp_path))
  x = np.array([[1.0, 2.0]], np.float32)
  y = np.array([[4.0]], np.float32)
  metrics = est.evaluate(lambda: tf.data.Dataset.from_tensor_slices(
      ({"dense_input": x}, y)).batch(1))
  # kernel ones: prediction 1 + 2 = 3; mse (3 - 4)^2 = 1.
  assert metrics["loss"] == 1.0


LEGACY_KERAS_PROGRAM = """
import os, sys, tempfile
import numpy as np, tensorflow as tf, estweight
estweight.install()
assert tf.keras.__name__.startswith("tf_keras"), tf.keras.__name__
m = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(2,),
                                               use_bias=False,
                                               kernel_initializer="ones")])
m.compile("sgd", "mse")
est = tf.keras.estimator.model_to_estimator(keras_model=m,
                                            model_dir=tempfile.mkdtemp())
x = np.array([[1.0, 2.0]], np.float32); y = np.array([[4.0]], np.float32)
print(est.evaluate(lambda: tf.data.Dataset.from_tensor_slices(
    ({"dense_input": x}, y)).batch(1))["loss"])
"""


@pytest.mark.slow
def test_tf_keras_estimator_under_tf_use_legacy_keras():
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
  out = subprocess.run([sys.executable, "-c", LEGACY_KERAS_PROGRAM],
                       capture_output=True, text=True, env=env, timeout=300)
  assert out.returncode == 0, out.stderr[-2000:]
  assert out.stdout.strip().splitlines()[-1] == "1.0"


@pytest.mark.parametrize("make_optimizer", [
    lambda: tf_keras.optimizers.legacy.Adagrad(learning_rate=0.1),
    lambda: tf_keras.optimizers.legacy.Adagrad,
    lambda: v1.train.AdagradOptimizer(0.1),
    lambda: "Adagrad",
], ids=["tf_keras legacy instance", "tf_keras legacy class",
        "tf.compat.v1.train", "name"])
def test_legacy_optimizers_for_canned_estimators(tmp_path, make_optimizer):
  """The canned-estimators migration guide's tf.keras.optimizers.legacy.*
  is gone with Keras 3; its tf_keras twin and the v1 optimizers work."""
  est = estweight.DNNRegressor(
      [2], [tf.feature_column.numeric_column("x")],
      optimizer=make_optimizer(), model_dir=str(tmp_path))
  est.train(models.xy_input_fn([1.0, 2.0], [2.0, 4.0], repeat=True), steps=2)
  assert est.get_variable_value("global_step") == 2


@pytest.mark.parametrize("metric_module", [keras.metrics, tf_keras.metrics],
                         ids=["keras3", "tf_keras"])
def test_keras_mean_metric_wrapper_counts_only_real_batches(tmp_path,
                                                            metric_module):
  """Keras 3's MeanSquaredError updates its count from static shapes; the
  evaluation run that meets the end of input must not count a batch."""
  def model_fn(features, labels, mode):
    w = v1.get_variable("w", [], initializer=v1.constant_initializer(0.5))
    prediction = w * features["x"]
    mse = metric_module.MeanSquaredError()
    mse.update_state(labels, prediction)
    return estweight.EstimatorSpec(
        mode, loss=tf.reduce_mean(tf.square(prediction - labels)),
        train_op=v1.assign_add(v1.train.get_or_create_global_step(), 1),
        eval_metric_ops={"mse": mse})

  def input_fn():
    x = np.arange(4, dtype=np.float32)
    return tf.data.Dataset.from_tensor_slices(({"x": x}, 2 * x + 1)).batch(1)
  est = estweight.Estimator(model_fn, model_dir=str(tmp_path))
  est.train(input_fn, steps=1)
  # w = 0.5, y = 2x + 1: squared errors 1, 6.25, 16, 30.25 -> 53.5 / 4.
  assert est.evaluate(input_fn)["mse"] == pytest.approx(13.375, rel=1e-6)


def test_a_keras3_optimizer_given_to_a_head_is_a_clear_error(tmp_path):
  """2.15 raised AttributeError ('no attribute get_updates') for its new Keras
  optimizers here; the message now names the optimizers that work."""

  def model_fn(features, labels, mode):
    kernel = v1.get_variable("k", [1, 1])
    logits = tf.matmul(tf.reshape(features["x"], [-1, 1]), kernel)
    return estweight.BinaryClassHead().create_estimator_spec(
        features=features, mode=mode, logits=logits, labels=labels,
        optimizer=keras.optimizers.SGD(0.1), trainable_variables=[kernel])

  est = estweight.Estimator(model_fn, model_dir=str(tmp_path / "model"))
  with pytest.raises(ValueError,
                     match=r"`optimizer` must be a tf_keras.optimizers.legacy "
                     r"or tf.compat.v1.train optimizer where a head builds "
                     r"the train op.*Received: optimizer=<keras"):
    est.train(models.xy_input_fn([1.0, 0.0], [1, 0]), steps=1)
  assert not os.path.exists(tmp_path / "model")
