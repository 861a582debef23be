"""Eval metrics under class weights: weighted by the example weights only
(unless asked), plus balanced accuracy and per-class recall."""
import math

import numpy as np
import pytest
import tensorflow as tf

import estweight
from estweight import weights as ew

v1 = tf.compat.v1

# Six examples, one batch. Logits fix the predictions: class 1 iff logit > 0.
LOGITS = [2.0, -1.0, 1.0, -2.0, -1.0, -3.0]
LABELS = [1, 1, 0, 0, 0, 0]
W = [1.0, 1.0, 2.0, 1.0, 1.0, 1.0]   # weight_column 'w'
CLASS_WEIGHT = {0: 0.5, 1: 4.0}      # class x example: [4, 4, 1, .5, .5, .5]


def _sigmoid(x):
  return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def _ce(logits, labels):
  """Per-example sigmoid cross-entropy."""
  z, y = np.asarray(logits, np.float64), np.asarray(labels, np.float64)
  return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))


def _head_estimator(tmp_path, head, name="m"):
  """An Estimator whose logits are the 'logits' feature: the predictions are
  whatever the test says, so every metric can be worked out by hand."""
  def model_fn(features, labels, mode):
    bias = v1.get_variable("b", [], initializer=v1.zeros_initializer())
    logits = features["logits"] + 0.0 * bias
    return head.create_estimator_spec(
        features, mode, logits, labels,
        optimizer=v1.train.GradientDescentOptimizer(0.1))
  return estweight.Estimator(model_fn, model_dir=str(tmp_path / name))


def _input(logits, labels, weights):
  def input_fn():
    logits_array = np.asarray(logits, np.float32)
    if logits_array.ndim == 1:
      logits_array = logits_array[:, None]
    features = {"logits": logits_array, "w": np.float32(weights)}
    return tf.data.Dataset.from_tensor_slices(
        (features, np.int64(labels))).batch(len(labels))
  return input_fn


def _binary_head(class_weight, v1_metrics=False):
  head = estweight.BinaryClassHead(weight_column="w", class_weight=class_weight)
  return head.use_v1_metrics() if v1_metrics else head


@pytest.mark.parametrize("v1_metrics", [False, True])
def test_binary_metrics_are_weighted_by_example_weights_only(tmp_path,
                                                            v1_metrics):
  est = _head_estimator(tmp_path, _binary_head(CLASS_WEIGHT, v1_metrics))
  m = est.evaluate(_input(LOGITS, LABELS, W))
  # Predicted [1, 0, 1, 0, 0, 0]; right: examples 1, 4, 5, 6 (w 1+1+1+1).
  assert m["accuracy"] == pytest.approx(4 / 7)           # Σw = 7
  assert m["precision"] == pytest.approx(1 / 3)          # 1 / (1 + 2)
  assert m["recall"] == pytest.approx(1 / 2)             # 1 / (1 + 1)
  assert m["label/mean"] == pytest.approx(2 / 7)
  assert m["accuracy_baseline"] == pytest.approx(5 / 7)  # max(2/7, 5/7)
  assert m["prediction/mean"] == pytest.approx(
      np.dot(W, _sigmoid(LOGITS)) / 7, rel=1e-6)
  # class 0: examples 3..6, w 2+1+1+1 = 5, right 1+1+1 = 3; class 1: 1 of 2.
  assert m["recall/class_0"] == pytest.approx(3 / 5)
  assert m["recall/class_1"] == pytest.approx(1 / 2)
  assert m["balanced_accuracy"] == pytest.approx((3 / 5 + 1 / 2) / 2)
  # ROC: positive .88 beats all negatives (w 5), positive .27 beats .12 and
  # .05 (w 2), ties .27 (w 1, half) and loses to .73: (5 + 2.5) / (2 * 5).
  assert m["auc"] == pytest.approx(0.75, rel=1e-6)
  # The losses stay the training objective: class x example weights
  # [4, 4, 1, .5, .5, .5] (Σ 10.5), one batch of 6.
  cw = np.array([4.0, 4.0, 1.0, 0.5, 0.5, 0.5])
  weighted_loss = np.dot(cw, _ce(LOGITS, LABELS))
  assert m["loss"] == pytest.approx(weighted_loss / 6, rel=1e-6)
  assert m["average_loss"] == pytest.approx(weighted_loss / 10.5, rel=1e-6)


