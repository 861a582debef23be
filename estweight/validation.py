"""Argument checks shared by every public constructor and call.

One message template: "`arg` must be <expectation>. Received: arg=<value>."
One numeric rule: Python and numpy integers are integers, and so is a float
holding a whole number (`n / batch * epochs` is a float in Python 3;
tf.estimator accepted it); bools and other types are refused with a
TypeError, fractions and values out of range with a ValueError.
"""
from __future__ import annotations

import numbers


def integer(name: str,
            value,
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
           value,
           *,
           minimum: float | None = None,
           exclusive: bool = False,
           allow_none: bool = True):
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
