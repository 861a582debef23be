"""Signature inspection for user functions (model_fn, input_fn, logit_fn).

tf.estimator fills the optional arguments of user functions by name. These
helpers find which names a callable accepts, looking through
`functools.partial` and bound methods, and call it with just those.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Mapping


def _parameters(fn: Callable):
  """(parameter, is_bound) pairs of `fn`, looking through functools.partial
  (positional and keyword bindings) and bound methods (self dropped)."""
  bound_kw: set[str] = set()
  n_bound_pos = 0
  while isinstance(fn, functools.partial):
    bound_kw.update(fn.keywords or {})
    n_bound_pos += len(fn.args)
    fn = fn.func
  if not callable(fn):
    raise TypeError(f"Expected a callable. Received: {fn!r}.")
  target = fn if (inspect.isfunction(fn) or inspect.ismethod(fn)) else getattr(
      fn, "__call__", fn)
  positional = 0
  for p in inspect.signature(target).parameters.values():
    bound = p.name in bound_kw
    if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
      positional += 1
      bound = bound or positional <= n_bound_pos
    yield p, bound


def fn_args(fn: Callable) -> tuple[str, ...]:
  """Returns the names of the arguments `fn` still needs filled.

  Arguments already bound by `functools.partial` (positionally or by keyword)
  and `self`/`cls` of bound methods are left out. A `**kwargs` parameter is
  reported as the special name `'**'`.
  """
  names = []
  for p, bound in _parameters(fn):
    if p.kind is p.VAR_KEYWORD:
      names.append("**")
    elif p.kind is not p.VAR_POSITIONAL and not bound:
      names.append(p.name)
  return tuple(names)


def required_args(fn: Callable) -> tuple[str, ...]:
  """Names of arguments of `fn` that have no default value."""
  return tuple(
      p.name
      for p, bound in _parameters(fn)
      if not bound and p.default is p.empty and p.kind not in (p.VAR_POSITIONAL,
                                                               p.VAR_KEYWORD))


def call_with_available(fn: Callable, available: Mapping[str, Any]) -> Any:
  """Calls `fn` with the entries of `available` whose names it accepts."""
  names = fn_args(fn)
  if "**" in names:
    return fn(**available)
  return fn(**{k: v for k, v in available.items() if k in names})


def describe(fn: Callable) -> str:
  """A short human name for a user function, for error messages."""
  inner = fn
  while isinstance(inner, functools.partial):
    inner = inner.func
  name = getattr(inner, "__qualname__", None) or type(inner).__name__
  try:
    params = ", ".join(n for n in fn_args(fn))
  except (TypeError, ValueError):
    params = "?"
  return f"{name}({params})"
