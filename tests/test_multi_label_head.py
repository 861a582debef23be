"""MultiLabelHead: labels, loss, metrics, predictions (tf.estimator 2.15).

tests/oracle/multi_label_check.py compares a trained DNNEstimator with this
head against tf.estimator 2.15 on the same model_dir.
"""
import math

import numpy as np
import pytest
import tensorflow as tf

import estweight
from estweight.export import outputs as export_outputs
from estweight.runtime import metric_ops

fc = tf.feature_column
v1 = tf.compat.v1
LOGITS = np.array([[-1.0, 1.0], [-1.5, 1.5]], np.float32)
MULTI_HOT = np.array([[1, 0], [1, 1]], np.int64)


def _sce(x, z):
  """Sigmoid cross-entropy of logit x, label z."""
  return max(x, 0) - x * z + math.log1p(math.exp(-abs(x)))


def run(fn):
  """Builds fn() in a fresh graph and returns its evaluated value."""
  with tf.Graph().as_default():
    out = fn()
    with v1.Session() as sess:
      sess.run([v1.local_variables_initializer(), v1.tables_initializer()])
      return sess.run(out)


def run_metrics(head, features, labels_fn):
  """{key: value} of head's eval metrics after one update on LOGITS."""
  with tf.Graph().as_default() as graph:
    ops = metric_ops.normalize(head.eval_metric_ops(
        features, tf.constant(LOGITS), labels_fn(), None), graph)
    with v1.Session() as sess:
      sess.run([v1.local_variables_initializer(), v1.tables_initializer()])
      sess.run([update for _, update in ops.values()])
      return sess.run({k: value for k, (value, _) in ops.items()})


def test_loss_is_mean_over_classes_then_over_batch():
  head = estweight.MultiLabelHead(2)
  loss = run(lambda: head.loss(MULTI_HOT, LOGITS, features={}))
  # Example 1: (sce(-1, 1) + sce(1, 0)) / 2 = 1.3133;
  # example 2: (sce(-1.5, 1) + sce(1.5, 1)) / 2 = 0.9514; batch mean 1.1323.
  ex1 = (_sce(-1, 1) + _sce(1, 0)) / 2
  ex2 = (_sce(-1.5, 1) + _sce(1.5, 1)) / 2
  assert loss == pytest.approx((ex1 + ex2) / 2, rel=1e-6)
  weighted = estweight.MultiLabelHead(2, weight_column="w",
                                      loss_reduction="sum")
  features = {"w": np.array([2.0, 0.5], np.float32)}
  loss = run(lambda: weighted.loss(MULTI_HOT, LOGITS, features=features))
  assert loss == pytest.approx(2 * ex1 + 0.5 * ex2, rel=1e-6)


def _ids():
  return tf.SparseTensor([[0, 0], [1, 0], [1, 1]], [0, 0, 1], [2, 2])


def _names():
  return tf.SparseTensor([[0, 0], [1, 0], [1, 1]], ["cat", "dog", "cat"],
                         [2, 2])


def test_sparse_labels_become_multi_hot():
  head = estweight.MultiLabelHead(2)
  named = estweight.MultiLabelHead(2, label_vocabulary=["cat", "dog"])
  dense = run(lambda: head.loss(MULTI_HOT, LOGITS, features={}))
  assert run(lambda: head.loss(_ids(), LOGITS, features={})) == dense
  assert run(lambda: named.loss(_names(), LOGITS, features={})) == dense
  multi_hot = run(lambda: named._processed_labels(  # pylint: disable=protected-access
      tf.constant(LOGITS), _names()))
  assert multi_hot.tolist() == MULTI_HOT.tolist()


def test_metrics_keys_and_values():
  head = estweight.MultiLabelHead(
      2, weight_column="w", thresholds=[0.5],
      classes_for_class_based_metrics=[1])
  features = {"w": np.array([1.0, 3.0], np.float32)}
  result = run_metrics(head, features, lambda: MULTI_HOT)
  assert set(result) == {
      "average_loss", "auc", "auc_precision_recall",
      "accuracy/positive_threshold_0.5", "precision/positive_threshold_0.5",
      "recall/positive_threshold_0.5", "probability_mean/class1",
      "auc/class1", "auc_precision_recall/class1"}
  ex1 = (_sce(-1, 1) + _sce(1, 0)) / 2
  ex2 = (_sce(-1.5, 1) + _sce(1.5, 1)) / 2
  assert result["average_loss"] == pytest.approx((ex1 + 3 * ex2) / 4)
  # p > 0.5 only for class 1 (logits 1 and 1.5). Cells (example, class)
  # right: only example 2's class 1 (weight 3); of 2·1 + 2·3 = 8 weighted
  # cells. TP = 3, FP = 1 (example 1, class 1), FN = 1 + 3 (class 0).
  assert result["accuracy/positive_threshold_0.5"] == pytest.approx(3 / 8)
  assert result["precision/positive_threshold_0.5"] == pytest.approx(3 / 4)
  assert result["recall/positive_threshold_0.5"] == pytest.approx(3 / 7)
  sig = 1 / (1 + math.exp(-1)), 1 / (1 + math.exp(-1.5))
  assert result["probability_mean/class1"] == pytest.approx(
      (sig[0] + 3 * sig[1]) / 4)
  # Class 1: the positive example scores higher than the negative one.
  assert result["auc/class1"] == pytest.approx(1.0, abs=1e-3)


