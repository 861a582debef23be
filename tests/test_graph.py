"""runtime/graph.py: how a mode graph is built (global step first, seeds,
Keras names and seeds per graph, ps placement, random-state detection)."""
import random

import keras
import numpy as np
import pytest
import tensorflow as tf
import tf_keras

import estweight
from estweight.mode_keys import ModeKeys
from estweight.runtime import graph as graph_lib

v1 = tf.compat.v1


def _input_fn():
  return tf.data.Dataset.from_tensor_slices(({
      "x": np.ones([4, 2], np.float32)
  }, np.zeros([4, 1], np.float32))).batch(2)


def _build(config, model_fn, mode=ModeKeys.TRAIN):

  def call_model_fn(features, labels, mode, weights):
    del weights
    return model_fn(features, labels, mode)

  return graph_lib.build_mode_graph(input_fn=_input_fn,
                                    call_model_fn=call_model_fn,
                                    mode=mode,
                                    config=config,
                                    params={})


def _keras3_model_fn(features, labels, mode):
  logits = keras.layers.Dense(1)(features["x"])
  loss = tf.reduce_mean(tf.square(logits - labels))
  return estweight.EstimatorSpec(mode,
                                 loss=loss,
                                 train_op=v1.assign_add(
                                     v1.train.get_global_step(), 1))


def test_the_global_step_comes_first_and_is_read_where_hooks_look():
  built = _build(estweight.RunConfig(), _keras3_model_fn)
  graph = built.graph
  variables = graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)
  assert variables[0] is built.global_step
  assert built.global_step_read is graph.get_collection(
      "global_step_read_op_cache")[0]
  assert graph_lib.global_step_read(graph,
                                    built.global_step) is built.global_step_read
  assert built.mode == ModeKeys.TRAIN and built.next_op is not None


def test_keras3_layers_get_the_same_names_in_every_graph():
  keras.layers.Dense(1)  # the user's own counter: dense (or later)
  names = []
  for mode in (ModeKeys.TRAIN, ModeKeys.EVAL):
    built = _build(estweight.RunConfig(), _keras3_model_fn, mode)
    names.append(
        sorted(
            v.op.name
            for v in built.graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)))
  assert names[0] == names[1]
  assert "dense/kernel" in names[0]


def _initial_kernel(seed):
  config = estweight.RunConfig(tf_random_seed=seed)

  def model_fn(features, labels, mode):
    layer = tf_keras.layers.Dense(3)
    logits = layer(features["x"])
    return estweight.EstimatorSpec(mode,
                                   loss=tf.reduce_mean(logits - labels),
                                   train_op=tf.no_op())

  built = _build(config, model_fn)
  with v1.Session(graph=built.graph) as session:
    session.run(v1.global_variables_initializer())
    with built.graph.as_default():
      [kernel
      ] = [v for v in v1.global_variables() if v.op.name.endswith("kernel")]
    return session.run(kernel)


def test_tf_random_seed_makes_tf_keras_initial_weights_reproducible():
  random.seed(123)
  state = random.getstate()
  first, second = _initial_kernel(7), _initial_kernel(7)
  np.testing.assert_array_equal(first, second)
  assert not np.array_equal(first, _initial_kernel(8))
  assert random.getstate() == state  # the caller's `random` untouched


def test_the_keras_seed_generator_is_restored():
  before = graph_lib.current_keras_seed_generator()
  marker = random.Random(0)
  with graph_lib.keras_seed_generator(marker):
    assert graph_lib.current_keras_seed_generator() is marker
  assert graph_lib.current_keras_seed_generator() is before


def test_device_fn_for_places_variables_on_ps_tasks(monkeypatch):
  assert graph_lib.device_fn_for(estweight.RunConfig()) is None
  own = lambda op: "/cpu:0"
  assert graph_lib.device_fn_for(estweight.RunConfig(device_fn=own)) is own
  monkeypatch.setenv(
      "TF_CONFIG", '{"cluster": {"chief": ["localhost:1"], "ps": '
      '["localhost:2", "localhost:3"]}, "task": {"type": "chief", '
      '"index": 0}}')
  config = estweight.RunConfig()
  device_fn = graph_lib.device_fn_for(config)
  with tf.Graph().as_default() as graph, graph.device(device_fn):
    a = v1.get_variable("a", [1])
    b = v1.get_variable("b", [1])
    c = tf.constant(1.0)
  # Round robin over the 2 ps tasks; other ops on this task.
  assert [a.device, b.device] == ["/job:ps/task:0", "/job:ps/task:1"]
  assert c.device == "/job:chief/task:0"


@pytest.mark.parametrize("dropout, expected", [(True, True), (False, False)])
def test_step_keeps_random_state_finds_dropout(dropout, expected):

  def model_fn(features, labels, mode):
    x = features["x"]
    if dropout:
      x = tf.nn.dropout(x, rate=0.5)
    loss = tf.reduce_mean(x - labels)
    return estweight.EstimatorSpec(mode, loss=loss, train_op=tf.no_op())

  built = _build(estweight.RunConfig(), model_fn)
  assert graph_lib.step_keeps_random_state(
      built.graph, [built.spec.loss, built.spec.train_op]) is expected
