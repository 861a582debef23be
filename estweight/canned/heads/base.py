"""Head: loss, weights, predictions, metrics and train op of a canned model.

A head turns logits into an `EstimatorSpec`. It owns everything label- and
weight-related, so Linear, DNN, combined and baseline models share it. The
numbers follow tf.estimator 2.15's v2 heads: Keras-2 (tf_keras) metrics and
`compute_weighted_loss`, so evaluations of old model_dirs come out the same.
"""
from __future__ import annotations

import abc
from typing import Any, Callable, Mapping, Sequence

import tensorflow as tf

from estweight.canned import optimizers as optimizers_lib
from estweight.canned.keys import MetricKeys
from estweight.mode_keys import ModeKeys
from estweight.spec import EstimatorSpec
from estweight.weights import example_weights as example_weights_lib
from estweight.weights import losses as losses_lib

_v1 = tf.compat.v1

# Where canned model_fns put the weights of a (features, labels, weights)
# input, for the head to read as if they came from a weight_column.
SAMPLE_WEIGHT_KEY = "__estweight_sample_weight__"

SUM_OVER_BATCH_SIZE = losses_lib.SUM_OVER_BATCH_SIZE
SUM = losses_lib.SUM


def require_labels(labels: Any) -> None:
  """Raises the one clear error for a missing labels tensor."""
  if labels is None:
    raise ValueError("You must provide a labels Tensor. Given: None. "
                     "Suggested troubleshooting steps: check that input_fn "
                     "returns (features, labels) in TRAIN and EVAL.")


def broadcast_weights(weights: Any, values: tf.Tensor) -> Any:
  if isinstance(weights, float):
    return None if weights == 1.0 else weights
  return tf.compat.v2.__internal__.ops.broadcast_weights(weights, values)


class HeadMetric(tuple):
  """One metric of `Head.metrics()`: `(value, update_op)` once
  `update_metrics` has built it (EstimatorSpec takes it as such), with
  Keras' `result()`."""

  name: str

  def __new__(cls, name, value=None, update_op=None):
    metric = super().__new__(cls, (value, update_op))
    metric.name = name
    return metric

  def result(self) -> Any:
    if self[0] is None:
      raise ValueError(f"Metric {self.name!r} has no value yet: pass the "
                       "metrics to head.update_metrics(...) first.")
    return self[0]


