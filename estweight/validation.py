"""Argument checks shared by every public constructor and call.

One message template: "`arg` must be <expectation>. Received: arg=<value>."
One numeric rule: Python and numpy integers are integers, and so is a float
holding a whole number (`n / batch * epochs` is a float in Python 3;
tf.estimator accepted it); bools and other types are refused with a
TypeError, fractions and values out of range with a ValueError.
"""
from __future__ import annotations

import numbers
import os
from typing import (TYPE_CHECKING, Any, Callable, Iterable, Literal, Mapping,
                    TypeVar, overload)

from estweight import _logging as logging
from estweight.runtime import checkpoints
from estweight.runtime import fn_args as fn_args_lib

if TYPE_CHECKING:
  from estweight.run_config import RunConfig

_T = TypeVar("_T")


@overload
def integer(name: str,
            value: Any,
            *,
            minimum: int | None = ...,
            allow_none: Literal[False]) -> int:
  ...


@overload
def integer(name: str,
            value: Any,
            *,
            minimum: int | None = ...,
            allow_none: bool = ...) -> int | None:
  ...


def integer(name: str,
            value: Any,
            *,
            minimum: int | None = None,
            allow_none: bool = True) -> int | None:
  """`value` as an int (None passes when `allow_none`).

  Raises:
    TypeError: a bool, or not a number.
    ValueError: a fraction, or below `minimum`.
  """
  if value is None and allow_none:
    return None
  if minimum is None:
    what = "an integer"
  else:
    what = {
        0: "a non-negative integer",
        1: "a positive integer"
    }.get(minimum, f"an integer >= {minimum}")
  expectation = what + (" or None" if allow_none else "")
  if isinstance(value, bool) or not isinstance(value, numbers.Real):
    raise TypeError(f"`{name}` must be {expectation}. "
                    f"Received: {name}={value!r}.")
  if not isinstance(value, numbers.Integral):
    if not float(value).is_integer():
      raise ValueError(f"`{name}` must be {expectation}. "
                       f"Received: {name}={value!r}.")
  value = int(value)  # type: ignore[call-overload]  # a numbers.Real
  if minimum is not None and value < minimum:
    raise ValueError(f"`{name}` must be {expectation}. "
                     f"Received: {name}={value!r}.")
  return value


def number(name: str,
           value: Any,
           *,
           minimum: float | None = None,
           exclusive: bool = False,
           allow_none: bool = True) -> numbers.Real | None:
  """`value` as a float-or-int number (None passes when `allow_none`)."""
  if value is None and allow_none:
    return None
  bound = "" if minimum is None else (
      f" {'>' if exclusive else '>='} {minimum}")
  expectation = f"a number{bound}" + (" or None" if allow_none else "")
  if isinstance(value, bool) or not isinstance(value, numbers.Real):
    raise TypeError(f"`{name}` must be {expectation}. "
                    f"Received: {name}={value!r}.")
  if minimum is not None and (value <= minimum
                              if exclusive else value < minimum):
    raise ValueError(f"`{name}` must be {expectation}. "
                     f"Received: {name}={value!r}.")
  return value


def instances(name: str, values: Iterable[Any] | None,
              cls: type[_T]) -> list[_T]:
  """`values` (None: empty) as a list, each an instance of `cls`."""
  values = list(values or [])
  for value in values:
    if not isinstance(value, cls):
      raise TypeError(f"All entries of `{name}` must be {cls.__name__} "
                      f"instances. Received: {value!r}.")
  return values


_MODEL_FN_ARGS = frozenset(
    ("features", "labels", "mode", "params", "config", "weights"))


def model_fn(model_fn: Callable, params: Mapping[str, Any] | None) -> None:
  """Checks a model_fn's signature the way tf.estimator does, with clearer words."""
  if model_fn is None:
    raise ValueError("`model_fn` must be provided to Estimator. "
                     "Received: model_fn=None.")
  if not callable(model_fn):
    raise TypeError(f"`model_fn` must be callable. Received: model_fn="
                    f"{model_fn!r}.")
  args = set(fn_args_lib.fn_args(model_fn))
  if "**" in args:
    return
  if "features" not in args:
    raise ValueError(
        "`model_fn` must include a `features` argument. Received: model_fn="
        f"{fn_args_lib.describe(model_fn)}.")
  if params is not None and "params" not in args:
    raise ValueError(
        "`model_fn` does not include a `params` argument, but params were "
        f"passed to Estimator. Received: model_fn="
        f"{fn_args_lib.describe(model_fn)}, params={params!r}.")
  if params is None and "params" in args:
    logging.warning(
        "model_fn (%s) includes params argument, but params are "
        "not passed to Estimator.", fn_args_lib.describe(model_fn))
  unknown = sorted(args - _MODEL_FN_ARGS - {"self"})
  if unknown:
    raise ValueError(
        f"`model_fn` has following not expected args: {unknown}. A model_fn "
        f"may take only {sorted(_MODEL_FN_ARGS)}. Received: model_fn="
        f"{fn_args_lib.describe(model_fn)}.")


def model_dir(model_dir: str | os.PathLike[str] | None,
              config: RunConfig) -> str | None:
  """`model_dir`, else `config.model_dir` (None if neither), validated.

  Raises:
    ValueError: an empty path, a path that is a file, or two different
      model_dirs in the argument and the config.
  """
  if model_dir is not None:
    model_dir = os.fspath(model_dir)
    if not model_dir:
      raise ValueError("`model_dir` must be a non-empty path or None. "
                       f"Received: model_dir={model_dir!r}.")
    if config.model_dir and config.model_dir != model_dir:
      raise ValueError(
          "`model_dir` are set both in constructor and `RunConfig`, but "
          f"with different values. Received: model_dir={model_dir!r}, "
          f"config.model_dir={config.model_dir!r}.")
  model_dir = model_dir or config.model_dir
  if model_dir is not None:
    checkpoints.check_model_dir(model_dir)
  return model_dir
