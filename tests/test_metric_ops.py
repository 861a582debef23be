"""runtime/metric_ops.py: eval_metric_ops as (value, update_op) pairs, from
v1 metric tuples and Keras metric objects (tf_keras and Keras 3), with the
metric variables made local and the updates waiting for the batch."""
import keras
import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from estweight.runtime import metric_ops

v1 = tf.compat.v1


def _mean_over_batches(make_metric, values):
  """Runs a metric over one-value batches of `values` until the input
  ends, as the eval loop does (the last run meets OutOfRange)."""
  graph = tf.Graph()
  with graph.as_default():
    iterator = v1.data.make_one_shot_iterator(
        tf.data.Dataset.from_tensor_slices(np.float32(values)).batch(1))
    x = iterator.get_next()
    metric = make_metric()
    metric.update_state(x)
    ops = metric_ops.normalize({"mean_x": metric}, graph)
    value, update = ops["mean_x"]
    local = graph.get_collection(v1.GraphKeys.LOCAL_VARIABLES)
    global_ = graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)
    with v1.Session(graph=graph) as session:
      session.run(v1.local_variables_initializer())
      while True:
        try:
          session.run(update)
        except tf.errors.OutOfRangeError:
          break
      return session.run(value), local, global_


@pytest.mark.parametrize("make_metric", [
    lambda: tf_keras.metrics.Mean(name="mean_x"),
    lambda: keras.metrics.Mean(name="mean_x"),
],
                         ids=["tf_keras", "keras3"])
def test_keras_metric_object_gives_the_mean_of_the_batches(make_metric):
  # (0 + 1 + 2 + 3) / 4 = 1.5; a count updated in the run that met the end
  # of the input would give 6 / 5 = 1.2.
  value, local, global_ = _mean_over_batches(make_metric, [0, 1, 2, 3])
  assert value == 1.5
  assert len(local) == 2 and not global_  # total and count, made local


def test_v1_tuple_passes_through():
  graph = tf.Graph()
  with graph.as_default():
    value, update = v1.metrics.mean(tf.constant([1.0, 2.0]))
    assert metric_ops.normalize({"m": (value, update)}, graph) == {
        "m": (value, update)
    }
  assert metric_ops.normalize(None, graph) == {}


def test_a_keras_metric_never_updated_is_refused():
  graph = tf.Graph()
  with graph.as_default():
    metric = tf_keras.metrics.Mean(name="m")
    with pytest.raises(ValueError,
                       match=r"has no update op\. Please call "
                       r"update_state\(\.\.\.\) on it inside the model_fn"):
      metric_ops.normalize({"m": metric}, graph)


def test_bad_entries_are_refused_naming_the_metric():
  graph = tf.Graph()
  with graph.as_default():
    with pytest.raises(TypeError, match=r"`eval_metric_ops` must be a dict"):
      metric_ops.normalize([1], graph)
    with pytest.raises(TypeError,
                       match=r"`eval_metric_ops\['m'\]` must be a "
                       r"\(value, update_op\) tuple or a Keras Metric"):
      metric_ops.normalize({"m": 3.0}, graph)
    with pytest.raises(TypeError, match=r"its update_op is 2"):
      metric_ops.normalize({"m": (tf.constant(1.0), 2)}, graph)
  other = tf.Graph()
  with other.as_default():
    foreign = tf.constant(1.0)
  with graph.as_default(), pytest.raises(
      ValueError, match=r"is not from the model_fn's graph"):
    metric_ops.normalize({"m": (foreign, foreign.op)}, graph)
