"""Normalises `eval_metric_ops` into `(value, update_op)` pairs.

tf.estimator accepted `(value, update_op)` tuples from `tf.compat.v1.metrics`
and Keras metric objects. Keras metric objects do not hand back their update
op in a v1 graph (Keras 3's `update_state` returns None), so the update op is
recovered from the graph: the assign ops that write the metric's variables.
Metric variables are made local so they are reset per evaluation and never
looked up in checkpoints.
"""
from __future__ import annotations

from typing import Any, Iterable

import tensorflow as tf

from estweight import _tf_private

_ASSIGN_TYPES = frozenset(
    ("AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp",
     "AssignAdd", "AssignSub", "Assign"))


def normalize(eval_metric_ops: Any, graph: tf.Graph) -> dict[str, Any]:
  """Returns a dict name -> (value_tensor, update_op)."""
  if eval_metric_ops is None:
    return {}
  if not isinstance(eval_metric_ops, dict):
    raise TypeError("`eval_metric_ops` must be a dict of metric name to "
                    "(value, update_op) or Keras Metric. "
                    f"Received: eval_metric_ops={eval_metric_ops!r}.")
  out = {}
  for name, metric in eval_metric_ops.items():
    if isinstance(metric, (tuple, list)) and len(metric) == 2:
      value, update = metric
      for part, what in ((value, "value"), (update, "update_op")):
        if not (tf.is_tensor(part) or isinstance(part, tf.Operation)):
          raise TypeError(
              f"`eval_metric_ops[{name!r}]` must be a (value, update_op) pair "
              f"of Tensors/Operations; its {what} is {part!r}.")
        if getattr(part, "graph", graph) is not graph:
          raise ValueError(
              f"`eval_metric_ops[{name!r}]` is not from the model_fn's graph. "
              "Possible cause: the metric was created outside model_fn.")
      out[name] = (value, update)
    elif _is_keras_metric(metric):
      out[name] = _from_keras_metric(name, metric, graph)
    else:
      raise TypeError(
          f"`eval_metric_ops[{name!r}]` must be a (value, update_op) tuple or "
          f"a Keras Metric object. Received: {metric!r}.")
  return out


def _is_keras_metric(obj) -> bool:
  return (hasattr(obj, "update_state") and hasattr(obj, "result") and
          hasattr(obj, "variables"))


def _tf_variable(var):
  """The tf.Variable behind a Keras 2 or Keras 3 variable."""
  inner = getattr(var, "value", None)
  if isinstance(inner, tf.Variable):
    return inner
  return var


def _from_keras_metric(name, metric, graph):
  variables = [_tf_variable(v) for v in metric.variables]
  handles = {
      v.handle.name if hasattr(v, "handle") else v.name for v in variables
  }
  initializers = set()
  for v in variables:
    initializers |= _op_names_of(v.initializer)
  updates = [
      op for op in graph.get_operations() if op.type in _ASSIGN_TYPES and
      op.inputs and op.inputs[0].name in handles and op.name not in initializers
  ]
  if not updates:
    raise ValueError(
        f"Keras metric `eval_metric_ops[{name!r}]` has no update op. Please "
        "call update_state(...) on it inside the model_fn before returning it.")
  _after_input(updates, graph)
  make_local(variables, graph)
  return metric.result(), tf.group(*updates)


def _op_names_of(initializer):
  """The names of `initializer` and the ops it groups. A strategy's replica
  sees its component's initializer as a NoOp grouping the assign (left in
  a metric's updates, that assign reset the metric at every batch)."""
  names, pending = set(), [initializer]
  while pending:
    op = pending.pop()
    if op.name not in names:
      names.add(op.name)
      if op.type == "NoOp":
        pending.extend(op.control_inputs)
  return names


_INPUT_OPS = ("IteratorGetNext", "IteratorGetNextSync")


def _after_input(updates, graph):
  """Makes a metric's updates wait for the batch.

  Keras 3 updates a metric's count with a value known from static shapes,
  so that assign does not depend on the data; in the run that meets the end
  of the input it still ran, and a mean over 4 batches came out as sum / 5
  (tf_keras chained count after total, so 2.15 never saw this).
  """
  sources = [op for op in graph.get_operations() if op.type in _INPUT_OPS]
  for op in updates:
    for source in sources:
      if source not in op.control_inputs:
        _tf_private.add_control_input(op, source)


def make_local(variables: Iterable[Any], graph: tf.Graph) -> None:
  gv = graph.get_collection_ref(tf.compat.v1.GraphKeys.GLOBAL_VARIABLES)
  local = graph.get_collection_ref(tf.compat.v1.GraphKeys.LOCAL_VARIABLES)
  metric_vars = graph.get_collection_ref(
      tf.compat.v1.GraphKeys.METRIC_VARIABLES)
  for v in variables:
    # Identity, not ==: a variable's == may build an elementwise op.
    gv[:] = [g for g in gv if g is not v]
    for coll in (local, metric_vars):
      if not any(c is v for c in coll):
        coll.append(v)
