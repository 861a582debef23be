"""WarmStartSettings: initialise a new model from another model's checkpoint."""
from __future__ import annotations

import collections
import os
from typing import Mapping, Sequence

import tensorflow as tf

VocabInfo = tf.compat.v1.train.VocabInfo


class WarmStartSettings(
    collections.namedtuple("WarmStartSettings", [
        "ckpt_to_initialize_from", "vars_to_warm_start",
        "var_name_to_vocab_info", "var_name_to_prev_var_name"
    ])):
  """Which checkpoint to warm-start from and which variables to take.

  Same fields and defaults as `tf.estimator.WarmStartSettings`.
  `vars_to_warm_start`: a regex string matches TRAINABLE variables only; a
  list of regexes matches all global variables (optimizer slots and
  `global_step` included); `None` takes only the vocab-remapped variables.
  Warm starting happens only while model_dir holds no checkpoint.
  """

  def __new__(
      cls,
      ckpt_to_initialize_from: str | os.PathLike[str],
      vars_to_warm_start: str | Sequence[str] | None = ".*",
      var_name_to_vocab_info: Mapping[str, tf.compat.v1.train.VocabInfo] |
      None = None,
      var_name_to_prev_var_name: Mapping[str, str] | None = None
  ) -> WarmStartSettings:
    if not ckpt_to_initialize_from:
      raise ValueError("`ckpt_to_initialize_from` must be a checkpoint path "
                       "or directory. Received: ckpt_to_initialize_from="
                       f"{ckpt_to_initialize_from!r}.")
    return super().__new__(cls, os.fspath(ckpt_to_initialize_from),
                           vars_to_warm_start, var_name_to_vocab_info or {},
                           var_name_to_prev_var_name or {})


def normalize_warm_start(
    warm_start_from: str | bytes | os.PathLike | WarmStartSettings | None
) -> WarmStartSettings | None:
  """Turns the `warm_start_from` constructor argument into settings."""
  if warm_start_from is None:
    return None
  if isinstance(warm_start_from, WarmStartSettings):
    return warm_start_from
  if isinstance(warm_start_from, (str, bytes, os.PathLike)):
    path = os.fspath(warm_start_from)
    if isinstance(path, bytes):
      path = path.decode()
    saved_model_vars = os.path.join(path, "variables", "variables.index")
    if tf.io.gfile.exists(saved_model_vars):
      return WarmStartSettings(os.path.join(path, "variables", "variables"))
    return WarmStartSettings(path)
  raise ValueError("`warm_start_from` must be a path or WarmStartSettings. "
                   f"Received: warm_start_from={warm_start_from!r}.")
