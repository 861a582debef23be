"""Seed 000, example 3: a custom model_fn with a weighted sigmoid loss.

Written with TF1 names (`tf.layers`, `tf.train.AdamOptimizer`,
`tf.metrics.accuracy`) through `tensorflow.compat.v1`; the only addition is
`estweight.install()`. The seed's elided parts (network, data, input_fn) are
filled in as its earlier examples define them; `weights` (2 for class 0,
1 for class 1) ride in the features dict, as the seed intends.
"""
import numpy as np

import estweight

estweight.install()
import tensorflow.compat.v1 as tf  # noqa: E402  (after install, as legacy code)


def weighted_loss(labels, predictions, weights):
  loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
      labels=labels, logits=predictions) * weights)
  return loss


def model_fn(features, labels, mode, params):
  net = tf.layers.dense(features["x"], 16, activation=tf.nn.relu)
  predictions = tf.layers.dense(net, 1)

  if mode == tf.estimator.ModeKeys.PREDICT:
    return tf.estimator.EstimatorSpec(mode, predictions=predictions)

  weights = features["weights"]
  loss = weighted_loss(labels, predictions, weights)

  if mode == tf.estimator.ModeKeys.TRAIN:
    optimizer = tf.train.AdamOptimizer(learning_rate=params["learning_rate"])
    train_op = optimizer.minimize(loss, tf.train.get_global_step())
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)

  eval_metric_ops = {"accuracy": tf.metrics.accuracy(
      labels, tf.round(tf.sigmoid(predictions)))}
  return tf.estimator.EstimatorSpec(mode, loss=loss,
                                    eval_metric_ops=eval_metric_ops)


def make_data(seed=0, n=100):
  rng = np.random.RandomState(seed)
  X = rng.rand(n, 10).astype(np.float32)
  # A learnable rule, so accuracy means something.
  y = (X[:, :3].sum(axis=1, keepdims=True) > 1.5).astype(np.float32)
  weights = np.where(y == 0, 2.0, 1.0).astype(np.float32)
  return X, y, weights


def weighted_input_fn(features, labels, batch_size=32, repeat=True):
  dataset = tf.data.Dataset.from_tensor_slices((features, labels))
  if repeat:
    dataset = dataset.shuffle(buffer_size=100).repeat()
  return dataset.batch(batch_size)


def run(model_dir, steps=1000):
  X, y, weights = make_data()
  estimator = tf.estimator.Estimator(
      model_fn=model_fn, model_dir=model_dir,
      params={"learning_rate": 0.01},
      config=tf.estimator.RunConfig(tf_random_seed=0))
  features = {"x": X, "weights": weights}
  estimator.train(input_fn=lambda: weighted_input_fn(features, y, 32),
                  steps=steps)
  return estimator, estimator.evaluate(
      input_fn=lambda: weighted_input_fn(features, y, 100, repeat=False))


if __name__ == "__main__":
  import sys
  import tempfile
  steps = [int(a.split("=")[1]) for a in sys.argv[1:] if a.startswith("--steps=")]
  _, metrics = run(tempfile.mkdtemp(), *steps)
  print(metrics)