def test_class_weighted_eval_metrics_option_restores_2_15_metrics(tmp_path):
  honest = _head_estimator(tmp_path, _binary_head(CLASS_WEIGHT)).evaluate(
      _input(LOGITS, LABELS, W))
  option = ew.ClassWeight(CLASS_WEIGHT, class_weighted_eval_metrics=True)
  m = _head_estimator(tmp_path, _binary_head(option), "m2").evaluate(
      _input(LOGITS, LABELS, W))
  # class x example weights [4, 4, 1, .5, .5, .5], Σ 10.5; right: 4 + 1.5.
  assert m["accuracy"] == pytest.approx(5.5 / 10.5)
  assert m["precision"] == pytest.approx(4 / 5)          # 4 / (4 + 1)
  assert m["label/mean"] == pytest.approx(8 / 10.5)
  assert m["accuracy_baseline"] == pytest.approx(8 / 10.5)
  assert m["auc_precision_recall"] != pytest.approx(
      honest["auc_precision_recall"])
  # Constant within a class, class weights leave per-class rates alone:
  # recall and ROC AUC are the same, as are the losses.
  for key in ("recall", "auc", "loss", "average_loss"):
    assert m[key] == pytest.approx(honest[key], rel=1e-6), key
  # tf.estimator 2.15's keys, as with a class x example weight_column.
  assert set(honest) - set(m) == {"recall/class_0", "recall/class_1",
                                  "balanced_accuracy"}


def test_heads_without_class_weight_report_no_class_metrics(tmp_path):
  m = _head_estimator(tmp_path, _binary_head(None)).evaluate(
      _input(LOGITS, LABELS, W))
  assert not any(k.startswith(("recall/class_", "balanced_accuracy"))
                 for k in m)
  # Without class weights nothing changes: accuracy 4/7 as above.
  assert m["accuracy"] == pytest.approx(4 / 7)


def test_multi_class_head_metrics_and_named_keys(tmp_path):
  # argmax of each row: [0, 1, 1, 2, 2]; labels [0, 1, 2, 2, 2].
  logits = [[3, 0, 0], [0, 2, 0], [0, 1, 0], [0, 0, 1], [1, 0, 2]]
  labels = [0, 1, 2, 2, 2]
  w = [1.0, 2.0, 1.0, 1.0, 3.0]
  head = estweight.MultiClassHead(3, weight_column="w", name="kind",
                                  class_weight={0: 1.0, 1: 2.0, 2: 0.5})
  m = _head_estimator(tmp_path, head).evaluate(_input(logits, labels, w))
  # Right: examples 1, 2, 4, 5 with w 1 + 2 + 1 + 3 = 7 of Σw = 8.
  assert m["accuracy/kind"] == pytest.approx(7 / 8)
  # class 2: w 1 + 1 + 3 = 5, right 1 + 3 = 4.
  assert m["recall/class_0/kind"] == pytest.approx(1.0)
  assert m["recall/class_1/kind"] == pytest.approx(1.0)
  assert m["recall/class_2/kind"] == pytest.approx(4 / 5)
  assert m["balanced_accuracy/kind"] == pytest.approx((1 + 1 + 0.8) / 3)


def test_balanced_accuracy_averages_only_classes_present(tmp_path):
  # No example of class 2: its recall reads 0, balanced accuracy averages
  # classes 0 and 1 (sklearn's rule): right 1 of 2 in class 0, 1 of 1 in 1.
  logits = [[1, 0, 0], [0, 1, 0], [0, 1, 0]]
  head = estweight.MultiClassHead(3, class_weight={2: 3.0})
  m = _head_estimator(tmp_path, head).evaluate(
      _input(logits, [0, 0, 1], [1, 1, 1]))
  assert m["recall/class_2"] == 0.0
  assert m["balanced_accuracy"] == pytest.approx((1 / 2 + 1) / 2)


def test_canned_classifier_with_balanced_weights_end_to_end(tmp_path):
  # 3 positives of 12; example weights too. Metrics are checked against
  # numpy on the model's own predictions after some training.
  x = np.linspace(-1.0, 1.0, 12).astype(np.float32)
  y = np.int64(x > 0.5)  # the last 3
  w = np.float32([1, 2, 1, 1, 2, 1, 1, 1, 2, 1, 1, 3])

  def input_fn(batch_size, epochs=1):
    def fn():
      ds = tf.data.Dataset.from_tensor_slices(({"x": x, "w": w}, y))
      return ds.repeat(epochs).batch(batch_size)
    return fn

  est = estweight.DNNClassifier(
      [4], [tf.feature_column.numeric_column("x")], weight_column="w",
      class_weight="balanced", optimizer="Adam", model_dir=str(tmp_path),
      config=estweight.RunConfig(tf_random_seed=3, log_step_count_steps=None))
  est.train(input_fn(4, epochs=20), steps=60)  # 'balanced' counts it all
  m = est.evaluate(input_fn(12))
  preds = list(est.predict(input_fn(12)))
  p = np.array([int(q["class_ids"][0]) for q in preds])
  logits = np.array([float(q["logits"][0]) for q in preds])
  assert 0 < p.sum() < 12  # both classes predicted: a real test
  right = (p == y).astype(np.float64)
  assert m["accuracy"] == pytest.approx(np.dot(w, right) / w.sum(), rel=1e-6)
  assert m["label/mean"] == pytest.approx(np.dot(w, y) / w.sum(), rel=1e-6)
  share = np.dot(w, y) / w.sum()
  assert m["accuracy_baseline"] == pytest.approx(max(share, 1 - share),
                                                 rel=1e-6)
  recalls = [np.dot(w * (y == k), right) / np.dot(w, y == k) for k in (0, 1)]
  assert m["recall/class_0"] == pytest.approx(recalls[0], rel=1e-6)
  assert m["recall/class_1"] == pytest.approx(recalls[1], rel=1e-6)
  assert m["recall"] == pytest.approx(recalls[1], rel=1e-6)
  assert m["balanced_accuracy"] == pytest.approx(np.mean(recalls), rel=1e-6)
  # 'balanced': 12 / (2 * 9) and 12 / (2 * 3); the loss keeps them.
  cw = np.where(y == 1, 2.0, 2.0 / 3.0) * w
  loss = _ce(logits, y)
  assert m["average_loss"] == pytest.approx(np.dot(cw, loss) / cw.sum(),
                                            rel=1e-5)
  assert m["loss"] == pytest.approx(np.dot(cw, loss) / 12, rel=1e-5)


