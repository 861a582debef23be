"""Checkpoint keys of a converted Keras model, and its first checkpoint.

`checkpoint_format='saver'` keeps graph names (`dense/kernel`,
`training/Adam/dense/kernel/m`, `global_step`), as tf.estimator 2.15 did.

`checkpoint_format='checkpoint'` names model and optimizer variables with
the object-based keys tf.estimator 2.15 wrote for a Sequential or Functional
model (`layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE`, slots
`.../.OPTIMIZER_SLOT/optimizer/m/...`, hyperparameters
`optimizer/learning_rate/...`), so a model_dir that 2.15 trained keeps
training here. The keys are derived from the layer list (the i-th layer that
has weights, then the weight's name inside its layer), which is what 2.15's
object graph gave for layers holding their variables directly (Dense, Conv,
BatchNormalization, Embedding, ...). Unlike 2.15, the global step is saved as
`global_step` (so step bookkeeping works as for any estimator) and no object
graph proto is written: tf.estimator 2.15 cannot read these checkpoints back.
A 2.15 checkpoint (step under `estimator_global_step/...`, no keys for
variables 2.15 did not have) is restored by a second saver built for it.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import tensorflow as tf
from estweight import _logging as logging

from estweight.keras import flavors as flavors_lib
from estweight.runtime import checkpoints

if TYPE_CHECKING:
  from estweight.run_config import RunConfig

_v1 = tf.compat.v1
SAVER, CHECKPOINT = "saver", "checkpoint"
FORMATS = (CHECKPOINT, SAVER)
_VALUE = "/.ATTRIBUTES/VARIABLE_VALUE"
GLOBAL_STEP_2_15 = "estimator_global_step" + _VALUE
KERAS_DIR, KERAS_CKPT = "keras", "keras_model.ckpt"


def _relative_name(weight, layer_name):
  full = getattr(weight, "path", None) or weight.name.split(":")[0]
  parts = full.split("/")
  for i in range(len(parts) - 2, -1, -1):
    if parts[i] == layer_name:
      return "/".join(parts[i + 1:])
  return parts[-1]


def object_prefixes(model: Any) -> dict[str, str]:
  """{graph variable name: 2.15 object path} for the model's weights."""
  out: dict[str, str] = {}

  def walk(container, prefix):
    index = 0
    for layer in container.layers:
      weights = layer.weights
      if not weights:
        continue
      path = f"{prefix}layer_with_weights-{index}"
      index += 1
      if hasattr(layer, "layers") and hasattr(layer,
                                              "get_weights") and (layer.layers):
        walk(layer, path + "/")
        continue
      for weight in weights:
        name = flavors_lib.tf_variable(weight).op.name
        out.setdefault(name, f"{path}/{_relative_name(weight, layer.name)}")

  walk(model, "")
  return out


def variable_keys(checkpoint_format: str,
                  model: Any,
                  optimizer: Any = None) -> dict[str, str]:
  """{graph variable name: checkpoint key} for every global variable that
  needs a key other than its graph name."""
  if checkpoint_format == SAVER:
    return {}
  prefixes = object_prefixes(model)
  keys = {name: prefix + _VALUE for name, prefix in prefixes.items()}
  if optimizer is not None and hasattr(optimizer, "get_slot_names"):
    for hyper, value in getattr(optimizer, "_hyper", {}).items():
      if isinstance(value, tf.Variable):
        keys[value.op.name] = f"optimizer/{hyper}{_VALUE}"
    by_name = {v.op.name: v for v in _v1.global_variables()}
    for name, prefix in prefixes.items():
      for slot in optimizer.get_slot_names():
        try:
          slot_var = optimizer.get_slot(by_name[name], slot)
        except (KeyError, ValueError):
          continue
        keys[slot_var.op.name] = (f"{prefix}/.OPTIMIZER_SLOT/optimizer/{slot}"
                                  f"{_VALUE}")
  return keys


class _KeyedSaver(_v1.train.Saver):
  """A Saver over custom keys that also restores tf.estimator 2.15's
  object-based checkpoints (global step under `estimator_global_step`).

  2.15 wrote object keys only; variables it had no key for (e.g. a Keras 3
  dropout's seed state) are initialized instead when restoring its files.
  """

  def __init__(self, var_list, **kwargs):
    super().__init__(var_list=var_list, **kwargs)
    step = _v1.train.get_global_step()
    fallback = {key: var for key, var in var_list.items() if _VALUE in key}
    if step is not None:
      fallback[GLOBAL_STEP_2_15] = step
    self._fallback = _v1.train.Saver(var_list=fallback, **kwargs)
    taken = {id(v) for v in fallback.values()}
    self._init_others = tf.group(
        *[v.initializer for v in var_list.values() if id(v) not in taken])

  def restore(self, sess, save_path):
    if save_path:
      reader = tf.train.load_checkpoint(save_path)
      if (not reader.has_tensor(tf.compat.v1.GraphKeys.GLOBAL_STEP) and
          reader.has_tensor(GLOBAL_STEP_2_15)):
        logging.info(
            "Restoring a tf.estimator 2.15 object-based checkpoint: "
            "%s", save_path)
        self._fallback.restore(sess, save_path)
        sess.run(self._init_others)
        return
    super().restore(sess, save_path)


def make_saver(keys: dict, config: RunConfig) -> tf.compat.v1.train.Saver:
  """A saver writing `keys` names (graph names for the other variables)."""
  var_list = {
      keys.get(var.op.name, var.op.name): var for var in _v1.global_variables()
  }
  return _KeyedSaver(
      var_list,
      sharded=True,
      max_to_keep=config.keep_checkpoint_max,
      keep_checkpoint_every_n_hours=config.keep_checkpoint_every_n_hours,
      save_relative_paths=True)


def keras_checkpoint_path(model_dir: str) -> str:
  return os.path.join(model_dir, KERAS_DIR, KERAS_CKPT)


def _fits(checkpoint, expected: dict) -> bool:
  """Whether `checkpoint` holds every key of `expected` with its shape."""
  try:
    reader = tf.train.load_checkpoint(checkpoint)
  except (tf.errors.NotFoundError, ValueError):
    return False
  shapes = reader.get_variable_to_shape_map()
  return all(key in shapes and list(shapes[key]) == list(shape)
             for key, shape in expected.items())


def write_first_checkpoint(model_dir: str,
                           keys_and_values: Mapping[str, Any]) -> str:
  """Writes `model_dir/keras/keras_model.ckpt` ({key: array}); keeps one
  that is already there and fits, as tf.estimator 2.15 kept the first.

  Returns:
    The checkpoint prefix.
  """
  path = keras_checkpoint_path(model_dir)
  existing = tf.train.latest_checkpoint(os.path.dirname(path))
  expected = {k: np.shape(v) for k, v in keys_and_values.items()}
  if existing and _fits(existing, expected):
    logging.info("Keeping the Keras weights already in %s.", existing)
    return existing
  if existing:
    logging.warning(
        "%s does not match the Keras model; rewriting it from the "
        "model's current weights.", existing)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  checkpoints.write_values(path, keys_and_values)
  logging.info("Saved the Keras model's weights to %s.", path)
  return path
