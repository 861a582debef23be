"""`tf.keras.estimator` after `estweight.install()`: model_to_estimator."""
from __future__ import annotations

# Private names only: this module is the `tf.keras.estimator` namespace.
import typing as _typing

if _typing.TYPE_CHECKING:
  from typing import Any

  from estweight.estimator import Estimator


def model_to_estimator(*args: Any, **kwargs: Any) -> Estimator:
  """`estweight.model_to_estimator` (loads the Keras bridge on first use)."""
  from estweight import keras as keras_bridge  # pylint: disable=g-import-not-at-top
  return keras_bridge.model_to_estimator(*args, **kwargs)