class Head(abc.ABC):
  """Base class of the canned heads (tf.estimator's `Head` interface).

  Args:
    weight_column: None, a feature key (str) or a numeric_column giving
      each example's weight; None weighs every example 1.
    loss_reduction: how weighted per-example losses are reduced to the
      training loss: 'sum_over_batch_size' (the default), 'sum', 'auto',
      or a tf.compat.v1 reduction other than NONE.
    loss_fn: optional callable replacing the head's default per-example
      loss; called with those of `labels`, `logits`, `features` and
      `loss_reduction` it accepts.
    name: optional head name; suffixes metric keys and is the name scope.

  Raises:
    TypeError: `weight_column` is neither a string nor a DenseColumn.
    ValueError: `loss_fn` is not callable, or `loss_reduction` is unknown.
  """

  def __init__(self,
               *,
               weight_column: Any = None,
               loss_reduction: str = SUM_OVER_BATCH_SIZE,
               loss_fn: Callable[..., Any] | None = None,
               name: str | None = None) -> None:
    if weight_column is not None and not isinstance(
        weight_column, (str, tf.__internal__.feature_column.DenseColumn)):
      raise TypeError("`weight_column` must be a feature key or a "
                      "numeric_column. Received: weight_column="
                      f"{weight_column!r}.")
    if loss_fn is not None and not callable(loss_fn):
      raise ValueError(f"`loss_fn` must be callable. Received: loss_fn="
                       f"{loss_fn!r}.")
    self._weight_column = weight_column
    self._loss_reduction = losses_lib.normalize_loss_reduction(loss_reduction)
    self._loss_fn = loss_fn
    self._name = name

  _v1_metrics = False

  def use_v1_metrics(self) -> Head:
    """Switches eval metrics to tf.compat.v1.metrics, as the compat.v1 canned
    estimators of tf.estimator 2.15 computed them. Returns self."""
    self._v1_metrics = True
    return self

  @property
  def name(self) -> str | None:
    """The head's name (None for a single head); in a multi-head model it
    suffixes the head's metric and loss keys, e.g. 'auc/age'."""
    return self._name

  @property
  def loss_reduction(self) -> str:
    """How the weighted per-example losses become the training loss: a
    `tf.losses.Reduction` (SUM_OVER_BATCH_SIZE by default)."""
    return self._loss_reduction

  @property
  @abc.abstractmethod
  def logits_dimension(self) -> int:
    """Size of the last logits dimension."""

  def _key(self, key):
    return key if not self._name else f"{key}/{self._name}"

  # -------------------------------------------------------------- weights
  def weights(self,
              features: Any,
              logits: tf.Tensor,
              allow_per_logit: bool = False) -> tf.Tensor | float:
    """Example weights `[batch_size, 1]` (or per logit), or 1.0 if none.

    Args:
      features: dict of input features; holds the weight column, or the
        weights input_fn returned as a third element.
      logits: logits tensor, used to check the weights' batch size.
      allow_per_logit: if True, weights may also have shape
        `[batch_size, logits_dimension]`.

    Returns:
      A float tensor of example weights, or the float 1.0 when the head
      has no weights.

    Raises:
      ValueError: weights come both from `weight_column` and from input_fn,
        the weight column is not in `features`, or the weights have a bad
        shape.
    """
    column = self._weight_column
    from_input = isinstance(features, dict) and SAMPLE_WEIGHT_KEY in features
    if column is not None and from_input:
      raise ValueError(
          f"Example weights were given twice: by weight_column={column!r} and "
          "as the third element of (features, labels, weights) from input_fn."
          " To fix, drop one: remove weight_column, or return (features, "
          "labels) from input_fn.")
    source = f"weight_column {column!r}"
    if from_input:
      column = SAMPLE_WEIGHT_KEY
      source = "the weights input_fn returned"
    if column is None:
      return 1.0
    if isinstance(column, str):
      if not isinstance(features, dict) or column not in features:
        keys = sorted(features) if isinstance(features, dict) else []
        raise ValueError(
            f"weight_column {column!r} not in features {keys}. To fix, add "
            f"the weights to the features dict under {column!r}, or pass "
            "weight_column=None.")
      weights = features[column]
    else:
      cache = tf.__internal__.feature_column.FeatureTransformationCache(
          features)
      weights = column.get_dense_tensor(cache, None)
    return example_weights_lib.example_weights(
        weights,
        f"Weights from {source}",
        logits=logits,
        source=source,
        per_logit=self.logits_dimension if allow_per_logit else None)

  # ----------------------------------------------------------------- loss
  @abc.abstractmethod
  def _processed_labels(self, logits, labels):
    """Labels validated and converted to the loss's form."""

  @abc.abstractmethod
  def _default_unweighted_loss(self, labels, logits):
    """Per-example loss, shape [batch_size, d]."""

  def _allow_per_logit_weights(self):
    return False

  def _unweighted_loss_and_weights(self, logits, labels, features):
    if self._loss_fn is not None:
      from estweight.runtime import fn_args  # pylint: disable=g-import-not-at-top
      available = {
          "labels": labels,
          "logits": logits,
          "features": features,
          "loss_reduction": self._loss_reduction
      }
      unweighted = fn_args.call_with_available(self._loss_fn, available)
      unweighted = tf.convert_to_tensor(unweighted)
      if unweighted.shape.rank is not None and unweighted.shape.rank < 2:
        unweighted = tf.reshape(unweighted, [-1, 1])
    else:
      unweighted = self._default_unweighted_loss(labels, logits)
    weights = self.weights(features, logits, self._allow_per_logit_weights())
    return unweighted, weights

  def _check_logits(self, logits):
    logits = tf.convert_to_tensor(logits)
    last = logits.shape[-1] if logits.shape.rank else None
    if last is not None and last != self.logits_dimension:
      raise ValueError(f"logits shape must be [batch_size, "
                       f"{self.logits_dimension}]. Received: logits shape "
                       f"{logits.shape}.")
    return logits

  def loss(
      self,
      labels: Any,
      logits: tf.Tensor,
      features: Any = None,
      mode: str | None = None,
      regularization_losses: Sequence[tf.Tensor] | None = None) -> tf.Tensor:
    """Regularised training loss (a scalar).

    Args:
      labels: labels tensor in the form the head accepts.
      logits: float tensor `[batch_size, logits_dimension]`.
      features: dict of input features (read for example weights and
        passed to `loss_fn`); None if the head has no weights.
      mode: a ModeKeys value; unused.
      regularization_losses: optional list of scalar tensors added to the
        reduced loss.

    Returns:
      A scalar float tensor.

    Raises:
      ValueError: `labels` is None, or `logits` or `labels` have a shape
        the head does not accept.
    """
    del mode
    with tf.name_scope("losses"):
      logits = self._check_logits(logits)
      labels = self._processed_labels(logits, labels)
      unweighted, weights = self._unweighted_loss_and_weights(
          logits, labels, features)
      loss = losses_lib.reduce_loss(unweighted,
                                    weights,
                                    self._loss_reduction,
                                    tf_estimator_ops=True)
      if regularization_losses:
        loss = loss + tf.add_n(list(regularization_losses))
    return loss

  # ------------------------------------------------------ predictions etc.
  @abc.abstractmethod
  def predictions(self,
                  logits: tf.Tensor,
                  keys: Sequence[str] | None = None) -> dict[str, tf.Tensor]:
    """Dict of prediction tensors.

    Args:
      logits: float tensor `[batch_size, logits_dimension]`.
      keys: optional prediction keys to return; None returns them all.

    Returns:
      Dict mapping prediction keys to tensors.
    """

  @abc.abstractmethod
  def export_outputs(self, predictions: Mapping[str, Any]) -> dict[str, Any]:
    """Dict of signature name -> ExportOutput.

    Args:
      predictions: dict of prediction tensors, as `predictions()` returns.

    Returns:
      Dict mapping signature names to ExportOutput objects.
    """

  @abc.abstractmethod
  def eval_metric_ops(
      self, features: Any, logits: tf.Tensor, labels: Any,
      regularization_losses: Sequence[tf.Tensor] | None) -> dict[str, Any]:
    """Dict of metric name -> Keras metric object or (value, update_op).

    Args:
      features: dict of input features (read for example weights).
      logits: float tensor `[batch_size, logits_dimension]`.
      labels: labels tensor in the form the head accepts.
      regularization_losses: optional list of scalar tensors; when given,
        their sum is reported as a metric.

    Returns:
      Dict mapping metric keys to updated metrics.
    """

  # The labels a head takes, for `metrics()` (which has no tensors yet).
  _label_dtype = tf.int64

  def _label_width(self) -> int:
    return 1

  def metrics(
      self,
      regularization_losses: Sequence[tf.Tensor] | None = None
  ) -> dict[str, HeadMetric]:
    """The evaluation metrics, not yet updated: `{name: HeadMetric}`.

    tf.estimator's two-step metrics API for custom model_fns: pass the dict
    to `update_metrics` and the result to `EstimatorSpec(eval_metric_ops=)`.

    Args:
      regularization_losses: optional list of regularization losses; if
        non-empty, a regularization loss metric is included.

    Returns:
      Dict mapping metric keys to `HeadMetric`s without values.
    """
    with tf.Graph().as_default():
      dtype = (tf.string if getattr(self, "_label_vocabulary", None) else
               self._label_dtype)
      labels = tf.compat.v1.placeholder(dtype, [None, self._label_width()])
      logits = tf.compat.v1.placeholder(tf.float32,
                                        [None, self.logits_dimension])
      features = {}
      column = self._weight_column
      if column is not None:
        key = column if isinstance(column, str) else column.key
        features[key] = tf.compat.v1.placeholder(tf.float32, [None, 1])
      regularization = ([tf.constant(0.0)] if regularization_losses else None)
      names = list(
          self.eval_metric_ops(features, logits, labels, regularization))
    return {name: HeadMetric(name) for name in names}

  def update_metrics(
      self,
      eval_metrics: dict[str, Any],
      features: Any,
      logits: tf.Tensor | Mapping[str, tf.Tensor],
      labels: Any,
      regularization_losses: Sequence[tf.Tensor] | None = None
  ) -> dict[str, Any]:
    """`eval_metrics` (from `metrics()`) updated with this batch: a dict
    for `EstimatorSpec(eval_metric_ops=...)`.

    Args:
      eval_metrics: dict returned by `metrics()`.
      features: dict of input features (read for example weights).
      logits: float tensor `[batch_size, logits_dimension]` (a dict by head
        name for a multi-head).
      labels: labels tensor in the form the head accepts.
      regularization_losses: optional list of scalar regularization losses.

    Returns:
      A new dict with the metrics of `eval_metrics` updated for the batch.

    Raises:
      TypeError: `eval_metrics` is not a dict.
      ValueError: `logits` do not have the head's logits dimension.
    """
    if not isinstance(eval_metrics, dict):
      raise TypeError("`eval_metrics` must be the dict head.metrics() "
                      f"returned. Received: eval_metrics={eval_metrics!r}.")
    logits = self._check_logits(logits)
    updated = dict(eval_metrics)
    for name, metric in self.eval_metric_ops(features, logits, labels,
                                             regularization_losses).items():
      updated[name] = (HeadMetric(name, *metric)
                       if isinstance(metric, tuple) else metric)
    return updated

  # ------------------------------------------------------ estimator spec
  def create_estimator_spec(
      self,
      features: Any,
      mode: str,
      logits: tf.Tensor,
      labels: Any = None,
      optimizer: Any = None,
      trainable_variables: Sequence[tf.Variable] | None = None,
      train_op_fn: Callable[..., Any] | None = None,
      update_ops: Sequence[Any] | None = None,
      regularization_losses: Sequence[tf.Tensor] | None = None
  ) -> EstimatorSpec:
    """Builds the EstimatorSpec for `mode` from logits.

    Args:
      features: dict of input features.
      mode: a ModeKeys value: TRAIN, EVAL or PREDICT.
      logits: float tensor `[batch_size, logits_dimension]`.
      labels: labels tensor; required in TRAIN and EVAL, unused in PREDICT.
      optimizer: optimizer minimizing the loss in TRAIN; give it or
        `train_op_fn`, not both.
      trainable_variables: variables `optimizer` updates.
      train_op_fn: callable taking the loss and returning the train op;
        the alternative to `optimizer`.
      update_ops: optional extra ops grouped with the train op (e.g. batch
        normalization updates).
      regularization_losses: optional list of scalar tensors added to the
        loss.

    Returns:
      An `EstimatorSpec` for `mode`.

    Raises:
      ValueError: labels are missing in TRAIN or EVAL, logits or labels have
        a bad shape, or in TRAIN not exactly one of `optimizer` and
        `train_op_fn` is given.
    """
    with tf.name_scope(self._name or "head"):
      logits = self._check_logits(logits)
      predictions = self.predictions(logits)
      if mode == ModeKeys.PREDICT:
        return EstimatorSpec(mode,
                             predictions=predictions,
                             export_outputs=self.export_outputs(predictions))
      loss = self.loss(labels, logits, features, mode, regularization_losses)
      if mode == ModeKeys.EVAL:
        return EstimatorSpec(mode,
                             predictions=predictions,
                             loss=loss,
                             eval_metric_ops=self.eval_metric_ops(
                                 features, logits, labels,
                                 regularization_losses))
    train_op = self.train_op(loss, optimizer, trainable_variables, train_op_fn,
                             update_ops)
    with tf.compat.v1.get_default_graph().name_scope(None):
      _v1.summary.scalar(self._key(MetricKeys.LOSS), loss)
      if self._v1_metrics and self._loss_reduction == SUM:
        # The v1 heads also logged the weighted mean loss when summing.
        unweighted, weights = self._unweighted_loss_and_weights(
            logits, self._processed_labels(logits, labels), features)
        _v1.summary.scalar(
            self._key(MetricKeys.LOSS_MEAN),
            loss / (tf.reduce_sum(weights * tf.ones_like(unweighted))))
      if regularization_losses:
        _v1.summary.scalar(self._key(MetricKeys.LOSS_REGULARIZATION),
                           tf.add_n(list(regularization_losses)))
    return EstimatorSpec(mode,
                         predictions=predictions,
                         loss=loss,
                         train_op=train_op)

  def train_op(self, loss: tf.Tensor, optimizer: Any,
               trainable_variables: Sequence[tf.Variable] | None,
               train_op_fn: Callable[..., Any] | None,
               update_ops: Sequence[Any] | None) -> Any:
    """`optimizer` applied to `trainable_variables`, or `train_op_fn(loss)`.

    Args:
      loss: scalar training loss tensor.
      optimizer: optimizer minimizing `loss`, or None with `train_op_fn`.
      trainable_variables: variables `optimizer` updates.
      train_op_fn: callable taking `loss` and returning the train op, or
        None with `optimizer`.
      update_ops: optional extra ops grouped with the train op.

    Returns:
      The train op.

    Raises:
      ValueError: not exactly one of `optimizer` and `train_op_fn` is set.
    """
    if (optimizer is None) == (train_op_fn is None):
      raise ValueError("Exactly one of `optimizer` and `train_op_fn` must be "
                       f"set. Received: optimizer={optimizer!r}, "
                       f"train_op_fn={train_op_fn!r}.")
    graph = tf.compat.v1.get_default_graph()
    # tf.estimator 2.15 builds the update under a root `training` scope, so
    # optimizer slots are named training/<Optimizer>/<variable>/<slot>.
    with graph.name_scope(None), graph.name_scope("training"):
      if optimizer is not None:
        train_op = optimizers_lib.minimize(optimizer, loss, trainable_variables)
      else:
        train_op = train_op_fn(loss)  # type: ignore[misc]
      if update_ops:
        train_op = tf.group(train_op, *update_ops)
    return train_op
