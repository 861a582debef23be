"""Builds the graph of one mode: global step, seed, input_fn, model_fn."""
from __future__ import annotations

import contextlib
import dataclasses
import importlib
import random
from typing import Any, Callable

import tensorflow as tf

from estweight.runtime import inputs as inputs_lib


@dataclasses.dataclass
class ModeGraph:
  """Everything a session loop needs about one built graph."""
  graph: tf.Graph
  mode: str
  spec: Any  # EstimatorSpec
  global_step: tf.Variable
  global_step_read: tf.Tensor
  input_hooks: list
  features: Any
  labels: Any


_GLOBAL_STEP_READ_KEY = "global_step_read_op_cache"  # TF's own hooks look here


def global_step_read(graph, global_step):
  """A tensor copy of the global step, registered where TF hooks find it."""
  cached = graph.get_collection(_GLOBAL_STEP_READ_KEY)
  if cached:
    return cached[0]
  with graph.name_scope(None), graph.name_scope("global_step/"):
    read = global_step.value() + 0
  graph.add_to_collection(_GLOBAL_STEP_READ_KEY, read)
  return read


@contextlib.contextmanager
def seeded_legacy_initializers(seed):
  """Makes tf.compat.v1.layers initialisers follow `tf_random_seed`.

  The v1 layers (tf_keras, as Keras 2 in TF 2.15) pick each initializer's
  seed with Python's `random.randint`, so `tf_random_seed` alone never made
  their initial weights reproducible. With a seed, draw those from
  `random.Random(seed)`: the same numbers TF 2.15 drew after
  `random.seed(seed)`.
  """
  holder = None
  if seed is not None:
    try:
      # Imported here so that layers first loaded inside model_fn are seeded.
      backend = importlib.import_module("tf_keras.src.backend")
      holder = getattr(backend, "_SEED_GENERATOR", None)
    except ImportError:
      pass
  if holder is None:
    yield
    return
  previous = getattr(holder, "generator", None)
  holder.generator = random.Random(seed)
  try:
    yield
  finally:
    holder.generator = previous


def device_fn_for(config) -> Callable | None:
  if config.device_fn is not None:
    return config.device_fn
  if config.num_ps_replicas > 0:
    return tf.compat.v1.train.replica_device_setter(
        ps_tasks=config.num_ps_replicas, worker_device="/job:worker",
        merge_devices=True, ps_device="/job:ps",
        cluster=config.cluster_spec)
  return None


def build_mode_graph(*, input_fn, call_model_fn, mode, config, params,
                     use_labels=True, after_model_fn=None) -> ModeGraph:
  """Builds a fresh graph for `mode`.

  Args:
    input_fn: the user's input_fn.
    call_model_fn: `(features, labels, mode, weights) -> EstimatorSpec`;
      `weights` is the third element of a (features, labels, weights) input.
    mode: a ModeKeys value.
    config: the RunConfig.
    params: the Estimator params, passed to input_fn when it asks.
    use_labels: False in PREDICT, where labels are dropped.
    after_model_fn: optional `(spec) -> None` run inside the graph right after
      model_fn (warm starting, extra metrics).
  """
  graph = tf.Graph()
  with graph.as_default(), graph.device(device_fn_for(config)), (
      seeded_legacy_initializers(config.tf_random_seed)):
    if config.tf_random_seed is not None:
      tf.compat.v1.set_random_seed(config.tf_random_seed)
    global_step = tf.compat.v1.train.create_global_step(graph)
    step_read = global_step_read(graph, global_step)
    parsed = inputs_lib.call_input_fn(input_fn, mode, params, config)
    labels = parsed.labels if use_labels else None
    weights = parsed.weights if use_labels else None
    # No control dependency on `step_read` here: model_fns create variables
    # with tf.Variable(<tensor>), whose initializers would then need the
    # (uninitialised) global step.
    spec = call_model_fn(parsed.features, labels, mode, weights)
    if after_model_fn is not None:
      after_model_fn(spec)
  return ModeGraph(graph=graph, mode=mode, spec=spec, global_step=global_step,
                   global_step_read=step_read,
                   input_hooks=parsed.hooks, features=parsed.features,
                   labels=labels)
