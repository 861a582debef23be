"""Multi-label head: any subset of `n_classes` classes per example.

Numbers follow tf.estimator 2.15's v2 `MultiLabelHead`: the per-example loss
is the sigmoid cross-entropy averaged over the classes (shape
[batch_size, 1]), then weighted and reduced over the batch like the other
heads; metrics are tf_keras metrics on the per-class probabilities.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import tensorflow as tf
import tf_keras

from estweight.canned.heads import base
from estweight.canned.heads import classification
from estweight.canned.keys import MetricKeys
from estweight.canned.keys import PredictionKeys as P
from estweight.export import outputs as export_outputs_lib

_v1 = tf.compat.v1
_km = tf_keras.metrics
_updated = classification._updated  # pylint: disable=protected-access


def _class_ids_for_metrics(classes, n_classes, label_vocabulary):
  """`classes_for_class_based_metrics` as a tuple of integer class ids."""
  if not classes:
    return ()
  classes = tuple(classes)
  ids = []
  for c in classes:
    if isinstance(c, str):
      if label_vocabulary is None:
        raise ValueError(
            "`label_vocabulary` must be set when "
            "`classes_for_class_based_metrics` holds class names. Received: "
            f"classes_for_class_based_metrics={classes!r}.")
      if c not in label_vocabulary:
        raise ValueError(
            f"`classes_for_class_based_metrics` names must be in "
            f"label_vocabulary {list(label_vocabulary)}. Received: "
            f"classes_for_class_based_metrics={classes!r}.")
      ids.append(label_vocabulary.index(c))
    elif isinstance(c,
                    int) and not isinstance(c, bool) and (0 <= c < n_classes):
      ids.append(c)
    else:
      raise ValueError(
          "`classes_for_class_based_metrics` must hold class names or "
          f"integer class ids in [0, {n_classes - 1}]. Received: "
          f"classes_for_class_based_metrics={classes!r}.")
  return tuple(ids)


class MultiLabelHead(base.Head):
  """Sigmoid cross-entropy head where each example has 0..n_classes labels.

  Labels are a multi-hot tensor [batch_size, n_classes] (values 0 or 1), or
  a SparseTensor of class ids [batch_size, ?] (of class names when
  `label_vocabulary` is set), which is turned into the multi-hot form.

  Args:
    n_classes: number of classes, >= 2.
    weight_column: feature key or numeric_column of example weights
      ([batch_size] or [batch_size, 1]; no per-class weights).
    thresholds: probability thresholds in (0, 1) for accuracy, precision
      and recall metrics.
    label_vocabulary: class names, if labels are string SparseTensors.
    loss_reduction: 'sum_over_batch_size' (Σ w·loss / batch size) or 'sum'.
    loss_fn: optional `(labels, logits[, features]) -> [batch_size, 1]`;
      gets the multi-hot labels.
    classes_for_class_based_metrics: class ids or names that get their own
      probability mean, AUC and PR-AUC metrics.
    name: suffix of metric keys and name scope.

  Raises:
    ValueError: `n_classes` is not an integer >= 2, a threshold is outside
      (0, 1), or `label_vocabulary` or `classes_for_class_based_metrics` is
      invalid.
  """

  def _label_width(self):
    return self._n_classes

  def __init__(self,
               n_classes: int,
               weight_column: Any = None,
               thresholds: Sequence[float] | None = None,
               label_vocabulary: Sequence[str] | None = None,
               loss_reduction: str = base.SUM_OVER_BATCH_SIZE,
               loss_fn: Callable[..., Any] | None = None,
               classes_for_class_based_metrics: Sequence[Any] | None = None,
               name: str | None = None) -> None:
    if isinstance(n_classes,
                  bool) or not isinstance(n_classes, int) or (n_classes < 2):
      raise ValueError("`n_classes` must be an integer >= 2 for "
                       "MultiLabelHead (use BinaryClassHead for one label). "
                       f"Received: n_classes={n_classes!r}.")
    super().__init__(weight_column=weight_column,
                     loss_reduction=loss_reduction,
                     loss_fn=loss_fn,
                     name=name)
    self._n_classes = n_classes
    self._thresholds = tuple(thresholds or ())
    for t in self._thresholds:
      if not 0 < t < 1:
        raise ValueError(f"`thresholds` must be in (0, 1). Received: "
                         f"thresholds={thresholds!r}.")
    self._label_vocabulary = classification._check_vocabulary(  # pylint: disable=protected-access
        label_vocabulary, n_classes)
    self._metric_class_ids = _class_ids_for_metrics(
        classes_for_class_based_metrics, n_classes, self._label_vocabulary)

  @property
  def n_classes(self) -> int:
    """Number of classes."""
    return self._n_classes

  @property
  def logits_dimension(self) -> int:
    """Size of the last logits dimension."""
    return self._n_classes

  # --------------------------------------------------------------- labels
  def _processed_labels(self, logits, labels):
    """Multi-hot labels [batch_size, n_classes], checked to be 0 or 1."""
    base.require_labels(labels)
    with tf.name_scope("labels"):
      if isinstance(labels, tf.SparseTensor):
        labels = self._sparse_to_multi_hot(labels)
      else:
        labels = self._check_multi_hot(labels)
      rank, logits_rank = labels.shape.rank, logits.shape.rank
      if rank is not None and logits_rank is not None and (rank
                                                           == logits_rank - 1):
        labels = tf.expand_dims(labels, -1)
      last = labels.shape[-1] if labels.shape.rank else None
      if labels.shape.rank is not None and (labels.shape.rank < 2 or last
                                            not in (None, self._n_classes)):
        raise ValueError(
            f"Multi-hot labels must have shape [batch_size, "
            f"{self._n_classes}] (n_classes={self._n_classes}). Received: "
            f"labels shape {labels.shape}.")
      check = _v1.debugging.assert_equal(
          tf.shape(labels),
          tf.concat([tf.shape(logits)[:-1], [self._n_classes]], axis=0),
          message=f"Multi-hot labels must have shape [batch_size, "
          f"{self._n_classes}]")
      with tf.control_dependencies([check]):
        return tf.identity(labels)

  def _check_multi_hot(self, labels):
    labels = tf.convert_to_tensor(labels)
    if labels.dtype == tf.string:
      raise ValueError(
          "Dense labels of MultiLabelHead must be a multi-hot number tensor "
          "[batch_size, n_classes]; string class names must come as a "
          "SparseTensor with label_vocabulary set. Received: dense labels of "
          "dtype string.")
    if not (labels.dtype.is_integer or labels.dtype.is_floating or
            labels.dtype == tf.bool):
      raise ValueError("Multi-hot labels must be numbers. Received: labels "
                       f"of dtype {labels.dtype.name}.")
    if labels.dtype == tf.bool:
      labels = tf.cast(labels, tf.int64)
    message = "Multi-hot labels must have values in [0, 1]"
    check = tf.group(
        _v1.debugging.assert_less_equal(labels,
                                        tf.constant(1, labels.dtype),
                                        message=message),
        _v1.debugging.assert_non_negative(labels, message=message))
    with tf.control_dependencies([check]):
      return tf.identity(labels)

  def _sparse_to_multi_hot(self, labels):
    if labels.dtype == tf.string:
      if self._label_vocabulary is None:
        raise ValueError(
            "Labels are strings but label_vocabulary is not set. To fix, pass "
            "label_vocabulary=[...] with the class names, or feed integer "
            "class ids.")
      table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
          list(self._label_vocabulary), list(range(self._n_classes)), tf.string,
          tf.int64),
                                        default_value=-1,
                                        name="class_id_lookup")
      ids = table.lookup(labels.values)
      check = _v1.debugging.assert_non_negative(
          ids,
          message="Labels must be in label_vocabulary "
          f"{list(self._label_vocabulary)}; found a label outside it")
    else:
      if not labels.dtype.is_integer:
        raise ValueError("SparseTensor labels must hold integer class ids. "
                         f"Received: labels of dtype {labels.dtype.name}.")
      ids = tf.cast(labels.values, tf.int64)
      message = (f"SparseTensor labels must be class ids in [0, "
                 f"{self._n_classes})")
      check = tf.group(
          _v1.debugging.assert_less_equal(ids,
                                          tf.constant(self._n_classes - 1,
                                                      tf.int64),
                                          message=message),
          _v1.debugging.assert_non_negative(ids, message=message))
    with tf.control_dependencies([check]):
      ids = tf.SparseTensor(labels.indices, tf.identity(ids),
                            labels.dense_shape)
      return tf.cast(tf.sparse.to_indicator(ids, self._n_classes), tf.int64)

  # ----------------------------------------------------------------- loss
  def _default_unweighted_loss(self, labels, logits):
    per_class = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.cast(
        labels, logits.dtype),
                                                        logits=logits)
    return tf.reduce_mean(per_class, axis=-1, keepdims=True)

  # ------------------------------------------------------ predictions etc.
  def _all_classes(self, logits):
    batch = tf.shape(logits)[0]
    if self._label_vocabulary:
      names = tf.constant([list(self._label_vocabulary)])
    else:
      names = tf.strings.as_string(tf.range(self._n_classes)[None, :])
    return tf.tile(names, [batch, 1])

  def predictions(self,
                  logits: tf.Tensor,
                  keys: Sequence[str] | None = None) -> dict[str, tf.Tensor]:
    """{prediction key: tensor} for `logits` (only `keys`, when given).

    Args:
      logits: float tensor `[batch_size, n_classes]`.
      keys: optional subset of 'logits', 'probabilities' and 'classes' to
        return; None or empty returns all three.

    Returns:
      Dict mapping prediction keys to tensors.

    Raises:
      ValueError: `keys` holds a key this head does not predict.
    """
    valid = (P.LOGITS, P.PROBABILITIES, P.CLASSES)
    for key in keys or ():
      if key not in valid:
        raise ValueError(f"Prediction keys of MultiLabelHead are {valid}. "
                         f"Received: keys={keys!r}.")
    with tf.name_scope("predictions"):
      out = {
          P.LOGITS: logits,
          P.PROBABILITIES: tf.sigmoid(logits, name=P.PROBABILITIES),
          P.CLASSES: self._all_classes(logits),
      }
    return {k: v for k, v in out.items() if not keys or k in keys}

  def export_outputs(self, predictions: Mapping[str, Any]) -> dict[str, Any]:
    """{signature name: ExportOutput} for the head's `predictions`.

    Args:
      predictions: dict of prediction tensors, as `predictions()` returns.

    Returns:
      Dict mapping signature names ('serving_default', 'classification',
      'predict') to ExportOutput objects.
    """
    classification_output = export_outputs_lib.ClassificationOutput(
        scores=predictions[P.PROBABILITIES], classes=predictions[P.CLASSES])
    return {
        "serving_default": classification_output,
        "classification": classification_output,
        "predict": export_outputs_lib.PredictOutput(predictions)
    }

  def _class_metric_key(self, class_id, by_id, by_name):
    if self._label_vocabulary is None:
      return self._key(by_id % class_id)
    return self._key(by_name % self._label_vocabulary[class_id])

  def eval_metric_ops(
      self, features: Any, logits: tf.Tensor, labels: Any,
      regularization_losses: Sequence[tf.Tensor] | None) -> dict[str, Any]:
    """The evaluation metrics, {name: Keras metric or (value, update_op)},
    under tf.estimator 2.15's keys (prefixed by the head's name if any).

    Args:
      features: dict of input features (read for example weights).
      logits: float tensor `[batch_size, n_classes]`.
      labels: multi-hot tensor `[batch_size, n_classes]`, or a SparseTensor
        of class ids (or names with `label_vocabulary`).
      regularization_losses: optional list of scalar tensors; when given,
        their sum is reported as a metric.

    Returns:
      Dict mapping metric keys to updated metrics.

    Raises:
      ValueError: `labels` is None or has a bad shape or dtype.
    """
    labels = self._processed_labels(logits, labels)
    unweighted, weights = self._unweighted_loss_and_weights(
        logits, labels, features)
    w = None if isinstance(weights, float) else weights
    probabilities = self.predictions(logits, [P.PROBABILITIES])[P.PROBABILITIES]
    k = self._key
    metrics = {}
    with tf.name_scope("metrics"):
      metrics[k(MetricKeys.LOSS_MEAN)] = _updated(
          _km.Mean(name=MetricKeys.LOSS_MEAN),
          values=unweighted,
          sample_weight=w)
      metrics[k(MetricKeys.AUC)] = _updated(_km.AUC(name=MetricKeys.AUC),
                                            y_true=labels,
                                            y_pred=probabilities,
                                            sample_weight=w)
      metrics[k(MetricKeys.AUC_PR)] = _updated(_km.AUC(curve="PR",
                                                       name=MetricKeys.AUC_PR),
                                               y_true=labels,
                                               y_pred=probabilities,
                                               sample_weight=w)
      classification._add_regularization_metric(  # pylint: disable=protected-access
          metrics, k, regularization_losses)
      for t in self._thresholds:
        for key, cls, arg in ((MetricKeys.ACCURACY_AT_THRESHOLD,
                               _km.BinaryAccuracy, "threshold"),
                              (MetricKeys.PRECISION_AT_THRESHOLD, _km.Precision,
                               "thresholds"), (MetricKeys.RECALL_AT_THRESHOLD,
                                               _km.Recall, "thresholds")):
          metrics[k(key % t)] = _updated(cls(name=key % t, **{arg: t}),
                                         y_true=labels,
                                         y_pred=probabilities,
                                         sample_weight=w)
      for c in self._metric_class_ids:
        class_probabilities = probabilities[..., c:c + 1]
        class_labels = labels[..., c:c + 1]
        key = self._class_metric_key(c, MetricKeys.PROBABILITY_MEAN_AT_CLASS,
                                     MetricKeys.PROBABILITY_MEAN_AT_NAME)
        metrics[key] = _updated(_km.Mean(name=key),
                                values=class_probabilities,
                                sample_weight=base.broadcast_weights(
                                    weights, class_probabilities))
        for by_id, by_name, curve in ((MetricKeys.AUC_AT_CLASS,
                                       MetricKeys.AUC_AT_NAME, "ROC"),
                                      (MetricKeys.AUC_PR_AT_CLASS,
                                       MetricKeys.AUC_PR_AT_NAME, "PR")):
          key = self._class_metric_key(c, by_id, by_name)
          metrics[key] = _updated(_km.AUC(curve=curve, name=key),
                                  y_true=class_labels,
                                  y_pred=class_probabilities,
                                  sample_weight=w)
    return metrics
