"""run_iterations as a job for kill/resume tests: `driver_job.py MODEL_DIR`.

Prints one JSON line with the final history steps, global step and early
stopping decision. Sleeps a little per step so a test can kill it mid-run.
"""
import json
import sys
import time

import numpy as np
import tensorflow as tf

import estweight
from estweight import driver
from support import models

X = np.linspace(-1, 1, 64).astype(np.float32)
Y = 2.0 * X + 0.3 * np.sin(7 * X)


def train_input():
  return tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).shuffle(
      64, seed=3).repeat().batch(8)


def eval_input():
  return tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).batch(32)


def main(model_dir):
  def model_fn(features, labels, mode, params):
    spec = models.scalar_model_fn(features, labels, mode, params)
    if mode != estweight.ModeKeys.TRAIN:
      return spec
    # 10 ms per step, so a test can kill the job mid-iteration.
    nap = tf.compat.v1.py_func(lambda: np.float32(time.sleep(0.01) or 0), [],
                               tf.float32)
    return spec._replace(train_op=tf.group(spec.train_op, nap))

  est = estweight.Estimator(
      model_fn, model_dir=model_dir, params={"learning_rate": 0.02},
      config=estweight.RunConfig(log_step_count_steps=None,
                                 tf_random_seed=5))
  result = driver.run_iterations(
      est, train_input, eval_input, steps_per_iteration=10, max_steps=200,
      early_stopping=driver.EarlyStopping("loss", "min", patience=2,
                                          min_delta=0.02))
  print(json.dumps({
      "steps": [h["global_step"] for h in result.history],
      "losses": [round(h["metrics"]["loss"], 6) for h in result.history],
      "global_step": result.global_step,
      "stopped_early": result.stopped_early}), flush=True)


if __name__ == "__main__":
  main(sys.argv[1])
