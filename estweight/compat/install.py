"""install(): make legacy `tf.estimator` code find estweight."""
from __future__ import annotations

import importlib
import importlib.util
import sys

from estweight import _logging as logging


def _resolves(module, name: str, probe: str) -> bool:
  """True if `module.<name>.<probe>` is real (not missing, not a Keras 3 stub)."""
  try:
    getattr(getattr(module, name), probe)
    return True
  except (AttributeError, ImportError):
    return False


def _is_ours(module, name: str) -> bool:
  value = module.__dict__.get(name) if hasattr(module, "__dict__") else None
  return getattr(value, "__name__", "").startswith("estweight")


def _alias(name, module):
  """Registers `module` and its loaded subpackages under the dotted `name`,
  so `from <name>.inputs import numpy_input_fn` finds them (and does not
  import them a second time under the new name)."""
  sys.modules[name] = module
  for sub in ("export", "experimental", "inputs"):
    value = getattr(module, sub, None)
    if getattr(value, "__name__", "").startswith("estweight"):
      sys.modules[f"{name}.{sub}"] = value


def _unique(objs):
  seen, out = set(), []
  for obj in objs:
    if obj is not None and id(obj) not in seen:
      seen.add(id(obj))
      out.append(obj)
  return out


def install() -> list[str]:
  """Points `tf.estimator`, `tf.compat.v1.estimator`, `tf.compat.v1.layers`
  and `tf.keras.estimator` (model_to_estimator) at estweight.

  After it, legacy code runs unchanged: `tf.estimator.Estimator(...)`,
  `tf.compat.v1.estimator.inputs.numpy_input_fn(...)`,
  `tf.compat.v1.layers.dense(...)`, also through
  `import tensorflow.compat.v1 as tf` done before or after the call. Names
  TensorFlow still provides itself (tf.estimator on TF <= 2.15) are left
  alone. Safe to call repeatedly. Python's logging setup is left alone (no
  handler is added; see estweight/_logging.py), so TensorFlow's lines print
  once.

  Returns:
    The dotted names that now resolve to estweight.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import estweight  # pylint: disable=g-import-not-at-top

  # Importing tf_keras (behind the layers shim) rebuilds `tf.compat`; code
  # that already holds the old `tf.compat.v1` object must be patched too.
  early_v1 = [tf.compat.v1, sys.modules.get("tensorflow.compat.v1")]
  early_v2 = [getattr(tf.compat, "v2", None)]
  v1_layers = importlib.import_module("estweight.compat.v1.layers")
  v1_estimator = importlib.import_module("estweight.compat.v1.estimator")
  v1_modules = _unique(
      early_v1 +
      [tf.compat.v1, sys.modules.get("tensorflow.compat.v1")])
  v2_modules = _unique(early_v2 + [getattr(tf.compat, "v2", None)])

  done = []
  if _is_ours(tf, "estimator") or not _resolves(tf, "estimator", "Estimator"):
    for module in [tf] + v2_modules:
      setattr(module, "estimator", estweight)
    _alias("tensorflow.estimator", estweight)
    done.append("tf.estimator")
  for name, value, probe in (("estimator", v1_estimator, "Estimator"),
                             ("layers", v1_layers, "dense")):
    primary = v1_modules[0]
    if _is_ours(primary, name) or not _resolves(primary, name, probe):
      for module in v1_modules:
        setattr(module, name, value)
      _alias(f"tensorflow.compat.v1.{name}", value)
      done.append(f"tf.compat.v1.{name}")
  # Keras 3 has no estimator module, and tf_keras's (tf.keras under
  # TF_USE_LEGACY_KERAS=1) needs tensorflow_estimator, which TF >= 2.16 lacks:
  # give `tf.keras.estimator.model_to_estimator` (seed 004's spelling) to
  # estweight's.
  keras_ns = getattr(tf, "keras", None)
  if keras_ns is not None and (
      _is_ours(keras_ns, "estimator") or not hasattr(keras_ns, "estimator") or
      importlib.util.find_spec("tensorflow_estimator") is None):
    setattr(keras_ns, "estimator",
            importlib.import_module("estweight.compat.keras_estimator"))
    done.append("tf.keras.estimator")
  if done:
    logging.info("estweight.install(): %s now resolve to estweight.",
                 ", ".join(done))
  return done
