"""A small custom model_fn with explicit export_outputs; runs on both sides.

Importable on tf.estimator 2.15 (oracle venv) and on estweight after
`estweight.install()`: `tf.estimator` is looked up when the model_fn runs,
and only tf.compat.v1 ops present in TF 2.21 are used.

The model is a single [3, 2] kernel `kernel` (no bias), initialized with
KERNEL_INIT; logits = x @ kernel over the feature `x` (float32, shape [3]).
PREDICT gives predictions {logits, probabilities, class_ids} and
export_outputs:

  serving_default: PredictOutput({'probabilities': probabilities})
  scores:          ClassificationOutput(scores=probabilities)
  value:           RegressionOutput(value=logits[:, 0])

TRAIN/EVAL use the mean sparse softmax cross entropy against binary labels
(int64, shape [n, 1]); TRAIN takes one GradientDescentOptimizer(0.1) step
per batch. The golden run (tests/oracle/gen_export.py) trains TRAIN_STEPS
step on train_input_fn() and records the trained kernel.
"""
import os
import sys

import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parity_cases  # noqa: E402  pylint: disable=g-import-not-at-top

KERNEL_INIT = np.array([[0.5, -0.25],
                        [-0.75, 0.5],
                        [0.125, 0.375]], np.float32)
LEARNING_RATE = 0.1
TRAIN_STEPS = 1


def model_fn(features, labels, mode):
  """logits = x @ kernel; see the module docstring."""
  keys = tf.estimator.ModeKeys
  kernel = tf.compat.v1.get_variable(
      "kernel", shape=[3, 2], dtype=tf.float32,
      initializer=tf.compat.v1.constant_initializer(KERNEL_INIT))
  logits = tf.linalg.matmul(features["x"], kernel)
  probabilities = tf.nn.softmax(logits)
  class_ids = tf.math.argmax(logits, axis=1)[:, tf.newaxis]
  if mode == keys.PREDICT:
    export = tf.estimator.export
    return tf.estimator.EstimatorSpec(
        mode,
        predictions={"logits": logits, "probabilities": probabilities,
                     "class_ids": class_ids},
        export_outputs={
            "serving_default": export.PredictOutput(
                {"probabilities": probabilities}),
            "scores": export.ClassificationOutput(scores=probabilities),
            "value": export.RegressionOutput(value=logits[:, 0]),
        })
  loss = tf.math.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
      labels=tf.reshape(labels, [-1]), logits=logits))
  if mode == keys.EVAL:
    return tf.estimator.EstimatorSpec(mode, loss=loss)
  optimizer = tf.compat.v1.train.GradientDescentOptimizer(LEARNING_RATE)
  train_op = optimizer.minimize(
      loss, global_step=tf.compat.v1.train.get_global_step())
  return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)


def train_input_fn():
  """Parity training data: features {'x'}, binary labels; batches of 16."""
  features = {"x": parity_cases.TRAIN_X["x"]}
  labels = parity_cases.TRAIN_Y["binary"]
  return (tf.data.Dataset.from_tensor_slices((features, labels))
          .repeat().batch(parity_cases.TRAIN_BATCH))


def build(model_dir, config):
  """The Estimator over model_fn."""
  return tf.estimator.Estimator(model_fn=model_fn, model_dir=model_dir,
                                config=config)
