"""estweight.compat.v1: what `tf.compat.v1.estimator` and `tf.compat.v1.layers`
resolve to after `estweight.install()`. Submodules load lazily (the layers
shim imports tf_keras)."""
import importlib

_SUBMODULES = ("estimator", "layers")


def __getattr__(name):
  if name in _SUBMODULES:
    return importlib.import_module(f"{__name__}.{name}")
  raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
