"""Estimator.predict: single examples vs batches, predict_keys, labels."""
import numpy as np
import pytest
import tensorflow as tf

import estweight
from support import models

v1 = tf.compat.v1


def trained(tmp_path):
  est = estweight.Estimator(models.scalar_model_fn, model_dir=str(tmp_path),
                            params={"w0": 2.0, "learning_rate": 0.0})
  est.train(models.xy_input_fn([1.0], [2.0], repeat=True), steps=1)
  return est


def test_predict_yields_single_examples(tmp_path):
  est = trained(tmp_path)
  out = list(est.predict(models.xy_input_fn([1.0, 2.0, 3.0], batch_size=2)))
  # w stays 2.0 (learning rate 0).
  assert [float(p["prediction"]) for p in out] == [2.0, 4.0, 6.0]
  assert set(out[0]) == {"prediction", "x"}


def test_predict_yields_batches(tmp_path):
  est = trained(tmp_path)
  out = list(est.predict(models.xy_input_fn([1.0, 2.0, 3.0], batch_size=2),
                         yield_single_examples=False))
  assert [b["prediction"].tolist() for b in out] == [[2.0, 4.0], [6.0]]


def test_predict_ignores_labels(tmp_path):
  est = trained(tmp_path)
  out = list(est.predict(models.xy_input_fn([1.0], [99.0])))
  assert float(out[0]["prediction"]) == 2.0


def test_predict_keys_filters(tmp_path):
  est = trained(tmp_path)
  out = list(est.predict(models.xy_input_fn([1.0]),
                         predict_keys=["prediction"]))
  assert list(out[0]) == ["prediction"]
  with pytest.raises(ValueError, match="Expected to run at least one output"):
    list(est.predict(models.xy_input_fn([1.0]), predict_keys=["nope"]))


def test_predict_non_dict_predictions(tmp_path):
  def model_fn(features, mode):
    w = v1.get_variable("w", [], initializer=v1.constant_initializer(3.0))
    return estweight.EstimatorSpec(mode, predictions=w * features["x"])

  est = estweight.Estimator(model_fn, model_dir=str(tmp_path))
  out = list(est.predict(models.xy_input_fn([1.0, 2.0])))
  assert [float(v) for v in out] == [3.0, 6.0]
  with pytest.raises(ValueError, match="predict_keys"):
    list(est.predict(models.xy_input_fn([1.0]), predict_keys=["a"]))


def test_predict_mismatched_batch_lengths_raise(tmp_path):
  def model_fn(features, mode):
    return estweight.EstimatorSpec(mode, predictions={
        "x": features["x"], "first": features["x"][:1]})

  est = estweight.Estimator(model_fn, model_dir=str(tmp_path))
  with pytest.raises(ValueError, match="Batch length of predictions"):
    list(est.predict(models.xy_input_fn([1.0, 2.0])))


def test_predict_without_checkpoint_uses_initial_values(tmp_path):
  est = estweight.Estimator(models.scalar_model_fn, model_dir=str(tmp_path),
                            params={"w0": 0.5})
  out = list(est.predict(models.xy_input_fn([4.0])))
  assert float(out[0]["prediction"]) == 2.0
  np.testing.assert_array_equal(out[0]["x"], np.float32(4.0))


def test_an_unfinished_predict_generator_leaves_no_default_graph(tmp_path):
  est = models.make_estimator(tmp_path)
  est.train(models.xy_input_fn([1.0, 2.0], [2.0, 4.0], repeat=True), steps=1)
  outer = tf.compat.v1.get_default_graph()
  predictions = est.predict(models.xy_input_fn([1.0, 2.0, 3.0]))
  first = next(predictions)
  assert "prediction" in first
  # Still iterating: the caller's default graph is its own, not predict's.
  assert tf.compat.v1.get_default_graph() is outer
  assert len(list(predictions)) == 2
