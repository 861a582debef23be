"""Per-example losses and the one explicit weighting/reduction step.

Each loss maps `(labels, logits)` to one value per example, shape
[batch_size]; `reduce_loss` then applies example weights and a reduction:

- 'weighted_mean': Σ w·l / Σ w (what Keras does not do; keras#19740)
- 'sum_over_batch_size': Σ w·l / batch_size (tf.estimator's default)
- 'sum': Σ w·l

The canned heads reduce through it too, with tf.estimator 2.15's ops (see
`reduce_loss`); `normalize_loss_reduction` maps their `loss_reduction`.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import tensorflow as tf
import tf_keras

from estweight import _tf_private

_v1 = tf.compat.v1

REDUCTIONS = ("weighted_mean", "sum_over_batch_size", "sum")

# The heads' reductions: tf.keras names, and the tf.compat.v1.losses.Reduction
# values the compat.v1 estimators take, as one of ours.
SUM_OVER_BATCH_SIZE = "sum_over_batch_size"
SUM = "sum"
V1_REDUCTIONS = {
    "weighted_sum": SUM,
    "weighted_sum_over_batch_size": SUM_OVER_BATCH_SIZE,
    "weighted_mean": "weighted_mean",
    "weighted_sum_by_nonzero_weights": "nonzero_mean"
}
_V1_NAMES = {
    "weighted_mean": _v1.losses.Reduction.MEAN,
    "nonzero_mean": _v1.losses.Reduction.SUM_BY_NONZERO_WEIGHTS
}


def _flat(x):
  x = tf.convert_to_tensor(x)
  if x.shape.rank == 2 and x.shape[-1] == 1:
    return tf.squeeze(x, -1)
  return x


def sigmoid_cross_entropy(labels: Any, logits: Any) -> tf.Tensor:
  """Binary (logits [batch_size, 1]) or multi-label ([batch_size, k], mean
  over labels) sigmoid cross-entropy."""
  logits = tf.convert_to_tensor(logits)
  labels = tf.cast(tf.reshape(labels, tf.shape(logits)), logits.dtype)
  loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
  return tf.reduce_mean(loss, axis=-1)


def softmax_cross_entropy(labels: Any, logits: Any) -> tf.Tensor:
  """Cross-entropy with one-hot (or soft) labels [batch_size, k]."""
  logits = tf.convert_to_tensor(logits)
  return tf.nn.softmax_cross_entropy_with_logits(labels=tf.cast(
      labels, logits.dtype),
                                                 logits=logits)


def sparse_softmax_cross_entropy(labels: Any, logits: Any) -> tf.Tensor:
  """Cross-entropy with integer class ids [batch_size] (or [batch_size, 1])."""
  return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.cast(
      _flat(labels), tf.int64),
                                                        logits=logits)


def mean_squared_error(labels: Any, logits: Any) -> tf.Tensor:
  logits = tf.convert_to_tensor(logits)
  labels = tf.cast(tf.reshape(labels, tf.shape(logits)), logits.dtype)
  return tf.reduce_mean(tf.square(logits - labels), axis=-1)


def huber(labels: Any, logits: Any, delta: float = 1.0) -> tf.Tensor:
  """0.5·e² for |e| <= delta, else delta·(|e| - 0.5·delta); mean over dims."""
  logits = tf.convert_to_tensor(logits)
  labels = tf.cast(tf.reshape(labels, tf.shape(logits)), logits.dtype)
  error = tf.abs(logits - labels)
  quadratic = tf.minimum(error, delta)
  loss = 0.5 * tf.square(quadratic) + delta * (error - quadratic)
  return tf.reduce_mean(loss, axis=-1)


def focal(labels: Any,
          logits: Any,
          gamma: float = 2.0,
          alpha: Any = None) -> tf.Tensor:
  """Focal loss (Lin et al. 2017): -α_t (1 - p_t)^γ log p_t.

  Binary when logits are [batch_size, 1] (α weighs the positive class,
  1 - α the negative one); otherwise softmax over k classes with integer
  labels (α, if given, a list of k class factors).
  """
  logits = tf.convert_to_tensor(logits)
  if logits.shape[-1] == 1:
    z = tf.squeeze(logits, -1)
    y = tf.cast(_flat(labels), z.dtype)
    log_p_t = -tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z)
    loss = -tf.pow(1.0 - tf.exp(log_p_t), gamma) * log_p_t
    if alpha is not None:
      loss = loss * (alpha * y + (1.0 - alpha) * (1.0 - y))
    return loss
  ids = tf.cast(_flat(labels), tf.int32)
  log_probs = tf.nn.log_softmax(logits)
  log_p_t = tf.gather(log_probs, ids, batch_dims=1)
  loss = -tf.pow(1.0 - tf.exp(log_p_t), gamma) * log_p_t
  if alpha is not None:
    loss = loss * tf.gather(tf.constant(alpha, logits.dtype), ids)
  return loss


LOSSES = {
    "sigmoid_cross_entropy": sigmoid_cross_entropy,
    "softmax_cross_entropy": softmax_cross_entropy,
    "sparse_softmax_cross_entropy": sparse_softmax_cross_entropy,
    "mse": mean_squared_error,
    "huber": huber,
    "focal": focal,
}
CLASSIFICATION = ("sigmoid_cross_entropy", "softmax_cross_entropy",
                  "sparse_softmax_cross_entropy", "focal")


def get(loss: str | Callable[..., Any], **kwargs: Any) -> Callable[..., Any]:
  """A per-example loss from a name (with options, e.g. gamma) or callable."""
  if callable(loss):
    return functools.partial(loss, **kwargs) if kwargs else loss
  if loss not in LOSSES:
    raise ValueError(f"`loss` must be one of {sorted(LOSSES)} or a callable "
                     f"(labels, logits) -> [batch_size]. Received: "
                     f"loss={loss!r}.")
  return functools.partial(LOSSES[loss], **kwargs) if kwargs else LOSSES[loss]


def check_reduction(reduction: str) -> str:
  if reduction not in REDUCTIONS:
    raise ValueError(f"`reduction` must be one of {list(REDUCTIONS)}. "
                     f"Received: reduction={reduction!r}.")
  return reduction


def normalize_loss_reduction(loss_reduction: Any) -> str:
  """Maps a head's tf.keras / tf.compat.v1 reduction name to one of ours."""
  value = getattr(loss_reduction, "value", loss_reduction)
  if value == "auto":  # tf.losses.Reduction.AUTO: as 2.15, per batch size
    return SUM_OVER_BATCH_SIZE
  if value in (SUM_OVER_BATCH_SIZE, SUM):
    return value
  if value in V1_REDUCTIONS:
    return V1_REDUCTIONS[value]
  raise ValueError(
      "`loss_reduction` must be 'sum_over_batch_size', 'sum' or 'auto' (or a "
      "tf.compat.v1.losses.Reduction other than NONE). Received: "
      f"loss_reduction={loss_reduction!r}.")


