"""Multi-objective head: several named heads trained on one set of logits.

Follows tf.estimator 2.15's `MultiHead`. Logits, labels and predictions are
keyed by head name: logits come as a dict `{head_name: logits}` or as one
tensor whose last dimension is split by the heads' `logits_dimension` (in
the order of `heads`, as a canned estimator's single logits layer gives
them); labels are a dict `{head_name: labels}`; predictions are keyed
`(head_name, prediction_key)`.

The training loss is the `head_weights`-weighted sum of the heads' losses
(each reduced by the head itself) plus the regularization losses. Metrics
are the heads' own (`accuracy/<head_name>`, ...) and each head's loss
`loss/<head_name>`, unweighted by `head_weights`.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numbers

import numpy as np
import tensorflow as tf
import tf_keras

from estweight.canned.heads import base
from estweight.canned.keys import MetricKeys
from estweight.export import outputs as export_outputs_lib
from estweight.mode_keys import ModeKeys
from estweight.spec import EstimatorSpec

_v1 = tf.compat.v1
_SERVING_DEFAULT = "serving_default"
_PREDICT = "predict"


def _loss_key(head):
  """`loss/<head_name>`: a head's loss, as metric and summary."""
  return f"{MetricKeys.LOSS}/{head.name}"


def _check_heads(heads):
  if heads is not None and not isinstance(heads, (list, tuple)):
    raise TypeError("`heads` must be a list or tuple of heads. Received: "
                    f"heads={heads!r}.")
  if not heads:
    raise ValueError(f"Must specify heads. Received: heads={heads!r}.")
  names = []
  for head in heads:
    if not isinstance(head, base.Head):
      raise TypeError("Each entry of `heads` must be an estweight head (e.g. "
                      f"RegressionHead(name='a')). Received: {head!r} in "
                      f"heads={heads!r}.")
    if not head.name:
      raise ValueError(
          "All given heads must have name specified: metrics, labels and "
          "logits are keyed by head name. Received: a head without a name, "
          f"{head!r}. To fix, pass name=... to each head.")
    names.append(head.name)
  duplicates = sorted({n for n in names if names.count(n) > 1})
  if duplicates:
    raise ValueError(
        f"Head names must be unique; {duplicates} name more than one head. "
        f"Received: head names {names}.")
  reductions = [head.loss_reduction for head in heads]
  if len(set(reductions)) > 1:
    raise ValueError("The loss_reduction must be the same for different "
                     f"heads. Received: loss_reduction={reductions} for "
                     f"heads {names}.")
  return tuple(heads)


def _check_head_weights(head_weights, heads):
  if isinstance(head_weights, np.ndarray) and head_weights.ndim == 1:
    head_weights = head_weights.tolist()
  if head_weights is not None and not isinstance(head_weights, (list, tuple)):
    raise TypeError("`head_weights` must be a list or tuple of numbers. "
                    f"Received: head_weights={head_weights!r}.")
  if not head_weights:  # None or empty: every head weighs 1 (as in 2.15).
    return ()
  if len(head_weights) != len(heads):
    raise ValueError(
        "heads and head_weights must have the same size. Received: "
        f"len(heads)={len(heads)}, len(head_weights)={len(head_weights)} "
        f"(head_weights={head_weights!r}).")
  for weight in head_weights:
    if isinstance(
        weight,
        bool) or not (isinstance(weight, numbers.Real) or
                      tf.is_tensor(weight) or isinstance(weight, tf.Variable)):
      raise TypeError("`head_weights` entries must be numbers. Received: "
                      f"head_weights={head_weights!r}.")
  return tuple(head_weights)


