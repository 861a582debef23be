"""Estimator.evaluate: metric values, the `loss` mean, eval events."""
import os

import numpy as np
import pytest
import tensorflow as tf

import estweight
from support import models

v1 = tf.compat.v1
# Three examples in batches of two: [1, 2] and [3].
X = [1.0, 2.0, 3.0]
Y = [1.0, 2.0, 3.0]


def eval_fn(batch_size=2):
  return models.xy_input_fn(X, Y, batch_size=batch_size)


def test_evaluate_without_checkpoint_uses_initial_values(tmp_path):
  est = models.make_estimator(tmp_path)
  result = est.evaluate(eval_fn())
  # w = 0: batch losses mean([1, 4]) = 2.5 and mean([9]) = 9.
  # `loss` is the mean over batches: (2.5 + 9) / 2 = 5.75 (not 14/3).
  assert result["loss"] == pytest.approx(5.75)
  assert result["mean_prediction"] == 0.0
  assert result["global_step"] == 0
  assert isinstance(result["loss"], np.float32)
  assert isinstance(result["global_step"], np.int64)
  assert sorted(os.listdir(tmp_path)) == ["eval"]


def test_evaluate_steps_limits_batches(tmp_path):
  est = models.make_estimator(tmp_path)
  assert est.evaluate(eval_fn(), steps=1)["loss"] == pytest.approx(2.5)


def test_evaluate_restores_latest_checkpoint(tmp_path):
  est = models.make_estimator(tmp_path)
  est.train(models.xy_input_fn([1.0], [2.0], repeat=True), steps=1)
  # One step from w=0 on x=1, y=2: grad = 2*(0-2)*1 = -4; w = 0.04.
  w = 0.04
  result = est.evaluate(eval_fn())
  expected = (np.mean([(w * 1 - 1) ** 2, (w * 2 - 2) ** 2]) +
              (w * 3 - 3) ** 2) / 2
  assert result["loss"] == pytest.approx(expected, rel=1e-5)
  assert result["mean_prediction"] == pytest.approx(w * 2, rel=1e-5)
  assert result["global_step"] == 1


def test_evaluate_older_checkpoint_by_path(tmp_path):
  est = models.make_estimator(tmp_path, save_checkpoints_steps=2)
  est.train(models.xy_input_fn([1.0], [2.0], repeat=True), steps=4)
  result = est.evaluate(eval_fn(), checkpoint_path=str(tmp_path /
                                                       "model.ckpt-0"))
  assert result["global_step"] == 0
  assert result["loss"] == pytest.approx(5.75)
  with pytest.raises(ValueError, match="Could not find trained model"):
    est.evaluate(eval_fn(), checkpoint_path=str(tmp_path / "model.ckpt-99"))


def test_evaluate_writes_one_event_per_call_in_eval_dir(tmp_path):
  est = models.make_estimator(tmp_path)
  est.train(models.xy_input_fn([1.0], [2.0], repeat=True), steps=3)
  first = est.evaluate(eval_fn())
  est.evaluate(eval_fn(), name="holdout")
  assert est.eval_dir() == os.path.join(str(tmp_path), "eval")
  assert est.eval_dir("holdout") == os.path.join(str(tmp_path),
                                                 "eval_holdout")
  scalars, tensors = models.event_scalars(est.eval_dir())
  assert scalars["loss"] == [(3, pytest.approx(float(first["loss"]))) ]
  assert scalars["mean_prediction"][0][0] == 3
  assert "global_step" not in scalars
  ckpt = tensors["checkpoint_path"][0]
  assert ckpt[0] == 3
  assert tf.make_ndarray(ckpt[1]).item().decode().endswith("model.ckpt-3")
  named, _ = models.event_scalars(est.eval_dir("holdout"))
  assert [step for step, _ in named["loss"]] == [3]


@pytest.mark.parametrize("reserved", ["loss", "global_step"])
def test_metric_with_reserved_name_raises(tmp_path, reserved):
  def model_fn(features, labels, mode):
    spec = models.scalar_model_fn(features, labels, mode, {})
    return spec._replace(eval_metric_ops={
        reserved: v1.metrics.mean(features["x"])})

  est = estweight.Estimator(model_fn, model_dir=str(tmp_path))
  with pytest.raises(ValueError, match=f'name "{reserved}" is not allowed'):
    est.evaluate(eval_fn())


def test_keras_metric_objects_work_as_eval_metric_ops(tmp_path):
  import keras  # pylint: disable=g-import-not-at-top

  def model_fn(features, labels, mode):
    spec = models.scalar_model_fn(features, labels, mode, {})
    mean_x = keras.metrics.Mean(name="mean_x")
    mean_x.update_state(features["x"])
    total = keras.metrics.Sum(name="total_y")
    total.update_state(labels)
    return spec._replace(eval_metric_ops={"mean_x": mean_x,
                                          "total_y": total})

  est = estweight.Estimator(model_fn, model_dir=str(tmp_path))
  est.train(models.xy_input_fn([1.0], [2.0], repeat=True), steps=1)
  result = est.evaluate(eval_fn())
  # Streaming over both batches: mean(1, 2, 3) = 2; sum = 6.
  assert result["mean_x"] == pytest.approx(2.0)
  assert result["total_y"] == pytest.approx(6.0)
  # Metric variables are local: evaluating again does not accumulate.
  assert est.evaluate(eval_fn())["total_y"] == pytest.approx(6.0)
  assert not any("total" in n for n in est.get_variable_names())


def test_keras_metric_without_update_state_raises(tmp_path):
  import keras  # pylint: disable=g-import-not-at-top

  def model_fn(features, labels, mode):
    spec = models.scalar_model_fn(features, labels, mode, {})
    return spec._replace(eval_metric_ops={"m": keras.metrics.Mean()})

  est = estweight.Estimator(model_fn, model_dir=str(tmp_path))
  with pytest.raises(ValueError, match="call update_state"):
    est.evaluate(eval_fn())


def test_add_metrics_adds_to_evaluation(tmp_path):
  est = models.make_estimator(tmp_path)

  def metric_fn(features, labels, predictions):
    del predictions
    return {"max_label": v1.metrics.mean(tf.reduce_max(labels)),
            "x_mean": v1.metrics.mean(features["x"])}

  extended = estweight.add_metrics(est, metric_fn)
  result = extended.evaluate(eval_fn())
  # max per batch: 2 and 3 -> mean 2.5 (one value per batch).
  assert result["max_label"] == pytest.approx(2.5)
  assert result["x_mean"] == pytest.approx(2.0)
  assert "mean_prediction" in result
  assert extended.model_dir == est.model_dir
