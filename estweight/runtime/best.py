"""BestMetric: whether an evaluation is better, one rule for the package.

Early stopping (`driver.EarlyStopping` and the experimental
`stop_if_no_*_hook`s), the best checkpoint of `driver.run_iterations`,
`driver.grid_search`'s ranking and `BestExporter`'s default comparison all
ask "is this value better than the best so far?"; they ask it here.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Iterable

MODES = ("min", "max")


class BestMetric:
  """Lower ('min') or higher ('max') is better, by more than `min_delta`.

  Args:
    metric: the key of the watched value in an evaluation result (not
      checked here; its users check it with their own words).
    mode: 'min' (lower is better) or 'max'.
    min_delta: a value is better only if it beats the best by more than
      this (a number >= 0).

  Raises:
    ValueError: `mode` is not 'min' or 'max', or `min_delta` is not a
      number >= 0.
  """

  def __init__(self, metric: str, mode: str = "min", min_delta: float = 0.0):
    if mode not in MODES:
      raise ValueError(f"`mode` must be 'min' or 'max'. Received: "
                       f"mode={mode!r}.")
    if not isinstance(min_delta, numbers.Real) or min_delta < 0:
      raise ValueError("`min_delta` must be a number >= 0. Received: "
                       f"min_delta={min_delta!r}.")
    self.metric = metric
    self.mode = mode
    self.min_delta = float(min_delta)

  def better(self, value: float, best: float | None) -> bool:
    """Whether `value` beats `best` by more than `min_delta`.

    'min': `value < best - min_delta`; 'max': `value > best + min_delta`
    (a value exactly `min_delta` better is not better). A NaN value is
    never better, and no value is better than a NaN best. `best` None
    (nothing recorded yet): every value but NaN is better.
    """
    if math.isnan(value):
      return False
    if best is None:
      return True
    if self.mode == "min":
      return value < best - self.min_delta
    return value > best + self.min_delta

  def select(self, items: Iterable, key: Callable | None = None) -> Any:
    """The best of `items` (by `key(item)`, default the item), or None.

    The first item, replaced in turn by each later one `better` than the
    one kept, so with min_delta 0 it is what `min`/`max` return: the first
    of equal values wins, a NaN first item stays and a later NaN is
    skipped.
    """
    key = key or (lambda item: item)
    chosen, chosen_value = None, None
    for index, item in enumerate(items):
      value = key(item)
      if index == 0 or self.better(value, chosen_value):
        chosen, chosen_value = item, value
    return chosen

  def __repr__(self):
    return (f"BestMetric(metric={self.metric!r}, mode={self.mode!r}, "
            f"min_delta={self.min_delta!r})")
