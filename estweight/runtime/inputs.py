"""Calling an input_fn and turning its result into features and labels."""
from __future__ import annotations

import copy
import dataclasses
from typing import Any, Callable

import tensorflow as tf

from estweight.runtime import fn_args as fn_args_lib

_INPUT_FN_ARGS = ("mode", "params", "config", "input_context")


@dataclasses.dataclass
class InputResult:
  features: Any
  labels: Any
  hooks: list
  weights: Any = None  # the third element of (features, labels, weights)
  iterator: Any = None  # when input_fn returned a Dataset
  element_spec: Any = None
  next_op: Any = None  # the iterator's get-next op (one batch per run)


class DatasetInitializerHook(tf.compat.v1.train.SessionRunHook):
  """Initialises a dataset iterator once the session exists."""

  def __init__(self, iterator: tf.compat.v1.data.Iterator):
    self._iterator = iterator

  def begin(self) -> None:
    self._initializer = self._iterator.initializer

  def after_create_session(self, session: tf.compat.v1.Session,
                           coord: Any) -> None:
    del coord
    session.run(self._initializer)


def validate_input_fn(input_fn: Callable, arg_name: str = "input_fn") -> None:
  """Raises before any graph is built if `input_fn` cannot be called."""
  if not callable(input_fn):
    raise TypeError(f"`{arg_name}` must be a callable returning a tf.data."
                    f"Dataset or (features, labels). Received: "
                    f"{arg_name}={input_fn!r}.")
  unknown = [
      a for a in fn_args_lib.required_args(input_fn) if a not in _INPUT_FN_ARGS
  ]
  if unknown:
    raise ValueError(
        f"`{arg_name}` has arguments the Estimator cannot fill: {unknown}. It "
        f"may take only {list(_INPUT_FN_ARGS[:3])}. To fix, bind the others, "
        f"e.g. lambda: {getattr(input_fn, '__name__', 'input_fn')}(...). "
        f"Received: {arg_name}={fn_args_lib.describe(input_fn)}.")


def call_input_fn_raw(input_fn: Callable[..., Any], mode: str, params: Any,
                      config: Any) -> Any:
  """Calls input_fn on the CPU with the arguments it asks for."""
  available = {
      "mode": mode,
      "params": copy.deepcopy(params),
      "config": copy.deepcopy(config)
  }
  with tf.device("/cpu:0"):
    return fn_args_lib.call_with_available(input_fn, available)


def call_input_fn(input_fn: Callable[..., Any], mode: str, params: Any,
                  config: Any) -> InputResult:
  """Calls input_fn on the CPU and parses what it returns."""
  return parse_input_fn_result(call_input_fn_raw(input_fn, mode, params,
                                                 config))


def parse_input_fn_result(result: Any) -> InputResult:
  """Splits an input_fn result into features, labels and example weights.

  A Dataset becomes an initializable iterator (initialised by a hook); its
  elements, or the returned value itself, are `(features, labels)` pairs,
  `(features, labels, weights)` triples or bare features.
  """
  hooks = []
  iterator = spec = next_op = None
  if isinstance(result, tf.data.Dataset):
    spec = result.element_spec
    iterator = tf.compat.v1.data.make_initializable_iterator(result)
    hooks.append(DatasetInitializerHook(iterator))
    result = iterator.get_next()
    next_op = tf.nest.flatten(result)[0].op
    where = "the Dataset returned by input_fn yields"
  else:
    where = "input_fn returned"
  source: dict[str, Any] = {
      "hooks": hooks,
      "iterator": iterator,
      "element_spec": spec,
      "next_op": next_op
  }
  if isinstance(result, (list, tuple)):
    if len(result) == 2:
      return InputResult(result[0], result[1], **source)
    if len(result) == 3:
      return InputResult(result[0],
                         result[1],
                         weights=_check_weights(result[2], where),
                         **source)
    raise ValueError(
        f"input_fn should return (features, labels) or (features, labels, "
        f"weights), but {where} a {type(result).__name__} of length "
        f"{len(result)}.")
  return InputResult(result, None, **source)


def _check_weights(weights, where):
  """Example weights from a 3-tuple: a dense numeric [batch_size(, 1)].

  Only their static form, as input_fn returns them; the values (finite,
  >= 0) are checked where the model uses them, by
  estweight.weights.example_weights (runtime/ does not import weights/).
  """
  if isinstance(weights, (dict, tf.SparseTensor)) or weights is None:
    raise ValueError(
        f"The third element that {where} must be a dense tensor of example "
        f"weights, shape [batch_size] or [batch_size, 1]. Received: "
        f"{weights!r}.")
  weights = tf.convert_to_tensor(weights)
  if not (weights.dtype.is_floating or weights.dtype.is_integer):
    raise ValueError(f"Example weights must be numbers. Received: dtype "
                     f"{weights.dtype.name} in the third element that "
                     f"{where}.")
  shape = weights.shape
  if shape.rank is not None and (shape.rank not in (1, 2) or
                                 (shape.rank == 2 and
                                  shape[-1] not in (None, 1))):
    raise ValueError(
        f"Example weights must have shape [batch_size] or [batch_size, 1]. "
        f"Received: shape {shape} in the third element that {where}.")
  return tf.cast(weights, tf.float32)
