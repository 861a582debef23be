"""Golden numbers for the per-example losses and the weighted reductions."""
import math

import numpy as np
import pytest
import tensorflow as tf

from estweight.weights import losses

LOG2 = math.log(2.0)


def run(t):
  return tf.convert_to_tensor(t).numpy()


@pytest.mark.parametrize("name, labels, logits, expected", [
    # z=0: log(1+e^0) = ln 2 whatever the label; z=2, y=0: 2 + ln(1+e^-2).
    ("sigmoid_cross_entropy", [[1.0], [0.0]], [[0.0], [2.0]],
     [LOG2, 2.0 + math.log1p(math.exp(-2.0))]),
    # softmax([0, ln 3]) = [1/4, 3/4]: -ln(3/4) for class 1.
    ("sparse_softmax_cross_entropy", [0, 1], [[0.0, 0.0], [0.0, math.log(3)]],
     [LOG2, -math.log(0.75)]),
    ("softmax_cross_entropy", [[1.0, 0.0], [0.0, 1.0]],
     [[0.0, 0.0], [0.0, math.log(3)]], [LOG2, -math.log(0.75)]),
    # (1-0)², (3-1)²
    ("mse", [[0.0], [1.0]], [[1.0], [3.0]], [1.0, 4.0]),
    # |e|=0.5: 0.5·0.25; |e|=3: 1·(3 - 0.5)
    ("huber", [[0.0], [0.0]], [[0.5], [3.0]], [0.125, 2.5]),
    # p_t = 0.5: -(1-0.5)²·ln 0.5 = 0.25 ln 2; z=ln 3, y=1: p_t = 3/4,
    # -(1/4)²·ln(3/4)
    ("focal", [[1.0], [1.0]], [[0.0], [math.log(3)]],
     [0.25 * LOG2, -(0.25 ** 2) * math.log(0.75)]),
])
def test_per_example_losses(name, labels, logits, expected):
  got = run(losses.get(name)(tf.constant(labels), tf.constant(logits)))
  np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_focal_alpha_weighs_positives_and_negatives():
  fn = losses.get("focal", gamma=2.0, alpha=0.25)
  got = run(fn(tf.constant([[1.0], [0.0]]), tf.constant([[0.0], [0.0]])))
  # both p_t = 0.5: 0.25 ln 2 · α for y=1, · (1-α) for y=0
  np.testing.assert_allclose(got, [0.25 * LOG2 * 0.25, 0.25 * LOG2 * 0.75],
                             rtol=1e-6)


def test_focal_multiclass_with_gamma_zero_is_cross_entropy():
  logits = tf.constant([[0.0, 0.0, math.log(2)]])
  got = run(losses.focal(tf.constant([2]), logits, gamma=0.0))
  # softmax = [1/4, 1/4, 1/2]: -ln(1/2)
  np.testing.assert_allclose(got, [LOG2], rtol=1e-6)


PER_EXAMPLE = [1.0, 4.0]
WEIGHTS = [1.0, 3.0]


@pytest.mark.parametrize("reduction, expected", [
    # (1·1 + 3·4) / (1 + 3) = 13/4
    ("weighted_mean", 13.0 / 4.0),
    # (1·1 + 3·4) / batch size 2
    ("sum_over_batch_size", 13.0 / 2.0),
    ("sum", 13.0),
])
def test_reductions_with_weights(reduction, expected):
  got = run(losses.reduce_loss(tf.constant(PER_EXAMPLE), tf.constant(WEIGHTS),
                               reduction))
  assert got == pytest.approx(expected)


def test_weighted_mean_of_all_zero_weights_is_zero_not_nan():
  assert run(losses.reduce_loss(tf.constant([1.0, 2.0]),
                                tf.constant([0.0, 0.0]))) == 0.0


def test_unweighted_default_is_plain_mean():
  assert run(losses.reduce_loss(tf.constant(PER_EXAMPLE))) == 2.5


@pytest.mark.parametrize("name", ["sigmoid_cross_entropy", "mse", "huber",
                                  "focal"])
def test_every_loss_times_every_reduction(name):
  # Σ w·l with w = [1, 3] from the per-example values, for each reduction.
  labels, logits = tf.constant([[1.0], [0.0]]), tf.constant([[0.5], [-1.0]])
  per = run(losses.get(name)(labels, logits))
  weighted = per[0] * 1.0 + per[1] * 3.0
  for reduction, expected in (("weighted_mean", weighted / 4.0),
                              ("sum_over_batch_size", weighted / 2.0),
                              ("sum", weighted)):
    got = run(losses.reduce_loss(tf.constant(per), tf.constant(WEIGHTS),
                                 reduction))
    assert got == pytest.approx(expected, rel=1e-6)


def test_unknown_loss_and_reduction_raise():
  with pytest.raises(ValueError, match="`loss` must be one of.*loss='l3'"):
    losses.get("l3")
  with pytest.raises(ValueError, match="reduction='mean'"):
    losses.check_reduction("mean")
