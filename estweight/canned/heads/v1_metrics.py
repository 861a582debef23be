"""Eval metrics of the compat.v1 canned estimators (tf.compat.v1.metrics).

tf.estimator 2.15's v1 heads computed the same metric keys as the v2 heads
but with `tf.compat.v1.metrics` (e.g. a trapezoidal AUC), so values differ
slightly from the Keras ones; these reproduce the v1 numbers.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import tensorflow as tf

from estweight.canned.keys import MetricKeys

_m = tf.compat.v1.metrics
_broadcast = tf.compat.v2.__internal__.ops.broadcast_weights


def _mean_of(values, weights, name):
  values = tf.cast(values, tf.float32)
  return _m.mean(values, weights=_broadcast(weights, values), name=name)


def binary(key: Callable[[str], str],
           labels: tf.Tensor,
           logistic: tf.Tensor,
           class_ids: tf.Tensor,
           weights: tf.Tensor | float,
           unreduced: tf.Tensor,
           thresholds: Sequence[float] = (),
           loss_weights: tf.Tensor | float | None = None) -> dict[str, Any]:
  """Binary-head metrics; `labels` are float 0/1 of shape [batch, 1].

  `loss_weights` (default `weights`) weigh `average_loss` only.
  """
  loss_weights = weights if loss_weights is None else loss_weights
  labels_mean = _mean_of(labels, weights, MetricKeys.LABEL_MEAN)
  value, update = labels_mean
  out = {
      key(MetricKeys.LOSS_MEAN):
          _m.mean(unreduced, weights=loss_weights, name=MetricKeys.LOSS_MEAN),
      key(MetricKeys.ACCURACY):
          _m.accuracy(labels, class_ids, weights=weights),
      key(MetricKeys.PRECISION):
          _m.precision(labels, class_ids, weights=weights),
      key(MetricKeys.RECALL):
          _m.recall(labels, class_ids, weights=weights),
      key(MetricKeys.PREDICTION_MEAN):
          _mean_of(logistic, weights, MetricKeys.PREDICTION_MEAN),
      key(MetricKeys.LABEL_MEAN):
          labels_mean,
      key(MetricKeys.ACCURACY_BASELINE): (tf.maximum(value, 1.0 - value),
                                          tf.maximum(update, 1.0 - update)),
  }
  for metric_key, curve in ((MetricKeys.AUC, "ROC"), (MetricKeys.AUC_PR, "PR")):
    out[key(metric_key)] = _m.auc(labels,
                                  logistic,
                                  weights=_broadcast(weights, logistic),
                                  curve=curve)
  for t in thresholds:
    out[key(MetricKeys.ACCURACY_AT_THRESHOLD % t)] = _m.accuracy(
        labels, tf.cast(logistic >= t, tf.float32), weights=weights)
    for metric_key, fn in ((MetricKeys.PRECISION_AT_THRESHOLD,
                            _m.precision_at_thresholds),
                           (MetricKeys.RECALL_AT_THRESHOLD,
                            _m.recall_at_thresholds)):
      v, u = fn(labels, logistic, thresholds=(t,), weights=weights)
      out[key(metric_key % t)] = (tf.squeeze(v), tf.squeeze(u))
  return out


def multi_class(
    key: Callable[[str], str],
    labels: tf.Tensor,
    class_ids: tf.Tensor,
    weights: tf.Tensor | float,
    unreduced: tf.Tensor,
    loss_weights: tf.Tensor | float | None = None) -> dict[str, Any]:
  """Multi-class-head metrics; `loss_weights` as in `binary`."""
  loss_weights = weights if loss_weights is None else loss_weights
  return {
      key(MetricKeys.LOSS_MEAN):
          _m.mean(unreduced, weights=loss_weights, name=MetricKeys.LOSS_MEAN),
      key(MetricKeys.ACCURACY):
          _m.accuracy(labels, class_ids, weights=weights),
  }


def regression(key: Callable[[str], str], labels: tf.Tensor,
               predicted: tf.Tensor, weights: tf.Tensor | float,
               unreduced: tf.Tensor) -> dict[str, Any]:
  return {
      key(MetricKeys.LOSS_MEAN):
          _m.mean(unreduced, weights=weights),
      key(MetricKeys.PREDICTION_MEAN):
          _mean_of(predicted, weights, MetricKeys.PREDICTION_MEAN),
      key(MetricKeys.LABEL_MEAN):
          _m.mean(labels, weights=weights),
  }


def regularization(
    key: Callable[[str], str],
    regularization_losses: Sequence[tf.Tensor] | None) -> dict[str, Any]:
  if not regularization_losses:
    return {}
  return {
      key(MetricKeys.LOSS_REGULARIZATION):
          _m.mean(tf.add_n(list(regularization_losses)),
                  name=MetricKeys.LOSS_REGULARIZATION)
  }
