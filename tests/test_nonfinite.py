"""SkipNonFiniteBatches: a step with a NaN/Inf loss is undone, counted in
the summaries and logged; too many in a row stop training as before.

Data: batches of one example, y = 2x, with x = NaN in the batches named
`bad`. A NaN x gives a NaN loss and NaN gradients, so without the skip w
and the optimizer's slots would turn NaN.
"""
import math

import pytest
import tensorflow as tf

import estweight
from estweight import hooks
from support import models

v1 = tf.compat.v1
XS = [1.0, 2.0, 3.0, 4.0]


def adagrad_model_fn(features, labels, mode, params):
  """prediction = w * x; mean squared error; Adagrad (a slot to restore)."""
  w = v1.get_variable("w", [], initializer=v1.zeros_initializer())
  prediction = w * features["x"]
  loss = tf.reduce_mean(tf.square(prediction - labels))
  optimizer = (v1.train.AdagradOptimizer(0.5)
               if params["adagrad"] else v1.train.GradientDescentOptimizer(0.1))
  train_op = optimizer.minimize(loss, global_step=v1.train.get_global_step())
  return estweight.EstimatorSpec(mode, loss=loss, train_op=train_op)


def _input(xs):
  return models.xy_input_fn(xs, [2.0 * x for x in xs], batch_size=1)


def _train(model_dir, xs, adagrad=False, hooks_=()):
  est = estweight.Estimator(adagrad_model_fn,
                            model_dir=str(model_dir),
                            params={"adagrad": adagrad})
  est.train(_input(xs), hooks=list(hooks_))
  path = tf.train.latest_checkpoint(str(model_dir))
  return {
      name: tf.train.load_variable(path, name)
      for name, _ in tf.train.list_variables(path)
  }


def test_a_nan_batch_is_skipped_and_training_goes_on(tmp_path):
  variables = _train(tmp_path / "skip", [1.0, 2.0, math.nan, 3.0],
                     hooks_=[hooks.SkipNonFiniteBatches()])
  # Gradient descent, lr 0.1, grad = 2 (w x - y) x:
  #   x=1: w = 0 - 0.1 * 2 (0 - 2) 1 = 0.4
  #   x=2: w = 0.4 - 0.1 * 2 (0.8 - 4) 2 = 1.68
  #   x=NaN: skipped, w stays 1.68
  #   x=3: w = 1.68 - 0.1 * 2 (5.04 - 6) 3 = 2.256
  assert variables["w"] == pytest.approx(2.256, rel=1e-6)
  assert variables["global_step"] == 4  # the skipped batch counts a step
  scalars, _ = models.event_scalars(str(tmp_path / "skip"))
  assert scalars["non_finite_batches_skipped"] == [(3, 1.0)]


def test_optimizer_slots_equal_training_without_the_bad_batches(tmp_path):
  skipped = _train(tmp_path / "skip", [1.0, math.nan, math.inf, 2.0, 3.0],
                   adagrad=True,
                   hooks_=[hooks.SkipNonFiniteBatches(max_consecutive=3)])
  clean = _train(tmp_path / "clean", [1.0, 2.0, 3.0], adagrad=True)
  assert skipped.pop("global_step") == 5 and clean.pop("global_step") == 3
  assert sorted(skipped) == sorted(clean) == ["w", "w/Adagrad"]
  for name, value in clean.items():
    assert skipped[name] == value, name  # bit for bit


def test_too_many_in_a_row_stop_with_the_usual_error(tmp_path, caplog):
  model_dir = tmp_path / "stop"
  est = estweight.Estimator(
      adagrad_model_fn,
      model_dir=str(model_dir),
      params={"adagrad": False},
      config=estweight.RunConfig(save_checkpoints_steps=1))
  with pytest.raises(estweight.errors.NonFiniteLossError,
                     match=r"^Loss is nan at global step 4; .* The latest "
                     r"checkpoint is .*model\.ckpt-3\."):
    est.train(_input([1.0, 2.0, math.nan, math.nan, 3.0]),
              hooks=[hooks.SkipNonFiniteBatches(max_consecutive=2)])
  assert ("Loss is nan at global step 3: batch skipped, variables kept from "
          "the step before (1 skipped in this call, 1 in a row; "
          "SkipNonFiniteBatches stops at 2 in a row).") in caplog.messages
  # The step skipped at 3 was saved with the variables put back: finite.
  path = tf.train.latest_checkpoint(str(model_dir))
  assert path.endswith("model.ckpt-3")
  assert tf.train.load_variable(path, "w") == pytest.approx(1.68, rel=1e-6)


def test_without_it_a_nan_loss_stops_training(tmp_path):
  with pytest.raises(estweight.errors.NonFiniteLossError):
    _train(tmp_path / "plain", [1.0, math.nan, 2.0])


def test_a_non_finite_first_batch_is_skipped_too(tmp_path):
  variables = _train(tmp_path / "first", [math.nan, 1.0],
                     hooks_=[hooks.SkipNonFiniteBatches()])
  assert variables["w"] == pytest.approx(0.4, rel=1e-6)  # x=1 as above


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-1, ValueError),
                                        (1.5, ValueError), (True, TypeError),
                                        ("3", TypeError)])
def test_a_bad_max_consecutive_is_refused(bad, error):
  with pytest.raises(
      error,
      match=(rf"^`max_consecutive` must be a positive integer\. Received: "
             rf"max_consecutive={bad!r}\.$")):
    hooks.SkipNonFiniteBatches(max_consecutive=bad)


def test_two_are_refused(tmp_path):
  est = estweight.Estimator(adagrad_model_fn,
                            model_dir=str(tmp_path / "m"),
                            params={"adagrad": False})
  with pytest.raises(ValueError, match="at most one SkipNonFiniteBatches"):
    est.train(
        _input([1.0]),
        hooks=[hooks.SkipNonFiniteBatches(),
               hooks.SkipNonFiniteBatches()])
