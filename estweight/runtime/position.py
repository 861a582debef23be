"""Where an interrupted train() call's input stood, so its rerun reads on.

tf.estimator restarted a killed `train(max_steps=N)` from the latest
checkpoint but from the first batch of its input, so the resumed run saw
other data than an uninterrupted one. Here a call that trains to a fixed end
(`max_steps`, or until the input ends) records the step it started from in
`model_dir/input_position.json` and removes the record when it returns. A
rerun that finds the record (the call did not return: killed, or stopped by
an error) and trains to the same end skips the batches the interrupted call
had already trained on up to the restored checkpoint, one batch per step,
and so ends with the variables an uninterrupted call would have.

This holds when the rerun's input_fn yields the same batches in the same
order (a seeded or unshuffled Dataset) and the step draws no random numbers
of its own (dropout restarts its stream with each session, as in
tf.estimator). A rerun with other data still skips that many batches of it.
Calls that train a number of `steps`, and tasks of a cluster (whose shared
step counts everyone's batches), start from the first batch as before.
"""
from __future__ import annotations

import os

import tensorflow as tf
from estweight import _logging as logging

from estweight.runtime import files

FILE = "input_position.json"


def _path(model_dir: str) -> str:
  return os.path.join(model_dir, FILE)


def batches_to_skip(model_dir: str, restored_step: int,
                    last_step: int | None) -> tuple[int, int]:
  """(batches to skip, the step the call's input started at).

  Args:
    model_dir: the model_dir.
    restored_step: the global step the call restored.
    last_step: the call's `max_steps` (None: until the input ends).
  """
  record = files.read_json(_path(model_dir), default=None, expect=dict)
  if (record is None or record.get("last_step") != last_step or
      not isinstance(record.get("start_step"), int) or
      not 0 <= record["start_step"] <= restored_step):
    return 0, restored_step
  skip = restored_step - record["start_step"]
  if skip:
    logging.info(
        "Resuming the input of a train() call that did not finish (it "
        "started at step %d; see %s): skipping the %d batches it trained on "
        "up to the restored step %d.", record["start_step"], _path(model_dir),
        skip, restored_step)
  return skip, record["start_step"]


def begin(model_dir: str, start_step: int, last_step: int | None) -> None:
  """Records a call training from `start_step` to `last_step`."""
  files.write_json(_path(model_dir), {
      "start_step": int(start_step),
      "last_step": last_step
  })


def end(model_dir: str) -> None:
  """The call returned: a later call reads its input from the start."""
  path = _path(model_dir)
  if tf.io.gfile.exists(path):
    tf.io.gfile.remove(path)
