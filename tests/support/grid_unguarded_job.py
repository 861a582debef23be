"""A script calling grid_search(workers=2) WITHOUT `if __name__ == "__main__":`.

Every spawned worker re-runs this top level; the search must fail with the
workers' error instead of respawning them forever. Prints FINISHED if the
search ever returns (it must not). `grid_unguarded_job.py MODEL_DIR`.
"""
import sys

import numpy as np
import tensorflow as tf

import estweight
from estweight import driver

v1 = tf.compat.v1
X = np.linspace(-1, 1, 16).astype(np.float32)


def model_fn(features, labels, mode, params):
  w = v1.get_variable("w", [], initializer=v1.zeros_initializer())
  loss = tf.reduce_mean(tf.square(w * features["x"] - labels))
  optimizer = v1.train.GradientDescentOptimizer(params["learning_rate"])
  train_op = optimizer.minimize(loss,
                                global_step=v1.train.get_global_step())
  return estweight.EstimatorSpec(mode, loss=loss, train_op=train_op)


def estimator_fn(params, run_config):
  return estweight.Estimator(model_fn, config=run_config, params=params)


def input_fn():
  return tf.data.Dataset.from_tensor_slices(({"x": X}, 2 * X)).batch(4)


driver.grid_search(estimator_fn, {"learning_rate": [0.01, 0.1]}, input_fn,
                   input_fn, model_dir=sys.argv[1], metric="loss", mode="min",
                   steps_per_iteration=2, max_steps=4, workers=2)
print("FINISHED", flush=True)
