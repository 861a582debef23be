"""estweight: tf.estimator for TensorFlow 2.16+, with weighted training.

    import estweight
    estweight.install()          # legacy `tf.estimator` code now runs as is
    est = estweight.Estimator(model_fn, model_dir="runs/a")
    est.train(input_fn, steps=100)

`import estweight` is cheap: TensorFlow and the API load on the first use
of a name (`estweight.Estimator`, `estweight.install`, ...), so the command
line (`estweight.cli`) answers --help and refuses bad configs without
importing TensorFlow.
"""
import importlib as _importlib
import importlib.util  # noqa: F401  (makes _importlib.util available)
import os as _os
import typing as _typing

__version__ = "0.1.0"

# Subpackages, imported on first attribute access (or by `import
# estweight.<name>`).
_SUBMODULES = ("canned", "compat", "driver", "errors", "experimental", "export",
               "inputs", "keras", "weights")
_loaded = False

if _typing.TYPE_CHECKING:  # pragma: no cover
  # The lazily loaded names, for type checkers, IDEs and the API docs.
  # pylint: disable-next=wildcard-import,unused-wildcard-import
  from estweight._api import *  # noqa: F403
  from estweight.canned import *  # noqa: F403
  from estweight.compat import install  # noqa: F401
  from estweight.keras import model_to_estimator  # noqa: F401


def _check_installed_tensorflow():
  """An unsupported TensorFlow is refused at `import estweight`, from the
  installed distribution's metadata (TensorFlow itself is not imported)."""
  from importlib import metadata  # pylint: disable=g-import-not-at-top
  for dist in ("tensorflow", "tensorflow-cpu", "tensorflow-intel",
               "tensorflow-macos"):
    try:
      version = metadata.version(dist)
    except metadata.PackageNotFoundError:
      continue
    from estweight import _versions  # pylint: disable=g-import-not-at-top
    _versions.check_tensorflow(version, where=f"the {dist} distribution")
    return


_check_installed_tensorflow()


def _load():
  """Imports TensorFlow (checking its release) and the public API."""
  global _loaded  # pylint: disable=global-statement
  if _loaded:
    return
  try:
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
  except ImportError as e:  # pragma: no cover - depends on the install
    raise ImportError(
        "estweight needs TensorFlow 2.16 to 2.21. Install one flavour: "
        "`pip install estweight[tensorflow]` (full wheel), "
        "`pip install estweight[and-cuda]` (GPU), or for the small CPU wheel "
        "`pip install tensorflow-cpu && pip install --no-deps tf-keras`."
    ) from e
  from estweight import _versions  # pylint: disable=g-import-not-at-top
  _versions.check_tensorflow(tf.__version__,
                             where=_os.path.dirname(tf.__file__))
  from estweight import _api  # pylint: disable=g-import-not-at-top
  from estweight.compat import install  # pylint: disable=g-import-not-at-top
  names = {name: getattr(_api, name) for name in _api.__all__}
  names["install"] = install
  globals().update(names)
  _loaded = True


def __dir__():
  from estweight import _api  # pylint: disable=g-import-not-at-top
  return _api.module_dir(
      globals(),
      tuple(_api.__all__) + ("install",) + _api.CANNED_NAMES +
      _api.KERAS_NAMES + _SUBMODULES)


def __getattr__(name):
  if name.startswith("_"):  # submodules (`from estweight import _api`) and
    # dunder probes: the import system handles them, TensorFlow stays out.
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
  if name not in _SUBMODULES and _importlib.util.find_spec(
      f"{__name__}.{name}") is not None:
    # An internal module (`from estweight import validation` while the API
    # itself is loading): import just it, without loading the API first.
    return _importlib.import_module(f"{__name__}.{name}")
  if name in _SUBMODULES:
    _load()
    return _importlib.import_module(f"estweight.{name}")
  _load()
  if name in globals():
    return globals()[name]
  from estweight import _api  # pylint: disable=g-import-not-at-top
  value = _api.lazy_canned(name)
  if value is None:
    value = _api.lazy_keras(name)
  if value is None:
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
  return value
