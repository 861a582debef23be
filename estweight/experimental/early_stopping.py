"""Early-stopping hooks with tf.estimator.experimental's names and rules.

They read the evaluations that `Estimator.evaluate` records (one JSON line
each in the eval dir), not event files, and fix the 2.15 traps:
- they work in manual train()/evaluate() loops, not only train_and_evaluate;
- the check timer starts over at every train() call (no state leaks when
  the same hook object is reused);
- the condition is checked once when the session starts, so a train() after
  an early stop returns at once instead of training one more step;
- a metric missing from the evaluations is a clear error, not a KeyError;
- an eval dir whose records go back in steps (older estweight versions
  appended evaluations of older checkpoints there) is read as the forward
  history it was meant to be (`runtime.evaluate.read_eval_records`).
"""
from __future__ import annotations

import operator
from typing import Any, Callable

import tensorflow as tf
from estweight import _logging as logging

from estweight.runtime import best as best_lib
from estweight.runtime import evaluate as evaluate_lib

_v1 = tf.compat.v1


def read_eval_metrics(eval_dir: str) -> dict[int, dict[str, Any]]:
  """{global_step: {metric: value}} of the evaluations recorded in eval_dir.

  Args:
    eval_dir: an evaluation directory, such as `Estimator.eval_dir()`.

  Returns:
    A dict from global step to that evaluation's metrics, in step order;
    empty if nothing was recorded there.
  """
  return evaluate_lib.read_eval_records(eval_dir)


class _StopOnPredicateHook(_v1.train.SessionRunHook):
  """Requests a stop when `should_stop_fn()` is True, checked every
  `run_every_secs` seconds or `run_every_steps` steps and at session start."""

  def __init__(self, should_stop_fn, run_every_secs=60, run_every_steps=None):
    if not callable(should_stop_fn):
      raise TypeError("`should_stop_fn` must be callable. Received: "
                      f"should_stop_fn={should_stop_fn!r}.")
    if run_every_secs is not None and run_every_steps is not None:
      raise ValueError(
          "Only one of `run_every_secs` and `run_every_steps` may be set. "
          f"Received: run_every_secs={run_every_secs!r}, run_every_steps="
          f"{run_every_steps!r}.")
    self._should_stop_fn = should_stop_fn
    self._every_secs = run_every_secs
    self._every_steps = run_every_steps

  def begin(self):
    self._timer = _v1.train.SecondOrStepTimer(every_secs=self._every_secs,
                                              every_steps=self._every_steps)
    self._global_step = _v1.train.get_global_step()

  def after_create_session(self, session, coord):
    if self._should_stop_fn():
      logging.info("Early stopping condition already holds; not training.")
      coord.request_stop()

  def before_run(self, run_context):
    return _v1.train.SessionRunArgs(self._global_step)

  def after_run(self, run_context, run_values):
    step = int(run_values.results)
    if self._timer.should_trigger_for_step(step):
      self._timer.update_last_triggered_step(step)
      if self._should_stop_fn():
        logging.info("Requesting early stopping at global step %d.", step)
        run_context.request_stop()


def make_early_stopping_hook(
    estimator: Any,
    should_stop_fn: Callable[[], bool],
    run_every_secs: float | None = 60,
    run_every_steps: int | None = None) -> tf.compat.v1.train.SessionRunHook:
  """A training hook that stops when the zero-argument `should_stop_fn()`
  returns True.

  The condition is checked when the session starts and then on the timer
  set by `run_every_secs` or `run_every_steps`.

  Args:
    estimator: the Estimator being trained (not used; kept for the
      tf.estimator signature).
    should_stop_fn: a callable without arguments returning True when
      training should stop.
    run_every_secs: check at most every this many seconds.
    run_every_steps: check every this many global steps; set
      `run_every_secs` to None to use it.

  Returns:
    A `SessionRunHook` for `Estimator.train` or a `TrainSpec`.

  Raises:
    TypeError: if `should_stop_fn` is not callable.
    ValueError: if both `run_every_secs` and `run_every_steps` are set.
  """
  del estimator
  return _StopOnPredicateHook(should_stop_fn, run_every_secs, run_every_steps)


def _values(estimator, metric_name, eval_dir, min_steps):
  records = read_eval_metrics(eval_dir or estimator.eval_dir())
  out = []
  for step, metrics in records.items():
    if metric_name not in metrics:
      raise ValueError(
          f"metric_name {metric_name!r} is not among the evaluation metrics "
          f"{sorted(k for k in metrics if k != 'global_step')} at step "
          f"{step}.")
    if step >= min_steps:
      out.append((step, metrics[metric_name]))
  return out


def _threshold_hook(estimator, metric_name, threshold, eval_dir, min_steps,
                    run_every_secs, run_every_steps, compare):

  def should_stop():
    return any(
        compare(v, threshold)
        for _, v in _values(estimator, metric_name, eval_dir, min_steps))

  return _StopOnPredicateHook(should_stop, run_every_secs, run_every_steps)


def _plateau_hook(estimator, metric_name, max_steps_without, eval_dir,
                  min_steps, run_every_secs, run_every_steps, mode):
  rule = best_lib.BestMetric(metric_name, mode)

  def should_stop():
    best, best_step = None, None
    for step, value in _values(estimator, metric_name, eval_dir, min_steps):
      if best is None or rule.better(value, best):
        best, best_step = value, step
      if step - best_step >= max_steps_without:
        return True
    return False

  return _StopOnPredicateHook(should_stop, run_every_secs, run_every_steps)


