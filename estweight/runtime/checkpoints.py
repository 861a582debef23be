"""Checkpoint look-ups and warm starting."""
from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import tensorflow as tf
from estweight import _logging as logging

if TYPE_CHECKING:
  from estweight.warm_start import WarmStartSettings


class CheckpointError(RuntimeError):
  """model_dir shows earlier training but holds no usable checkpoint."""


_PREFIX = re.compile(r"^(model\.ckpt-(\d+))\.index$")
_SHARDS = re.compile(r"\.data-\d+-of-(\d+)$")


def is_complete(prefix: str) -> bool:
  """Whether a checkpoint's .index and every .data shard are on disk."""
  if not tf.io.gfile.exists(prefix + ".index"):
    return False
  shards = [
      n for n in tf.io.gfile.glob(prefix + ".data-*") if _SHARDS.search(n)
  ]
  if not shards:
    return False
  total = int(_SHARDS.search(shards[0]).group(1))  # type: ignore[union-attr]
  return len(shards) == total


def checkpoints_on_disk(model_dir: str) -> list[str]:
  """The model.ckpt-N prefixes with an .index in model_dir, newest first."""
  found = []
  for name in tf.io.gfile.listdir(model_dir):
    match = _PREFIX.match(name)
    if match:
      found.append((int(match.group(2)), os.path.join(model_dir,
                                                      match.group(1))))
  return [path for _, path in sorted(found, reverse=True)]


def latest_checkpoint(model_dir: str, skip: Sequence[str] = ()) -> str | None:
  """The newest complete checkpoint in model_dir (None: there is none).

  The one the `checkpoint` file names, when all its files are there. When
  they are not (a deleted .index, a save cut short) or the `checkpoint`
  file is gone, the newest complete model.ckpt-N on disk is used instead,
  with a warning, never a silent restart from step 0.

  Args:
    model_dir: the directory.
    skip: prefixes found damaged when read (passed over).

  Raises:
    CheckpointError: model_dir has checkpoint files but none is complete.
  """
  if not model_dir or not tf.io.gfile.isdir(model_dir):
    return None
  named = tf.train.latest_checkpoint(model_dir)
  if named and named not in skip and is_complete(named):
    return named
  state = tf.train.get_checkpoint_state(model_dir)
  wanted = named or (state.model_checkpoint_path if state else None)
  on_disk = checkpoints_on_disk(model_dir)
  for path in on_disk:
    if path not in skip and is_complete(path):
      if wanted or skip:
        logging.warning(
            "The latest checkpoint %s is missing files or damaged; using the "
            "newest complete one, %s.", wanted or sorted(skip)[-1], path)
      return path
  if on_disk or wanted:
    raise CheckpointError(
        f"model_dir={model_dir!r} holds checkpoint files "
        f"({', '.join(os.path.basename(p) for p in on_disk) or wanted}) but "
        "none is complete and readable, so training cannot resume. Restore "
        "the missing files, or to start over use a new model_dir (or delete "
        "the checkpoint files).")
  return None


def stamp(checkpoint_path: str) -> tuple[int, ...] | None:
  """Identifies a checkpoint's content by its .index file (None if missing):
  a checkpoint replaced under the same name gets a new stamp."""
  index = checkpoint_path + ".index"
  try:
    if "://" not in index:  # gfile's local mtime has whole seconds only
      st = os.stat(index)
      return (st.st_ino, st.st_size, st.st_mtime_ns)
    st = tf.io.gfile.stat(index)
    return (st.length, st.mtime_nsec)
  except (OSError, tf.errors.NotFoundError):
    return None


def global_step_of(checkpoint_path: str | None) -> int:
  """The global step stored in a checkpoint (0 when there is none)."""
  if not checkpoint_path:
    return 0
  try:
    reader = tf.train.load_checkpoint(checkpoint_path)
    return int(reader.get_tensor(tf.compat.v1.GraphKeys.GLOBAL_STEP))
  except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError, ValueError):
    # A checkpoint without a global step (e.g. written by hand): count from 0.
    return 0


def model_dir_global_step(model_dir: str) -> int:
  return global_step_of(latest_checkpoint(model_dir))


def resolve_checkpoint_path(path: str) -> str:
  """A checkpoint prefix for `path`, which may be a directory."""
  if tf.io.gfile.isdir(path):
    found = tf.train.latest_checkpoint(path)
    if not found:
      raise ValueError(f"No checkpoint found in directory {path!r}.")
    return found
  return path


def apply_warm_start(settings: WarmStartSettings | None) -> None:
  """Adds the warm-start initialisers to the current graph."""
  if settings is None:
    return
  logging.info("Warm-starting with %s", settings)
  ckpt = resolve_checkpoint_path(settings.ckpt_to_initialize_from)
  tf.compat.v1.train.warm_start(
      ckpt_to_initialize_from=ckpt,
      vars_to_warm_start=settings.vars_to_warm_start,
      var_name_to_vocab_info=settings.var_name_to_vocab_info,
      var_name_to_prev_var_name=settings.var_name_to_prev_var_name)


def check_model_dir(model_dir: str) -> None:
  if os.path.exists(model_dir) and not os.path.isdir(model_dir):
    raise ValueError(f"`model_dir` must be a directory, but it is a file. "
                     f"Received: model_dir={model_dir!r}.")


def raise_if_names_differ(path: str, error: BaseException) -> None:
  """Raises CheckpointError when restoring `path` failed because the model
  has a variable the (readable) checkpoint does not hold: the model changed,
  the files are fine, and falling back to an older checkpoint would not
  help."""
  found = re.search(r"Key (\S+) not found in checkpoint", str(error))
  if not isinstance(error, tf.errors.NotFoundError) or not found:
    return
  try:
    names = sorted(name for name, _ in tf.train.list_variables(path))
  except (tf.errors.OpError, ValueError):
    return  # unreadable: a damaged checkpoint after all
  raise CheckpointError(
      f"The checkpoint {path} has no variable {found.group(1)!r}, which "
      f"this model has: the model's variable names differ from the ones it "
      f"was trained with (the checkpoint holds {len(names)}, e.g. "
      f"{', '.join(names[:5])}). Use the model_fn that wrote it, another "
      "model_dir, or warm_start_from=WarmStartSettings(..., "
      "var_name_to_prev_var_name={...}) to map the old names.") from None


def write_values(path: str, values: Mapping[str, Any]) -> str:
  """Writes `values` ({checkpoint key: array}) as the checkpoint `path`.

  In a graph and session of its own (no .meta); returns `path`.
  """
  with tf.Graph().as_default():
    var_list = {
        key: tf.compat.v1.Variable(value, name="v", trainable=False)
        for key, value in values.items()
    }
    saver = tf.compat.v1.train.Saver(var_list=var_list,
                                     save_relative_paths=True)
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.variables_initializer(list(var_list.values())))
      saver.save(session, path, write_meta_graph=False)
  return path
