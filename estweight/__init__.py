"""estweight: tf.estimator for TensorFlow 2.16+, with weighted training.

    import estweight
    estweight.install()          # legacy `tf.estimator` code now runs as is
    est = estweight.Estimator(model_fn, model_dir="runs/a")
    est.train(input_fn, steps=100)
"""
# pylint: disable=wildcard-import,g-bad-import-order
import os as _os

try:
  import tensorflow as _tf  # noqa: F401
except ImportError as _e:  # pragma: no cover - depends on the install
  raise ImportError(
      "estweight needs TensorFlow 2.16 to 2.21. Install one flavour: "
      "`pip install estweight[tensorflow]` (full wheel), "
      "`pip install estweight[and-cuda]` (GPU), or for the small CPU wheel "
      "`pip install tensorflow-cpu && pip install --no-deps tf-keras`.") from _e

from estweight._versions import check_tensorflow as _check_tensorflow
_check_tensorflow(_tf.__version__, where=_os.path.dirname(_tf.__file__))

from estweight._api import *  # noqa: F401,F403
from estweight import errors  # noqa: F401
from estweight import experimental  # noqa: F401
from estweight import export  # noqa: F401
from estweight import inputs  # noqa: F401
from estweight.compat import install  # noqa: F401

__version__ = "0.1.0"


def __dir__():
  from estweight import _api  # pylint: disable=g-import-not-at-top
  return _api.module_dir(
      globals(), _api.CANNED_NAMES + _api.KERAS_NAMES +
      ("weights", "canned", "driver", "keras"))


def __getattr__(name):
  if name in ("weights", "canned", "driver", "keras"):  # loaded on first use
    import importlib  # pylint: disable=g-import-not-at-top
    return importlib.import_module(f"estweight.{name}")
  from estweight import _api  # pylint: disable=g-import-not-at-top
  value = _api.lazy_canned(name)
  if value is None:
    value = _api.lazy_keras(name)
  if value is None:
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
  return value
