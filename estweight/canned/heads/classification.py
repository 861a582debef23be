"""Classification heads: binary and multi-class (tf.estimator 2.15 numbers)."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import tensorflow as tf
import tf_keras

from estweight.canned.heads import base
from estweight.canned.heads import v1_metrics
from estweight.canned.keys import MetricKeys
from estweight.canned.keys import PredictionKeys as P
from estweight.export import outputs as export_outputs_lib
from estweight.weights import class_weights as class_weights_lib
from estweight.weights import metrics as class_metrics_lib

_v1 = tf.compat.v1
_km = tf_keras.metrics


def _check_vocabulary(label_vocabulary, n_classes):
  if label_vocabulary is None:
    return None
  if not isinstance(label_vocabulary, (list, tuple)):
    raise ValueError("`label_vocabulary` must be a list or tuple of strings. "
                     f"Received: label_vocabulary={label_vocabulary!r}.")
  if not all(isinstance(v, str) for v in label_vocabulary):
    raise ValueError("`label_vocabulary` entries must be strings. Received: "
                     f"label_vocabulary={label_vocabulary!r}.")
  if len(set(label_vocabulary)) != len(label_vocabulary):
    raise ValueError("`label_vocabulary` has duplicates. Received: "
                     f"label_vocabulary={label_vocabulary!r}.")
  if len(label_vocabulary) != n_classes:
    raise ValueError(
        f"`label_vocabulary` must have n_classes={n_classes} entries. "
        f"Received: label_vocabulary={label_vocabulary!r} "
        f"({len(label_vocabulary)} entries).")
  return tuple(label_vocabulary)


class _ClassHead(base.Head):
  """Shared label handling of the binary and multi-class heads."""

  def __init__(self,
               n_classes,
               *,
               label_vocabulary=None,
               class_weight=None,
               **kwargs):
    super().__init__(**kwargs)
    self._n_classes = n_classes
    self._label_vocabulary = _check_vocabulary(label_vocabulary, n_classes)
    self.class_weight = class_weights_lib.ClassWeight(class_weight, n_classes,
                                                      self._label_vocabulary)

  def _unweighted_loss_and_weights(self, logits, labels, features):
    unweighted, loss_weights, _ = self._loss_and_metric_weights(
        logits, labels, features)
    return unweighted, loss_weights

  def _loss_and_metric_weights(self, logits, labels, features):
    """(per-example loss, loss weights, metric weights).

    Class weight x example weight (x importance) weighs the loss; the other
    eval metrics get the example weights alone unless
    `class_weighted_eval_metrics`, so they describe the evaluation data.
    """
    unweighted, weights = super()._unweighted_loss_and_weights(
        logits, labels, features)
    if not self.class_weight.active:
      return unweighted, weights, weights
    table = tf.constant(self.class_weight.require_vector(), tf.float32)
    per_class = tf.gather(table, tf.cast(labels, tf.int32))
    weighted = per_class * weights
    return unweighted, weighted, (
        weighted if self.class_weight.class_weighted_eval_metrics else weights)

  def _class_metrics(self, labels, class_ids, weights):
    """recall/class_<k> and balanced_accuracy, for class-weighted heads
    (not with `class_weighted_eval_metrics`, which keeps 2.15's keys)."""
    if (not self.class_weight.active or
        self.class_weight.class_weighted_eval_metrics):
      return {}
    return class_metrics_lib.class_recall_metrics(
        labels,
        class_ids,
        None if isinstance(weights, float) else weights,
        self._n_classes,
        key=self._key)

  @property
  def n_classes(self):
    """Number of classes."""
    return self._n_classes

  def _labels_as_ids(self, logits, labels):
    """[batch_size, 1] integer class ids, checked to be in range."""
    base.require_labels(labels)
    if isinstance(labels, tf.SparseTensor):
      raise ValueError("SparseTensor labels are not supported; labels must be "
                       "a dense [batch_size] or [batch_size, 1] tensor.")
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank is not None and labels.shape.rank == 1:
      labels = tf.expand_dims(labels, -1)
    if labels.shape.rank is not None and (labels.shape.rank != 2 or
                                          labels.shape[-1] not in (None, 1)):
      raise ValueError("labels shape must be [batch_size] or [batch_size, 1]."
                       f" Received: labels shape {labels.shape}.")
    if self._label_vocabulary is not None:
      if labels.dtype != tf.string:
        raise ValueError(
            "Labels must be strings when label_vocabulary is set. Received: "
            f"labels of dtype {labels.dtype.name}, label_vocabulary="
            f"{list(self._label_vocabulary)}.")
      table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
          list(self._label_vocabulary), list(range(self._n_classes)), tf.string,
          tf.int64),
                                        default_value=-1,
                                        name="class_id_lookup")
      ids = table.lookup(labels)
      check = _v1.debugging.assert_non_negative(
          ids,
          message="Labels must be in label_vocabulary "
          f"{list(self._label_vocabulary)}; found a label outside it")
    else:
      if labels.dtype == tf.string:
        raise ValueError(
            "Labels are strings but label_vocabulary is not set. To fix, pass "
            "label_vocabulary=[...] with the class names, or feed integer "
            "class ids.")
      ids = labels
      check = tf.group(
          _v1.debugging.assert_less_equal(
              tf.cast(ids, tf.float32),
              float(self._n_classes - 1),
              message=f"Labels must be <= n_classes - 1 = "
              f"{self._n_classes - 1}"),
          _v1.debugging.assert_greater_equal(tf.cast(ids, tf.float32),
                                             0.0,
                                             message="Labels must be >= 0"))
    with tf.control_dependencies([check]):
      return tf.identity(ids)

  def export_outputs(self, predictions):
    """serving_default = classification (scores, class names), predict."""
    classification = export_outputs_lib.ClassificationOutput(
        scores=predictions[P.PROBABILITIES], classes=predictions[P.ALL_CLASSES])
    return {
        "serving_default": classification,
        "classification": classification,
        "predict": export_outputs_lib.PredictOutput(predictions)
    }

  def _all_class_ids(self, logits):
    batch = tf.shape(logits)[0]
    return tf.tile(tf.range(self._n_classes)[None, :], [batch, 1])

  def _all_classes(self, logits):
    batch = tf.shape(logits)[0]
    if self._label_vocabulary:
      names = tf.constant([list(self._label_vocabulary)])
    else:
      names = tf.strings.as_string(tf.range(self._n_classes)[None, :])
    return tf.tile(names, [batch, 1])

  def _classes(self, class_ids):
    if self._label_vocabulary is not None:
      return tf.gather(tf.constant(list(self._label_vocabulary)), class_ids)
    return tf.strings.as_string(class_ids, name="str_classes")


