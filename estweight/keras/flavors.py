"""Keras 3 and tf_keras behind one small interface.

model_to_estimator accepts models of both Keras packages. What differs
between them (how a model is rebuilt from its config, where the compile
arguments live, the loss and metric containers that give compiled losses and
metric names their Keras meaning, the optimizer classes) sits here; the
model_fn only talks to a `Flavor`.

Everything that reads the user's model runs eagerly at conversion time
(`describe`); the graph side (`rebuild`, `make_loss`, `make_metrics`) only
uses the plain configs captured then, because a Keras object created eagerly
cannot be used inside a `tf.compat.v1` graph.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import sys
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import tensorflow as tf

from estweight import _tf_private
from estweight.canned import optimizers as optimizers_lib


def tf_variable(var: Any) -> Any:
  """The tf.Variable behind a Keras 3 variable (a tf_keras one is one)."""
  inner = getattr(var, "value", None)
  return inner if isinstance(inner, tf.Variable) else var


def uniquify(names: Iterable[str]) -> list[str]:
  """Output names made unique as Keras 2 did: out, out_1, out_2."""
  seen, counts, out = set(), {}, []  # type: ignore[var-annotated]
  for name in names:
    proposal = name
    while proposal in seen:
      counts[name] = counts.get(name, 1)
      proposal = f"{name}_{counts[name]}"
      counts[name] += 1
    seen.add(proposal)
    out.append(proposal)
  return out


@dataclasses.dataclass
class ModelInfo:
  """What the model_fn needs to know about the user's model, read eagerly."""
  model_class: type
  config: dict
  compile_args: dict  # loss, loss_weights, metrics, weighted_metrics
  optimizer_factory: Callable[[], Any]  # a fresh legacy optimizer per graph
  input_names: list | None  # None: unknown until called (subclassed)
  inputs_are_dict: bool
  output_names: list | None
  is_graph_network: bool
  built: bool
  # Other feature keys accepted for an input: Keras 2 named a Sequential's
  # input `<first layer>_input` (the TF docs key features by `dense_input`);
  # Keras 3 names it `keras_tensor...`.
  input_aliases: dict = dataclasses.field(default_factory=dict)


class Flavor:
  """One Keras package."""
  name = ""

  def owns(self, model: Any) -> bool:
    raise NotImplementedError

  def custom_object_scope(
      self, custom_objects: Mapping[str, Any] | None
  ) -> contextlib.AbstractContextManager[Any]:
    raise NotImplementedError

  def is_compiled(self, model: Any) -> bool:
    raise NotImplementedError

  def is_graph_network(self, model: Any) -> bool:
    raise NotImplementedError

  def describe(self, model: Any,
               custom_objects: Mapping[str, Any] | None) -> ModelInfo:
    raise NotImplementedError

  def rebuild(self, info: ModelInfo,
              custom_objects: Mapping[str, Any] | None) -> Any:
    """A fresh model from `info.config` in the current graph."""
    # A deep copy: Functional.from_config consumes the dict it is given.
    with self.custom_object_scope(custom_objects):
      model_class: Any = info.model_class
      return model_class.from_config(copy.deepcopy(info.config),
                                     custom_objects=custom_objects)

  def make_loss(self, info: ModelInfo, custom_objects: Mapping[str, Any] | None,
                output_names: Sequence[str] | None) -> Callable[..., Any]:
    """`(y_true, y_pred, sample_weight, regularization) -> scalar`."""
    raise NotImplementedError

  def make_metrics(
      self, info: ModelInfo, custom_objects: Mapping[str, Any] | None,
      output_names: Sequence[str] | None) -> _MetricsAdapter | None:
    """A container with `update_state(y_true, y_pred, sample_weight)`,
    `results() -> {name: tensor}` and `variables`."""
    raise NotImplementedError

  def regularization_losses(self, clone: Any) -> list[Any]:
    return list(clone.losses)

  def graph_scope(self) -> contextlib.AbstractContextManager[None]:
    """Entered around every graph build that creates Keras objects."""
    return contextlib.nullcontext()

  def weights(self, model: Any) -> list[Any]:
    return [tf_variable(w) for w in model.weights]


def _legacy_factory(legacy):
  config = legacy.get_config()
  return lambda: type(legacy).from_config(copy.deepcopy(config))


def _check_keras3_optimizer(opt):
  config = opt.get_config()
  unsupported = {
      k: config.get(k) for k in ("weight_decay", "use_ema", "loss_scale_factor",
                                "gradient_accumulation_steps") if config.get(k)
  }
  if unsupported:
    raise ValueError(
        "The compiled optimizer uses options graph-mode training cannot "
        f"reproduce: {unsupported}. To fix, compile without them or with a "
        "tf_keras.optimizers.legacy optimizer. Received: optimizer="
        f"{opt!r}.")
  return config


def _keras3_optimizer_factory(opt):
  """A legacy (tf_keras) twin of a Keras 3 optimizer, with its clipping."""
  config = _check_keras3_optimizer(opt)
  factory = optimizers_lib.eager_prepare(opt)
  clipping = {
      k: config[k]
      for k in ("clipnorm", "clipvalue", "global_clipnorm")
      if config.get(k) is not None
  }
  if clipping:
    factory = functools.partial(factory, **clipping)
  return factory


