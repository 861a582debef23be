"""Errors only real batches reveal: one InvalidDataError naming the problem,
the values, the batch and the step, raised before anything is written to a
new model_dir when the first batch shows it."""
import os

import numpy as np
import pytest
import tensorflow as tf

import estweight
from estweight.runtime import data_errors

X = [[1.0, 2.0], [3.0, 4.0]]


def _estimator(model_dir, **kwargs):
  return estweight.DNNClassifier(
      hidden_units=[4], model_dir=model_dir,
      feature_columns=[tf.feature_column.numeric_column("x", shape=(2,))],
      config=estweight.RunConfig(tf_random_seed=1), **kwargs)


def _input(x, y, w=None, batches=1):
  def input_fn():
    features = {"x": np.asarray(x, np.float32)}
    if w is not None:
      features["w"] = np.asarray(w, np.float32)
    ds = tf.data.Dataset.from_tensor_slices((features, y))
    return ds.batch(len(y) // batches)
  return input_fn


CASES = {
    "label_too_large": (dict(n_classes=3), _input(X, np.array([1, 5])),
                        "Labels must be <= n_classes - 1 = 2; values in this "
                        "batch: [[1 5]]"),
    "label_negative": (dict(n_classes=3), _input(X, np.array([1, -1])),
                       "Labels must be >= 0; values in this batch: [[1 -1]]"),
    "negative_weight": (dict(weight_column="w"),
                        _input(X, np.array([1, 0]), [1.0, -2.0]),
                        "Weights from weight_column 'w' must be >= 0; values "
                        "in this batch: [[1 -2]]"),
    "nan_weight": (dict(weight_column="w"),
                   _input(X, np.array([1, 0]), [1.0, np.nan]),
                   "Weights from weight_column 'w' must be finite"),
    "label_outside_vocabulary": (
        dict(label_vocabulary=["a", "b"]), _input(X, np.array([b"a", b"c"])),
        "Labels must be in label_vocabulary ['a', 'b']"),
    "feature_shape": ({}, _input([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]],
                                 np.array([1, 0])),
                      "Input to reshape is a tensor with 6 values, but the "
                      "requested shape has 4"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_bad_first_batch_is_refused_and_model_dir_untouched(tmp_path,
                                                              name):
  kwargs, input_fn, problem = CASES[name]
  model_dir = str(tmp_path / "model")
  with pytest.raises(data_errors.InvalidDataError) as raised:
    _estimator(model_dir, **kwargs).train(input_fn, steps=3)
  error = raised.value
  assert problem in str(error)
  assert str(error).startswith("Batch 1 of this call's input (for global "
                               "step 1) cannot be used: ")
  assert "Original stack trace" not in str(error)
  assert (error.batch, error.step) == (1, 1)
  # Ported code catching TensorFlow's error still catches it.
  assert isinstance(error, tf.errors.InvalidArgumentError)
  assert isinstance(error.tf_error, tf.errors.InvalidArgumentError)
  assert not os.path.exists(model_dir)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_a_non_finite_first_loss_is_tf_estimators_error_before_writing(
    tmp_path, value):
  model_dir = str(tmp_path / "model")
  input_fn = _input([[1.0, value], [3.0, 4.0]], np.array([1, 0]))
  # A linear model: NaN reaches the loss on every CPU. (A DNN may not: with
  # oneDNN on, as on AVX-512 VNNI CPUs, the fused MatMul+Relu maps NaN to 0.)
  estimator = estweight.LinearClassifier(
      feature_columns=[tf.feature_column.numeric_column("x", shape=(2,))],
      model_dir=model_dir, config=estweight.RunConfig(tf_random_seed=1))
  with pytest.raises(estweight.NanLossDuringTrainingError,
                     match=r"at global step 1; training stopped without "
                     r"saving it. The latest checkpoint is none"):
    estimator.train(input_fn, steps=3)
  assert not os.path.exists(model_dir)


def test_a_bad_later_batch_names_its_batch_and_step(tmp_path):
  # Batches of 2: [1, 0], [1, 0], [1, 7]; the third fails, at step 3.
  est = _estimator(str(tmp_path), n_classes=3)
  input_fn = _input([[1.0, 2.0]] * 6, np.array([1, 0, 1, 0, 1, 7]),
                    batches=3)
  with pytest.raises(data_errors.InvalidDataError,
                     match=r"^Batch 3 of this call's input \(for global step "
                     r"3\) cannot be used: Labels must be <= n_classes - 1 = "
                     r"2; values in this batch: \[\[1 7\]\]") as raised:
    est.train(input_fn)
  assert raised.value.node == "head_losses_assert_less_equal"
  # The step-0 checkpoint was written before batch 3 was read.
  assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-0")


def test_the_checked_batch_is_trained_on_first(tmp_path):
  # Reading the first batch for the check re-initialises the input: a
  # 1-batch input still trains one step (it would make none otherwise).
  est = _estimator(str(tmp_path))
  est.train(_input(X, np.array([1, 0])))
  assert est.get_variable_value("global_step") == 1


def test_cause_skips_tensorflows_stack():
  error = tf.errors.DataLossError(
      None, None, "Graph execution error:\n\nDetected at node 'save/Restore' "
      "defined at (most recent call last):\n  File \"a.py\", line 1\n    x()"
      "\n\nRead less bytes than requested\n\t [[{{node save/Restore}}]]")
  assert data_errors.cause(error) == "Read less bytes than requested"
  assert data_errors.cause(ValueError("first\nsecond")) == "first"


def test_the_errors_have_one_public_namespace():
  assert estweight.errors.InvalidDataError is data_errors.InvalidDataError
  assert issubclass(estweight.errors.NonFiniteLossError,
                    estweight.NanLossDuringTrainingError)
  assert sorted(estweight.errors.__all__) == [
      "CheckpointError", "ClusterError", "InvalidDataError",
      "ModelDirLockedError", "NonFiniteLossError", "StateFileError"]