class BinaryClassHead(_ClassHead):
  """Sigmoid cross-entropy head for two classes.

  Args:
    weight_column: feature key or numeric_column of example weights.
    thresholds: extra probability thresholds for accuracy/precision/recall.
    label_vocabulary: the two class names, if labels are strings.
    loss_reduction: 'sum_over_batch_size' (Σ w·loss / batch size) or 'sum'.
    loss_fn: optional `(labels, logits[, features]) -> [batch_size, 1]` loss.
    name: suffix of metric keys and name scope.
    class_weight: optional per-class loss weights: 'balanced', a dict by
      class id (or name with `label_vocabulary`), or a `ClassWeight`.

  Raises:
    ValueError: a threshold is outside (0, 1), or `label_vocabulary` or
      `class_weight` is invalid.
  """

  def __init__(self,
               weight_column: Any = None,
               thresholds: Sequence[float] | None = None,
               label_vocabulary: Sequence[str] | None = None,
               loss_reduction: str = base.SUM_OVER_BATCH_SIZE,
               loss_fn: Callable[..., Any] | None = None,
               name: str | None = None,
               class_weight: Any = None) -> None:
    super().__init__(2,
                     label_vocabulary=label_vocabulary,
                     class_weight=class_weight,
                     weight_column=weight_column,
                     loss_reduction=loss_reduction,
                     loss_fn=loss_fn,
                     name=name)
    self._thresholds = tuple(thresholds or ())
    for t in self._thresholds:
      if not 0 < t < 1:
        raise ValueError(f"`thresholds` must be in (0, 1). Received: "
                         f"thresholds={thresholds!r}.")

  @property
  def logits_dimension(self) -> int:
    """Size of the last logits dimension."""
    return 1

  def _processed_labels(self, logits, labels):
    return tf.cast(self._labels_as_ids(logits, labels), tf.float32)

  def _default_unweighted_loss(self, labels, logits):
    return tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)

  def predictions(self,
                  logits: tf.Tensor,
                  keys: Sequence[str] | None = None) -> dict[str, tf.Tensor]:
    """{prediction key: tensor} for `logits` (only `keys`, when given).

    Args:
      logits: float tensor `[batch_size, logits_dimension]`.
      keys: optional prediction keys to return; None returns them all.

    Returns:
      Dict mapping prediction keys to tensors.
    """
    with tf.name_scope("predictions"):
      logistic = tf.sigmoid(logits, name=P.LOGISTIC)
      two_class = tf.concat([tf.zeros_like(logits), logits],
                            axis=-1,
                            name="two_class_logits")
      class_ids = tf.expand_dims(
          tf.argmax(two_class, axis=-1, name=P.CLASS_IDS), -1)
      out = {
          P.LOGITS: logits,
          P.LOGISTIC: logistic,
          P.PROBABILITIES: tf.nn.softmax(two_class, name=P.PROBABILITIES),
          P.CLASS_IDS: class_ids,
          P.CLASSES: self._classes(class_ids),
          P.ALL_CLASS_IDS: self._all_class_ids(logits),
          P.ALL_CLASSES: self._all_classes(logits),
      }
    return {k: v for k, v in out.items() if keys is None or k in keys}

  def export_outputs(self, predictions: Mapping[str, Any]) -> dict[str, Any]:
    """{signature name: ExportOutput} for the head's `predictions`.

    Args:
      predictions: dict of prediction tensors, as `predictions()` returns.

    Returns:
      Dict mapping signature names ('serving_default', 'classification',
      'regression', 'predict') to ExportOutput objects.
    """
    outputs = super().export_outputs(predictions)
    outputs["regression"] = export_outputs_lib.RegressionOutput(
        value=predictions[P.LOGISTIC])
    return outputs

  def eval_metric_ops(
      self, features: Any, logits: tf.Tensor, labels: Any,
      regularization_losses: Sequence[tf.Tensor] | None) -> dict[str, Any]:
    """The evaluation metrics, {name: Keras metric or (value, update_op)},
    under tf.estimator 2.15's keys (prefixed by the head's name if any).

    Args:
      features: dict of input features (read for example weights).
      logits: float tensor `[batch_size, logits_dimension]`.
      labels: class ids, or class names with `label_vocabulary`; shape
        `[batch_size]` or `[batch_size, 1]`.
      regularization_losses: optional list of scalar tensors; when given,
        their sum is reported as a metric.

    Returns:
      Dict mapping metric keys to updated metrics.

    Raises:
      ValueError: `labels` is None or has a bad shape or dtype.
    """
    preds = self.predictions(logits)
    labels = self._processed_labels(logits, labels)
    unweighted, loss_weights, weights = self._loss_and_metric_weights(
        logits, labels, features)
    w = None if isinstance(weights, float) else weights
    class_ids = preds[P.CLASS_IDS]
    logistic = preds[P.LOGISTIC]
    k = self._key
    if self._v1_metrics:
      return {
          **v1_metrics.binary(k,
                              labels,
                              logistic,
                              class_ids,
                              weights,
                              unweighted,
                              self._thresholds,
                              loss_weights=loss_weights),
          **v1_metrics.regularization(k, regularization_losses),
          **self._class_metrics(labels, class_ids, weights)
      }
    metrics = {}
    with tf.name_scope("metrics"):
      metrics[k(MetricKeys.LOSS_MEAN)] = _updated(
          _km.Mean(name=MetricKeys.LOSS_MEAN),
          values=unweighted,
          sample_weight=(None
                         if isinstance(loss_weights, float) else loss_weights))
      for key, cls in ((MetricKeys.ACCURACY,
                        _km.Accuracy), (MetricKeys.PRECISION, _km.Precision),
                       (MetricKeys.RECALL, _km.Recall)):
        metrics[k(key)] = _updated(cls(name=key),
                                   y_true=labels,
                                   y_pred=class_ids,
                                   sample_weight=w)
      metrics[k(MetricKeys.PREDICTION_MEAN)] = _updated(
          _km.Mean(name=MetricKeys.PREDICTION_MEAN),
          values=logistic,
          sample_weight=base.broadcast_weights(weights, logistic))
      label_mean = _updated(_km.Mean(name=MetricKeys.LABEL_MEAN),
                            values=labels,
                            sample_weight=base.broadcast_weights(
                                weights, labels))
      metrics[k(MetricKeys.LABEL_MEAN)] = label_mean
      baseline = tf.distribute.get_replica_context().merge_call(
          lambda _: _majority_share(label_mean))
      metrics[k(MetricKeys.ACCURACY_BASELINE)] = (baseline, tf.no_op())
      auc_w = base.broadcast_weights(weights, logistic)
      metrics[k(MetricKeys.AUC)] = _updated(_km.AUC(name=MetricKeys.AUC),
                                            y_true=labels,
                                            y_pred=logistic,
                                            sample_weight=auc_w)
      metrics[k(MetricKeys.AUC_PR)] = _updated(_km.AUC(curve="PR",
                                                       name=MetricKeys.AUC_PR),
                                               y_true=labels,
                                               y_pred=logistic,
                                               sample_weight=auc_w)
      _add_regularization_metric(metrics, k, regularization_losses)
      for t in self._thresholds:
        for key, cls, arg in ((MetricKeys.ACCURACY_AT_THRESHOLD,
                               _km.BinaryAccuracy, "threshold"),
                              (MetricKeys.PRECISION_AT_THRESHOLD, _km.Precision,
                               "thresholds"), (MetricKeys.RECALL_AT_THRESHOLD,
                                               _km.Recall, "thresholds")):
          metrics[k(key % t)] = _updated(cls(name=key % t, **{arg: t}),
                                         y_true=labels,
                                         y_pred=logistic,
                                         sample_weight=w)
      metrics.update(self._class_metrics(labels, class_ids, weights))
    return metrics


