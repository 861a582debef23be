"""A 4-trial grid_search job for kill/resume tests: `grid_job.py MODEL_DIR`.

Prints the trial scores as JSON. A test kills it at a named point with
ESTWEIGHT_KILL_AFTER (estweight/runtime/faults.py); with KILL_IN_TRIAL=<i>
as well, the kill point applies only while trial i trains or evaluates
(global steps restart in every trial).
"""
import json
import os
import sys

import numpy as np
import tensorflow as tf

import estweight
from estweight import driver
from estweight.runtime import faults
from support import models

X = np.linspace(-1, 1, 32).astype(np.float32)
Y = 2.0 * X
KILL_POINT = os.environ.get(faults.ENV)
KILL_TRIAL = os.environ.get("KILL_IN_TRIAL")


def _arm_kill_point(trial_dir):
  """Sets the kill point for the trial of `trial_dir` only."""
  if KILL_TRIAL is None:
    return
  if os.path.basename(trial_dir) == f"trial_{KILL_TRIAL}":
    os.environ[faults.ENV] = KILL_POINT
  else:
    os.environ.pop(faults.ENV, None)


def estimator_fn(params, run_config):
  _arm_kill_point(run_config.model_dir)
  return estweight.Estimator(
      models.scalar_model_fn,
      config=run_config.replace(log_step_count_steps=None, tf_random_seed=1),
      params={"learning_rate": params["learning_rate"]})


def train_input(params):
  return tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).shuffle(
      32, seed=2).repeat().batch(params["batch_size"])


def eval_input():
  return tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).batch(16)


if __name__ == "__main__":
  _arm_kill_point("")
  result = driver.grid_search(
      estimator_fn, {"learning_rate": [0.01, 0.05], "batch_size": [4, 8]},
      train_input, eval_input, model_dir=sys.argv[1], metric="loss",
      mode="min", steps_per_iteration=10, max_steps=40)
  print(json.dumps([t["score"] for t in result.trials]), flush=True)
