"""Errors that only real batches reveal, as errors a person reads.

A label out of range, a negative or NaN example weight, a label outside
`label_vocabulary` or a feature of the wrong shape is found by TensorFlow
while a step runs, and TensorFlow reports it as an `InvalidArgumentError`
whose text is an assert op's bracket dump and a graph node. The loops raise
`InvalidDataError` instead: the problem in one sentence, the values it
found, the call's batch and the step, and what to check. It subclasses
`tf.errors.InvalidArgumentError`, so ported code that caught that still
does; the raw TensorFlow error is kept as `tf_error` and logged at debug
verbosity.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import tensorflow as tf
from estweight import _logging as logging
from estweight.runtime.messages import cause

if TYPE_CHECKING:
  from estweight.runtime.graph import ModeGraph

_NODE = re.compile(r"\{\{node ([^}]+)\}\}")
_FUNCTION_NODE = re.compile(r"\{\{function_node ([^}]+)\}\}")


def _bracket_groups(text):
  """The top-level `[...]` groups of an assert op's message, in order."""
  groups, depth, start = [], 0, None
  for i, char in enumerate(text):
    if char == "[":
      if depth == 0:
        start = i + 1
      depth += 1
    elif char == "]" and depth:
      depth -= 1
      if depth == 0:
        groups.append(text[start:i])
  return groups


def describe(error: BaseException) -> tuple[str, str | None]:
  """(the problem in one sentence, the graph node that found it)."""
  text = str(getattr(error, "message", None) or error)
  node = None
  match = _NODE.search(text)
  if match and match.group(1) not in ("Assert",):
    node = match.group(1)
  else:
    match = _FUNCTION_NODE.search(text)
    if match:  # head_losses_assert_less_equal_Assert_AssertGuard_false_218
      node = re.sub(r"_Assert_AssertGuard.*$", "", match.group(1))
  line = cause(error).replace("\\'", "'")
  if "assertion failed:" in line:
    groups = _bracket_groups(line.split("assertion failed:", 1)[1])
    problem = groups[0].strip().rstrip(".") if groups else line
    # [message] [Condition ...] [x (name) = ] [values] [y (name) = ] [bound]
    for i, group in enumerate(groups[:-1]):
      if group.startswith("x (") and group.endswith("= "):
        values = " ".join(groups[i + 1].replace("][", " ").split())
        problem += f"; values in this batch: [{values}]"
        break
    return problem, node
  return line.strip().rstrip("."), node


class InvalidDataError(tf.errors.InvalidArgumentError):
  """A batch holds data the model cannot train or evaluate on.

  Attributes:
    problem: what is wrong, in one sentence (with the values found).
    batch: the batch of the call's input (1 is the first).
    step: the global step the batch was for.
    node: the graph node whose check failed (None when unknown).
    tf_error: the `tf.errors.InvalidArgumentError` TensorFlow raised.
  """

  def __init__(self, problem: str, *, batch: int, step: int, node: str | None,
               tf_error: tf.errors.InvalidArgumentError):
    self.problem, self.batch, self.step = problem, batch, step
    self.node, self.tf_error = node, tf_error
    where = f" (checked by {node})" if node else ""
    message = (f"Batch {batch} of this call's input (for global step {step}) "
               f"cannot be used: {problem}{where}. Check what input_fn yields "
               "(label values and dtype, example weights, feature shapes and "
               "values) against the model's head and feature columns.")
    # No `op`: TensorFlow would append the op's Python stack to the text.
    super().__init__(tf_error.node_def, None, message)


class NonFiniteLossError(tf.compat.v1.train.NanLossDuringTrainingError):
  """The loss was NaN or Inf (a tf.estimator NanLossDuringTrainingError)."""

  def __init__(self, loss: Any, step: int, latest: str | None):
    super().__init__()
    self.loss, self.step, self.latest_checkpoint = loss, step, latest
    self.message = (
        f"Loss is {loss} at global step {step}; training stopped without "
        "saving it. The latest checkpoint is "
        f"{latest or 'none (nothing was saved yet)'}. Check the input for "
        "NaN/Inf values and the learning rate.")

  def __str__(self):
    return self.message


def from_tf_error(error: tf.errors.InvalidArgumentError, *, batch: int,
                  step: int) -> InvalidDataError:
  """An `InvalidDataError` for TensorFlow's `error` (kept as `tf_error`)."""
  logging.debug("TensorFlow's error for batch %d: %s", batch, error)
  problem, node = describe(error)
  return InvalidDataError(problem,
                          batch=batch,
                          step=step,
                          node=node,
                          tf_error=error)


def check_first_batch(session: tf.compat.v1.Session,
                      mode_graph: ModeGraph,
                      reinitialize_input: Callable[[tf.compat.v1.Session], Any],
                      *,
                      non_finite_ok: bool = False) -> None:
  """Computes the loss of the input's first batch before anything is
  written, so a bad dataset leaves a new model_dir untouched.

  The batch is read, the loss computed on it (every check of the head and
  the feature columns runs), and the input is re-initialised, so the first
  step trains on the same batch. Steps that draw random numbers of their
  own (dropout) are checked in a scratch session, leaving this session's
  random streams where tf.estimator's would be.

  Args:
    session: the training session, variables initialised.
    mode_graph: the TRAIN `ModeGraph`.
    reinitialize_input: `(session) -> None`, initialises the input again.
    non_finite_ok: a NaN or Inf loss is let through (SkipNonFiniteBatches).

  Raises:
    InvalidDataError: a check failed.
    NonFiniteLossError: the loss is NaN or Inf.
  """
  next_op = mode_graph.next_op
  if next_op is None:  # tensors, not a Dataset: cannot read it twice
    return
  loss = mode_graph.spec.loss
  try:
    try:
      batch = session.run(next_op.outputs)
    except tf.errors.OutOfRangeError:
      return  # an empty input: the loop says it made no steps
    finally:
      reinitialize_input(session)
  except tf.errors.InvalidArgumentError as e:  # the input pipeline itself
    raise from_tf_error(e, batch=1, step=1) from None
  try:
    value = session.run(loss, dict(zip(next_op.outputs, batch)))
  except tf.errors.InvalidArgumentError as e:
    if _is_data_check(e):
      raise from_tf_error(e, batch=1, step=1) from None
    # The loss may need the first training step (e.g. KMeans initialises
    # its centers there): that step will tell.
    logging.debug("First-batch check skipped: %s", cause(e))
    return
  if not non_finite_ok and not _finite(value):  # 2.15's error, nothing written
    raise NonFiniteLossError(value, 1, None)


def _is_data_check(error) -> bool:
  """Whether `error` comes from a check of the data: an assert (labels,
  weights, vocabulary), a finiteness check, or a feature column's reshape."""
  text = str(getattr(error, "message", None) or error)
  return ("assertion failed:" in text or "CheckNumerics" in text or
          "Tensor had NaN values" in text or "Tensor had Inf values" in text or
          "Input to reshape" in text)


def _finite(value) -> bool:
  return bool(np.all(np.isfinite(value)))
