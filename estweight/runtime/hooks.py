"""Hooks the runtime adds on its own (logging, eval step counting)."""
from __future__ import annotations

import datetime
import time

import tensorflow as tf
from absl import logging


def log_progress(step, loss, rate=None, last_step=None):
  """Logs `step N | loss L | S steps/s | eta H:MM:SS` (rate/eta if known)."""
  parts = [f"step {step}", f"loss {loss:.4f}"]
  if rate:
    parts.append(f"{rate:.1f} steps/s")
    if last_step is not None:
      eta = max(last_step - step, 0) / rate
      parts.append(f"eta {datetime.timedelta(seconds=round(eta))}")
  logging.info(" | ".join(parts))


class ProgressLoggingHook(tf.compat.v1.train.SessionRunHook):
  """Logs `step N | loss L | S steps/s | eta H:MM:SS` every N iterations.

  Args:
    loss: the scalar training loss.
    step: the global step as read before each run's increment.
    every_n_iter: log interval, in session runs.
    last_step: the step training stops at, if known (for the ETA).
  """

  def __init__(self, loss, step, every_n_iter, last_step=None):
    self._loss = loss
    self._step = step
    self._every = every_n_iter
    self._last_step = last_step

  def begin(self):
    self._iter = 0
    self._last_time = None
    self._last_logged_step = None

  def before_run(self, run_context):
    if self._iter % self._every == 0:
      return tf.compat.v1.train.SessionRunArgs((self._loss, self._step))
    return None

  def after_run(self, run_context, run_values):
    if self._iter % self._every == 0:
      loss, step = run_values.results
      now = time.monotonic()
      rate = None
      if self._last_time is not None and step > self._last_logged_step:
        rate = (step - self._last_logged_step) / max(now - self._last_time,
                                                     1e-9)
      log_progress(step, loss, rate, self._last_step)
      self._last_time, self._last_logged_step = now, step
    self._iter += 1


class StopAfterNEvalsHook(tf.compat.v1.train.SessionRunHook):
  """Stops evaluation after `num_evals` batches and logs progress."""

  def __init__(self, num_evals):
    self._num_evals = num_evals
    self._log_every = max(num_evals // 10, 1) if num_evals else None

  def begin(self):
    self._done = 0

  def after_run(self, run_context, run_values):
    self._done += 1
    if self._num_evals is None:
      return
    if self._done % self._log_every == 0 or self._done == self._num_evals:
      logging.info("Evaluation [%d/%d]", self._done, self._num_evals)
    if self._done >= self._num_evals:
      run_context.request_stop()

  @property
  def evals_done(self):
    return self._done
