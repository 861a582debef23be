"""estweight.install() and the tf.compat.v1.layers shim.

install() mutates the tensorflow module, so its checks run in fresh
interpreters (one per scenario, started together). The layer checks build
graphs in this process through estweight.compat.v1.layers, which is what
tf.compat.v1.layers resolves to after install(). Expected variable names,
shapes and UPDATE_OPS were produced by the same graphs on tf.compat.v1.layers
of TF 2.15.
"""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from estweight.compat.v1 import layers

v1 = tf.compat.v1

# Prints a JSON dict of checks as its last stdout line.
_LEGACY = """
import json, sys, tempfile
import numpy as np
import tensorflow.compat.v1 as early_v1  # before install, as old code does
import tensorflow as tf
import estweight

r = {"had_estimator": hasattr(tf, "estimator")}
r["first"] = estweight.install()
r["second"] = estweight.install()
r["estimator"] = tf.estimator.Estimator is estweight.Estimator
r["estimator_spec"] = tf.estimator.EstimatorSpec is estweight.EstimatorSpec
r["compat_v2"] = tf.compat.v2.estimator.Estimator is estweight.Estimator
r["v1_estimator"] = tf.compat.v1.estimator.Estimator is estweight.Estimator
r["v1_numpy_input_fn"] = (tf.compat.v1.estimator.inputs.numpy_input_fn
                          is estweight.inputs.numpy_input_fn)
r["v1_pandas_input_fn"] = (tf.compat.v1.estimator.inputs.pandas_input_fn
                           is estweight.inputs.pandas_input_fn)
r["early_v1_estimator"] = early_v1.estimator.Estimator is estweight.Estimator
r["early_v1_layers"] = (early_v1.layers.dense
                        is estweight.compat.v1.layers.dense)
from tensorflow.compat.v1 import estimator
r["from_v1_import_estimator"] = estimator.Estimator is estweight.Estimator
from tensorflow.compat.v1.estimator.inputs import numpy_input_fn
r["from_v1_inputs_import"] = numpy_input_fn is estweight.inputs.numpy_input_fn
from tensorflow.compat.v1.layers import dense
r["from_v1_layers_import"] = dense is estweight.compat.v1.layers.dense
from tensorflow.estimator import ModeKeys
r["from_estimator_import"] = ModeKeys is estweight.ModeKeys
import tensorflow.estimator.export as export
r["export_not_reimported"] = export.__name__ == "estweight.export"
import tensorflow.compat.v1 as late_v1
r["late_v1_layers"] = late_v1.layers.dense is estweight.compat.v1.layers.dense

with tf.Graph().as_default():
  x = early_v1.placeholder(tf.float32, [None, 3])
  early_v1.layers.dense(x, 4)
  tf.compat.v1.layers.dense(x, 1)
  r["layer_variables"] = [v.name for v in early_v1.global_variables()]

def model_fn(features, labels, mode):
  logits = early_v1.layers.dense(features["x"], 1, name="logits")
  loss = early_v1.losses.mean_squared_error(labels, logits)
  train_op = early_v1.train.GradientDescentOptimizer(0.1).minimize(
      loss, global_step=early_v1.train.get_global_step())
  return early_v1.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)

x = np.linspace(0, 1, 10, dtype=np.float32)[:, None]
est = tf.estimator.Estimator(model_fn, model_dir=tempfile.mkdtemp())
est.train(early_v1.estimator.inputs.numpy_input_fn(
    {"x": x}, 2 * x, batch_size=4, num_epochs=1, shuffle=False))
r["legacy_train_steps"] = int(est.get_variable_value("global_step"))
r["legacy_variables"] = sorted(n for n in est.get_variable_names()
                               if n.startswith("logits"))
print(json.dumps(r))
"""

