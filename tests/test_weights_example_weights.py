"""estweight.weights.example_weights: the one check of example weights, and
reduce_loss with the heads' tf.estimator ops."""
import re

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from estweight.weights import example_weights as example_weights_lib
from estweight.weights import losses

_v1 = tf.compat.v1
# Without quotes: the run-time assert messages print them escaped.
WHAT = "Example weights from the third element of the input"
HEAD_WHAT = "Weights from the weights input_fn returned"


def _run(build, feed_value, shape, dtype=tf.float32):
  """Builds `build(placeholder)` in a graph and runs it on `feed_value`."""
  with tf.Graph().as_default():
    weights = _v1.placeholder(dtype, shape)
    out = build(weights)
    with _v1.Session() as session:
      return session.run(out, {weights: feed_value})


def _flat(weights):
  return example_weights_lib.example_weights(weights, WHAT, flatten=True)


def _head(weights, per_logit=None, dimension=1):
  logits = tf.zeros([3, dimension])
  return example_weights_lib.example_weights(weights,
                                             HEAD_WHAT,
                                             logits=logits,
                                             source="weight_column 'w'",
                                             per_logit=per_logit)


@pytest.mark.parametrize("shape, value", [([None], [1, 2, 0]),
                                          ([None, 1], [[1], [2], [0]])])
def test_flatten_gives_float32_batch_size(shape, value):
  got = _run(_flat, value, shape, tf.int32)
  assert got.dtype == np.float32
  np.testing.assert_array_equal(got, [1.0, 2.0, 0.0])


@pytest.mark.parametrize("shape, value", [([None], [1, 2, 0]),
                                          ([None, 1], [[1], [2], [0]])])
def test_head_weights_become_batch_size_by_one(shape, value):
  got = _run(_head, value, shape)
  np.testing.assert_array_equal(got, [[1.0], [2.0], [0.0]])


def test_without_flatten_the_shape_is_kept():
  got = _run(lambda w: example_weights_lib.example_weights(w, WHAT),
             [[1.0, 2.0]], [None, 2])
  np.testing.assert_array_equal(got, [[1.0, 2.0]])


@pytest.mark.parametrize("build, what", [(_flat, WHAT), (_head, HEAD_WHAT)])
def test_negative_weight_fails_at_run_time(build, what):
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=re.escape(f"{what} must be >= 0")):
    _run(build, [1.0, -1.0, 1.0], [None])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("build, what", [(_flat, WHAT), (_head, HEAD_WHAT)])
def test_non_finite_weight_fails_as_such_not_as_negative(build, what, bad):
  # Finite is checked first: NaN would also fail the >= 0 check.
  with pytest.raises(tf.errors.InvalidArgumentError) as info:
    _run(build, [1.0, bad, 1.0], [None])
  assert f"{what} must be finite" in info.value.message
  assert "must be >= 0" not in info.value.message


def test_finite_check_keeps_its_op_name_under_the_callers_scope():
  with tf.Graph().as_default() as graph:
    with tf.name_scope("head"), tf.name_scope("losses"):
      _head(_v1.placeholder(tf.int32, [None]))
    names = {op.name for op in graph.get_operations()}
  assert "head/losses/VerifyFinite/CheckNumerics" in names
  assert "head/losses/weights" in names  # the cast, as tf.estimator's


def test_head_batch_size_mismatch_fails_at_run_time():
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=re.escape(f"{HEAD_WHAT} must have one entry per "
                                     "example")):
    _run(_head, [1.0, 1.0], [None])


def test_head_sparse_weights_raise():
  sparse = tf.SparseTensor([[0, 0]], [1.0], [3, 1])
  with pytest.raises(ValueError) as info:
    _head(sparse)
  assert str(info.value) == f"{HEAD_WHAT} must be dense."


def test_head_string_weights_raise():
  with pytest.raises(ValueError) as info:
    _head(tf.constant(["a", "b", "c"]))
  assert str(info.value) == ("Weight column should be castable to float. "
                             "Received dtype string for weight_column 'w'.")


def test_head_weight_shape_errors():
  with pytest.raises(ValueError) as info:
    _head(tf.ones([3, 2]), dimension=2)
  assert str(info.value) == (
      f"{HEAD_WHAT} have shape (3, 2), but must be [batch_size] or "
      "[batch_size, 1] for logits of shape (3, 2).")
  with pytest.raises(ValueError) as info:
    _head(tf.ones([3, 4]), per_logit=2, dimension=2)
  assert str(info.value) == (
      f"{HEAD_WHAT} have shape (3, 4), but must be [batch_size] or "
      "[batch_size, 1] or [batch_size, 2] for logits of shape (3, 2).")
  got = _head(tf.ones([3, 2]), per_logit=2, dimension=2)
  assert got.shape == (3, 2)


# ------------------------------------------- reduce_loss(tf_estimator_ops)
UNWEIGHTED = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
WEIGHTS = [[1.0], [0.0], [2.0]]


@pytest.mark.parametrize(
    "reduction",
    ["sum", "sum_over_batch_size", "weighted_mean", "nonzero_mean"])
def test_tf_estimator_ops_are_tf_keras_and_v1_compute_weighted_loss(reduction):
  with tf.Graph().as_default() as graph:
    got = losses.reduce_loss(tf.constant(UNWEIGHTED),
                             tf.constant(WEIGHTS),
                             reduction,
                             tf_estimator_ops=True)
    last_reduction = graph._last_loss_reduction  # pylint: disable=protected-access
    if reduction in ("sum", "sum_over_batch_size"):
      want = tf_keras.__internal__.losses.compute_weighted_loss(
          tf.constant(UNWEIGHTED),
          sample_weight=tf.constant(WEIGHTS),
          reduction=reduction)
    else:
      v1 = {
          "weighted_mean": _v1.losses.Reduction.MEAN,
          "nonzero_mean": _v1.losses.Reduction.SUM_BY_NONZERO_WEIGHTS
      }[reduction]
      want = _v1.losses.compute_weighted_loss(tf.constant(UNWEIGHTED),
                                              weights=tf.constant(WEIGHTS),
                                              reduction=v1)
    with _v1.Session() as session:
      got, want = session.run([got, want])
  assert got == want
  expected = {  # Σ w·l = 1·3 + 2·11 = 25 over 6 losses, Σw = 1 + 2 per dim
      "sum": 25.0,
      "sum_over_batch_size": 25.0 / 6,
      "weighted_mean": 25.0 / 6,
      "nonzero_mean": 25.0 / 4
  }[reduction]
  assert got == pytest.approx(expected)
  assert last_reduction is not None


def test_normalize_loss_reduction():
  assert losses.normalize_loss_reduction("auto") == "sum_over_batch_size"
  assert losses.normalize_loss_reduction(
      _v1.losses.Reduction.SUM_BY_NONZERO_WEIGHTS) == "nonzero_mean"
  with pytest.raises(ValueError) as info:
    losses.normalize_loss_reduction("none")
  assert str(info.value) == (
      "`loss_reduction` must be 'sum_over_batch_size', 'sum' or 'auto' (or a "
      "tf.compat.v1.losses.Reduction other than NONE). Received: "
      "loss_reduction='none'.")