class Keras3(Flavor):
  """Keras 3 (`import keras`, TensorFlow backend)."""
  name = "keras"

  def owns(self, model: Any) -> bool:
    keras = sys.modules.get("keras")  # no model of it if never imported
    return keras is not None and isinstance(model, keras.Model)

  def custom_object_scope(
      self, custom_objects: Mapping[str, Any] | None
  ) -> contextlib.AbstractContextManager[Any]:
    import keras  # pylint: disable=g-import-not-at-top
    return keras.saving.custom_object_scope(custom_objects or {})

  def is_compiled(self, model: Any) -> bool:
    return bool(getattr(model, "compiled", False)) and getattr(
        model, "optimizer", None) is not None

  def is_graph_network(self, model: Any) -> bool:
    import keras  # pylint: disable=g-import-not-at-top
    functional = _tf_private.keras_internal("keras.functional")
    return isinstance(model, (keras.Sequential, functional.Functional))

  def describe(self, model: Any,
               custom_objects: Mapping[str, Any] | None) -> ModelInfo:
    # Serialized, so every graph deserializes its own fresh metric objects.
    compile_config = model.get_compile_config() or {}
    args = {
        k: compile_config.get(k)
        for k in ("loss", "loss_weights", "metrics", "weighted_metrics")
    }
    graph_net = self.is_graph_network(model)
    input_names = output_names = None
    inputs_are_dict = False
    if graph_net and model.built and getattr(model, "inputs", None):
      struct: Any = getattr(model, "_inputs_struct", None)
      inputs_are_dict = isinstance(struct, dict)
      input_names = (list(struct) if inputs_are_dict else
                     [t._keras_history[0].name for t in model.inputs])  # pylint: disable=protected-access
      outputs_struct = getattr(model, "_outputs_struct", None)
      if isinstance(outputs_struct, dict):
        output_names = list(outputs_struct)
      else:
        output_names = uniquify([
            t._keras_history[0].name  # pylint: disable=protected-access
            for t in model.outputs
        ])
    import keras  # pylint: disable=g-import-not-at-top
    aliases = {}
    if (isinstance(model, keras.Sequential) and input_names and
        len(input_names) == 1 and model.layers):
      aliases[input_names[0]] = f"{model.layers[0].name}_input"
    return ModelInfo(model_class=type(model),
                     config=model.get_config(),
                     compile_args=args,
                     optimizer_factory=_keras3_optimizer_factory(
                         model.optimizer),
                     input_names=input_names,
                     inputs_are_dict=inputs_are_dict,
                     output_names=output_names,
                     is_graph_network=graph_net,
                     built=bool(model.built),
                     input_aliases=aliases)

  def _deserialize(self, info, custom_objects):
    serialization_lib = _tf_private.keras_internal("keras.serialization_lib")
    with self.custom_object_scope(custom_objects):
      return {
          k: serialization_lib.deserialize_keras_object(v)
          for k, v in info.compile_args.items()
      }

  def make_loss(self, info: ModelInfo, custom_objects: Mapping[str, Any] | None,
                output_names: Sequence[str] | None) -> Callable[..., Any]:
    compile_utils = _tf_private.keras_internal("keras.compile_utils")
    args = self._deserialize(info, custom_objects)
    if args["loss"] is None:
      raise ValueError("The Keras model was compiled without a `loss`; "
                       "model_to_estimator needs one to train and evaluate.")
    container = compile_utils.CompileLoss(
        args["loss"],
        args["loss_weights"],
        output_names=output_names if info.output_names else None)

    def loss_fn(y_true, y_pred, sample_weight, regularization):
      total = container(y_true, y_pred, sample_weight)
      extra = [tf.reduce_sum(tf.cast(r, total.dtype)) for r in regularization]
      return tf.add_n([total] + extra) if extra else total

    return loss_fn

  def make_metrics(
      self, info: ModelInfo, custom_objects: Mapping[str, Any] | None,
      output_names: Sequence[str] | None) -> _MetricsAdapter | None:
    compile_utils = _tf_private.keras_internal("keras.compile_utils")
    args = self._deserialize(info, custom_objects)
    if not args["metrics"] and not args["weighted_metrics"]:
      return None
    container = compile_utils.CompileMetrics(
        args["metrics"],
        args["weighted_metrics"],
        output_names=output_names if info.output_names else None)
    return _MetricsAdapter(
        container, lambda: container.result(),
        lambda: [tf_variable(v) for v in container.variables])