def _zero_net(units):
  def network_fn(features):
    bias = v1.get_variable("b", [units], initializer=v1.zeros_initializer())
    return features["logits"] + 0.0 * bias
  return network_fn


def test_factory_reports_balanced_accuracy_and_recalls_by_default(tmp_path):
  fn = ew.make_weighted_model_fn(_zero_net(1), loss="sigmoid_cross_entropy",
                                 weight_key="w", class_weight=CLASS_WEIGHT)
  est = estweight.Estimator(fn, model_dir=str(tmp_path))
  m = est.evaluate(_input(LOGITS, LABELS, W))
  assert sorted(m) == ["accuracy", "auc", "average_loss", "balanced_accuracy",
                       "global_step", "loss", "precision", "recall",
                       "recall/class_0", "recall/class_1"]
  # The same numbers as the head above: accuracy 4/7, precision 1/3.
  assert m["accuracy"] == pytest.approx(4 / 7)
  assert m["precision"] == pytest.approx(1 / 3)
  assert m["recall/class_0"] == pytest.approx(3 / 5)
  assert m["balanced_accuracy"] == pytest.approx(0.55)
  # average_loss Σ(cw·w·l) / Σ(cw·w) = / 10.5, weighted as the loss (the
  # factory's default reduction 'weighted_mean' makes them equal).
  weighted_loss = np.dot([4.0, 4.0, 1.0, 0.5, 0.5, 0.5], _ce(LOGITS, LABELS))
  assert m["average_loss"] == pytest.approx(weighted_loss / 10.5, rel=1e-6)
  assert m["loss"] == pytest.approx(weighted_loss / 10.5, rel=1e-6)


def test_factory_with_class_weighted_eval_metrics(tmp_path):
  fn = ew.make_weighted_model_fn(
      _zero_net(1), loss="sigmoid_cross_entropy", weight_key="w",
      class_weight=ew.ClassWeight(CLASS_WEIGHT,
                                  class_weighted_eval_metrics=True))
  m = estweight.Estimator(fn, model_dir=str(tmp_path)).evaluate(
      _input(LOGITS, LABELS, W))
  assert sorted(m) == ["accuracy", "auc", "average_loss", "global_step",
                       "loss", "precision", "recall"]
  # class x example weights [4, 4, 1, .5, .5, .5]: right 4 + 1.5 of 10.5.
  assert m["accuracy"] == pytest.approx(5.5 / 10.5)
  assert m["precision"] == pytest.approx(4 / 5)


def test_factory_balanced_accuracy_alone(tmp_path):
  fn = ew.make_weighted_model_fn(_zero_net(1), loss="sigmoid_cross_entropy",
                                 metrics=["balanced_accuracy"])
  m = estweight.Estimator(fn, model_dir=str(tmp_path)).evaluate(
      _input(LOGITS, LABELS, W))
  # Unweighted: class 0 right 3 of 4, class 1 right 1 of 2.
  assert sorted(m) == ["balanced_accuracy", "global_step", "loss"]
  assert m["balanced_accuracy"] == pytest.approx((3 / 4 + 1 / 2) / 2)


@pytest.mark.parametrize("kwargs, match", [
    ({"class_weight": "balanced", "class_weighted_eval_metrics": 1},
     "class_weighted_eval_metrics=1"),
    ({"class_weight": None, "class_weighted_eval_metrics": True},
     "needs class weights"),
    ({"class_weight": {0: -1.0}}, r"class_weight\[0\]=-1.0"),
])
def test_class_weight_option_validation(kwargs, match):
  with pytest.raises(ValueError, match=match):
    ew.ClassWeight(**kwargs)


def test_class_weight_keys_are_checked_when_a_head_binds_them():
  option = ew.ClassWeight({5: 2.0}, class_weighted_eval_metrics=True)
  with pytest.raises(ValueError, match=r"class id in \[0, 2\)"):
    estweight.BinaryClassHead(class_weight=option)
  assert estweight.MultiClassHead(6, class_weight=option).class_weight.vector[
      5] == 2.0
