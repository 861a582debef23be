"""A 4-trial grid_search job for kill/resume tests: `grid_job.py MODEL_DIR`.

Prints the trial scores as JSON; 10 ms per training step so a test can
kill it mid-search.
"""
import json
import sys
import time

import numpy as np
import tensorflow as tf

import estweight
from estweight import driver
from support import models

X = np.linspace(-1, 1, 32).astype(np.float32)
Y = 2.0 * X


def model_fn(features, labels, mode, params):
  spec = models.scalar_model_fn(features, labels, mode, params)
  if mode != estweight.ModeKeys.TRAIN:
    return spec
  nap = tf.compat.v1.py_func(lambda: np.float32(time.sleep(0.01) or 0), [],
                             tf.float32)
  return spec._replace(train_op=tf.group(spec.train_op, nap))


def estimator_fn(params, run_config):
  return estweight.Estimator(
      model_fn, config=run_config.replace(log_step_count_steps=None,
                                          tf_random_seed=1),
      params={"learning_rate": params["learning_rate"]})


def train_input(params):
  return tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).shuffle(
      32, seed=2).repeat().batch(params["batch_size"])


def eval_input():
  return tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).batch(16)


if __name__ == "__main__":
  result = driver.grid_search(
      estimator_fn, {"learning_rate": [0.01, 0.05], "batch_size": [4, 8]},
      train_input, eval_input, model_dir=sys.argv[1], metric="loss",
      mode="min", steps_per_iteration=10, max_steps=40)
  print(json.dumps([round(t["score"], 6) for t in result.trials]), flush=True)
