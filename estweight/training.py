"""TrainSpec, EvalSpec and train_and_evaluate (local mode), 2.15 semantics.

One `train(max_steps=...)` call; after every checkpoint save except the one
at session start, a saving listener evaluates (at most once per
`throttle_secs`), and once more at the end if the last step was not
evaluated. Fixed trap: when max_steps is already reached, tf.estimator
returned (None, None); here the latest checkpoint is evaluated (or its
recorded evaluation reused) and returned.
"""
from __future__ import annotations

import collections
import numbers
import time
from typing import Any

import tensorflow as tf
from estweight import _logging as logging

from estweight import roles
from estweight.estimator import Estimator
from estweight.export import exporters as exporters_lib
from estweight.runtime import checkpoints
from estweight import validation
from estweight.runtime import evaluate as evaluate_lib

_v1 = tf.compat.v1


class TrainSpec(
    collections.namedtuple(
        "TrainSpec", ["input_fn", "max_steps", "hooks", "saving_listeners"])):
  """Training part of train_and_evaluate: input, absolute max_steps, hooks."""

  def __new__(cls, input_fn, max_steps=None, hooks=None, saving_listeners=None):
    if not callable(input_fn):
      raise TypeError(f"`input_fn` must be callable. Received: "
                      f"input_fn={input_fn!r}.")
    max_steps = validation.integer("max_steps", max_steps, minimum=1)
    return super().__new__(
        cls, input_fn, max_steps,
        tuple(validation.instances("hooks", hooks, _v1.train.SessionRunHook)),
        tuple(
            validation.instances("saving_listeners", saving_listeners,
                                 _v1.train.CheckpointSaverListener)))


class EvalSpec(
    collections.namedtuple("EvalSpec", [
        "input_fn", "steps", "name", "hooks", "exporters", "start_delay_secs",
        "throttle_secs"
    ])):
  """Evaluation part of train_and_evaluate (2.15 fields and defaults)."""

  def __new__(cls,
              input_fn,
              steps=100,
              name=None,
              hooks=None,
              exporters=None,
              start_delay_secs=120,
              throttle_secs=600):
    if not callable(input_fn):
      raise TypeError(f"`input_fn` must be callable. Received: "
                      f"input_fn={input_fn!r}.")
    steps = validation.integer("steps", steps, minimum=1)
    if name is not None and not isinstance(name, str):
      raise TypeError(f"`name` must be a string or None. Received: "
                      f"name={name!r}.")
    for arg, value in (("start_delay_secs", start_delay_secs), ("throttle_secs",
                                                                throttle_secs)):
      if not isinstance(value, numbers.Real) or value < 0:
        raise ValueError(f"`{arg}` must be >= 0. Received: {arg}={value!r}.")
    exporters = check_exporters(exporters)
    return super().__new__(
        cls, input_fn, steps, name,
        tuple(validation.instances("hooks", hooks, _v1.train.SessionRunHook)),
        exporters, start_delay_secs, throttle_secs)


def check_exporters(exporters: Any) -> tuple[Any, ...]:
  """`exporters` (None, one, or a list) as a tuple; names must be unique."""
  if exporters is None:
    return ()
  if not isinstance(exporters, (list, tuple)):
    exporters = (exporters,)
  for exporter in exporters:
    if not callable(getattr(exporter, "export", None)):
      raise TypeError("`exporters` must be Exporter instances (e.g. "
                      "estweight.LatestExporter). Received: "
                      f"{exporter!r} in exporters={list(exporters)!r}.")
  names = [getattr(e, "name", None) for e in exporters]
  if any(not isinstance(n, str) or not n for n in names) or len(
      set(names)) != len(names):
    raise ValueError("`exporters` must have unique, non-empty string "
                     f"names. Received names: {names}.")
  return tuple(exporters)


