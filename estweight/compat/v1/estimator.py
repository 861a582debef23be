"""The `tf.compat.v1.estimator` namespace: the v2 names plus `inputs`."""
# pylint: disable=wildcard-import,unused-wildcard-import,g-bad-import-order
from estweight._api import *  # noqa: F401,F403
from estweight.compat.v1 import experimental  # noqa: F401
from estweight import export  # noqa: F401
from estweight import inputs  # noqa: F401
from estweight import tpu  # noqa: F401

_V1_CANNED = frozenset(
    ("BaselineClassifier", "BaselineRegressor", "DNNClassifier",
     "DNNLinearCombinedClassifier", "DNNLinearCombinedRegressor",
     "DNNRegressor", "LinearClassifier", "LinearRegressor"))


def __dir__():
  from estweight import _api  # pylint: disable=g-import-not-at-top
  return _api.module_dir(globals(), _api.CANNED_NAMES)


def __getattr__(name):
  """Canned names load lazily; the classifiers and regressors are the v1
  variants (summed loss, tf.compat.v1.train optimizers, v1 metrics)."""
  if name in _V1_CANNED:
    from estweight.canned import v1  # pylint: disable=g-import-not-at-top
    return getattr(v1, name)
  from estweight import _api  # pylint: disable=g-import-not-at-top
  value = _api.lazy_canned(name)
  if value is None:
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
  return value
