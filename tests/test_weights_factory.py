"""make_weighted_model_fn: weights, class weights, metrics, validation."""
import json
import os

import numpy as np
import pytest
import tensorflow as tf

import estweight
from estweight import weights as ew

v1 = tf.compat.v1


def zero_net(units):
  """Logits that start at 0 (one trainable scalar times ones)."""
  def network_fn(features):
    scale = v1.get_variable("scale", [], initializer=v1.zeros_initializer())
    batch = tf.shape(features["x"])[0]
    return scale * tf.ones(tf.stack([batch, units]))
  return network_fn


def dataset(x, y, w=None, batch=8):
  def input_fn():
    parts = ({"x": np.float32(x), **({} if w is None else
                                     {"w": np.float32(w)})}, y)
    return tf.data.Dataset.from_tensor_slices(parts).batch(batch)
  return input_fn


def estimator(tmp_path, model_fn, name="m"):
  return estweight.Estimator(model_fn, model_dir=str(tmp_path / name))


@pytest.mark.parametrize("reduction, expected_loss", [
    # logits 0, labels [1,2,3,4]: squared errors [1,4,9,16], w [1,1,2,2]
    ("weighted_mean", (1 + 4 + 18 + 32) / 6.0),
    ("sum_over_batch_size", (1 + 4 + 18 + 32) / 4.0),
    ("sum", 55.0),
])
def test_regression_loss_with_weight_key(tmp_path, reduction, expected_loss):
  fn = ew.make_weighted_model_fn(zero_net(1), loss="mse", weight_key="w",
                                 reduction=reduction)
  result = estimator(tmp_path, fn).evaluate(
      dataset([0, 0, 0, 0], np.float32([1, 2, 3, 4]), [1, 1, 2, 2]))
  assert result["loss"] == pytest.approx(expected_loss)
  # average_loss is always Σw·l/Σw.
  assert result["average_loss"] == pytest.approx(55.0 / 6.0)


@pytest.mark.parametrize("class_weighted_metrics, accuracy", [
    # only class 0 right: weight 1 of class x example weights 1+2+3+6 = 12
    (True, 1.0 / 12.0),
    # by default metrics use the example weights only: 1 of 1+1+1+2 = 5
    (False, 1.0 / 5.0),
])
def test_class_weight_multiplies_example_weights(tmp_path,
                                                 class_weighted_metrics,
                                                 accuracy):
  # Logits all 0 -> predicted class 0. Labels [0,1,2,2]; class weights
  # {0:1, 1:2, 2:3} x example weights [1,1,1,2] = [1, 2, 3, 6].
  fn = ew.make_weighted_model_fn(
      zero_net(3), loss="sparse_softmax_cross_entropy", weight_key="w",
      class_weight=ew.ClassWeight(
          {0: 1.0, 1: 2.0, 2: 3.0},
          class_weighted_eval_metrics=class_weighted_metrics),
      metrics=["accuracy", "per_class_recall", "average_loss"])
  result = estimator(tmp_path, fn).evaluate(
      dataset([0, 0, 0, 0], np.int64([0, 1, 2, 2]), [1, 1, 1, 2]))
  assert result["accuracy"] == pytest.approx(accuracy)
  assert result["recall/class_0"] == 1.0
  assert result["recall/class_1"] == 0.0
  assert result["average_loss"] == pytest.approx(np.log(3.0))


def test_balanced_class_weight_is_counted_once_and_cached(tmp_path):
  fn = ew.make_weighted_model_fn(zero_net(1), loss="sigmoid_cross_entropy",
                                 class_weight="balanced")
  y = np.int64([1, 0, 0, 0, 0, 0, 0, 0])  # 1 positive, 7 negatives
  estimator(tmp_path, fn).train(dataset(np.zeros(8), y), steps=1)
  with open(tmp_path / "m" / "class_weights.json") as f:
    cached = json.load(f)
  # n / (n_classes * count): 8 / (2*7), 8 / (2*1)
  assert cached["counts"] == [7, 1]
  np.testing.assert_allclose(cached["class_weight"], [8 / 14, 4.0],
                             rtol=1e-6)
  # A resumed job (new process, same model_dir) reuses the cache even if
  # the input changed.
  fn2 = ew.make_weighted_model_fn(zero_net(1), loss="sigmoid_cross_entropy",
                                  class_weight="balanced")
  estimator(tmp_path, fn2).train(dataset(np.zeros(2), np.int64([1, 0])),
                                 steps=1)
  with open(tmp_path / "m" / "class_weights.json") as f:
    assert json.load(f) == cached


def test_dynamic_class_weights_favour_the_class_with_higher_loss(tmp_path):
  # 90 negatives, 10 positives, no features: the model can only learn the
  # prior, so positives keep the higher loss and should get weight > 1.
  y = np.int64([1] * 10 + [0] * 90)
  dyn = ew.DynamicClassWeights(momentum=0.5, power=1.0, min_weight=0.1,
                               max_weight=10.0)
  fn = ew.make_weighted_model_fn(zero_net(1), loss="sigmoid_cross_entropy",
                                 class_weight=dyn, optimizer="SGD",
                                 learning_rate=0.5)

  def train_input():
    return tf.data.Dataset.from_tensor_slices(
        ({"x": np.zeros(100, np.float32)}, y)).shuffle(100, seed=1).repeat(
            ).batch(20)

  est = estimator(tmp_path, fn)
  est.train(train_input, steps=30)
  ema = est.get_variable_value("dynamic_class_weights/loss_ema")
  weights = (ema / ema.mean()) ** 1.0
  assert weights[1] > 1.0 > weights[0]
  # Resume: the averages are in the checkpoint and keep evolving from there.
  est.train(train_input, steps=5)
  assert est.get_variable_value("global_step") == 35