class _EvalListener(_v1.train.CheckpointSaverListener):
  """Evaluates (and exports) after checkpoint saves, throttled."""

  def __init__(self, estimator, eval_spec, max_steps):
    self._est = estimator
    self._spec = eval_spec
    self._max_steps = max_steps
    self.result = None
    self.export_results = []
    self._last_evaluated = None
    self._last_time = None
    self._skipped_first = False

  def after_save(self, session, global_step_value):
    del session
    if not self._skipped_first:  # the save at session creation
      self._skipped_first = True
      self._last_evaluated = global_step_value
      return False
    now = time.monotonic()
    if self._last_time is not None and (now - self._last_time
                                        < self._spec.throttle_secs):
      return False
    self._evaluate(global_step_value)
    self._last_time = now
    return False

  def end(self, session, global_step_value):
    del session
    if global_step_value != self._last_evaluated:
      self._evaluate(global_step_value)

  def _evaluate(self, step):
    self.result = self._est.evaluate(self._spec.input_fn,
                                     steps=self._spec.steps,
                                     hooks=self._spec.hooks,
                                     name=self._spec.name)
    self._last_evaluated = step
    final = self._max_steps is not None and step >= self._max_steps
    self.export_results = exporters_lib.run_exporters(
        self._est, self._spec.exporters, self._est.latest_checkpoint(),
        self.result, final)


def train_and_evaluate(estimator: Estimator, train_spec: TrainSpec,
                       eval_spec: EvalSpec) -> tuple[dict, list] | None:
  """Trains to `train_spec.max_steps`, evaluating at checkpoints.

  On a TF_CONFIG cluster every process runs its task's role (see
  `estweight.roles`).

  Args:
    estimator: the Estimator to train and evaluate.
    train_spec: the training input_fn, max_steps, hooks and saving
      listeners.
    eval_spec: the evaluation input_fn, steps, name, hooks, exporters and
      throttle_secs (the least time between two evaluations).

  Returns:
    Locally (no TF_CONFIG cluster, or the 'master' task of one):
    `(eval_result, export_results)` of the last evaluation. On a TF_CONFIG
    cluster: None for the chief and workers (they train) and for ps tasks
    (they serve until training is done); the evaluator follows the
    checkpoints and returns its last `(eval_result, export_results)`.

  Raises:
    TypeError: if an argument is not an Estimator, TrainSpec or EvalSpec
      respectively.
    ValueError: if, locally, the RunConfig saves no checkpoints.
  """
  if not isinstance(estimator, Estimator):
    raise TypeError("`estimator` must be an estweight.Estimator. Received: "
                    f"estimator={estimator!r}.")
  if not isinstance(train_spec, TrainSpec):
    raise TypeError(f"`train_spec` must be a TrainSpec. Received: "
                    f"train_spec={train_spec!r}.")
  if not isinstance(eval_spec, EvalSpec):
    raise TypeError(f"`eval_spec` must be an EvalSpec. Received: "
                    f"eval_spec={eval_spec!r}.")
  config = estimator.config
  if roles.on_cluster(config):
    return roles.run_task(estimator, train_spec, eval_spec)
  if not (config.save_checkpoints_steps or config.save_checkpoints_secs):
    raise ValueError("train_and_evaluate evaluates at checkpoints; enable "
                     "them with RunConfig(save_checkpoints_steps=...) or "
                     "save_checkpoints_secs. Received: both None.")
  max_steps = train_spec.max_steps
  step = checkpoints.model_dir_global_step(estimator.model_dir)
  if max_steps is not None and step >= max_steps:
    records = evaluate_lib.read_eval_records(estimator.eval_dir(eval_spec.name))
    logging.info(
        "max_steps=%d already reached (global step %d); returning "
        "the evaluation of the latest checkpoint.", max_steps, step)
    if step in records:
      return records[step], []
    return estimator.evaluate(eval_spec.input_fn,
                              steps=eval_spec.steps,
                              hooks=eval_spec.hooks,
                              name=eval_spec.name), []
  listener = _EvalListener(estimator, eval_spec, max_steps)
  estimator.train(train_spec.input_fn,
                  max_steps=max_steps,
                  hooks=train_spec.hooks,
                  saving_listeners=train_spec.saving_listeners + (listener,))
  if listener.result is None and estimator.latest_checkpoint():
    # No step ran (an early-stopping hook held before the first one): the
    # model as it is gets evaluated instead of returning (None, None).
    return estimator.evaluate(eval_spec.input_fn,
                              steps=eval_spec.steps,
                              hooks=eval_spec.hooks,
                              name=eval_spec.name), []
  return listener.result, listener.export_results
