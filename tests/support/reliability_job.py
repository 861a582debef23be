"""Estimator.train or local train_and_evaluate as a job for the reliability
suite: `reliability_job.py train|train_and_evaluate MODEL_DIR`.

The scalar model on a noisy line, shuffled with a seed and repeated, 200
steps, checkpoints every 20 (each evaluated by train_and_evaluate). The
data order shows in the final variables (w is far from converged), so a
resumed run that read other batches ends with other numbers. Prints one
JSON line: the final global step, and train_and_evaluate's last evaluation.
A test kills it at a named point with ESTWEIGHT_KILL_AFTER
(estweight/runtime/faults.py).
"""
import json
import sys

import numpy as np
import tensorflow as tf

import estweight
from support import models

MAX_STEPS = 200
X = np.linspace(-1, 1, 64).astype(np.float32)
Y = 2.0 * X + 0.3 * np.sin(7 * X)


def train_input():
  return tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).shuffle(
      64, seed=3).repeat().batch(8)


def eval_input():
  return tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).batch(32)


def main(path, model_dir):
  est = estweight.Estimator(
      models.scalar_model_fn, model_dir=model_dir,
      params={"learning_rate": 0.02},
      config=estweight.RunConfig(save_checkpoints_steps=20,
                                 log_step_count_steps=None, tf_random_seed=5))
  out = {}
  if path == "train":
    est.train(train_input, max_steps=MAX_STEPS)
  elif path == "train_and_evaluate":
    result, _ = estweight.train_and_evaluate(
        est, estweight.TrainSpec(train_input, max_steps=MAX_STEPS),
        estweight.EvalSpec(eval_input, steps=None, start_delay_secs=0,
                           throttle_secs=0))
    out["eval"] = {k: (int(v) if k == "global_step" else float(v))
                   for k, v in sorted(result.items())}
  else:
    raise ValueError(f"Unknown path {path!r}.")
  out["global_step"] = int(est.get_variable_value("global_step"))
  print(json.dumps(out), flush=True)


if __name__ == "__main__":
  main(sys.argv[1], sys.argv[2])