def test_vocabulary_names_class_metrics():
  head = estweight.MultiLabelHead(2, label_vocabulary=["cat", "dog"],
                                  classes_for_class_based_metrics=["dog"],
                                  name="pets")
  with tf.Graph().as_default():
    names = tf.SparseTensor([[0, 0], [1, 0]], ["cat", "dog"], [2, 1])
    keys = sorted(head.eval_metric_ops({}, tf.constant(LOGITS), names, None))
  assert keys == ["auc/dog/pets", "auc/pets", "auc_precision_recall/dog/pets",
                  "auc_precision_recall/pets", "average_loss/pets",
                  "probability_mean/dog/pets"]


def test_predictions_and_export_outputs():
  head = estweight.MultiLabelHead(2, label_vocabulary=["cat", "dog"])

  def build():
    spec = head.create_estimator_spec({}, estweight.ModeKeys.PREDICT,
                                      tf.constant(LOGITS))
    assert set(spec.export_outputs) == {"serving_default", "classification",
                                        "predict"}
    assert isinstance(spec.export_outputs["serving_default"],
                      export_outputs.ClassificationOutput)
    return spec.predictions
  preds = run(build)
  assert set(preds) == {"logits", "probabilities", "classes"}
  np.testing.assert_allclose(preds["probabilities"], 1 / (1 + np.exp(-LOGITS)),
                             rtol=1e-6)
  assert preds["classes"].tolist() == [[b"cat", b"dog"]] * 2


@pytest.mark.parametrize("kwargs, match", [
    ({"n_classes": 1}, r"`n_classes` must be .*n_classes=1\."),
    ({"n_classes": 3, "thresholds": [0.5, 1.0]}, r"`thresholds` must be"),
    ({"n_classes": 3, "label_vocabulary": ["a", "b"]}, r"n_classes=3"),
    ({"n_classes": 3, "classes_for_class_based_metrics": [3]},
     r"\[0, 2\].*classes_for_class_based_metrics=\(3,\)"),
    ({"n_classes": 3, "classes_for_class_based_metrics": ["a"]},
     r"`label_vocabulary` must be set"),
])
def test_bad_arguments(kwargs, match):
  with pytest.raises(ValueError, match=match):
    estweight.MultiLabelHead(**kwargs)


def test_bad_labels():
  head = estweight.MultiLabelHead(3)
  with pytest.raises(ValueError, match=r"\[batch_size, 3\].*\(2, 2\)"):
    run(lambda: head.loss(MULTI_HOT, np.zeros([2, 3], np.float32), {}))
  with pytest.raises(tf.errors.InvalidArgumentError, match=r"in \[0, 1\]"):
    run(lambda: head.loss(np.array([[0, 2, 1]]), np.zeros([1, 3], np.float32),
                          {}))
  with pytest.raises(tf.errors.InvalidArgumentError, match=r"in \[0, 3\)"):
    run(lambda: head.loss(tf.SparseTensor([[0, 0]], [3], [1, 1]),
                          np.zeros([1, 3], np.float32), {}))


def test_dnn_and_linear_estimators(tmp_path):
  x = np.array([[0.0], [1.0], [2.0], [3.0]], np.float32)
  labels = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 1], [0, 0, 0]], np.int64)
  features = {"x": x, "w": np.array([1.0, 2.0, 1.0, 0.5], np.float32)}

  def input_fn():
    return tf.data.Dataset.from_tensor_slices((features, labels)).batch(2)
  head = estweight.MultiLabelHead(3, weight_column="w",
                                  classes_for_class_based_metrics=[2])
  linear = estweight.LinearEstimator(head, [fc.numeric_column("x")],
                                     model_dir=str(tmp_path / "linear"))
  result = linear.evaluate(input_fn)  # no checkpoint: all logits 0
  assert result["average_loss"] == pytest.approx(math.log(2.0))
  assert result["probability_mean/class2"] == pytest.approx(0.5)
  assert result["auc"] == pytest.approx(0.5)
  dnn = estweight.DNNEstimator(head, [3], [fc.numeric_column("x")],
                               model_dir=str(tmp_path / "dnn"))
  dnn.train(input_fn, steps=2)
  assert set(dnn.evaluate(input_fn)) == {
      "average_loss", "auc", "auc_precision_recall", "auc/class2",
      "auc_precision_recall/class2", "probability_mean/class2", "loss",
      "global_step"}
  pred = next(dnn.predict(input_fn))
  assert pred["logits"].dtype == pred["probabilities"].dtype == np.float32
  assert pred["probabilities"].shape == (3,)
  assert pred["classes"].tolist() == [b"0", b"1", b"2"]
