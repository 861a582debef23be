"""`tf.keras.estimator` after `estweight.install()`: model_to_estimator."""


def model_to_estimator(*args, **kwargs):
  """`estweight.model_to_estimator` (loads the Keras bridge on first use)."""
  from estweight import keras as keras_bridge  # pylint: disable=g-import-not-at-top
  return keras_bridge.model_to_estimator(*args, **kwargs)
