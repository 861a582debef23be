"""Example weights: the one place that validates, casts and shapes them.

The canned heads, `make_weighted_model_fn` and the Keras bridge each find
their weights in their own way (weight_column, weight_key, the third element
of (features, labels, weights), features['sample_weights']) and then hand
them to `example_weights`, which makes them float32 and adds the run-time
checks. runtime/inputs.py checks only the static form of the third element
(dense, numeric, rank) when input_fn returns it: runtime/ is the lower layer
and does not import this package.
"""
from __future__ import annotations

from typing import Any

import tensorflow as tf

_v1 = tf.compat.v1


def example_weights(weights: Any,
                    what: str,
                    *,
                    logits: Any = None,
                    source: Any = None,
                    per_logit: int | None = None,
                    flatten: bool = False) -> tf.Tensor:
  """`weights` as float32, checked at run time to be finite, then >= 0.

  Args:
    weights: dense example weights.
    what: how error messages name the weights, e.g. "Weights from
      weight_column 'w'": the run-time checks fail with "{what} must be
      finite" and "{what} must be >= 0".
    logits: the logits [batch_size, d] of a head the weights go with. Then
      the weights must also be dense and numeric (a ValueError naming
      `source` otherwise), weights [batch_size] become [batch_size, 1], and
      the shape must be [batch_size, 1] (or [batch_size, per_logit]),
      checked while building the graph and, for the batch
      size, at run time.
    source: where the weights came from, for the dtype error with `logits`.
    per_logit: with `logits`, the logits dimension d to also allow one
      weight per logit, [batch_size, d].
    flatten: reshape the weights to [batch_size].

  Returns:
    The weights as a float32 tensor that runs the checks.

  Raises:
    ValueError: with `logits`, for sparse, non-numeric or misshapen weights.
  """
  checks = []
  if logits is None:
    weights = tf.cast(weights, tf.float32)
  else:
    weights = _head_weights(weights, what, logits, source, per_logit)
    checks.append(
        _v1.debugging.assert_equal(
            tf.shape(weights)[:-1],
            tf.shape(logits)[:-1],
            message=f"{what} must have one entry per example"))
  if flatten:
    weights = tf.reshape(weights, [-1])
  # Finite first: NaN would also fail (and mislabel) the >= 0 check.
  finite = _v1.debugging.assert_all_finite(weights, f"{what} must be finite")
  with tf.control_dependencies([finite]):
    checks.append(
        _v1.debugging.assert_non_negative(weights,
                                          message=f"{what} must be >= 0"))
  with tf.control_dependencies(checks):
    return tf.identity(weights)


def _head_weights(weights, what, logits, source, per_logit):
  """A head's weights: dense, numeric, float32 and of the logits' rank."""
  if isinstance(weights, tf.SparseTensor):
    raise ValueError(f"{what} must be dense.")
  weights = tf.convert_to_tensor(weights)
  if not (weights.dtype.is_floating or weights.dtype.is_integer):
    raise ValueError(f"Weight column should be castable to float. Received "
                     f"dtype {weights.dtype.name} for {source}.")
  weights = tf.cast(weights, tf.float32, name="weights")
  rank, logits_rank = weights.shape.rank, logits.shape.rank
  if rank is not None and logits_rank is not None and (rank == logits_rank - 1):
    weights = tf.expand_dims(weights, -1)
  allowed = "[batch_size] or [batch_size, 1]" + (
      f" or [batch_size, {per_logit}]" if per_logit else "")
  last = weights.shape[-1] if weights.shape.rank else None
  ok_last = {1, per_logit} if per_logit else {1}
  if weights.shape.rank != logits_rank or (last is not None and
                                           last not in ok_last):
    raise ValueError(f"{what} have shape {weights.shape}, but must be "
                     f"{allowed} for logits of shape {logits.shape}.")
  return weights
