"""A weighted DNNClassifier trained by every task of a TF_CONFIG cluster.

Run the same program in every process, each with its own TF_CONFIG (see
launch_loopback.sh): the chief and workers train, the ps tasks hold the
variables, the evaluator evaluates each new checkpoint. Every process exits
by itself when training is done.

  python train.py MODEL_DIR [MAX_STEPS]
"""
import sys

import numpy as np
import tensorflow as tf

import estweight


def input_fn():
  rng = np.random.RandomState(0)
  x = rng.normal(size=(4096, 8)).astype(np.float32)
  y = (x[:, 0] + 0.5 * x[:, 1] > 1.0).astype(np.int32)  # about 1 in 5
  w = np.where(y == 1, 4.0, 1.0).astype(np.float32)  # weight the rare class
  ds = tf.data.Dataset.from_tensor_slices(({"x": x, "w": w}, y))
  return ds.shuffle(4096, seed=1).repeat().batch(64)


def main(model_dir, max_steps=2000):
  est = estweight.DNNClassifier(
      hidden_units=[64, 32],
      feature_columns=[tf.feature_column.numeric_column("x", shape=(8,))],
      weight_column="w", model_dir=model_dir,
      config=estweight.RunConfig(save_checkpoints_steps=500,
                                 session_creation_timeout_secs=120))
  out = estweight.train_and_evaluate(
      est, estweight.TrainSpec(input_fn, max_steps=max_steps),
      estweight.EvalSpec(lambda: input_fn().take(20), steps=20,
                         start_delay_secs=0, throttle_secs=5))
  if out is not None:  # the evaluator (or a 'master' task)
    print({k: round(float(v), 4) for k, v in out[0].items()})


if __name__ == "__main__":
  main(sys.argv[1], *map(int, sys.argv[2:]))
