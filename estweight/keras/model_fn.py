"""The model_fn of a converted Keras model.

Each mode's graph rebuilds the model from its config on the input features
and adds the compiled loss, metrics and optimizer. Example weights come from
a `(features, labels, weights)` input or, as in tf.estimator 2.15, from a
features dict `{'features': ..., 'sample_weights': ...}`.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

import tensorflow as tf

from estweight.canned import optimizers as optimizers_lib
from estweight.export import outputs as export_lib
from estweight.keras import checkpoint as checkpoint_lib
from estweight.keras import flavors as flavors_lib
from estweight.mode_keys import ModeKeys
from estweight.runtime import metric_ops
from estweight.spec import EstimatorSpec
from estweight.weights import example_weights as example_weights_lib

_v1 = tf.compat.v1
_SERVING_KEY = tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY
_ASSIGN_TYPES = frozenset(
    ("AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp", "Assign",
     "AssignAdd", "AssignSub"))
SAMPLE_WEIGHT_KEYS = frozenset(("features", "sample_weights"))


class KerasKeyError(KeyError, ValueError):
  """A features/labels dict that does not fit the model's inputs/outputs.

  A KeyError as in tf.estimator 2.15 (and a ValueError), with a readable
  message (KeyError would print its message quoted on one line).
  """

  def __str__(self):
    return str(self.args[0]) if self.args else ""


def _key_error(what, expected, received):
  missing = sorted(set(expected) - set(received))
  return KerasKeyError(
      f"The `{what}` dict does not cover the Keras model's "
      f"{'inputs' if what == 'features' else 'outputs'}.\n"
      f"\tExpected keys: {list(expected)}\n"
      f"\tReceived keys: {sorted(received)}\n\tMissing keys: {missing}")


def split_sample_weights(features: Any, weights: Any) -> tuple[Any, Any]:
  """(features, sample_weight) from either weight source; both is an error."""
  sample_weight = None
  if isinstance(features, dict) and set(features) == SAMPLE_WEIGHT_KEYS:
    features, sample_weight = features["features"], features["sample_weights"]
  if weights is not None:
    if sample_weight is not None:
      raise ValueError(
          "Example weights were given twice: as features['sample_weights'] "
          "and as the third element of (features, labels, weights). To fix, "
          "drop one.")
    sample_weight = tf.reshape(weights, [-1])
  return features, sample_weight


def _checked(weight):
  if weight is None:
    return None
  return example_weights_lib.example_weights(
      weight, "Example weights of a Keras model")


def _tensor(value):
  if isinstance(value, (tf.SparseTensor, tf.RaggedTensor)):
    return value
  return tf.convert_to_tensor(value)


def model_inputs(info: flavors_lib.ModelInfo, features: Any) -> Any:
  """The features arranged as the model's call expects them."""
  names = info.input_names
  if names is None:  # a subclassed model: given as they come
    return tf.nest.map_structure(_tensor, features)
  if isinstance(features, dict):
    aliases = {
        name: alias
        for name, alias in info.input_aliases.items()
        if name not in features and alias in features
    }
    if aliases:
      features = dict(features)
      for name, alias in aliases.items():
        features[name] = features[alias]
    if any(name not in features for name in names):
      raise _key_error("features", names, features)
    if info.inputs_are_dict:
      return {name: _tensor(features[name]) for name in names}
    values = [_tensor(features[name]) for name in names]
  elif isinstance(features, (list, tuple)):
    values = [_tensor(v) for v in features]
    if len(values) != len(names):
      raise ValueError(
          f"`features` must hold one tensor per Keras model input {names}. "
          f"Received: a {type(features).__name__} of {len(values)}.")
    if info.inputs_are_dict:
      return dict(zip(names, values))
  else:
    if len(names) != 1:
      raise ValueError(
          f"The Keras model has {len(names)} inputs {names}; `features` "
          "must be a dict keyed by these names or a list in this order. "
          f"Received: features={features!r}.")
    values = [_tensor(features)]
    if info.inputs_are_dict:
      return {names[0]: values[0]}
  return values[0] if len(values) == 1 else values


def flat_outputs(info: flavors_lib.ModelInfo,
                 outputs: Any) -> tuple[list[Any], list[Any]]:
  """(output names, output tensors) of one call of the rebuilt model."""
  if isinstance(outputs, dict):
    return list(outputs), list(outputs.values())
  flat = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
  names = info.output_names or [f"output_{i + 1}" for i in range(len(flat))]
  return names, flat


def _targets(labels, names, outputs):
  """Labels in the structure of the model outputs."""
  if isinstance(labels, dict):
    if any(name not in labels for name in names):
      raise _key_error("labels", names, labels)
    if isinstance(outputs, dict):
      return {name: labels[name] for name in names}
    ordered = [labels[name] for name in names]
    return ordered[0] if len(ordered) == 1 else ordered
  if isinstance(labels, tuple):
    return list(labels)
  return labels