def reduce_loss(per_example: Any,
                weights: Any = None,
                reduction: str = "weighted_mean",
                *,
                tf_estimator_ops: bool = False) -> tf.Tensor:
  """Weights `per_example` [batch_size] by `weights` [batch_size] and reduces.

  With all weights zero, 'weighted_mean' is 0 (not NaN).

  With `tf_estimator_ops` (the canned heads), the reduction is one of
  `normalize_loss_reduction`'s and runs on the ops tf.estimator 2.15's heads
  used, for the same numbers and graph: tf_keras' `compute_weighted_loss`
  for 'sum' and 'sum_over_batch_size', tf.compat.v1's (which also adds the
  loss to the LOSSES collection) for 'weighted_mean' and 'nonzero_mean'.
  Both record the reduction in the graph, which decides how a distribution
  strategy scales the loss over replicas. Per-example losses may then be
  [batch_size, d], with weights [batch_size, 1], [batch_size, d] or 1.0.

  Args:
    per_example: the per-example losses, [batch_size] (see above with
      `tf_estimator_ops`).
    weights: the examples' weights, reshaped to `per_example`'s shape
      (see above with `tf_estimator_ops`); None: every example weighs 1.
    reduction: 'weighted_mean' (weighted sum over the sum of weights),
      'sum_over_batch_size' (weighted sum over the number of losses) or
      'sum'; with `tf_estimator_ops`, 'nonzero_mean' too.
    tf_estimator_ops: use tf.estimator 2.15's ops (see above).

  Returns:
    The reduced loss, a scalar Tensor.

  Raises:
    ValueError: if, without `tf_estimator_ops`, `reduction` is not one of
      'weighted_mean', 'sum_over_batch_size' and 'sum'.
  """
  if tf_estimator_ops:
    if reduction in (SUM, SUM_OVER_BATCH_SIZE):
      return tf_keras.__internal__.losses.compute_weighted_loss(
          per_example, sample_weight=weights, reduction=reduction)
    return _v1.losses.compute_weighted_loss(per_example,
                                            weights=weights,
                                            reduction=_V1_NAMES[reduction])
  check_reduction(reduction)
  _record_reduction(reduction)
  per_example = tf.convert_to_tensor(per_example)
  if weights is None:
    weights = tf.ones_like(per_example)
  weights = tf.cast(tf.reshape(weights, tf.shape(per_example)),
                    per_example.dtype)
  total = tf.reduce_sum(weights * per_example)
  if reduction == "sum":
    return total
  if reduction == "sum_over_batch_size":
    return total / tf.cast(tf.size(per_example), per_example.dtype)
  return tf.math.divide_no_nan(total, tf.reduce_sum(weights))


def _record_reduction(reduction):
  """Records in the graph whether the loss sums over the batch, as the
  tf_estimator ops do: under a distribution strategy the replicas' losses
  are then summed (not averaged), and optimizers do not divide the loss by
  the number of replicas."""
  if tf.executing_eagerly():
    return
  summed = reduction == "sum"
  _tf_private.set_last_loss_reduction(
      _v1.get_default_graph(),
      _v1.losses.Reduction.SUM if summed else _v1.losses.Reduction.MEAN)