def stop_if_higher_hook(
    estimator: Any,
    metric_name: str,
    threshold: float,
    eval_dir: str | None = None,
    min_steps: int = 0,
    run_every_secs: float | None = 60,
    run_every_steps: int | None = None) -> tf.compat.v1.train.SessionRunHook:
  """Stops once an evaluation at step >= min_steps has metric > threshold.

  Args:
    estimator: the Estimator whose evaluations are watched.
    metric_name: the metric to compare, a key of the evaluate() result.
    threshold: training stops once the metric is higher than this.
    eval_dir: where the evaluations are read from; defaults to
      `estimator.eval_dir()`.
    min_steps: evaluations at global steps below this are ignored.
    run_every_secs: check at most every this many seconds.
    run_every_steps: check every this many global steps; set
      `run_every_secs` to None to use it.

  Returns:
    A `SessionRunHook` for `Estimator.train` or a `TrainSpec`.

  Raises:
    ValueError: if both `run_every_secs` and `run_every_steps` are set or,
      at a check, an evaluation lacks `metric_name`.
  """
  return _threshold_hook(estimator, metric_name, threshold, eval_dir, min_steps,
                         run_every_secs, run_every_steps, operator.gt)


def stop_if_lower_hook(
    estimator: Any,
    metric_name: str,
    threshold: float,
    eval_dir: str | None = None,
    min_steps: int = 0,
    run_every_secs: float | None = 60,
    run_every_steps: int | None = None) -> tf.compat.v1.train.SessionRunHook:
  """Stops once an evaluation at step >= min_steps has metric < threshold.

  Args:
    estimator: the Estimator whose evaluations are watched.
    metric_name: the metric to compare, a key of the evaluate() result.
    threshold: training stops once the metric is lower than this.
    eval_dir: where the evaluations are read from; defaults to
      `estimator.eval_dir()`.
    min_steps: evaluations at global steps below this are ignored.
    run_every_secs: check at most every this many seconds.
    run_every_steps: check every this many global steps; set
      `run_every_secs` to None to use it.

  Returns:
    A `SessionRunHook` for `Estimator.train` or a `TrainSpec`.

  Raises:
    ValueError: if both `run_every_secs` and `run_every_steps` are set or,
      at a check, an evaluation lacks `metric_name`.
  """
  return _threshold_hook(estimator, metric_name, threshold, eval_dir, min_steps,
                         run_every_secs, run_every_steps, operator.lt)


def stop_if_no_increase_hook(
    estimator: Any,
    metric_name: str,
    max_steps_without_increase: int,
    eval_dir: str | None = None,
    min_steps: int = 0,
    run_every_secs: float | None = 60,
    run_every_steps: int | None = None) -> tf.compat.v1.train.SessionRunHook:
  """Stops when the metric has not increased for that many global steps.

  Args:
    estimator: the Estimator whose evaluations are watched.
    metric_name: the metric to watch, a key of the evaluate() result.
    max_steps_without_increase: training stops once an evaluation is at
      least this many global steps past the one with the best value.
    eval_dir: where the evaluations are read from; defaults to
      `estimator.eval_dir()`.
    min_steps: evaluations at global steps below this are ignored.
    run_every_secs: check at most every this many seconds.
    run_every_steps: check every this many global steps; set
      `run_every_secs` to None to use it.

  Returns:
    A `SessionRunHook` for `Estimator.train` or a `TrainSpec`.

  Raises:
    ValueError: if both `run_every_secs` and `run_every_steps` are set or,
      at a check, an evaluation lacks `metric_name`.
  """
  return _plateau_hook(estimator, metric_name, max_steps_without_increase,
                       eval_dir, min_steps, run_every_secs, run_every_steps,
                       "max")


def stop_if_no_decrease_hook(
    estimator: Any,
    metric_name: str,
    max_steps_without_decrease: int,
    eval_dir: str | None = None,
    min_steps: int = 0,
    run_every_secs: float | None = 60,
    run_every_steps: int | None = None) -> tf.compat.v1.train.SessionRunHook:
  """Stops when the metric has not decreased for that many global steps.

  Args:
    estimator: the Estimator whose evaluations are watched.
    metric_name: the metric to watch, a key of the evaluate() result.
    max_steps_without_decrease: training stops once an evaluation is at
      least this many global steps past the one with the best value.
    eval_dir: where the evaluations are read from; defaults to
      `estimator.eval_dir()`.
    min_steps: evaluations at global steps below this are ignored.
    run_every_secs: check at most every this many seconds.
    run_every_steps: check every this many global steps; set
      `run_every_secs` to None to use it.

  Returns:
    A `SessionRunHook` for `Estimator.train` or a `TrainSpec`.

  Raises:
    ValueError: if both `run_every_secs` and `run_every_steps` are set or,
      at a check, an evaluation lacks `metric_name`.
  """
  return _plateau_hook(estimator, metric_name, max_steps_without_decrease,
                       eval_dir, min_steps, run_every_secs, run_every_steps,
                       "min")