def _per_output(sample_weight, names, outputs):
  """A per-output weight dict/list becomes the outputs' structure."""
  if isinstance(sample_weight, dict):
    unknown = sorted(set(sample_weight) - set(names))
    if unknown:
      raise ValueError(f"Unknown outputs {unknown} in sample_weights; the "
                       f"model's outputs are {names}.")
    if len(names) == 1:
      return sample_weight.get(names[0])
    if isinstance(outputs, dict):
      return {n: sample_weight.get(n) for n in names}
    return [sample_weight.get(n) for n in names]
  if isinstance(sample_weight, (list, tuple)) and len(names) == 1:
    return sample_weight[0] if sample_weight else None
  return sample_weight


def _new_assign_ops(graph, start, variables):
  """Assign ops created since op `start` that write `variables` (state
  updates such as batch-norm statistics), initializers excluded."""
  handles = {v.handle.name for v in variables}
  initializers = {
      v.initializer.name
      for v in _v1.global_variables() + _v1.local_variables()
  }
  return [
      op for op in graph.get_operations()[start:]
      if op.type in _ASSIGN_TYPES and op.inputs and
      op.inputs[0].name in handles and op.name not in initializers
  ]


def _metric_ops(flavor, info, custom_objects, names, y_true, y_pred,
                sample_weight, metric_names_map):
  graph = _v1.get_default_graph()
  container = flavor.make_metrics(info, custom_objects, names)
  if container is None:
    return {}
  start = len(graph.get_operations())
  container.update_state(y_true, y_pred, sample_weight)
  results = container.results()
  variables = [flavors_lib.tf_variable(v) for v in container.variables()]
  metric_ops.make_local(variables, graph)
  updates = _new_assign_ops(graph, start, variables)
  update_op = tf.group(*updates)
  if metric_names_map is not None:
    check_metric_names_map(metric_names_map, list(results))
    results = {metric_names_map[k]: v for k, v in results.items()}
  return {name: (value, update_op) for name, value in results.items()}


def check_metric_names_map(metric_names_map: Mapping[str, str],
                           names: Iterable[str]) -> None:
  expected, given = set(names), set(metric_names_map)
  if expected != given:
    raise ValueError(
        "`metric_names_map` must map exactly the compiled metric names "
        f"{sorted(expected)}. Missing: {sorted(expected - given)}; unknown: "
        f"{sorted(given - expected)}. Received: metric_names_map="
        f"{metric_names_map!r}.")


def make_model_fn(
    flavor: flavors_lib.Flavor,
    info: flavors_lib.ModelInfo,
    *,
    custom_objects: Mapping[str, Any] | None = None,
    checkpoint_format: str = checkpoint_lib.CHECKPOINT,
    metric_names_map: Mapping[str, str] | None = None,
    export_outputs: Mapping[str, Callable[..., Any]] | None = None
) -> Callable[..., EstimatorSpec]:
  """A model_fn `(features, labels, mode, config, weights=None)`."""

  def model_fn(features, labels, mode, config, weights=None):
    with flavor.graph_scope():
      return build_spec(features, labels, mode, config, weights)

  def build_spec(features, labels, mode, config, weights):
    graph = _v1.get_default_graph()
    features, sample_weight = split_sample_weights(features, weights)
    inputs = model_inputs(info, features)
    clone = flavor.rebuild(info, custom_objects)
    start = len(graph.get_operations())
    with flavor.custom_object_scope(custom_objects):
      outputs = clone(inputs, training=mode == ModeKeys.TRAIN)
    model_variables = flavor.weights(clone)
    state_updates = _new_assign_ops(graph, start, model_variables)
    names, flat = flat_outputs(info, outputs)
    predictions = dict(zip(names, flat))
    final_exports = {_SERVING_KEY: export_lib.PredictOutput(predictions)}
    for key, output_cls in (export_outputs or {}).items():
      final_exports[key] = output_cls(predictions[key])

    loss = train_op = None
    eval_metric_ops = {}
    optimizer = None
    if mode != ModeKeys.PREDICT:
      if labels is None:
        raise ValueError("model_to_estimator needs labels in TRAIN and EVAL; "
                         "input_fn returned none.")
      y_true = _targets(labels, names, outputs)
      weight = tf.nest.map_structure(_checked,
                                     _per_output(sample_weight, names, outputs))
      loss_fn = flavor.make_loss(info, custom_objects, names)
      loss = loss_fn(y_true, outputs, weight,
                     flavor.regularization_losses(clone))
      if mode == ModeKeys.EVAL:
        eval_metric_ops = _metric_ops(flavor, info, custom_objects, names,
                                      y_true, outputs, weight, metric_names_map)
      else:
        with tf.name_scope("training"):
          optimizer = info.optimizer_factory()
          optimizers_lib.tie_to_global_step(optimizer)
          trainable = [
              flavors_lib.tf_variable(v) for v in clone.trainable_weights
          ]
          train_op = optimizers_lib.minimize(optimizer, loss, trainable)
        if state_updates:
          train_op = tf.group(train_op, *state_updates)

    scaffold = None
    if checkpoint_format == checkpoint_lib.CHECKPOINT:
      keys = checkpoint_lib.variable_keys(checkpoint_format, clone, optimizer)
      scaffold = _v1.train.Scaffold(
          saver=checkpoint_lib.make_saver(keys, config))
    return EstimatorSpec(mode=mode,
                         predictions=predictions,
                         loss=loss,
                         train_op=train_op,
                         eval_metric_ops=eval_metric_ops,
                         export_outputs=final_exports,
                         scaffold=scaffold)

  return model_fn
