"""What a model resolves from its input or model_dir while its graph is built.

Some models need facts before their graph can be built: class counts for
`class_weight='balanced'`, a vocabulary, ... The runtime states what it is
building (mode, model_dir, the training input_fn) in a `BuildContext` for
the duration of every graph build; model code asks `current()` for it. The
context belongs to the build, not to the model_fn object, so a model_fn
wrapped by `add_metrics`, the driver, a grid trial or any user function
still finds it.
"""
from __future__ import annotations

import contextlib
import dataclasses
import threading
from typing import Any, Callable

_local = threading.local()


@dataclasses.dataclass(frozen=True)
class BuildContext:
  """The graph being built.

  Attributes:
    mode: the ModeKeys value of the graph.
    model_dir: the Estimator's model_dir (resolved facts are cached there).
    train_input_fn: the training input_fn when it is known (always in
      TRAIN; in EVAL when a driver evaluates before its first step).
    params: the Estimator's params.
    config: the RunConfig.
  """
  mode: str
  model_dir: str
  train_input_fn: Callable | None = None
  params: Any = None
  config: Any = None


def current() -> BuildContext | None:
  """The context of the graph being built on this thread, if any."""
  return getattr(_local, "context", None)


@contextlib.contextmanager
def building(context: BuildContext):
  previous = current()
  _local.context = context
  try:
    yield context
  finally:
    _local.context = previous
