"""estweight demo: a weighted custom Estimator on real, imbalanced data.

Data: scikit-learn's bundled Wisconsin breast-cancer set (569 examples, no
download), malignant cases subsampled so they are ~10% of the data. Each
example carries a class weight n / (2 * count(class)) in the features dict,
read by a tf.estimator-style model_fn. Trains, evaluates, predicts; rerun it
and it resumes from its model_dir.

    python examples/demo.py [--model_dir runs/demo] [--steps 600]
"""
import argparse
import os

import numpy as np
import tensorflow as tf
from absl import logging
from sklearn import datasets

import estweight

v1 = tf.compat.v1


def load_data(seed=0):
  data = datasets.load_breast_cancer()
  x = data.data.astype(np.float32)
  y = (data.target == 0).astype(np.float32)  # 1 = malignant (minority)
  rng = np.random.default_rng(seed)
  pos = np.flatnonzero(y == 1)
  neg = np.flatnonzero(y == 0)
  keep = np.concatenate([neg, rng.choice(pos, size=len(neg) // 9,
                                         replace=False)])
  rng.shuffle(keep)
  x, y = x[keep], y[keep]
  x = (x - x.mean(0)) / x.std(0)
  test = np.arange(len(y)) % 4 == 0
  counts = np.bincount(y[~test].astype(int), minlength=2)
  class_weight = len(y[~test]) / (2.0 * counts)
  w = class_weight[y.astype(int)].astype(np.float32)
  split = lambda m: ({"x": x[m], "weight": w[m]}, y[m, None])
  return split(~test), split(test), class_weight


def model_fn(features, labels, mode, params):
  net = features["x"]
  for units in params["hidden_units"]:
    net = estweight.compat.v1.layers.dense(net, units, activation=tf.nn.relu)
  logits = estweight.compat.v1.layers.dense(net, 1, name="logits")
  probability = tf.sigmoid(logits)
  if mode == estweight.ModeKeys.PREDICT:
    return estweight.EstimatorSpec(mode, predictions={
        "probability": probability,
        "class_id": tf.cast(probability > 0.5, tf.int64)})
  weight = tf.reshape(features["weight"], [-1, 1])
  per_example = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels,
                                                        logits=logits)
  # Weighted mean: sum(w * loss) / sum(w).
  loss = tf.reduce_sum(per_example * weight) / tf.reduce_sum(weight)
  if mode == estweight.ModeKeys.TRAIN:
    optimizer = v1.train.AdagradOptimizer(params["learning_rate"])
    train_op = optimizer.minimize(loss, v1.train.get_global_step())
    return estweight.EstimatorSpec(mode, loss=loss, train_op=train_op)
  predicted = tf.cast(probability > 0.5, tf.float32)
  metrics = {
      "accuracy": v1.metrics.accuracy(labels, predicted),
      "weighted_accuracy": v1.metrics.accuracy(labels, predicted,
                                               weights=weight),
      "auc": _keras_auc(labels, probability),
      "recall": v1.metrics.recall(labels, predicted),
      "precision": v1.metrics.precision(labels, predicted),
  }
  return estweight.EstimatorSpec(mode, loss=loss, eval_metric_ops=metrics)


def _keras_auc(labels, probability):
  # A Keras metric object works in eval_metric_ops too.
  auc = tf.keras.metrics.AUC(num_thresholds=200)
  auc.update_state(labels, probability)
  return auc


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--model_dir", default=os.path.join("runs", "demo"))
  parser.add_argument("--steps", type=int, default=600)
  args = parser.parse_args()
  logging.set_verbosity(logging.INFO)

  (train_x, train_y), (test_x, test_y), class_weight = load_data()
  print(f"train: {len(train_y)} examples, {int(train_y.sum())} malignant; "
        f"class weights {np.round(class_weight, 3).tolist()}")

  def train_input_fn():
    return (tf.data.Dataset.from_tensor_slices((train_x, train_y))
            .shuffle(512, seed=1).repeat().batch(32))

  def eval_input_fn():
    return tf.data.Dataset.from_tensor_slices((test_x, test_y)).batch(64)

  estimator = estweight.Estimator(
      model_fn, model_dir=args.model_dir,
      config=estweight.RunConfig(tf_random_seed=7, save_checkpoints_steps=200),
      params={"hidden_units": [32, 16], "learning_rate": 0.1})
  estimator.train(train_input_fn, max_steps=args.steps)
  metrics = estimator.evaluate(eval_input_fn)
  print(f"\nEvaluation at global step {metrics['global_step']} "
        f"({len(test_y)} held-out examples):")
  for key in sorted(metrics):
    if key != "global_step":
      print(f"  {key:<18} {metrics[key]:.4f}")
  predictions = list(estimator.predict(
      lambda: tf.data.Dataset.from_tensor_slices(
          {k: v[:5] for k, v in test_x.items()}).batch(5)))
  print("\nFirst 5 held-out predictions (label, probability):")
  for label, p in zip(test_y[:5, 0], predictions):
    print(f"  {int(label)}  {p['probability'][0]:.3f}")
  print(f"\nmodel_dir: {args.model_dir} (rerun to resume; "
        f"latest checkpoint {os.path.basename(estimator.latest_checkpoint())})")


if __name__ == "__main__":
  main()
