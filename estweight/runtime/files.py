"""The one atomic writer for estweight's state files, and their reader.

Driver state, grid results, cached class weights, the CLI's config.json,
cluster done markers and the model_dir lock are written here: to
`<path>.tmp` first (flushed and fsynced on local disks), then renamed over
`<path>`, so a reader or a killed writer sees the old file or the new one,
never half of one. A leftover `<path>.tmp` from a killed writer is simply
overwritten next time. Paths may be `tf.io.gfile` URLs (gs://, ...).
Files get the usual permissions (0666 minus the umask). Local paths do not
use TensorFlow.
"""
from __future__ import annotations

import json
import os
from typing import Any


class StateFileError(ValueError):
  """A state file in model_dir is damaged or holds the wrong kind of data."""


def _local(path: str) -> bool:
  return "://" not in path


def _gfile():
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return tf.io.gfile


def write_atomic(path: str, text: str) -> None:
  """Replaces `path` with `text` in one step (see the module docstring)."""
  directory = os.path.dirname(path) or "."
  tmp = path + ".tmp"
  if _local(path):
    os.makedirs(directory, exist_ok=True)
    with open(tmp, "w", encoding="utf-8", newline="") as f:
      f.write(text)
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, path)
    return
  gfile = _gfile()
  gfile.makedirs(directory)
  with gfile.GFile(tmp, "w") as f:
    f.write(text)
  gfile.rename(tmp, path, overwrite=True)


def write_json(path: str, data: Any) -> None:
  write_atomic(path, json.dumps(data, indent=1, sort_keys=True))


def read_json(path: str,
              default: Any = None,
              expect: type | None = None) -> Any:
  """The JSON in `path` (`default` when it does not exist).

  Raises:
    StateFileError: the file is not valid JSON, or not of type `expect`;
      the message names the file and what to do.
  """
  if _local(path):
    if not os.path.exists(path):
      return default
    with open(path, encoding="utf-8") as f:
      text = f.read()
  else:
    gfile = _gfile()
    if not gfile.exists(path):
      return default
    with gfile.GFile(path) as f:
      text = f.read()
  try:
    data = json.loads(text)
  except ValueError as e:
    raise StateFileError(
        f"The state file {path} is damaged ({type(e).__name__}: {e}). "
        "Restore it from a backup, or delete it to start over what it "
        "records (the checkpoints are not affected).") from None
  if expect is not None and not isinstance(data, expect):
    raise StateFileError(
        f"The state file {path} holds a {type(data).__name__}, not the "
        f"{expect.__name__} estweight writes there. Restore it, or delete it "
        "to start over what it records.")
  return data
