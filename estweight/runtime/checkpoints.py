"""Checkpoint look-ups and warm starting."""
from __future__ import annotations

import os

import tensorflow as tf
from absl import logging


def latest_checkpoint(model_dir: str) -> str | None:
  if not model_dir or not tf.io.gfile.isdir(model_dir):
    return None
  return tf.train.latest_checkpoint(model_dir)


def stamp(checkpoint_path: str):
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


def apply_warm_start(settings) -> None:
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
