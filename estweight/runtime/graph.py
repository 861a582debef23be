"""Builds the graph of one mode: global step, seed, input_fn, model_fn."""
from __future__ import annotations

import collections
import contextlib
import dataclasses
import random
import sys
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

import tensorflow as tf

from estweight import _tf_private
from estweight import _versions
from estweight.runtime import inputs as inputs_lib

if TYPE_CHECKING:
  from estweight.run_config import RunConfig


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
  # The Dataset iterator (None when input_fn returned tensors) and the
  # structure of its elements: what a later call's input must match.
  iterator: Any = None
  element_spec: Any = None
  next_op: Any = None  # runs the iterator's get-next alone (skips a batch)
  # Reads one step's input and drops it: next_op, or under a strategy one
  # batch per replica. None: the input cannot be skipped (tensors).
  skip_op: Any = None


_GLOBAL_STEP_READ_KEY = "global_step_read_op_cache"  # TF's own hooks look here


def global_step_read(graph: tf.Graph, global_step: tf.Variable) -> tf.Tensor:
  """A tensor copy of the global step, registered where TF hooks find it."""
  cached = graph.get_collection(_GLOBAL_STEP_READ_KEY)
  if cached:
    return cached[0]
  with graph.name_scope(None), graph.name_scope("global_step/"):
    read = global_step.value() + 0
  graph.add_to_collection(_GLOBAL_STEP_READ_KEY, read)
  return read


@contextlib.contextmanager
def seeded_legacy_initializers(seed: int | None) -> Iterator[None]:
  """Makes Keras-built initial weights follow `tf_random_seed`.

  tf.compat.v1.layers (tf_keras, as Keras 2 in TF 2.15) and Keras 3 layers
  pick each initializer's seed with Python's `random` module, so
  `tf_random_seed` alone never made their initial weights reproducible.
  With a seed, the graph build draws them from `random.Random(seed)` (the
  numbers TF 2.15 drew after `random.seed(seed)`); the caller's own
  `random` state is restored afterwards.
  """
  if seed is None:
    yield
    return
  state = random.getstate()
  random.seed(seed)
  try:
    with keras_seed_generator(_versions.keras_seed_generator(seed)):
      yield
  finally:
    random.setstate(state)


def _keras_seed_holder():
  """tf_keras's per-thread holder of the generator its initializers draw
  seeds from (None without tf_keras). Imported when called, so that layers
  first loaded inside model_fn are seeded."""
  try:
    backend = _tf_private.keras_internal("tf_keras.backend")
  except ImportError:
    return None
  return getattr(backend, "_SEED_GENERATOR", None)


def current_keras_seed_generator() -> Any:
  """The generator tf_keras initializers draw seeds from on this thread."""
  return getattr(_keras_seed_holder(), "generator", None)


@contextlib.contextmanager
def keras_seed_generator(generator: Any) -> Iterator[None]:
  """Makes tf_keras initializers on this thread draw seeds from
  `generator`; the previous generator is restored afterwards."""
  holder = _keras_seed_holder()
  previous = getattr(holder, "generator", None)
  if holder is not None:
    holder.generator = generator
  try:
    yield
  finally:
    if holder is not None:
      holder.generator = previous


@contextlib.contextmanager
def fresh_keras_names() -> Iterator[None]:
  """Per-graph Keras 3 layer naming.

  Keras 3 numbers auto-named layers per process (dense, dense_1, ...), so a
  model_fn using `keras.layers.Dense(4)` would name its variables `dense` in
  the TRAIN graph and `dense_2` in the EVAL graph, and the checkpoint would
  not restore. Each graph build starts from fresh counters; the user's own
  counters are put back afterwards.
  """
  if "keras" not in sys.modules:
    yield
    return
  global_state = _tf_private.keras_internal("keras.global_state")
  saved = global_state.get_global_attribute("object_name_uids")
  global_state.set_global_attribute("object_name_uids",
                                    collections.defaultdict(int))
  try:
    yield
  finally:
    global_state.set_global_attribute("object_name_uids", saved)


def device_fn_for(config: RunConfig) -> Callable | None:
  if config.device_fn is not None:
    return config.device_fn
  if config.num_ps_replicas > 0:
    # Variables on the ps tasks, everything else on this task's own device.
    worker = (f"/job:{config.task_type}/task:{config.task_id}"
              if config.task_type else "/job:worker")
    return tf.compat.v1.train.replica_device_setter(
        ps_tasks=config.num_ps_replicas,
        worker_device=worker,
        merge_devices=True,
        ps_device="/job:ps",
        cluster=config.cluster_spec)
  return None


def _start_graph(graph, config):
  """Seed and global step: the first things in every graph, in this order."""
  if config.tf_random_seed is not None:
    tf.compat.v1.set_random_seed(config.tf_random_seed)
  global_step = tf.compat.v1.train.create_global_step(graph)
  return global_step, global_step_read(graph, global_step)


@contextlib.contextmanager
def mode_graph_scope(
    graph: tf.Graph,
    config: RunConfig) -> Iterator[tuple[tf.Variable, tf.Tensor]]:
  """The graph as a mode graph sees it when input_fn runs: default graph,
  devices, seeds, fresh Keras names, then seed and global step created.

  Yields:
    (global_step, global_step_read).
  """
  with graph.as_default(), graph.device(
      device_fn_for(config)), (seeded_legacy_initializers(
          config.tf_random_seed)), (fresh_keras_names()):
    yield _start_graph(graph, config)


