"""Class imbalance on real data: unweighted vs class-weighted vs focal.

Settings: imbalanced_breast_cancer_settings.py. Each variant trains the same
network with estweight.weights.make_weighted_model_fn and is evaluated on
the same held-out set; the table shows minority (malignant) recall and AUC.

    python examples/imbalanced_breast_cancer.py [--model_dir runs/imbalance]
"""
import argparse
import importlib.util
import os

import keras
import numpy as np
import tensorflow as tf
from sklearn import datasets

import estweight

HERE = os.path.dirname(os.path.abspath(__file__))


def load_config():
  path = os.path.join(HERE, "imbalanced_breast_cancer_settings.py")
  spec = importlib.util.spec_from_file_location("imbalance_config", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


def load_data(data_config):
  """(train_x, train_y), (test_x, test_y); y = 1 for malignant."""
  bunch = datasets.load_breast_cancer()
  x = bunch.data.astype(np.float32)
  y = (bunch.target == 0).astype(np.int64)  # sklearn: 0 = malignant
  rng = np.random.RandomState(data_config["seed"])
  pos, neg = rng.permutation(np.flatnonzero(y == 1)), rng.permutation(
      np.flatnonzero(y == 0))
  n_test = data_config["test_per_class"]
  test = np.concatenate([pos[:n_test], neg[:n_test]])
  train_neg = neg[n_test:]
  frac = data_config["train_positive_fraction"]
  n_pos = int(round(frac * len(train_neg) / (1 - frac)))
  train = rng.permutation(np.concatenate([pos[n_test:n_test + n_pos],
                                          train_neg]))
  mean, std = x[train].mean(0), x[train].std(0)
  scale = lambda idx: (x[idx] - mean) / std
  return (scale(train), y[train]), (scale(test), y[test])


def network_fn(features, params):
  net = features["x"]
  for i, units in enumerate(params["hidden_units"]):
    net = keras.layers.Dense(units, activation="relu", name=f"hidden_{i}")(net)
  return keras.layers.Dense(1, name="logits")(net)


def run(model_dir_base, config=None):
  """Trains every variant; returns {variant: metrics dict}."""
  config = config or load_config()
  (train_x, train_y), (test_x, test_y) = load_data(config["data"])
  train_cfg, model_cfg = config["train"], config["model"]

  def train_input_fn():
    return (tf.data.Dataset.from_tensor_slices(({"x": train_x}, train_y))
            .shuffle(len(train_y), seed=1).repeat()
            .batch(train_cfg["batch_size"]))

  def eval_input_fn():
    return tf.data.Dataset.from_tensor_slices(
        ({"x": test_x}, test_y)).batch(64)

  results = {}
  for name, variant in config["variants"].items():
    class_weight = variant.get("class_weight")
    model_fn = estweight.weights.make_weighted_model_fn(
        network_fn, loss=variant["loss"], class_weight=class_weight,
        loss_options=variant.get("loss_options"),
        optimizer=model_cfg["optimizer"],
        learning_rate=model_cfg["learning_rate"],
        metrics=["auc", "recall", "precision", "accuracy",
                 "average_loss"])
    est = estweight.Estimator(
        model_fn, model_dir=os.path.join(model_dir_base, name),
        params={"hidden_units": model_cfg["hidden_units"]},
        config=estweight.RunConfig(
            tf_random_seed=train_cfg["tf_random_seed"],
            log_step_count_steps=None))
    est.train(train_input_fn, max_steps=train_cfg["steps"])
    results[name] = est.evaluate(eval_input_fn)
  return results, {"train_positives": int(train_y.sum()),
                   "train_size": len(train_y),
                   "test_positives": int(test_y.sum()),
                   "test_size": len(test_y)}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--model_dir", default=os.path.join("runs", "imbalance"))
  args = parser.parse_args()
  results, sizes = run(args.model_dir)
  print(f"train: {sizes['train_positives']} malignant of "
        f"{sizes['train_size']}; held-out: {sizes['test_positives']} of "
        f"{sizes['test_size']}")
  print(f"{'variant':<16}{'recall':>8}{'auc':>8}{'precision':>11}")
  for name, m in results.items():
    print(f"{name:<16}{m['recall']:>8.3f}{m['auc']:>8.3f}"
          f"{m['precision']:>11.3f}")


if __name__ == "__main__":
  main()
