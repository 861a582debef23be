"""Tiny model_fns and input_fns whose numbers are easy to compute by hand."""
import os

import numpy as np
import tensorflow as tf

import estweight

v1 = tf.compat.v1


def scalar_model_fn(features, labels, mode, params):
  """prediction = w * x with one scalar weight w (initially params['w0'], 0).

  loss = mean((w*x - y)^2) over the batch; plain gradient descent.
  """
  w = v1.get_variable("w", [], initializer=v1.constant_initializer(
      params.get("w0", 0.0)))
  x = features["x"] if isinstance(features, dict) else features
  prediction = w * tf.cast(x, tf.float32)
  if mode == estweight.ModeKeys.PREDICT:
    return estweight.EstimatorSpec(mode, predictions={
        "prediction": prediction, "x": x})
  loss = tf.reduce_mean(tf.square(prediction - labels))
  train_op = v1.train.GradientDescentOptimizer(
      params.get("learning_rate", 0.01)).minimize(
          loss, global_step=v1.train.get_global_step())
  return estweight.EstimatorSpec(
      mode, loss=loss, train_op=train_op,
      eval_metric_ops={"mean_prediction": v1.metrics.mean(prediction)})


def xy_input_fn(x, y=None, batch_size=2, repeat=False):
  """An input_fn over float arrays x (and y) as ({'x': x}, y)."""
  def input_fn():
    x32 = np.asarray(x, np.float32)
    if y is None:
      ds = tf.data.Dataset.from_tensor_slices({"x": x32})
    else:
      ds = tf.data.Dataset.from_tensor_slices(
          ({"x": x32}, np.asarray(y, np.float32)))
    if repeat:
      ds = ds.repeat()
    return ds.batch(batch_size)
  return input_fn


def make_estimator(model_dir, **config_kwargs):
  return estweight.Estimator(
      scalar_model_fn, model_dir=str(model_dir),
      config=estweight.RunConfig(**config_kwargs),
      params={"learning_rate": 0.01})


def snapshot(path):
  """{relative path: (size, mtime_ns)} of everything under path."""
  out = {}
  if not os.path.exists(path):
    return out
  for root, _, files in os.walk(path):
    for name in files:
      full = os.path.join(root, name)
      st = os.stat(full)
      out[os.path.relpath(full, path)] = (st.st_size, st.st_mtime_ns)
  return out


def event_scalars(directory):
  """{tag: [(step, value)]} read with TensorBoard's own event reader."""
  from tensorboard.backend.event_processing import event_accumulator  # pylint: disable=g-import-not-at-top
  acc = event_accumulator.EventAccumulator(
      directory, size_guidance={event_accumulator.SCALARS: 0,
                                event_accumulator.TENSORS: 0})
  acc.Reload()
  scalars = {tag: [(e.step, e.value) for e in acc.Scalars(tag)]
             for tag in acc.Tags()["scalars"]}
  tensors = {tag: [(e.step, e.tensor_proto) for e in acc.Tensors(tag)]
             for tag in acc.Tags()["tensors"]}
  return scalars, tensors


# The line y = 2x on 32 points: the driver, train_and_evaluate and runtime
# loop tests train w -> 2 on it.
LINE_X = np.linspace(-1, 1, 32).astype(np.float32)
LINE_Y = 2.0 * LINE_X


def line_train_input():
  """The line, repeated, in batches of 8."""
  return tf.data.Dataset.from_tensor_slices(
      ({"x": LINE_X}, LINE_Y)).repeat().batch(8)


def line_eval_input():
  """The line once, in 2 batches of 16."""
  return tf.data.Dataset.from_tensor_slices(({"x": LINE_X}, LINE_Y)).batch(16)