class MultiHead(base.Head):
  """Creates a head for multi-objective learning from named heads.

  Example:

    head = MultiHead([BinaryClassHead(name="click"),
                      RegressionHead(name="dwell")], head_weights=[1., .5])
    estimator = DNNEstimator(head=head, hidden_units=[16], ...)
    # input_fn labels: {"click": ..., "dwell": ...}

  Args:
    heads: list or tuple of heads, each with a unique `name` and the same
      `loss_reduction`.
    head_weights: optional numbers, one per head, weighting each head's loss
      in the training loss (not in the per-head metrics).

  Raises:
    ValueError: `heads` is empty, a head has no name, names repeat, the
      heads' loss reductions differ, or `head_weights` has the wrong length.
    TypeError: `heads` or `head_weights` are not sequences of heads/numbers.
  """

  def __init__(self,
               heads: Sequence[Any],
               head_weights: Sequence[float] | None = None) -> None:
    heads = _check_heads(heads)
    self._heads = heads
    self._head_weights = _check_head_weights(head_weights, heads)
    super().__init__(loss_reduction=heads[0].loss_reduction,
                     name="_".join(head.name for head in heads))

  @property
  def heads(self) -> Sequence[base.Head]:
    """The heads, in the order their logits are concatenated."""
    return self._heads

  @property
  def logits_dimension(self) -> int:
    """Size of the last logits dimension."""
    return sum(head.logits_dimension for head in self._heads)

  # --------------------------------------------------- logits and labels
  def _check_logits(self, logits):
    """`{head_name: logits}` from a dict or from one tensor to split."""
    if isinstance(logits, dict):
      missing = [h.name for h in self._heads if h.name not in logits]
      if missing:
        raise ValueError(f"logits has missing values for head(s): {missing}. "
                         f"Received: logits keys {sorted(logits)}.")
      # Each head checks its own part (shape [batch_size, its dimension]).
      return {
          h.name:
              h._check_logits(logits[h.name]
                             )  # pylint: disable=protected-access
          for h in self._heads
      }
    with tf.name_scope("split_logits"):
      logits = tf.convert_to_tensor(logits)
      dims = [h.logits_dimension for h in self._heads]
      last = logits.shape[-1] if logits.shape.rank else None
      if logits.shape.rank == 0 or (last is not None and last != sum(dims)):
        raise ValueError(
            f"Could not split logits of shape {logits.shape} among the heads "
            f"with individual logits dimensions {dims}: the last dimension "
            f"of logits must be {sum(dims)} (the sum).")
      parts = tf.split(logits, dims, axis=-1)
    return {h.name: part for h, part in zip(self._heads, parts)}

  def _processed_labels(self, logits, labels):
    """`labels` checked to be a dict holding labels for every head."""
    del logits
    base.require_labels(labels)
    if not isinstance(labels, dict):
      raise ValueError("labels must be a dict keyed by head name "
                       f"{[h.name for h in self._heads]}. Received: "
                       f"labels={labels!r}.")
    missing = [h.name for h in self._heads if h.name not in labels]
    if missing:
      raise ValueError(f"labels has missing values for head(s): {missing}. "
                       f"Received: labels keys {sorted(labels)}.")
    return labels

  def _default_unweighted_loss(self, labels, logits):
    raise NotImplementedError(
        "MultiHead has no per-example loss of its own: its loss is the "
        "head_weights-weighted sum of its heads' losses.")

  # ----------------------------------------------------------------- loss
  def _head_losses(self, labels, logits, features, mode):
    """Each head's own (reduced, unregularized) loss, in `heads` order."""
    return [
        head.loss(labels[head.name], logits[head.name], features, mode)
        for head in self._heads
    ]

  def _merge_losses(self, head_losses, regularization_losses):
    with tf.name_scope("merge_losses"):
      if self._head_weights:
        head_losses = [
            loss * tf.cast(weight, loss.dtype)
            for loss, weight in zip(head_losses, self._head_weights)
        ]
      loss = tf.add_n(head_losses)
      if regularization_losses:
        loss = loss + tf.add_n(list(regularization_losses))
    return loss

  def loss(
      self,
      labels: Any,
      logits: Any,
      features: Any = None,
      mode: str | None = None,
      regularization_losses: Sequence[tf.Tensor] | None = None) -> tf.Tensor:
    """Weighted sum of the heads' losses plus regularization (a scalar).

    Args:
      labels: dict `{head_name: labels}`.
      logits: dict `{head_name: logits}` or one tensor to split.
      features: input dict (the heads read their weight columns from it).
      mode: a ModeKeys value.
      regularization_losses: optional list of scalar losses to add.

    Returns:
      The training loss, a scalar.
    """
    logits = self._check_logits(logits)
    labels = self._processed_labels(logits, labels)
    return self._merge_losses(self._head_losses(labels, logits, features, mode),
                              regularization_losses)

  # ------------------------------------------------------ predictions etc.
  def predictions(self,
                  logits: Any,
                  keys: Sequence[Any] | None = None) -> dict[Any, tf.Tensor]:
    """Every head's predictions, keyed `(head_name, prediction_key)`.

    Args:
      logits: dict `{head_name: logits}` or one tensor to split.
      keys: optional prediction keys to keep: plain keys ('logits') keep
        that key of every head, `(head_name, key)` tuples one head's key.

    Returns:
      Dict `{(head_name, prediction_key): tensor}`.
    """
    logits = self._check_logits(logits)
    out = {}
    for head in self._heads:
      for key, value in head.predictions(logits[head.name]).items():
        out[(head.name, key)] = value
    if keys:
      keys = [keys] if isinstance(keys, str) else list(keys)
      out = {k: v for k, v in out.items() if k in keys or k[1] in keys}
    return out

  def export_outputs(self, predictions: Mapping[Any, Any]) -> dict[str, Any]:
    """Each head's export outputs, prefixed with its name, plus merged ones.

    A head's 'serving_default' is exported as '<head_name>', its other
    outputs as '<head_name>/<key>'; 'serving_default' is the first head's,
    and 'predict' holds all heads' predictions as '<head_name>/<key>'.

    Args:
      predictions: dict `{(head_name, prediction_key): tensor}` as
        `predictions()` returns it.

    Returns:
      Dict of signature name to ExportOutput.
    """
    outputs, merged = {}, {}
    for head in self._heads:
      head_predictions = {
          key: value
          for (name, key), value in predictions.items()
          if name == head.name
      }
      for key, output in head.export_outputs(head_predictions).items():
        if head is self._heads[0] and key == _SERVING_DEFAULT:
          outputs[_SERVING_DEFAULT] = output
        outputs[head.name if key ==
                _SERVING_DEFAULT else f"{head.name}/{key}"] = output
        if key == _PREDICT and isinstance(output,
                                          export_outputs_lib.PredictOutput):
          for name, tensor in output.outputs.items():
            merged[f"{head.name}/{name}"] = tensor
    outputs[_PREDICT] = export_outputs_lib.PredictOutput(merged)
    return outputs

  # -------------------------------------------------------------- metrics
  def metrics(
      self,
      regularization_losses: Sequence[tf.Tensor] | None = None
  ) -> dict[str, base.HeadMetric]:
    """The multi-head's own metrics, not yet updated: `loss/<head_name>`
    per head (and the regularization loss); `update_metrics` adds the
    heads' metrics.

    Args:
      regularization_losses: optional list of regularization losses; if
        non-empty, a regularization loss metric is included.

    Returns:
      Dict mapping metric keys to `HeadMetric`s without values.
    """
    names = [_loss_key(head) for head in self._heads]
    if regularization_losses:
      names.insert(0, self._key(MetricKeys.LOSS_REGULARIZATION))
    return {name: base.HeadMetric(name) for name in names}

  def eval_metric_ops(
      self, features: Any, logits: Any, labels: Any,
      regularization_losses: Sequence[tf.Tensor] | None) -> dict[str, Any]:
    """Each head's loss and metrics (without regularization), plus the
    regularization loss as `regularization_loss/<multi_head_name>`.

    Args:
      features: input dict (the heads read their weight columns from it).
      logits: dict `{head_name: logits}` or one tensor to split.
      labels: dict `{head_name: labels}`.
      regularization_losses: optional list of scalar losses; when given,
        their sum is reported as a metric.

    Returns:
      Dict mapping metric keys to updated metrics.

    Raises:
      ValueError: `logits` or `labels` lack a head, or `logits` cannot be
        split among the heads.
    """
    logits = self._check_logits(logits)
    labels = self._processed_labels(logits, labels)
    mean = tf_keras.metrics.Mean
    metrics = {}
    with tf.name_scope("merge_eval"):
      if regularization_losses:
        metric = mean(name=MetricKeys.LOSS_REGULARIZATION)
        metric.update_state(values=tf.add_n(list(regularization_losses)))
        metrics[self._key(MetricKeys.LOSS_REGULARIZATION)] = metric
      for head, loss in zip(
          self._heads, self._head_losses(labels, logits, features,
                                         ModeKeys.EVAL)):
        key = _loss_key(head)
        metric = mean(name=key)
        metric.update_state(values=loss)
        metrics[key] = metric
    for head in self._heads:
      metrics.update(
          head.eval_metric_ops(features, logits[head.name], labels[head.name],
                               None))
    return metrics

  # ------------------------------------------------------ estimator spec
  def create_estimator_spec(
      self,
      features: Any,
      mode: str,
      logits: Any,
      labels: Any = None,
      optimizer: Any = None,
      trainable_variables: Sequence[tf.Variable] | None = None,
      train_op_fn: Callable[..., Any] | None = None,
      update_ops: Sequence[Any] | None = None,
      regularization_losses: Sequence[tf.Tensor] | None = None
  ) -> EstimatorSpec:
    """Builds the EstimatorSpec for `mode` from all heads' logits.

    Args:
      features: input dict.
      mode: a ModeKeys value.
      logits: dict `{head_name: logits}` or one tensor to split.
      labels: dict `{head_name: labels}` (TRAIN and EVAL).
      optimizer: optimizer applied to `trainable_variables`, or None with
        `train_op_fn`.
      trainable_variables: variables `optimizer` trains.
      train_op_fn: `loss -> train_op`, or None with `optimizer`.
      update_ops: extra ops to run with the train op (e.g. batch norm).
      regularization_losses: optional list of scalar losses to add.

    Returns:
      An EstimatorSpec.
    """
    with tf.name_scope(self._name):
      logits = self._check_logits(logits)
      predictions = self.predictions(logits)
      if mode == ModeKeys.PREDICT:
        return EstimatorSpec(mode,
                             predictions=predictions,
                             export_outputs=self.export_outputs(predictions))
      labels = self._processed_labels(logits, labels)
      head_losses = self._head_losses(labels, logits, features, mode)
      loss = self._merge_losses(head_losses, regularization_losses)
      if mode == ModeKeys.EVAL:
        return EstimatorSpec(mode,
                             predictions=predictions,
                             loss=loss,
                             eval_metric_ops=self.eval_metric_ops(
                                 features, logits, labels,
                                 regularization_losses))
    graph = _v1.get_default_graph()
    with graph.name_scope(None):
      # 2.15 built a train op per head (then discarded it), each under a
      # fresh root `training` scope: the real one is `training_<n heads>`,
      # which names the optimizer slots in checkpoints.
      for _ in self._heads:
        with graph.name_scope("training"):
          pass
      for head, head_loss in zip(self._heads, head_losses):
        _v1.summary.scalar(_loss_key(head), head_loss)
    train_op = self.train_op(loss, optimizer, trainable_variables, train_op_fn,
                             update_ops)
    with graph.name_scope(None):
      _v1.summary.scalar(MetricKeys.LOSS, loss)
      if regularization_losses:
        _v1.summary.scalar(MetricKeys.LOSS_REGULARIZATION,
                           tf.add_n(list(regularization_losses)))
    return EstimatorSpec(mode,
                         predictions=predictions,
                         loss=loss,
                         train_op=train_op)
