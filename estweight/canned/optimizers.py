"""Optimizers for canned estimators: names, instances, classes, callables.

Canned estimators train with Keras-2 legacy optimizers (tf_keras), as
tf.estimator 2.15 did, so slot variables keep their checkpoint names
(`training/Adagrad/dnn/logits/kernel/accumulator`). Keras 3 optimizers are
converted to their legacy twin; `tf.compat.v1.train` optimizers are used as
they are (their slots are named the v1 way).
"""
from __future__ import annotations

import functools
import inspect
from typing import Any

import tensorflow as tf
import tf_keras

from estweight.runtime import distribute

_v1 = tf.compat.v1
_legacy = tf_keras.optimizers.legacy

OPTIMIZER_NAMES = {
    "Adagrad": _legacy.Adagrad,
    "Adam": _legacy.Adam,
    "Ftrl": _legacy.Ftrl,
    "RMSProp": _legacy.RMSprop,
    "SGD": _legacy.SGD,
}
V1_OPTIMIZER_NAMES = {
    "Adagrad": _v1.train.AdagradOptimizer,
    "Adam": _v1.train.AdamOptimizer,
    "Ftrl": _v1.train.FtrlOptimizer,
    "RMSProp": _v1.train.RMSPropOptimizer,
    "SGD": _v1.train.GradientDescentOptimizer,
}
# Keras 3 optimizer class name -> (legacy class, config keys it shares).
_KERAS3_TWINS = {
    "Adagrad": (_legacy.Adagrad, ("learning_rate", "epsilon",
                                  "initial_accumulator_value")),
    "Adam": (_legacy.Adam, ("learning_rate", "beta_1", "beta_2", "epsilon",
                            "amsgrad")),
    "Ftrl":
        (_legacy.Ftrl,
         ("learning_rate", "learning_rate_power", "initial_accumulator_value",
          "l1_regularization_strength", "l2_regularization_strength", "beta")),
    "RMSprop": (_legacy.RMSprop, ("learning_rate", "rho", "momentum", "epsilon",
                                  "centered")),
    "SGD": (_legacy.SGD, ("learning_rate", "momentum", "nesterov")),
}


def _unknown_name(opt, names):
  return ValueError(
      f"Unsupported optimizer name: {opt!r}. Supported names are: "
      f"{tuple(sorted(names))}. Received: optimizer={opt!r}.")


def _is_keras3_optimizer(opt) -> bool:
  module = type(opt).__module__ or ""
  return module.startswith("keras.") or module.startswith("keras")


def _keras3_twin(opt):
  """(legacy class, kwargs) equivalent to the Keras 3 optimizer `opt`."""
  twin = _KERAS3_TWINS.get(type(opt).__name__)
  if twin is None:
    raise ValueError(
        f"Keras 3 optimizer {type(opt).__name__} has no checkpoint-compatible "
        f"legacy twin. Use one of {sorted(_KERAS3_TWINS)}, a "
        "tf_keras.optimizers.legacy optimizer or a tf.compat.v1.train "
        f"optimizer. Received: optimizer={opt!r}.")
  cls, keys = twin
  if not tf.executing_eagerly():
    raise ValueError(
        "Keras 3 optimizers can only be converted eagerly (pass the instance "
        "to the estimator, not a callable creating it in the model_fn). "
        f"Received: optimizer={opt!r}.")
  config = opt.get_config()  # reads the learning-rate variable: eager only
  lr = config.get("learning_rate")
  if not isinstance(lr, (int, float)):
    raise ValueError("Keras 3 optimizers with a learning-rate schedule are not "
                     "converted; pass a tf_keras.optimizers.legacy optimizer. "
                     f"Received: optimizer={opt!r}.")
  return cls, {k: config[k] for k in keys if k in config}


def eager_prepare(opt: Any) -> Any:
  """Call at estimator construction, where execution is eager.

  A Keras 3 optimizer instance becomes a factory of its legacy twin: its
  variables cannot be read in the model_fn's graph, and a fresh legacy
  optimizer per graph also lets `train()` be called more than once. Other
  values are returned unchanged.
  """
  if (not inspect.isclass(opt) and _is_keras3_optimizer(opt) and
      not isinstance(opt, (_legacy.Optimizer, _v1.train.Optimizer)) and
      hasattr(opt, "get_config")):
    cls, kwargs = _keras3_twin(opt)
    return functools.partial(cls, **kwargs)
  return opt


def get_optimizer_instance(opt: Any,
                           learning_rate: float | None = None,
                           *,
                           v1: bool = False) -> Any:
  """An optimizer instance from a name, instance, class or callable.

  Args:
    opt: 'Adagrad', 'Adam', 'Ftrl', 'RMSProp' or 'SGD'; a tf_keras legacy,
      Keras 3 or tf.compat.v1.train optimizer instance or class; or a
      zero-argument callable returning one.
    learning_rate: used for names only; `None` takes the optimizer's own
      default learning rate (v2), as tf.estimator 2.15 did.
    v1: build `tf.compat.v1.train` optimizers from names (compat.v1
      estimators).
  """
  names = V1_OPTIMIZER_NAMES if v1 else OPTIMIZER_NAMES
  if isinstance(opt, str):
    if opt not in names:
      raise _unknown_name(opt, names)
    cls = names[opt]
    if learning_rate is None:
      default = inspect.signature(cls.__init__).parameters.get("learning_rate")
      if default is None or default.default is inspect.Parameter.empty:
        raise ValueError(f"`learning_rate` must be given for optimizer "
                         f"{opt!r}.")
      return cls()
    return cls(learning_rate=learning_rate)
  if inspect.isclass(opt):
    opt = opt()
  elif callable(opt) and not _is_optimizer(opt):
    opt = opt()
  if _is_keras3_optimizer(opt) and not isinstance(
      opt, (_legacy.Optimizer, _v1.train.Optimizer)):
    cls, kwargs = _keras3_twin(opt)
    return cls(**kwargs)
  if not _is_optimizer(opt):
    raise ValueError("The given object is not an optimizer instance. "
                     f"Received: optimizer={opt!r}.")
  return opt


def _is_optimizer(opt) -> bool:
  return isinstance(opt, (_legacy.Optimizer, _v1.train.Optimizer)) or (
      _is_keras3_optimizer(opt) and hasattr(opt, "apply_gradients"))


def tie_to_global_step(optimizer: Any) -> None:
  """Makes a Keras optimizer count steps in the global step variable."""
  if isinstance(optimizer, _legacy.Optimizer):
    optimizer.iterations = _v1.train.get_or_create_global_step()


def minimize(optimizer: Any,
             loss: tf.Tensor,
             variables: Any,
             *,
             count_steps: bool = True) -> Any:
  """One update op that applies `optimizer` to `variables` for `loss`.

  `count_steps`: a v1 optimizer increments the global step (only one
  optimizer of a model may).
  """
  if isinstance(optimizer, _v1.train.Optimizer):
    step = _v1.train.get_global_step() if count_steps else None
    return optimizer.minimize(loss, global_step=step, var_list=list(variables))
  if not hasattr(optimizer, "get_updates"):  # Keras 3 (2.15: AttributeError)
    raise ValueError(
        "`optimizer` must be a tf_keras.optimizers.legacy or "
        "tf.compat.v1.train optimizer where a head builds the train op: a "
        "Keras 3 optimizer cannot update variables in a TF1 graph (canned "
        "estimators convert one given to them). Received: "
        f"optimizer={optimizer!r}.")
  return optimizer.get_updates(distribute.scale_loss_for_replicas(loss),
                               list(variables))[0]
