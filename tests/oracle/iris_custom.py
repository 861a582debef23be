"""The TF getting-started custom iris Estimator, in its tf.compat.v1 form.

Runs unchanged on tf.estimator 2.15 (oracle venv) and on estweight after
`estweight.install()`. Data: scikit-learn's bundled iris (no download);
every fifth example is held out for evaluation.
"""
import random

import numpy as np
import tensorflow.compat.v1 as tf
from sklearn import datasets

FEATURES = ["SepalLength", "SepalWidth", "PetalLength", "PetalWidth"]
SEED = 42
BATCH = 32
STEPS = 400


def load():
  data = datasets.load_iris()
  x = data.data.astype(np.float32)
  y = data.target.astype(np.int32)
  test = np.arange(len(y)) % 5 == 0
  split = lambda m: ({k: x[m, i] for i, k in enumerate(FEATURES)}, y[m])
  return split(~test), split(test)


def train_input_fn(features, labels, batch_size):
  dataset = tf.data.Dataset.from_tensor_slices((dict(features), labels))
  return dataset.shuffle(1000).repeat().batch(batch_size)


def eval_input_fn(features, labels, batch_size):
  dataset = tf.data.Dataset.from_tensor_slices((dict(features), labels))
  return dataset.batch(batch_size)


def my_model(features, labels, mode, params):
  net = tf.feature_column.input_layer(features, params["feature_columns"])
  for units in params["hidden_units"]:
    net = tf.layers.dense(net, units=units, activation=tf.nn.relu)
  logits = tf.layers.dense(net, params["n_classes"], activation=None)
  predicted_classes = tf.argmax(logits, 1)
  if mode == tf.estimator.ModeKeys.PREDICT:
    predictions = {
        "class_ids": predicted_classes[:, tf.newaxis],
        "probabilities": tf.nn.softmax(logits),
        "logits": logits,
    }
    return tf.estimator.EstimatorSpec(mode, predictions=predictions)
  loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
  accuracy = tf.metrics.accuracy(labels=labels, predictions=predicted_classes,
                                 name="acc_op")
  metrics = {"accuracy": accuracy}
  tf.summary.scalar("accuracy", accuracy[1])
  if mode == tf.estimator.ModeKeys.EVAL:
    return tf.estimator.EstimatorSpec(mode, loss=loss,
                                      eval_metric_ops=metrics)
  assert mode == tf.estimator.ModeKeys.TRAIN
  optimizer = tf.train.AdagradOptimizer(learning_rate=0.1)
  train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
  return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)


def run(model_dir):
  """Trains STEPS steps, evaluates, predicts the held-out set.

  tf.compat.v1.layers initializers take their seeds from Python's `random`
  (TF 2.15 and tf_keras alike); seeding it makes the 2.15 run reproducible.
  estweight draws them from `random.Random(tf_random_seed)` by itself.
  """
  random.seed(SEED)
  (train_x, train_y), (test_x, test_y) = load()
  columns = [tf.feature_column.numeric_column(key=k) for k in FEATURES]
  classifier = tf.estimator.Estimator(
      model_fn=my_model, model_dir=model_dir,
      config=tf.estimator.RunConfig(tf_random_seed=SEED),
      params={"feature_columns": columns, "hidden_units": [10, 10],
              "n_classes": 3})
  classifier.train(input_fn=lambda: train_input_fn(train_x, train_y, BATCH),
                   steps=STEPS)
  result = classifier.evaluate(
      input_fn=lambda: eval_input_fn(test_x, test_y, BATCH))
  predictions = list(classifier.predict(
      input_fn=lambda: eval_input_fn(test_x, None, BATCH)))
  return {
      "accuracy": float(result["accuracy"]),
      "loss": float(result["loss"]),
      "global_step": int(result["global_step"]),
      "class_ids": [int(p["class_ids"][0]) for p in predictions],
      "first_probabilities": [float(v) for v in predictions[0]["probabilities"]],
      "first_kernel": [float(v) for v in classifier.get_variable_value(
          "dense/kernel").ravel()[:5]],
  }