class TfKeras(Flavor):
  """tf_keras (Keras 2, what `tf.keras` was in TensorFlow 2.15)."""
  name = "tf_keras"

  def owns(self, model: Any) -> bool:
    tf_keras = sys.modules.get("tf_keras")
    return tf_keras is not None and isinstance(model, tf_keras.Model)

  def custom_object_scope(
      self, custom_objects: Mapping[str, Any] | None
  ) -> contextlib.AbstractContextManager[Any]:
    import tf_keras  # pylint: disable=g-import-not-at-top
    return tf_keras.utils.custom_object_scope(custom_objects or {})

  def is_compiled(self, model: Any) -> bool:
    return bool(getattr(model, "_is_compiled", False)) and getattr(
        model, "optimizer", None) is not None

  @contextlib.contextmanager
  def graph_scope(self) -> Iterator[None]:
    """Undoes tf_keras's class swapping when the graph build ends.

    A tf_keras layer, model or metric created in a graph re-bases its class
    (and the user's model's classes) onto the TF1 implementations, which
    broke `keras_model.predict`/`fit` after a conversion in 2.15 ("Your
    Layer or Model is in an invalid state"). The classes get back the bases
    they had before the build.
    """
    base_layer = _tf_private.keras_internal("tf_keras.base_layer")
    saved = {cls: cls.__bases__ for cls in _subclasses(base_layer.Layer)}
    try:
      yield
    finally:
      for cls, bases in saved.items():
        if cls.__bases__ != bases:
          cls.__bases__ = bases

  def is_graph_network(self, model: Any) -> bool:
    import tf_keras  # pylint: disable=g-import-not-at-top
    return bool(getattr(model, "_is_graph_network", False)) or isinstance(
        model, tf_keras.Sequential)

  def describe(self, model: Any,
               custom_objects: Mapping[str, Any] | None) -> ModelInfo:
    import tf_keras  # pylint: disable=g-import-not-at-top
    compile_config = model.get_compile_config() or {}
    args = {
        k: compile_config.get(k)
        for k in ("loss", "loss_weights", "metrics", "weighted_metrics")
    }
    opt = model.optimizer
    legacy_base = tf_keras.optimizers.legacy.Optimizer
    if not isinstance(opt, legacy_base):
      opt = tf_keras.__internal__.optimizers.convert_to_legacy_optimizer(opt)
    graph_net = self.is_graph_network(model)
    input_names = output_names = None
    inputs_are_dict = False
    if graph_net and model.built and getattr(model, "inputs", None):
      inputs_are_dict = isinstance(getattr(model, "_nested_inputs", None), dict)
      input_names = (
          list(model._nested_inputs) if inputs_are_dict  # pylint: disable=protected-access
          else list(model.input_names))
      output_names = list(model.output_names)
    return ModelInfo(model_class=type(model),
                     config=model.get_config(),
                     compile_args=args,
                     optimizer_factory=_legacy_factory(opt),
                     input_names=input_names,
                     inputs_are_dict=inputs_are_dict,
                     output_names=output_names,
                     is_graph_network=graph_net,
                     built=bool(model.built))

  def _deserialize(self, info, custom_objects):
    import tf_keras  # pylint: disable=g-import-not-at-top
    with self.custom_object_scope(custom_objects):
      return {
          k: tf_keras.saving.deserialize_keras_object(v)
          for k, v in info.compile_args.items()
      }

  def make_loss(self, info: ModelInfo, custom_objects: Mapping[str, Any] | None,
                output_names: Sequence[str] | None) -> Callable[..., Any]:
    compile_utils = _tf_private.keras_internal("tf_keras.compile_utils")
    args = self._deserialize(info, custom_objects)
    if args["loss"] is None:
      raise ValueError("The Keras model was compiled without a `loss`; "
                       "model_to_estimator needs one to train and evaluate.")
    container = compile_utils.LossesContainer(args["loss"],
                                              args["loss_weights"],
                                              output_names=output_names)

    def loss_fn(y_true, y_pred, sample_weight, regularization):
      return container(y_true,
                       y_pred,
                       sample_weight,
                       regularization_losses=regularization or None)

    return loss_fn

  def make_metrics(
      self, info: ModelInfo, custom_objects: Mapping[str, Any] | None,
      output_names: Sequence[str] | None) -> _MetricsAdapter | None:
    compile_utils = _tf_private.keras_internal("tf_keras.compile_utils")
    args = self._deserialize(info, custom_objects)
    if not args["metrics"] and not args["weighted_metrics"]:
      return None
    container = compile_utils.MetricsContainer(args["metrics"],
                                               args["weighted_metrics"],
                                               output_names=output_names)
    return _MetricsAdapter(
        container, lambda: {m.name: m.result() for m in container.metrics},
        lambda: [v for m in container.metrics for v in m.variables])


def _subclasses(cls):
  seen, stack = set(), [cls]
  while stack:
    for sub in stack.pop().__subclasses__():
      if sub not in seen:
        seen.add(sub)
        stack.append(sub)
  return seen


class _MetricsAdapter:
  """Keras 3 CompileMetrics / tf_keras MetricsContainer, one interface."""

  def __init__(self, container, results, variables):
    self._container = container
    self.results = results
    self.variables = variables

  def update_state(self, y_true, y_pred, sample_weight):
    self._container.update_state(y_true, y_pred, sample_weight)


FLAVORS = (Keras3(), TfKeras())


def flavor_of(model: Any) -> Flavor | None:
  for flavor in FLAVORS:
    if flavor.owns(model):
      return flavor
  return None
