"""model_to_estimator: train a compiled Keras model as an Estimator.

`estweight.model_to_estimator` (and `tf.keras.estimator.model_to_estimator`
after `estweight.install()`) loads this package on first use, so plain
estimators never import Keras.
"""
from estweight.keras.convert import load_keras_model
from estweight.keras.convert import model_to_estimator

__all__ = [
    "load_keras_model",
    "model_to_estimator",
]
