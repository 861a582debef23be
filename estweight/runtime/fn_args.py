"""Signature inspection for user functions (model_fn, input_fn, logit_fn).

tf.estimator fills the optional arguments of user functions by name. These
helpers find which names a callable accepts, looking through
`functools.partial` and bound methods, and call it with just those.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Mapping


def fn_args(fn: Callable) -> tuple[str, ...]:
  """Returns the names of the arguments `fn` still needs filled.

  Arguments already bound by `functools.partial` (positionally or by keyword)
  and `self`/`cls` of bound methods are left out. A `**kwargs` parameter is
  reported as the special name `'**'`.
  """
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
  sig = inspect.signature(target)  # drops self for bound methods
  names = []
  positional = 0
  for p in sig.parameters.values():
    if p.kind is p.VAR_POSITIONAL:
      continue
    if p.kind is p.VAR_KEYWORD:
      names.append("**")
      continue
    if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
      positional += 1
      if positional <= n_bound_pos:
        continue
    if p.name in bound_kw:
      continue
    names.append(p.name)
  return tuple(names)


def required_args(fn: Callable) -> tuple[str, ...]:
  """Names of arguments of `fn` that have no default value."""
  target = fn
  bound_kw: set[str] = set()
  n_bound_pos = 0
  while isinstance(target, functools.partial):
    bound_kw.update(target.keywords or {})
    n_bound_pos += len(target.args)
    target = target.func
  if not (inspect.isfunction(target) or inspect.ismethod(target)):
    target = getattr(target, "__call__", target)
  out = []
  positional = 0
  for p in inspect.signature(target).parameters.values():
    if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
      continue
    if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
      positional += 1
      if positional <= n_bound_pos:
        continue
    if p.name in bound_kw or p.default is not p.empty:
      continue
    out.append(p.name)
  return tuple(out)


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
