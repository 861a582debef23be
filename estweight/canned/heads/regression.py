"""Regression heads: squared error, Poisson and logistic regression."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import tensorflow as tf
import tf_keras

from estweight.canned.heads import base
from estweight.canned.heads import v1_metrics
from estweight.canned.keys import MetricKeys
from estweight.canned.keys import PredictionKeys as P
from estweight.export import outputs as export_outputs_lib

_v1 = tf.compat.v1


class RegressionHead(base.Head):
  """Mean-squared-error head for `label_dimension` real-valued targets.

  Weights may be [batch_size], [batch_size, 1] or per target
  [batch_size, label_dimension]. `inverse_link_fn` maps logits to
  predictions (and adds `logits` to the prediction dict).

  Args:
    label_dimension: number of regression targets per example, >= 1.
    weight_column: feature key or numeric_column of example weights.
    loss_reduction: 'sum_over_batch_size' (Σ w·loss / batch size) or 'sum'.
    loss_fn: optional `(labels, logits[, features])` per-example loss
      replacing the squared error.
    inverse_link_fn: optional callable mapping logits to predictions; None
      predicts the logits themselves.
    name: suffix of metric keys and name scope.

  Raises:
    ValueError: `label_dimension` is not a positive integer.
  """

  def __init__(self,
               label_dimension: int = 1,
               weight_column: Any = None,
               loss_reduction: str = base.SUM_OVER_BATCH_SIZE,
               loss_fn: Callable[..., Any] | None = None,
               inverse_link_fn: Callable[..., Any] | None = None,
               name: str | None = None) -> None:
    if isinstance(
        label_dimension,
        bool) or not isinstance(label_dimension, int) or label_dimension < 1:
      raise ValueError("`label_dimension` must be a positive integer. "
                       f"Received: label_dimension={label_dimension!r}.")
    super().__init__(weight_column=weight_column,
                     loss_reduction=loss_reduction,
                     loss_fn=loss_fn,
                     name=name)
    self._label_dimension = label_dimension
    self._inverse_link_fn = inverse_link_fn

  _label_dtype = tf.float32

  def _label_width(self):
    return self._label_dimension

  @property
  def logits_dimension(self) -> int:
    """Size of the last logits dimension."""
    return self._label_dimension

  def _allow_per_logit_weights(self):
    return True

  def _processed_labels(self, logits, labels):
    base.require_labels(labels)
    if isinstance(labels, tf.SparseTensor):
      raise ValueError("SparseTensor labels are not supported.")
    labels = tf.convert_to_tensor(labels)
    if labels.dtype == tf.string:
      raise ValueError("Regression labels must be numbers. Received: labels "
                       "of dtype string.")
    if labels.shape.rank == 1:
      labels = tf.expand_dims(labels, -1)
    last = labels.shape[-1] if labels.shape.rank else None
    if labels.shape.rank is not None and (labels.shape.rank != 2 or last
                                          not in (None, self._label_dimension)):
      raise ValueError(
          f"labels shape must be [batch_size, {self._label_dimension}]. "
          f"Received: labels shape {labels.shape}.")
    return tf.cast(labels, tf.float32)

  def _default_unweighted_loss(self, labels, logits):
    return _v1.losses.mean_squared_error(labels=labels,
                                         predictions=logits,
                                         reduction=_v1.losses.Reduction.NONE)

  def predictions(self,
                  logits: tf.Tensor,
                  keys: Sequence[str] | None = None) -> dict[str, tf.Tensor]:
    """{prediction key: tensor} for `logits` (only `keys`, when given).

    Args:
      logits: float tensor `[batch_size, label_dimension]`.
      keys: optional prediction keys to return; None returns them all.

    Returns:
      Dict mapping prediction keys to tensors.
    """
    with tf.name_scope("predictions"):
      if self._inverse_link_fn is not None:
        out = {P.PREDICTIONS: self._inverse_link_fn(logits), P.LOGITS: logits}
      else:
        out = {P.PREDICTIONS: logits}
    return {k: v for k, v in out.items() if keys is None or k in keys}

  def export_outputs(self, predictions: Mapping[str, Any]) -> dict[str, Any]:
    """{signature name: ExportOutput} for the head's `predictions`.

    Args:
      predictions: dict of prediction tensors, as `predictions()` returns.

    Returns:
      Dict mapping signature names ('serving_default', 'regression',
      'predict') to ExportOutput objects.
    """
    regression = export_outputs_lib.RegressionOutput(
        value=predictions[P.PREDICTIONS])
    return {
        "serving_default": regression,
        "regression": regression,
        "predict": export_outputs_lib.PredictOutput(predictions)
    }

  def eval_metric_ops(
      self, features: Any, logits: tf.Tensor, labels: Any,
      regularization_losses: Sequence[tf.Tensor] | None) -> dict[str, Any]:
    """The evaluation metrics, {name: Keras metric or (value, update_op)},
    under tf.estimator 2.15's keys (prefixed by the head's name if any).

    Args:
      features: dict of input features (read for example weights).
      logits: float tensor `[batch_size, label_dimension]`.
      labels: numeric tensor `[batch_size]` or
        `[batch_size, label_dimension]`.
      regularization_losses: optional list of scalar tensors; when given,
        their sum is reported as a metric.

    Returns:
      Dict mapping metric keys to updated metrics.

    Raises:
      ValueError: `labels` is None, sparse, strings or of a bad shape.
    """
    predicted = self.predictions(logits)[P.PREDICTIONS]
    processed = self._processed_labels(logits, labels)
    unweighted, weights = self._unweighted_loss_and_weights(
        logits, processed, features)
    w = None if isinstance(weights, float) else weights
    k = self._key
    if self._v1_metrics:
      return {
          **v1_metrics.regression(k, processed, predicted, weights, unweighted),
          **v1_metrics.regularization(k, regularization_losses)
      }
    mean = tf_keras.metrics.Mean
    with tf.name_scope("metrics"):
      metrics = {}
      for key, values, sample_weight in ((MetricKeys.LOSS_MEAN, unweighted, w),
                                         (MetricKeys.LABEL_MEAN, processed, w),
                                         (MetricKeys.PREDICTION_MEAN, predicted,
                                          base.broadcast_weights(
                                              weights, predicted))):
        metric = mean(name=key)
        metric.update_state(values=values, sample_weight=sample_weight)
        metrics[k(key)] = metric
      if regularization_losses:
        metric = mean(name=MetricKeys.LOSS_REGULARIZATION)
        metric.update_state(values=tf.add_n(list(regularization_losses)))
        metrics[k(MetricKeys.LOSS_REGULARIZATION)] = metric
    return metrics


class PoissonRegressionHead(RegressionHead):
  """Poisson regression: log-Poisson loss, predictions = exp(logits).

  Args:
    label_dimension: number of regression targets per example, >= 1.
    weight_column: feature key or numeric_column of example weights.
    loss_reduction: 'sum_over_batch_size' (Σ w·loss / batch size) or 'sum'.
    compute_full_loss: if True, include the Stirling approximation term of
      the log-Poisson loss; False drops it.
    name: suffix of metric keys and name scope.

  Raises:
    ValueError: `label_dimension` is not a positive integer.
  """

  def __init__(self,
               label_dimension: int = 1,
               weight_column: Any = None,
               loss_reduction: str = base.SUM_OVER_BATCH_SIZE,
               compute_full_loss: bool = True,
               name: str | None = None) -> None:
    self._compute_full_loss = compute_full_loss
    super().__init__(label_dimension=label_dimension,
                     weight_column=weight_column,
                     loss_reduction=loss_reduction,
                     loss_fn=self._poisson,
                     inverse_link_fn=tf.exp,
                     name=name)

  def _poisson(self, labels, logits):
    return tf.nn.log_poisson_loss(targets=labels,
                                  log_input=logits,
                                  compute_full_loss=self._compute_full_loss)


class LogisticRegressionHead(RegressionHead):
  """Regression of targets in [0, 1] with sigmoid cross-entropy.

  Predictions are sigmoid(logits); labels outside [0, 1] fail at run time.

  Args:
    weight_column: feature key or numeric_column of example weights.
    loss_reduction: 'sum_over_batch_size' (Σ w·loss / batch size) or 'sum'.
    name: suffix of metric keys and name scope.
  """

  def __init__(self,
               weight_column: Any = None,
               loss_reduction: str = base.SUM_OVER_BATCH_SIZE,
               name: str | None = None) -> None:
    super().__init__(label_dimension=1,
                     weight_column=weight_column,
                     loss_reduction=loss_reduction,
                     loss_fn=self._logistic,
                     inverse_link_fn=tf.sigmoid,
                     name=name)

  def _logistic(self, labels, logits):
    check = tf.group(
        _v1.debugging.assert_greater_equal(labels,
                                           0.0,
                                           message="Labels must be in [0, 1]"),
        _v1.debugging.assert_less_equal(labels,
                                        1.0,
                                        message="Labels must be in [0, 1]"))
    with tf.control_dependencies([check]):
      return tf.nn.sigmoid_cross_entropy_with_logits(labels=labels,
                                                     logits=logits)
