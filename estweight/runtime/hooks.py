"""Progress of a training call: log lines and the `global_step/sec` event.

Two audiences read them:

- estweight's own line, on the absl logger at every multiple of
  `log_step_count_steps`:
  `step 200 | loss 0.3100 | 812.4 steps/s | eta 0:01:12` (prefixed with the
  grid trial, `trial 3/9 | step 200 | ...`, inside a grid search).
- tf.estimator 2.15's lines, on the `tensorflow` logger that
  `tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.INFO)` turns on,
  so ported programs and their log filters see what they saw before:
  `loss = 0.6931472, step = 0` at a call's first step and
  `loss = 0.31, step = 200 (0.246 sec)` every `log_step_count_steps` steps
  after it (its LoggingTensorHook: `step` is the global step the loss was
  computed at, the time is since the previous such line), and
  `global_step/sec: 812.4` with each `global_step/sec` event, on the
  chief (its StepCounterHook).
"""
from __future__ import annotations

import datetime
import time
from typing import Any

import tensorflow as tf

from estweight import _logging as logging

_v1 = tf.compat.v1


def log_progress(step: int,
                 loss: Any,
                 rate: float | None = None,
                 last_step: int | None = None) -> None:
  """Logs `step N | loss L | S steps/s | eta H:MM:SS` (rate/eta if known)."""
  parts = [f"step {step}", f"loss {loss:.4f}"]
  if rate:
    parts.append(f"{rate:.1f} steps/s")
    if last_step is not None:
      eta = max(last_step - step, 0) / rate
      parts.append(f"eta {datetime.timedelta(seconds=round(eta))}")
  logging.info(" | ".join(parts))


class StepCounter:
  """Progress of one train() call, fed after every step.

  Args:
    every: `RunConfig.log_step_count_steps`; None or 0 logs nothing.
    writer: where `global_step/sec` events go (None: not written, as on
      non-chief tasks).
    start: the global step the call starts from.
    target: the step the call (or the driver's run) ends at, for the ETA;
      None if unknown.
  """

  def __init__(self, every: int | None,
               writer: tf.compat.v1.summary.FileWriter | None, start: int,
               target: int | None):
    self._every = every
    self._writer = writer
    self._target = target
    self._last = (time.monotonic(), start)
    self._runs = 0  # steps of this call, as LoggingTensorHook counted them
    self._last_loss_line = None

  def after_step(self, step: int, loss: Any) -> None:
    """Books one step.

    Args:
      step: the global step after this step's increment.
      loss: the loss this step computed (before its update).
    """
    if not self._every:
      return
    if self._runs % self._every == 0:
      self._log_loss_line(step - 1, loss)
    self._runs += 1
    # At each multiple of `every` passed (a shared step may skip some).
    if step // self._every == self._last[1] // self._every:
      return
    now = time.monotonic()
    seconds, steps = now - self._last[0], step - self._last[1]
    rate = steps / seconds if seconds > 0 else None
    # Like tf.estimator's step-rate hook, only where the event is written
    # (the chief).
    if rate is not None and self._writer is not None:
      self._writer.add_summary(
          _v1.Summary(value=[
              _v1.Summary.Value(tag="global_step/sec", simple_value=rate)
          ]), step)
      _v1.logging.info("%s: %g", "global_step/sec", rate)
    log_progress(step, loss, rate, self._target)
    self._last = (now, step)

  def _log_loss_line(self, step, loss):
    now = time.monotonic()
    # str() of the fetched value, as tf.estimator printed it (a numpy
    # float32: 0.0020535477, 1.3137935e-11; an f-string would print the
    # float64 digits).
    stats = f"loss = {str(loss)}, step = {step}"
    if self._last_loss_line is None:
      _v1.logging.info("%s", stats)
    else:
      _v1.logging.info("%s (%.3f sec)", stats, now - self._last_loss_line)
    self._last_loss_line = now
