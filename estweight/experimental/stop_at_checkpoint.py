"""make_stop_at_checkpoint_step_hook: stop workers once the chief has saved
a checkpoint at `last_step` (tf.estimator.experimental's name and rule)."""
from __future__ import annotations

import time
from typing import Any

import tensorflow as tf
from estweight import _logging as logging

from estweight import validation
from estweight.runtime import checkpoints

_v1 = tf.compat.v1


class _StopAtCheckpointStepHook(_v1.train.SessionRunHook):
  """Requests a stop once model_dir's latest checkpoint reaches `last_step`,
  reading the checkpoint at most every `wait_after_file_check_secs`."""

  def __init__(self, model_dir, last_step, wait_after_file_check_secs):
    self._model_dir = model_dir
    self._last_step = last_step
    self._wait = wait_after_file_check_secs
    self._next_check = 0.0

  def begin(self):
    self._next_check = 0.0

  def after_run(self, run_context, run_values):
    now = time.monotonic()
    if now < self._next_check:
      return
    self._next_check = now + self._wait
    step = checkpoints.model_dir_global_step(self._model_dir)
    if step >= self._last_step:
      logging.info("Checkpoint at step %d reached last_step %d; stopping.",
                   step, self._last_step)
      run_context.request_stop()


def make_stop_at_checkpoint_step_hook(estimator: Any,
                                      last_step: Any,
                                      wait_after_file_check_secs: float = 30
                                     ) -> tf.compat.v1.train.SessionRunHook:
  """The chief stops at `last_step` (StopAtStepHook); other workers stop
  when the chief's checkpoint there appears in model_dir.

  Args:
    estimator: the Estimator whose model_dir and config to use.
    last_step: absolute global step to stop at.
    wait_after_file_check_secs: seconds between checkpoint reads (workers).
  """
  last_step = validation.integer("last_step",
                                 last_step,
                                 minimum=0,
                                 allow_none=False)
  validation.number("wait_after_file_check_secs",
                    wait_after_file_check_secs,
                    minimum=0,
                    allow_none=False)
  if estimator.config.is_chief:
    return _v1.train.StopAtStepHook(last_step=last_step)
  return _StopAtCheckpointStepHook(estimator.model_dir, last_step,
                                   wait_after_file_check_secs)
