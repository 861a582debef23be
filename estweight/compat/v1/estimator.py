"""The `tf.compat.v1.estimator` namespace: the v2 names plus `inputs`."""
# pylint: disable=wildcard-import,unused-wildcard-import,g-bad-import-order
from estweight._api import *  # noqa: F401,F403
from estweight import experimental  # noqa: F401
from estweight import export  # noqa: F401
from estweight import inputs  # noqa: F401