# A TensorFlow that still ships tf.estimator (as TF <= 2.15 does).
_REAL_ESTIMATOR = """
import json, types
import tensorflow as tf
import estweight

real = types.ModuleType("tensorflow_estimator")
real.Estimator = object
tf.estimator = real
r = {"done": estweight.install()}
r["kept"] = tf.estimator is real
r["v1_estimator"] = tf.compat.v1.estimator.Estimator is estweight.Estimator
print(json.dumps(r))
"""


@pytest.fixture(scope="module")
def installed():
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  procs = {name: subprocess.Popen(
      [sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE,
      stderr=subprocess.PIPE, text=True, env=env)
           for name, code in (("legacy", _LEGACY),
                              ("real_estimator", _REAL_ESTIMATOR))}
  results = {}
  for name, proc in procs.items():
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, f"{name} script failed:\n{err[-3000:]}"
    results[name] = json.loads(out.strip().splitlines()[-1])
  return results


# ------------------------------------------------------------------ install
@pytest.mark.slow
def test_tf_estimator_points_at_estweight(installed):
  r = installed["legacy"]
  assert r["had_estimator"] is False  # TF 2.16+ dropped it
  assert r["estimator"] and r["estimator_spec"] and r["compat_v2"]


@pytest.mark.slow
def test_v1_estimator_namespace_has_the_input_functions(installed):
  r = installed["legacy"]
  assert r["v1_estimator"]
  assert r["v1_numpy_input_fn"] and r["v1_pandas_input_fn"]


@pytest.mark.slow
def test_compat_v1_imported_before_install_sees_estimator_and_layers(
    installed):
  r = installed["legacy"]
  assert r["early_v1_estimator"] and r["early_v1_layers"]
  assert r["late_v1_layers"]


@pytest.mark.slow
def test_from_imports_of_the_installed_names_work(installed):
  r = installed["legacy"]
  assert r["from_v1_import_estimator"]
  assert r["from_v1_inputs_import"]
  assert r["from_v1_layers_import"]
  assert r["from_estimator_import"]


@pytest.mark.slow
def test_importing_a_subpackage_by_its_tf_name_does_not_reload_it(installed):
  assert installed["legacy"]["export_not_reimported"]


@pytest.mark.slow
def test_install_twice_is_harmless_and_returns_the_same_names(installed):
  r = installed["legacy"]
  assert r["first"] == r["second"] == [
      "tf.estimator", "tf.compat.v1.estimator", "tf.compat.v1.layers",
      "tf.keras.estimator"]


@pytest.mark.slow
def test_installed_v1_layers_create_v1_variable_names(installed):
  assert installed["legacy"]["layer_variables"] == [
      "dense/kernel:0", "dense/bias:0", "dense_1/kernel:0", "dense_1/bias:0"]


@pytest.mark.slow
def test_legacy_estimator_code_trains_unchanged(installed):
  r = installed["legacy"]
  assert r["legacy_train_steps"] == 3  # 10 examples, batch 4, one epoch
  assert r["legacy_variables"] == ["logits/bias", "logits/kernel"]


@pytest.mark.slow
def test_install_leaves_a_tf_estimator_that_tensorflow_ships_alone(installed):
  r = installed["real_estimator"]
  assert r["kept"]
  # (Keras 3 here still has no tf.keras.estimator, so that one is added.)
  assert r["done"] == ["tf.compat.v1.estimator", "tf.compat.v1.layers",
                       "tf.keras.estimator"]
  assert r["v1_estimator"]


# ------------------------------------------------------------------- layers
def build(fn):
  """Runs fn in a fresh graph; returns (fn's result, global variable names)."""
  with tf.Graph().as_default():
    out = fn(v1.placeholder(tf.float32, [None, 3]))
    return out, [v.name for v in v1.global_variables()]


def test_dense_layers_are_numbered_like_tf1():
  _, names = build(lambda x: layers.dense(layers.dense(x, 4), 2))
  assert names == ["dense/kernel:0", "dense/bias:0",
                   "dense_1/kernel:0", "dense_1/bias:0"]


def test_dense_in_a_variable_scope_is_prefixed_by_it():
  def fn(x):
    with v1.variable_scope("foo"):
      return layers.dense(x, 5)
  out, names = build(fn)
  assert names == ["foo/dense/kernel:0", "foo/dense/bias:0"]
  assert out.shape.as_list() == [None, 5]


def test_dense_name_argument_names_its_variables():
  _, names = build(lambda x: layers.dense(x, 1, name="logits"))
  assert names == ["logits/kernel:0", "logits/bias:0"]


def test_variable_scope_reuse_shares_the_layer_variables():
  def fn(x):
    with v1.variable_scope("shared"):
      a = layers.dense(x, 2, name="h")
    with v1.variable_scope("shared", reuse=True):
      b = layers.dense(x, 2, name="h")
    return a, b
  (a, b), names = build(fn)
  assert names == ["shared/h/kernel:0", "shared/h/bias:0"]
  with v1.Session(graph=a.graph) as sess:
    sess.run(v1.global_variables_initializer())
    feed = {a.graph.get_tensor_by_name("Placeholder:0"): np.ones((2, 3))}
    got_a, got_b = sess.run([a, b], feed)
  np.testing.assert_array_equal(got_a, got_b)


def test_reuse_of_a_layer_that_does_not_exist_is_an_error():
  def fn(x):
    with v1.variable_scope("nothing_here", reuse=True):
      return layers.dense(x, 2)
  with pytest.raises(ValueError, match="does not exist"):
    build(fn)


def test_batch_normalization_training_registers_update_ops():
  def fn(x):
    out = layers.batch_normalization(x, training=True)
    return out, sorted(op.name for op in v1.get_collection(
        v1.GraphKeys.UPDATE_OPS))
  (out, update_ops), names = build(fn)
  assert out.shape.as_list() == [None, 3]
  assert names == ["batch_normalization/gamma:0",
                   "batch_normalization/beta:0",
                   "batch_normalization/moving_mean:0",
                   "batch_normalization/moving_variance:0"]
  assert update_ops == [
      "batch_normalization/AssignMovingAvg/AssignSubVariableOp",
      "batch_normalization/AssignMovingAvg_1/AssignSubVariableOp"]


def test_moving_statistics_are_not_trainable():
  def fn(x):
    layers.batch_normalization(x, training=True)
    return [v.name for v in v1.trainable_variables()]
  trainable, _ = build(fn)
  assert trainable == ["batch_normalization/gamma:0",
                       "batch_normalization/beta:0"]


def test_conv_pool_flatten_dropout_shapes_and_names():
  with tf.Graph().as_default():
    images = v1.placeholder(tf.float32, [None, 8, 8, 3])
    h = layers.conv2d(images, 6, 3, padding="same", activation=tf.nn.relu)
    assert h.shape.as_list() == [None, 8, 8, 6]
    h = layers.max_pooling2d(h, 2, 2)
    assert h.shape.as_list() == [None, 4, 4, 6]
    h = layers.flatten(h)
    assert h.shape.as_list() == [None, 96]
    h = layers.dropout(h, rate=0.5, training=True)
    assert h.shape.as_list() == [None, 96]
    with v1.variable_scope("net"):
      valid = layers.conv2d(images, 4, 3)
    assert valid.shape.as_list() == [None, 6, 6, 4]
    assert [(v.name, v.shape.as_list()) for v in v1.global_variables()] == [
        ("conv2d/kernel:0", [3, 3, 3, 6]), ("conv2d/bias:0", [6]),
        ("net/conv2d/kernel:0", [3, 3, 3, 4]), ("net/conv2d/bias:0", [4])]


def test_dropout_is_the_identity_when_not_training():
  with tf.Graph().as_default():
    x = tf.ones([4, 5])
    kept = layers.dropout(x, rate=0.9, training=False)
    with v1.Session() as sess:
      np.testing.assert_array_equal(sess.run(kept), np.ones((4, 5)))