@pytest.mark.parametrize("w, pattern", [
    ([1, -1, 1, 1], "must be >= 0"),
    ([1, np.nan, 1, 1], "must be finite"),
    ([1, np.inf, 1, 1], "must be finite"),
])
def test_bad_weight_values_fail_the_first_step(tmp_path, w, pattern):
  fn = ew.make_weighted_model_fn(zero_net(1), loss="mse", weight_key="w")
  with pytest.raises(tf.errors.InvalidArgumentError, match=pattern):
    estimator(tmp_path, fn).train(
        dataset([0, 0, 0, 0], np.float32([1, 2, 3, 4]), w), steps=1)


def test_all_zero_eval_weights_raise(tmp_path):
  fn = ew.make_weighted_model_fn(zero_net(1), loss="mse", weight_key="w")
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match="All example weights in the evaluation data are "
                     "zero"):
    estimator(tmp_path, fn).evaluate(
        dataset([0, 0], np.float32([1, 2]), [0, 0]))


def test_missing_weight_key_lists_the_keys(tmp_path):
  fn = ew.make_weighted_model_fn(zero_net(1), loss="mse", weight_key="wt")
  with pytest.raises(ValueError, match=r"weight_key 'wt' not in features "
                     r"\['w', 'x'\]"):
    estimator(tmp_path, fn).train(dataset([0], np.float32([1]), [1]), steps=1)
  assert not (tmp_path / "m").exists()


def test_weights_twice_raise(tmp_path):
  fn = ew.make_weighted_model_fn(zero_net(1), loss="mse", weight_key="w")

  def input_fn():
    return tf.data.Dataset.from_tensor_slices(
        ({"x": np.zeros(2, np.float32), "w": np.ones(2, np.float32)},
         np.ones(2, np.float32), np.ones(2, np.float32))).batch(2)

  with pytest.raises(ValueError, match="given twice"):
    estimator(tmp_path, fn).train(input_fn, steps=1)


def test_construction_errors():
  with pytest.raises(ValueError, match="reduction='mean'"):
    ew.make_weighted_model_fn(zero_net(1), loss="mse", reduction="mean")
  with pytest.raises(ValueError, match="Unknown metric 'f1'"):
    ew.make_weighted_model_fn(zero_net(1), loss="mse", metrics=["f1"])
  with pytest.raises(ValueError, match="needs a classification loss"):
    ew.make_weighted_model_fn(zero_net(1), loss="mse", class_weight={0: 1.0})
  with pytest.raises(ValueError, match="Unsupported optimizer name"):
    ew.make_weighted_model_fn(zero_net(1), loss="mse", optimizer="Adamm")
  with pytest.raises(ValueError, match="momentum"):
    ew.DynamicClassWeights(momentum=1.0)
  with pytest.raises(ValueError, match=r"Classes \[1\] have no examples"):
    ew.balanced_class_weight([5, 0])


def _two_class_net(units):
  """Logits z = x (one sigmoid logit) or [0, z] (two softmax logits): both
  give P(class 1) = sigmoid(z) and the same cross-entropy."""
  def network_fn(features):
    scale = v1.get_variable("scale", [], initializer=v1.zeros_initializer())
    z = features["x"] + scale
    return z[:, None] if units == 1 else tf.stack([tf.zeros_like(z), z], -1)
  return network_fn


def test_two_softmax_logits_get_the_binary_default_metrics(tmp_path):
  """Two classes as two softmax logits: the defaults (auc, precision,
  recall among them) work and equal the one-sigmoid-logit model's."""
  x = [-2, -1, 0.5, 1, 2, -0.5]
  y = np.int64([0, 1, 1, 1, 0, 0])
  sigmoid = estimator(tmp_path, ew.make_weighted_model_fn(
      _two_class_net(1), loss="sigmoid_cross_entropy"), "sigmoid").evaluate(
          dataset(x, y.astype(np.float32)[:, None]))
  softmax = estimator(tmp_path, ew.make_weighted_model_fn(
      _two_class_net(2), loss="sparse_softmax_cross_entropy"),
                      "softmax").evaluate(dataset(x, y))
  assert set(softmax) == set(sigmoid) == {
      "loss", "average_loss", "accuracy", "auc", "precision", "recall",
      "global_step"}
  # Predicted 1 where z > 0: x = 0.5, 1, 2 (labels 1, 1, 0).
  assert softmax["precision"] == pytest.approx(2 / 3)
  assert softmax["recall"] == pytest.approx(2 / 3)  # of x = -1, 0.5, 1
  assert softmax["accuracy"] == pytest.approx(4 / 6)
  # 5 of the 9 (positive, negative) pairs are ordered right; the metric
  # interpolates over 200 thresholds.
  assert softmax["auc"] == pytest.approx(5 / 9, abs=0.02)
  for key in sigmoid:
    assert softmax[key] == pytest.approx(sigmoid[key], rel=1e-6), key
