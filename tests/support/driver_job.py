"""run_iterations as a job for kill/resume tests: `driver_job.py MODEL_DIR`.

Prints one JSON line with the final history steps and losses, global step
and early stopping decision (uninterrupted: stops early at step 140). A test
kills it at a named point with ESTWEIGHT_KILL_AFTER
(estweight/runtime/faults.py).
"""
import json
import sys

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
  est = estweight.Estimator(
      models.scalar_model_fn, model_dir=model_dir,
      params={"learning_rate": 0.02},
      config=estweight.RunConfig(log_step_count_steps=None,
                                 tf_random_seed=5))
  result = driver.run_iterations(
      est, train_input, eval_input, steps_per_iteration=10, max_steps=200,
      early_stopping=driver.EarlyStopping("loss", "min", patience=2,
                                          min_delta=0.02))
  print(json.dumps({
      "steps": [h["global_step"] for h in result.history],
      "losses": [h["metrics"]["loss"] for h in result.history],
      "global_step": result.global_step,
      "stopped_early": result.stopped_early}), flush=True)


if __name__ == "__main__":
  main(sys.argv[1])
