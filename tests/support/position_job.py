"""`python position_job.py MODEL_DIR MAX_STEPS`: one Estimator.train call to
MAX_STEPS on a shuffled, seeded input (a kill point comes from
ESTWEIGHT_KILL_AFTER); prints the final variables as JSON."""
import json
import sys

import numpy as np
import tensorflow as tf

import estweight


def input_fn():
  rng = np.random.RandomState(0)
  x = rng.normal(size=(200, 3)).astype(np.float32)
  y = (x @ [1.0, -2.0, 0.5] > 0.2).astype(np.int32)
  w = np.where(y == 1, 3.0, 1.0).astype(np.float32)
  ds = tf.data.Dataset.from_tensor_slices(({"x": x, "w": w}, y))
  return ds.shuffle(64, seed=7).repeat().batch(8)


def estimator(model_dir):
  return estweight.DNNClassifier(
      hidden_units=[4], weight_column="w", model_dir=model_dir,
      feature_columns=[tf.feature_column.numeric_column("x", shape=(3,))],
      config=estweight.RunConfig(save_checkpoints_steps=50, tf_random_seed=3))


def main(model_dir, max_steps):
  est = estimator(model_dir)
  est.train(input_fn, max_steps=max_steps)
  print(json.dumps({n: est.get_variable_value(n).tolist()
                    for n in est.get_variable_names()}), flush=True)


if __name__ == "__main__":
  main(sys.argv[1], int(sys.argv[2]))
