"""One task of a loopback cluster: `python cluster_job.py MODEL_DIR MAX_STEPS`.

TF_CONFIG (set by the test) says which task this process is. Every task runs
the same program: a weighted DNNClassifier through train_and_evaluate. It
prints `STEP <global step>` after each of its training steps (a test kills
a task at a named step) and, at the end, one JSON line: its task, the eval
result it returned (the evaluator's) and the steps it ran.
"""
import faulthandler
import json
import os
import signal
import sys
import time

import numpy as np
import tensorflow as tf

import estweight


class Announce(estweight.SessionRunHook):
  """Prints `CREATED <global step>` when the session is ready and
  `STEP <global step>` after each step of this task (read in the same run as
  the step's increment: the value before or after it). With HOLD_AT_STEP and
  HOLD_FILE set, the task holds after a step from HOLD_AT_STEP on until
  HOLD_FILE exists (a test's named phase)."""

  def __init__(self):
    self.steps = 0
    self._hold_at = int(os.environ.get("HOLD_AT_STEP", "0")) or None
    self._hold_file = os.environ.get("HOLD_FILE")

  def begin(self):
    self._step = tf.compat.v1.train.get_global_step()

  def after_create_session(self, session, coord):
    print(f"CREATED {session.run(self._step)}", flush=True)

  def before_run(self, run_context):
    return estweight.SessionRunArgs(self._step)

  def after_run(self, run_context, run_values):
    self.steps += 1
    print(f"STEP {run_values.results}", flush=True)
    if self._hold_at is not None and run_values.results >= self._hold_at:
      print(f"HOLD {run_values.results}", flush=True)
      while not os.path.exists(self._hold_file):
        time.sleep(0.05)
      self._hold_at = None


def input_fn():
  rng = np.random.RandomState(0)
  x = rng.normal(size=(256, 2)).astype(np.float32)
  y = (x[:, 0] + 0.5 * x[:, 1] > 0.3).astype(np.int32)
  w = np.where(y == 1, 2.0, 1.0).astype(np.float32)
  ds = tf.data.Dataset.from_tensor_slices(({"x": x, "w": w}, y))
  return ds.repeat().batch(16)


def main(model_dir, max_steps):
  faulthandler.register(signal.SIGUSR1)  # stacks on demand, for debugging
  timeout = int(os.environ.get("SESSION_TIMEOUT", "60"))
  est = estweight.DNNClassifier(
      hidden_units=[8], feature_columns=[
          tf.feature_column.numeric_column("x", shape=(2,))],
      weight_column="w", model_dir=model_dir,
      config=estweight.RunConfig(
          save_checkpoints_steps=50, tf_random_seed=1,
          session_creation_timeout_secs=timeout))
  announce = Announce()
  out = estweight.train_and_evaluate(
      est, estweight.TrainSpec(input_fn, max_steps=max_steps,
                               hooks=[announce]),
      estweight.EvalSpec(lambda: input_fn().take(4), steps=4,
                         start_delay_secs=0, throttle_secs=0))
  result = None
  if out is not None:
    result = {k: (float(v) if k != "global_step" else int(v))
              for k, v in out[0].items()}
  print(json.dumps({"task": est.config.task_type, "index": est.config.task_id,
                    "result": result, "steps": getattr(announce, "steps",
                                                       0)}), flush=True)


if __name__ == "__main__":
  main(sys.argv[1], int(sys.argv[2]))
