"""Opt-in: skip training batches whose loss is NaN or Inf.

By default a non-finite loss stops training with `NonFiniteLossError`
(tf.estimator's `NanLossDuringTrainingError`), nothing non-finite saved.
With `SkipNonFiniteBatches` among a train call's hooks, such a step is
undone instead: the loop keeps a copy of the variables after every finite
step and, after a non-finite one, puts it back before anything is saved,
summarised or shown to other hooks. The global step still counts the step
(its batch was consumed), so resuming from a checkpoint stays bit-exact.
Each skip is logged and counted in the summaries
(`non_finite_batches_skipped`, this call's running total); after
`max_consecutive` in a row training stops with `NonFiniteLossError`, since
that is the data or the learning rate, not a bad batch.

The copy costs one in-graph copy of every variable per step and as much
memory again as the model's variables, which is why it is opt-in. It is
refused on a TF_CONFIG cluster with shared variables (other tasks update
them concurrently, so there is nothing to put back).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import tensorflow as tf

from estweight import _logging as logging
from estweight import validation
from estweight.runtime import data_errors

_v1 = tf.compat.v1
SUMMARY_TAG = "non_finite_batches_skipped"


class SkipNonFiniteBatches(_v1.train.SessionRunHook):
  """Undo training steps whose loss is NaN or Inf instead of stopping.

  Pass it in `hooks=` of `Estimator.train` (or a `TrainSpec`, or the
  driver's train hooks); the training loop itself applies it, after each
  step and before checkpoints, summaries and the other hooks.

  Args:
    max_consecutive: stop with `NonFiniteLossError` after this many
      non-finite batches in a row.
  """

  def __init__(self, max_consecutive: int = 10):
    self.max_consecutive = validation.integer("max_consecutive",
                                              max_consecutive,
                                              minimum=1,
                                              allow_none=False)


def find(hooks: Sequence[Any]) -> tuple[SkipNonFiniteBatches | None, list]:
  """(the SkipNonFiniteBatches in `hooks` or None, the other hooks)."""
  guards = [h for h in hooks if isinstance(h, SkipNonFiniteBatches)]
  if len(guards) > 1:
    raise ValueError("Pass at most one SkipNonFiniteBatches hook. Received: "
                     f"{len(guards)}.")
  return (guards[0] if guards else None,
          [h for h in hooks if not isinstance(h, SkipNonFiniteBatches)])


class Guard:
  """The copy and restore ops of one TRAIN graph (built once, on first use).

  Args:
    graph: the TRAIN graph, open for new ops.
    global_step: its global step variable (not copied: it counts the step).
  """

  def __init__(self, graph: tf.Graph, global_step: tf.Variable):
    variables = [
        v for v in graph.get_collection(_v1.GraphKeys.GLOBAL_VARIABLES)
        if v is not global_step
    ]
    copies, saves, restores = [], [], []
    with graph.as_default(), tf.name_scope("skip_non_finite"):
      for v in variables:
        # In no collection: never saved, initialised by the first copy.
        copy = _v1.Variable(tf.zeros(v.shape, v.dtype.base_dtype),
                            trainable=False,
                            collections=[],
                            name=v.op.name.replace("/", "_"))
        copies.append(copy)
        saves.append(copy.assign(v.read_value()))
        restores.append(v.assign(copy.read_value()))
      self._save = tf.group(*saves, name="copy")
      self._restore = tf.group(*restores, name="restore")

  def start(self, session: tf.compat.v1.Session) -> None:
    session.run(self._save)

  def after_finite_step(self, session: tf.compat.v1.Session) -> None:
    session.run(self._save)

  def restore(self, session: tf.compat.v1.Session) -> None:
    session.run(self._restore)


class Skipper:
  """Applies a SkipNonFiniteBatches in one train call."""

  def __init__(self, options: SkipNonFiniteBatches, guard: Guard,
               writer: tf.compat.v1.summary.FileWriter | None):
    self._options, self._guard, self._writer = options, guard, writer
    self.total = self.in_a_row = 0

  def after_step(self, session: tf.compat.v1.Session, loss: Any, step: int,
                 latest_checkpoint: Callable[[], str | None]) -> bool:
    """True when the step's batch was skipped (variables put back).

    `latest_checkpoint`: `() -> path or None`, for the error.
    """
    if np.all(np.isfinite(loss)):
      self.in_a_row = 0
      self._guard.after_finite_step(session)
      return False
    self._guard.restore(session)
    self.total += 1
    self.in_a_row += 1
    if self.in_a_row >= self._options.max_consecutive:
      raise data_errors.NonFiniteLossError(loss, step, latest_checkpoint())
    logging.warning(
        "Loss is %s at global step %d: batch skipped, variables kept from "
        "the step before (%d skipped in this call, %d in a row; "
        "SkipNonFiniteBatches stops at %d in a row).", loss, step, self.total,
        self.in_a_row, self._options.max_consecutive)
    if self._writer is not None:
      self._writer.add_summary(
          _v1.Summary(value=[
              _v1.Summary.Value(tag=SUMMARY_TAG, simple_value=float(self.total))
          ]), step)
    return True
