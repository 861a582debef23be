"""call_logit_fn: call a logit function with the arguments it asks for."""
from __future__ import annotations

from typing import Any, Callable

import tensorflow as tf

from estweight.runtime import fn_args as fn_args_lib

_LOGIT_FN_ARGS = ("features", "mode", "params", "config")


def call_logit_fn(logit_fn: Callable[..., Any], features: Any, mode: Any,
                  params: Any, config: Any) -> Any:
  """Calls `logit_fn(features, [mode], [params], [config])`.

  Args:
    logit_fn: a function taking `features` and, optionally, any of `mode`,
      `params` and `config` (or `**kwargs`, which gets all four).
    features: passed as `features`.
    mode: passed as `mode` if `logit_fn` takes it.
    params: passed as `params` if `logit_fn` takes it.
    config: passed as `config` if `logit_fn` takes it.

  Returns:
    A Tensor of logits, or a dict of string to Tensor.

  Raises:
    ValueError: if logit_fn takes other arguments or returns anything else.
  """
  args = fn_args_lib.fn_args(logit_fn)
  unknown = [a for a in args if a not in _LOGIT_FN_ARGS and a != "**"]
  if unknown or ("features" not in args and "**" not in args):
    raise ValueError(
        f"`logit_fn` must take `features` and optionally mode, params, "
        f"config. Received: logit_fn={fn_args_lib.describe(logit_fn)}.")
  logits = fn_args_lib.call_with_available(logit_fn, {
      "features": features,
      "mode": mode,
      "params": params,
      "config": config
  })
  if isinstance(logits, dict):
    for key, value in logits.items():
      if not isinstance(key, str) or not tf.is_tensor(value):
        raise ValueError("logit_fn should return a Tensor or a dictionary "
                         f"mapping strings to Tensors. Received: {logits!r}.")
  elif not tf.is_tensor(logits):
    raise ValueError("logit_fn should return a Tensor or a dictionary mapping "
                     f"strings to Tensors. Received: {logits!r}.")
  return logits
