"""EstimatorSpec: what a model_fn returns, validated per mode."""
from __future__ import annotations

import collections
from typing import Any

import tensorflow as tf

from estweight.mode_keys import ALL_MODES, ModeKeys
from estweight.runtime import metric_ops

LOSS_METRIC_KEY = "loss"
AVERAGE_LOSS_METRIC_KEY = "average_loss"

_FIELDS = ("mode", "predictions", "loss", "train_op", "eval_metric_ops",
           "export_outputs", "training_chief_hooks", "training_hooks",
           "scaffold", "evaluation_hooks", "prediction_hooks")

_SpecTuple = collections.namedtuple(  # type: ignore[misc]
    "EstimatorSpec", _FIELDS)


class EstimatorSpec(_SpecTuple):
  """Ops and objects returned from a `model_fn` and passed to an `Estimator`.

  Same fields, defaults and per-mode rules as `tf.estimator.EstimatorSpec`:
  TRAIN needs `loss` and `train_op`, EVAL needs `loss`, PREDICT needs
  `predictions`. `eval_metric_ops` values are `(value, update_op)` pairs or
  Keras metric objects whose `update_state` was called inside the model_fn.
  """

  def __new__(cls,
              mode,
              predictions=None,
              loss=None,
              train_op=None,
              eval_metric_ops=None,
              export_outputs=None,
              training_chief_hooks=None,
              training_hooks=None,
              scaffold=None,
              evaluation_hooks=None,
              prediction_hooks=None):
    if mode not in ALL_MODES:
      raise ValueError(f"`mode` must be one of {list(ALL_MODES)}. "
                       f"Received: mode={mode!r}.")
    graph = tf.compat.v1.get_default_graph()

    if mode in (ModeKeys.TRAIN, ModeKeys.EVAL) and loss is None:
      raise ValueError(f"Missing loss. A model_fn must return `loss` in "
                       f"mode={mode!r}.")
    loss = _validate_loss(loss, graph)

    if mode == ModeKeys.PREDICT and predictions is None:
      raise ValueError("Missing predictions. A model_fn must return "
                       "`predictions` in mode='infer' (PREDICT).")
    predictions = _validate_predictions(predictions, graph)

    if mode == ModeKeys.TRAIN and train_op is None:
      raise ValueError("Missing train_op. A model_fn must return `train_op` "
                       "in mode='train', e.g. optimizer.minimize(loss, "
                       "global_step=tf.compat.v1.train.get_global_step()).")
    train_op = _validate_train_op(train_op, graph)

    eval_metric_ops = metric_ops.normalize(eval_metric_ops, graph)

    if mode == ModeKeys.PREDICT:
      from estweight.export import outputs as export_outputs_lib  # pylint: disable=g-import-not-at-top
      export_outputs = export_outputs_lib.get_export_outputs(
          export_outputs, predictions)

    hooks = {}
    for name, value in (("training_chief_hooks", training_chief_hooks),
                        ("training_hooks", training_hooks), ("evaluation_hooks",
                                                             evaluation_hooks),
                        ("prediction_hooks", prediction_hooks)):
      hooks[name] = _validate_hooks(name, value)

    if scaffold is None:
      scaffold = tf.compat.v1.train.Scaffold()
    elif not isinstance(scaffold, tf.compat.v1.train.Scaffold):
      raise TypeError("`scaffold` must be a tf.compat.v1.train.Scaffold. "
                      f"Received: scaffold={scaffold!r}.")

    return super().__new__(cls,
                           mode=mode,
                           predictions=predictions,
                           loss=loss,
                           train_op=train_op,
                           eval_metric_ops=eval_metric_ops,
                           export_outputs=export_outputs,
                           scaffold=scaffold,
                           **hooks)

  def _replace(self, **kwds):
    if "mode" in kwds and self.mode != kwds["mode"]:
      raise ValueError("`mode` of an EstimatorSpec cannot be changed. "
                       f"Received: mode={kwds['mode']!r} for a spec in "
                       f"mode={self.mode!r}.")
    fields = self._asdict()
    fields.update(kwds)
    return EstimatorSpec(**fields)


def _check_graph(name: str, tensor: Any, graph) -> None:
  if getattr(tensor, "graph", graph) is not graph:
    raise ValueError(
        f"`{name}` must be from the default graph of the model_fn. Possible "
        f"cause: it was created outside model_fn. Received: {name}={tensor}.")


def _validate_loss(loss, graph):
  if loss is None:
    return None
  if isinstance(loss, tf.Variable):
    loss = loss.value()
  if not tf.is_tensor(loss):
    raise TypeError("`loss` must be a Tensor. To fix, build it from TF ops "
                    f"inside model_fn. Received: loss={loss!r}.")
  _check_graph("loss", loss, graph)
  shape = loss.shape
  # A [batch_size] loss has unknown size; only all-1 dimensions are scalar.
  if shape.rank is not None and any(d != 1 for d in shape.as_list()):
    raise ValueError(
        "Loss must be scalar: `loss` must have exactly one element. "
        f"Received: loss with shape {shape}. To fix, reduce it, e.g. "
        "tf.reduce_mean(loss).")
  if shape.rank:
    loss = tf.reshape(loss, [])
  return loss


def _validate_predictions(predictions, graph):
  if predictions is None:
    return {}
  if isinstance(predictions, dict):
    for key, value in predictions.items():
      if not tf.is_tensor(value):
        raise TypeError(f"`predictions[{key!r}]` must be a Tensor. "
                        f"Received: {value!r}.")
      _check_graph(f"predictions[{key!r}]", value, graph)
    return dict(predictions)
  if not tf.is_tensor(predictions):
    raise TypeError("`predictions` must be a Tensor or a dict of Tensors. "
                    f"Received: predictions={predictions!r}.")
  _check_graph("predictions", predictions, graph)
  return predictions


def _validate_train_op(train_op, graph):
  if train_op is None:
    return None
  if isinstance(train_op, tf.Variable):
    train_op = train_op.op
  if not isinstance(train_op, tf.Operation) and not tf.is_tensor(train_op):
    raise TypeError("`train_op` must be an Operation or Tensor. "
                    f"Received: train_op={train_op!r}.")
  _check_graph("train_op", train_op, graph)
  return train_op


def _validate_hooks(name, hooks):
  hooks = tuple(hooks or ())
  for hook in hooks:
    if not isinstance(hook, tf.compat.v1.train.SessionRunHook):
      raise TypeError(f"All entries of `{name}` must be SessionRunHook "
                      f"instances. Received: {hook!r}.")
  return hooks
