"""Named kill points for the reliability suite.

A job started with ``ESTWEIGHT_KILL_AFTER=<phase>:<step>`` kills itself with
SIGKILL at that point of the runtime's own loops, so a crash test names the
moment it tests instead of sleeping and hoping. Phases:

- ``step``: after the step that takes the global step to ``step`` or past
  it (its checkpoint, if one was due, is written);
- ``save``: inside the first save at ``step`` or later, after the
  variables' files are written and before the ``.meta`` file and the saving
  listeners (a save interrupted half-way);
- ``eval``: in an evaluation of a checkpoint of ``step`` or later, after
  the metrics are computed and before anything is written.

Unset (the normal case), every check is one dictionary lookup.
"""
from __future__ import annotations

import os
import signal

ENV = "ESTWEIGHT_KILL_AFTER"
PHASES = ("step", "save", "eval")


def kill_point() -> tuple[str, int] | None:
  """The (phase, step) asked for by the environment, or None."""
  value = os.environ.get(ENV)
  if not value:
    return None
  phase, sep, step = value.partition(":")
  if phase not in PHASES or not sep or not step.isdigit():
    raise ValueError(f"{ENV} must be <phase>:<step> with phase one of "
                     f"{', '.join(PHASES)}. Received: {ENV}={value!r}.")
  return phase, int(step)


def maybe_kill(phase: str, step: int | None) -> None:
  """Kills this process (SIGKILL, nothing flushed) at the named point."""
  point = kill_point()
  if point is not None and point[0] == phase and step is not None and (
      int(step) >= point[1]):
    os.kill(os.getpid(), signal.SIGKILL)
