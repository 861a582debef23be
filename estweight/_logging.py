"""estweight's log calls: absl's logger, leaving Python's logging setup alone.

Library modules log with

    from estweight import _logging as logging
    logging.info("Saving checkpoints for %d into %s.", step, path)

`absl.logging.info()` and its siblings call `logging.basicConfig()` when the
root logger has no handler (absl not initialised: a ported TF1 script, a
notebook, a test), which adds a root handler. TensorFlow's `tensorflow`
logger has its own handler and also propagates to the root, so from then on
every TensorFlow line printed twice. These functions log to the same `absl`
logger (so `absl.app.run`'s handler, `--verbosity` and
`absl.logging.set_verbosity` apply as before) but never add a handler:
without any logging setup, warnings still reach stderr through Python's
last-resort handler and info lines stay quiet, as for any library. A line
absl's logger would drop goes to the `tensorflow` logger when that one takes
it, so `tf.compat.v1.logging.set_verbosity(INFO)` in ported code shows
estweight's lines as it showed tf.estimator's ("Saving checkpoints for
...", "Loss for final step: ...").

`label("trial 3/9")` prefixes every line logged inside it (in this thread
or task) with `trial 3/9 | `, so interleaved lines of parallel grid trials
say which trial they belong to.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging as std_logging

from absl import logging as absl_logging

_LABEL: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "estweight_log_label", default=None)


def _logger_for(level: int):
  """absl's logger, or TensorFlow's when only that one is enabled for
  `level` (a ported TF1 script calling `tf.compat.v1.logging.set_verbosity(
  INFO)` sees estweight's lines there, as it saw tf.estimator's)."""
  logger = absl_logging.get_absl_logger()
  if logger.isEnabledFor(level):
    return logger
  tf_logger = std_logging.getLogger("tensorflow")
  return tf_logger if tf_logger.isEnabledFor(level) else None


def _log(level: int, msg: str, args: tuple) -> None:
  logger = _logger_for(level)
  if logger is None:
    return
  label = _LABEL.get()
  if label is not None:
    # With no args, logging does not %-format msg; keep it that way.
    msg = (label.replace("%", "%%") + " | " +
           msg) if args else (f"{label} | {msg}")
  # stacklevel 3: the caller of debug()/info()/... (past _log and itself)
  # is the file:line absl's handler prints.
  logger.log(level, msg, *args, stacklevel=3)


def debug(msg: str, *args) -> None:
  """Logs `msg % args` at DEBUG on the absl logger."""
  _log(std_logging.DEBUG, msg, args)


def info(msg: str, *args) -> None:
  """Logs `msg % args` at INFO on the absl logger."""
  _log(std_logging.INFO, msg, args)


def warning(msg: str, *args) -> None:
  """Logs `msg % args` at WARNING on the absl logger."""
  _log(std_logging.WARNING, msg, args)


def error(msg: str, *args) -> None:
  """Logs `msg % args` at ERROR on the absl logger."""
  _log(std_logging.ERROR, msg, args)


def current_label() -> str | None:
  """The label set by the innermost `label(...)`, or None."""
  return _LABEL.get()


@contextlib.contextmanager
def label(text: str):
  """Prefixes the lines logged inside the block with `text | `.

  Args:
    text: e.g. `"trial 3/9"`.

  Yields:
    None.
  """
  token = _LABEL.set(text)
  try:
    yield
  finally:
    _LABEL.reset(token)
