"""EarlyStopping: the patience state machine of the iteration driver.

Fed one evaluation result per iteration; decides when training stops. Its
state is plain data (`state_dict()` / `load_state_dict()`), persisted by the
driver in model_dir so a killed job resumes with the same patience count.
"""
from __future__ import annotations

import numbers
from typing import Iterable

from estweight.runtime import best as best_lib


class EarlyStopping:
  """Stops when `metric` has not improved for `patience` evaluations.

  Args:
    metric: key of the evaluate() result to watch, e.g. 'loss', 'auc'.
    mode: 'min' (lower is better) or 'max'.
    patience: evaluations without improvement before stopping (>= 1).
    min_delta: an improvement must beat the best by more than this.
    baseline: if set, the metric must first beat this value; until then
      every evaluation counts as one without improvement.
  """

  def __init__(self,
               metric: str = "loss",
               mode: str = "min",
               patience: int = 3,
               min_delta: float = 0.0,
               baseline: float | None = None):
    if not isinstance(metric, str) or not metric:
      raise ValueError("`metric` must be a non-empty metric name. Received: "
                       f"metric={metric!r}.")
    best_metric = best_lib.BestMetric(metric, mode, min_delta)
    if isinstance(
        patience,
        bool) or not isinstance(patience, numbers.Integral) or patience < 1:
      raise ValueError("`patience` must be a positive integer. Received: "
                       f"patience={patience!r}.")
    if baseline is not None and not isinstance(baseline, numbers.Real):
      raise ValueError("`baseline` must be a number or None. Received: "
                       f"baseline={baseline!r}.")
    self.metric = metric
    self.mode = best_metric.mode
    self.patience = int(patience)
    self.min_delta = best_metric.min_delta
    self.baseline = None if baseline is None else float(baseline)
    self.reset()

  def reset(self) -> None:
    """Forgets every evaluation seen: no best, no wait, not stopped."""
    self.best = self.baseline
    self.best_step: int | None = None
    self.wait = 0
    self.stopped = False

  @property
  def best_metric(self) -> best_lib.BestMetric:
    """The rule for "better": `metric`, `mode` and `min_delta`."""
    return best_lib.BestMetric(self.metric, self.mode, self.min_delta)

  def is_improvement(self, value: float) -> bool:
    """Whether `value` beats the best (or baseline) by more than min_delta;
    a NaN value never does (`BestMetric.better`).

    Args:
      value: a value of the watched metric.

    Returns:
      True if `value` counts as an improvement; the state is unchanged.
    """
    return self.best_metric.better(value, self.best)

  def update(self, value: float, global_step: int | None = None) -> bool:
    """Records one evaluation; returns True if training should stop now.

    A NaN value never improves. Once stopped, further updates keep
    returning True without changing the state.

    Args:
      value: the watched metric of this evaluation.
      global_step: the step evaluated, kept as `best_step` if `value`
        improves; None if unknown.

    Returns:
      True if training should stop (patience used up), else False.
    """
    if self.stopped:
      return True
    value = float(value)
    if self.is_improvement(value):
      self.best, self.best_step, self.wait = value, global_step, 0
      return False
    self.wait += 1
    if self.wait >= self.patience:
      self.stopped = True
    return self.stopped

  def stops_on(self, values: Iterable[float]) -> bool:
    """Whether these evaluations' values (in step order) stop training,
    counted from a fresh state (this object's state is left alone).

    Args:
      values: the watched metric of successive evaluations, in step order.

    Returns:
      True if a fresh `EarlyStopping` with this config stops on them.
    """
    fresh = EarlyStopping(**self.config())
    for value in values:
      fresh.update(value)
    return fresh.stopped

  def metric_value(self, metrics: dict) -> float:
    """The watched metric from an evaluate() result, or a clear error.

    Args:
      metrics: an evaluate() result, metric name to value.

    Returns:
      The value of `metric` in `metrics`, as a float.

    Raises:
      ValueError: if `metrics` has no entry for `metric`.
    """
    if self.metric not in metrics:
      raise ValueError(
          f"EarlyStopping metric {self.metric!r} is not among the evaluation "
          f"metrics {sorted(metrics)}. To fix, pass one of those.")
    return float(metrics[self.metric])

  # ------------------------------------------------------------- state
  def config(self) -> dict:
    """The constructor's arguments: `EarlyStopping(**config())` is a copy."""
    return {
        "metric": self.metric,
        "mode": self.mode,
        "patience": self.patience,
        "min_delta": self.min_delta,
        "baseline": self.baseline
    }

  def state_dict(self) -> dict:
    """What changes with evaluations (best, best_step, wait, stopped), as
    JSON-serialisable data; the driver keeps it in model_dir's state."""
    return {
        "best": self.best,
        "best_step": self.best_step,
        "wait": self.wait,
        "stopped": self.stopped
    }

  def load_state_dict(self, state: dict) -> None:
    """Restores what `state_dict()` returned (a resumed job's patience).

    Args:
      state: a dict from `state_dict()`, with keys 'best', 'best_step',
        'wait' and 'stopped'.
    """
    self.best = state["best"]
    self.best_step = state["best_step"]
    self.wait = int(state["wait"])
    self.stopped = bool(state["stopped"])

  def __repr__(self):
    args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
    return f"EarlyStopping({args})"