def call_input_fn_alone(input_fn: Callable[..., Any], mode: str,
                        config: RunConfig, params: Any) -> tuple[tf.Graph, Any]:
  """input_fn's result in a scratch graph whose ops so far (and so the
  random op seeds derived from them) equal a real build's; see
  `build_mode_graph`. Returns (graph, result)."""
  graph = tf.Graph()
  with mode_graph_scope(graph, config):
    return graph, inputs_lib.call_input_fn_raw(input_fn, mode, params, config)


def build_mode_graph(
    *,
    input_fn: Callable[..., Any],
    call_model_fn: Callable[[Any, Any, str, Any], Any],
    mode: str,
    config: RunConfig,
    params: Any,
    use_labels: bool = True,
    after_model_fn: Callable[[Any], Any] | None = None) -> ModeGraph:
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

  With `config.train_distribute` (TRAIN) or `eval_distribute` (EVAL), the
  graph is replicated by that strategy (runtime/distribute.py).
  """
  # Imported here: distribute.py builds on this module.
  # pylint: disable-next=g-import-not-at-top
  from estweight.runtime import distribute
  strategy = distribute.strategy_for(config, mode)
  if strategy is not None:
    return distribute.build_replicated_graph(strategy=strategy,
                                             input_fn=input_fn,
                                             call_model_fn=call_model_fn,
                                             mode=mode,
                                             config=config,
                                             params=params,
                                             use_labels=use_labels,
                                             after_model_fn=after_model_fn)
  graph = tf.Graph()
  with mode_graph_scope(graph, config) as (global_step, step_read):
    parsed = inputs_lib.call_input_fn(input_fn, mode, params, config)
    labels = parsed.labels if use_labels else None
    weights = parsed.weights if use_labels else None
    # No control dependency on `step_read` here: model_fns create variables
    # with tf.Variable(<tensor>), whose initializers would then need the
    # (uninitialised) global step.
    spec = call_model_fn(parsed.features, labels, mode, weights)
    if after_model_fn is not None:
      after_model_fn(spec)
  return ModeGraph(graph=graph,
                   mode=mode,
                   spec=spec,
                   global_step=global_step,
                   global_step_read=step_read,
                   input_hooks=parsed.hooks,
                   features=parsed.features,
                   labels=labels,
                   iterator=parsed.iterator,
                   element_spec=parsed.element_spec,
                   next_op=parsed.next_op,
                   skip_op=parsed.next_op)


@dataclasses.dataclass
class ExportGraph:
  """A graph built from a receiver fn, ready to be added to a SavedModel."""
  graph: tf.Graph
  mode: str
  spec: Any  # EstimatorSpec
  receiver: Any


def build_export_graph(*, receiver_fn: Callable[[], Any],
                       call_model_fn: Callable[[Any, Any, str, Any], Any],
                       mode: str, config: RunConfig,
                       check_receiver: Callable[[Any], Any]) -> ExportGraph:
  """Builds a fresh graph for `mode` fed by `receiver_fn` instead of input_fn.

  Args:
    receiver_fn: `() -> receiver` (estweight.export receivers).
    call_model_fn: as in `build_mode_graph`.
    mode: a ModeKeys value.
    config: the RunConfig (its seed is used; devices are not: a SavedModel
      is placed by whoever serves it).
    check_receiver: `(receiver) -> None`, raises when the receiver fn returned
      the wrong type for `mode`.
  """
  graph = tf.Graph()
  with graph.as_default(), seeded_legacy_initializers(
      config.tf_random_seed), fresh_keras_names():
    _start_graph(graph, config)
    receiver = receiver_fn()
    check_receiver(receiver)
    spec = call_model_fn(receiver.features, getattr(receiver, "labels", None),
                         mode, None)
  return ExportGraph(graph=graph, mode=mode, spec=spec, receiver=receiver)


# Ops whose state lives in the session: a fresh session restarts them, which
# is what tf.estimator's per-call sessions did to, e.g., dropout masks.
_STATEFUL_RANDOM_OPS = frozenset(
    ("RandomUniform", "RandomUniformInt", "RandomStandardNormal",
     "TruncatedNormal", "ParameterizedTruncatedNormal", "RandomShuffle",
     "Multinomial", "RandomGamma", "RandomPoisson", "RandomPoissonV2",
     "RandomCrop"))


def step_keeps_random_state(graph: tf.Graph, fetches: Iterable[Any]) -> bool:
  """Whether running `fetches` uses stateful random ops (e.g. dropout)."""
  graph_def = graph.as_graph_def()
  names = [f.op.name if isinstance(f, tf.Tensor) else f.name for f in fetches]
  nodes = list(tf.compat.v1.graph_util.extract_sub_graph(graph_def, names).node)
  functions = {f.signature.name: f for f in graph_def.library.function}
  seen = set()
  while nodes:
    node = nodes.pop()
    if node.op in _STATEFUL_RANDOM_OPS:
      return True
    if node.op in functions and node.op not in seen:
      seen.add(node.op)
      nodes.extend(functions[node.op].node_def)
    for value in node.attr.values():
      name = value.func.name
      if name in functions and name not in seen:
        seen.add(name)
        nodes.extend(functions[name].node_def)
  return False