class MultiClassHead(_ClassHead):
  """Softmax cross-entropy head for `n_classes` > 2 classes.

  Args:
    n_classes: number of classes, an integer > 2.
    weight_column: feature key or numeric_column of example weights.
    label_vocabulary: the `n_classes` class names, if labels are strings.
    loss_reduction: 'sum_over_batch_size' (Σ w·loss / batch size) or 'sum'.
    loss_fn: optional `(labels, logits[, features]) -> [batch_size, 1]` loss.
    name: suffix of metric keys and name scope.
    class_weight: optional per-class loss weights: 'balanced', a dict by
      class id (or name with `label_vocabulary`), or a `ClassWeight`.

  Raises:
    ValueError: `n_classes` is not an integer > 2, or `label_vocabulary` or
      `class_weight` is invalid.
  """

  def __init__(self,
               n_classes: int,
               weight_column: Any = None,
               label_vocabulary: Sequence[str] | None = None,
               loss_reduction: str = base.SUM_OVER_BATCH_SIZE,
               loss_fn: Callable[..., Any] | None = None,
               name: str | None = None,
               class_weight: Any = None) -> None:
    if isinstance(n_classes,
                  bool) or not isinstance(n_classes, int) or (n_classes <= 2):
      raise ValueError("`n_classes` must be > 2 for MultiClassHead (use "
                       "BinaryClassHead for 2). Received: n_classes="
                       f"{n_classes!r}.")
    super().__init__(n_classes,
                     label_vocabulary=label_vocabulary,
                     class_weight=class_weight,
                     weight_column=weight_column,
                     loss_reduction=loss_reduction,
                     loss_fn=loss_fn,
                     name=name)

  @property
  def logits_dimension(self) -> int:
    """Size of the last logits dimension."""
    return self._n_classes

  def _processed_labels(self, logits, labels):
    if self._label_vocabulary is None and labels is not None:
      dtype = tf.as_dtype(
          getattr(labels, "dtype", None) or tf.convert_to_tensor(labels).dtype)
      if dtype != tf.string and not dtype.is_integer:
        # As tf.estimator 2.15 (a float 1.7 must not train as class 1).
        raise ValueError(
            f"Labels dtype should be integer. Received: labels of dtype "
            f"{dtype.name} for {self._n_classes} classes. To fix, feed class "
            "ids (e.g. tf.cast(labels, tf.int32)) or pass label_vocabulary.")
    return self._labels_as_ids(logits, labels)

  def _default_unweighted_loss(self, labels, logits):
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.squeeze(
        tf.cast(labels, tf.int64), axis=-1),
                                                          logits=logits)
    return tf.expand_dims(loss, -1)

  def predictions(self,
                  logits: tf.Tensor,
                  keys: Sequence[str] | None = None) -> dict[str, tf.Tensor]:
    """{prediction key: tensor} for `logits` (only `keys`, when given).

    Args:
      logits: float tensor `[batch_size, logits_dimension]`.
      keys: optional prediction keys to return; None returns them all.

    Returns:
      Dict mapping prediction keys to tensors.
    """
    with tf.name_scope("predictions"):
      class_ids = tf.expand_dims(tf.argmax(logits, axis=-1, name=P.CLASS_IDS),
                                 -1)
      out = {
          P.LOGITS: logits,
          P.PROBABILITIES: tf.nn.softmax(logits, name=P.PROBABILITIES),
          P.CLASS_IDS: class_ids,
          P.CLASSES: self._classes(class_ids),
          P.ALL_CLASS_IDS: self._all_class_ids(logits),
          P.ALL_CLASSES: self._all_classes(logits),
      }
    return {k: v for k, v in out.items() if keys is None or k in keys}

  def eval_metric_ops(
      self, features: Any, logits: tf.Tensor, labels: Any,
      regularization_losses: Sequence[tf.Tensor] | None) -> dict[str, Any]:
    """The evaluation metrics, {name: Keras metric or (value, update_op)},
    under tf.estimator 2.15's keys (prefixed by the head's name if any).

    Args:
      features: dict of input features (read for example weights).
      logits: float tensor `[batch_size, logits_dimension]`.
      labels: class ids, or class names with `label_vocabulary`; shape
        `[batch_size]` or `[batch_size, 1]`.
      regularization_losses: optional list of scalar tensors; when given,
        their sum is reported as a metric.

    Returns:
      Dict mapping metric keys to updated metrics.

    Raises:
      ValueError: `labels` is None or has a bad shape or dtype.
    """
    preds = self.predictions(logits)
    labels = self._processed_labels(logits, labels)
    unweighted, loss_weights, weights = self._loss_and_metric_weights(
        logits, labels, features)
    w = None if isinstance(weights, float) else weights
    class_ids = preds[P.CLASS_IDS]
    k = self._key
    if self._v1_metrics:
      return {
          **v1_metrics.multi_class(k,
                                   labels,
                                   class_ids,
                                   weights,
                                   unweighted,
                                   loss_weights=loss_weights),
          **v1_metrics.regularization(k, regularization_losses),
          **self._class_metrics(labels, class_ids, weights)
      }
    with tf.name_scope("metrics"):
      metrics = {
          k(MetricKeys.LOSS_MEAN):
              _updated(_km.Mean(name=MetricKeys.LOSS_MEAN),
                       values=unweighted,
                       sample_weight=(None if isinstance(loss_weights, float)
                                      else loss_weights)),
          k(MetricKeys.ACCURACY):
              _updated(_km.Accuracy(name=MetricKeys.ACCURACY),
                       y_true=labels,
                       y_pred=class_ids,
                       sample_weight=w),
      }
      _add_regularization_metric(metrics, k, regularization_losses)
      metrics.update(self._class_metrics(labels, class_ids, weights))
    return metrics


def _updated(metric, **kwargs):
  metric.update_state(**kwargs)
  return metric


def _add_regularization_metric(metrics, key_fn, regularization_losses):
  if regularization_losses:
    metrics[key_fn(MetricKeys.LOSS_REGULARIZATION)] = _updated(
        _km.Mean(name=MetricKeys.LOSS_REGULARIZATION),
        values=tf.add_n(list(regularization_losses)))


def _majority_share(label_mean):
  """The accuracy of always predicting the majority class, max(mean,
  1 - mean), from the label mean's total and count. Called in cross-replica
  context, where a strategy's replicas' totals and counts read summed."""
  total, count = label_mean.total, label_mean.count
  return tf.math.divide_no_nan(tf.maximum(total, count - total), count)
