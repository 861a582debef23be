"""estweight on the anchor workload of ../shared/bench (same data, model).

Prints JSON lines: the iteration-loop figure (median seconds of one
train(100) + evaluate(10 batches) iteration of run_iterations, warm) and a
9-trial grid (lr x batch size, 5 iterations of 200 steps) run sequentially.
"""
import json
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import estweight  # noqa: E402

N, D = 20000, 30
rng = np.random.default_rng(0)
X = rng.normal(size=(N, D)).astype(np.float32)
logit = X @ rng.normal(size=(D,)).astype(np.float32) * 0.5 - 2.0
y = (rng.random(N) < 1 / (1 + np.exp(-logit))).astype(np.int64)
w = np.where(y == 1, 4.0, 1.0).astype(np.float32)
cols = [tf.feature_column.numeric_column("x", shape=[D])]


def tin(bs=256):
  return lambda: tf.data.Dataset.from_tensor_slices(
      ({"x": X, "w": w}, y)).shuffle(4096, seed=1).repeat().batch(bs)


def ein():
  return tf.data.Dataset.from_tensor_slices(
      ({"x": X[:2560], "w": w[:2560]}, y[:2560])).batch(256)


def make(lr=None):
  import tf_keras  # pylint: disable=g-import-not-at-top
  opt = "Adagrad" if lr is None else (
      lambda: tf_keras.optimizers.legacy.Adagrad(learning_rate=lr))
  return estweight.DNNClassifier(
      hidden_units=[64, 32], feature_columns=cols, weight_column="w",
      optimizer=opt, model_dir=tempfile.mkdtemp(),
      config=estweight.RunConfig(save_checkpoints_steps=100,
                                 tf_random_seed=1,
                                 log_step_count_steps=None))


def loop_figure(iterations=12):
  result = estweight.driver.run_iterations(
      make(), tin(), ein, steps_per_iteration=100,
      max_steps=100 * iterations, eval_steps=10)
  seconds = [h["seconds"] for h in result.history[2:]]  # after warm-up
  return float(np.median(seconds))


def grid_figure():
  start = time.perf_counter()
  best = None
  for lr in (0.01, 0.05, 0.1):
    for bs in (64, 128, 256):
      r = estweight.driver.run_iterations(
          make(lr), tin(bs), ein, steps_per_iteration=200, max_steps=1000)
      loss = r.history[-1]["metrics"]["loss"]
      if best is None or loss < best[0]:
        best = (loss, lr, bs)
  return time.perf_counter() - start, best


if __name__ == "__main__":
  print(json.dumps({"impl": "estweight", "figure":
                    "loop_iter_s(train100+eval10)",
                    "median_s": round(loop_figure(), 3)}), flush=True)
  wall, best = grid_figure()
  print(json.dumps({"impl": "estweight", "figure":
                    "grid_9_trials_x_5_iters_x_200_steps",
                    "wall_s": round(wall, 1), "best": best}), flush=True)
