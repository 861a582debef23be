"""TRAIN and EVAL graphs replicated by a `tf.distribute` strategy.

`RunConfig(train_distribute=...)` and `eval_distribute` run as tf.estimator
2.15 ran them: in-graph replication over the devices of one process, in a
`tf.compat.v1` graph and session, through the same train and eval loops as
single-device training (runtime/train.py, runtime/evaluate.py).

- input_fn is called once (with `input_context` when it takes it) and must
  return a Dataset; each replica reads its own elements of it, so one step
  trains on `num_replicas_in_sync` of the input_fn's batches. The input_fn's
  batch size is the per-replica batch, as in tf.estimator 2.15: a step over
  two replicas of `ds.batch(16)` equals a single-device step of
  `ds.batch(32)`.
- model_fn is called once per replica under the strategy's scope. Variables
  are mirrored and saved under their single-device names (a single-device
  Estimator reads the checkpoint); the global step is one variable.
- Gradients are summed over the replicas by the optimizers. A loss that is
  a mean over the batch is divided by the number of replicas first, so the
  update equals single-device training on the global batch: v1 optimizers
  do it themselves (TensorFlow's estimator loss scaling, enabled here);
  Keras optimizers in canned heads through `scale_loss_for_replicas`.
- The replicas' EstimatorSpecs become one: the loss is the global batch's
  (the mean of the replicas' losses, or their sum when the model's losses
  sum over the batch), train ops and metric updates are grouped, metric
  values are the replicas' aggregated ones, hooks and scaffold parts come
  from the replicas as in 2.15.

Strategies that need what estweight's graph runtime does not do
(`MultiWorkerMirroredStrategy` across workers: lockstep collectives), TPUs,
and any strategy on a TF_CONFIG cluster are refused by `check_strategy`
with the reason and what to use instead, before any graph is built or any
network wait (RunConfig itself refuses TF2's `ParameterServerStrategy`, as
tf.estimator 2.15 did).
"""
from __future__ import annotations

import contextlib
import copy
import re
from typing import TYPE_CHECKING, Any, Callable, Iterable

import tensorflow as tf

from estweight import spec as spec_lib
from estweight.mode_keys import ModeKeys
from estweight.runtime import fn_args as fn_args_lib
from estweight.runtime import graph as graph_lib
from estweight.runtime import inputs as inputs_lib
from estweight.runtime import preparation

if TYPE_CHECKING:
  from estweight.run_config import RunConfig

_v1 = tf.compat.v1
_FIELD_OF_MODE = {
    ModeKeys.TRAIN: "train_distribute",
    ModeKeys.EVAL: "eval_distribute"
}
# In-graph strategies over one process's devices: they run in a v1 session.
_IN_GRAPH = (tf.distribute.MirroredStrategy, _v1.distribute.MirroredStrategy,
             tf.distribute.OneDeviceStrategy, _v1.distribute.OneDeviceStrategy,
             tf.distribute.experimental.CentralStorageStrategy,
             _v1.distribute.experimental.CentralStorageStrategy)
_COLLECTIVE = (tf.distribute.MultiWorkerMirroredStrategy,
               _v1.distribute.experimental.MultiWorkerMirroredStrategy)
_TPU = (tf.distribute.TPUStrategy, tf.distribute.experimental.TPUStrategy,
        _v1.distribute.experimental.TPUStrategy)
_INSTEAD = (
    "To train on one machine's devices, use tf.distribute.MirroredStrategy; "
    "to train on several machines, leave RunConfig's strategies unset and "
    "start a TF_CONFIG cluster running train_and_evaluate (chief, workers, "
    "ps tasks: between-graph replication with replica_device_setter; "
    "README, 'Distributed training').")


def strategy_for(config: RunConfig, mode: str) -> tf.distribute.Strategy | None:
  """The strategy `mode` runs under: train_distribute in TRAIN,
  eval_distribute in EVAL, None otherwise (PREDICT and exports are never
  replicated, as in tf.estimator)."""
  field = _FIELD_OF_MODE.get(mode)
  return getattr(config, field) if field else None


def _name(strategy) -> str:
  return strategy.__class__.__name__


def _has_cluster(strategy) -> bool:
  resolver = getattr(strategy, "cluster_resolver", None)
  if resolver is None:
    return False
  try:
    return bool(resolver.cluster_spec().jobs)
  except Exception:  # pylint: disable=broad-except
    return True  # a resolver that cannot say: assume a real cluster


def check_strategy(config: RunConfig, field: str) -> None:
  """Raises for a `config.<field>` strategy estweight cannot run.

  Runs before any graph is built and before any network wait.

  Args:
    config: the RunConfig.
    field: 'train_distribute' or 'eval_distribute'.

  Raises:
    NotImplementedError: a strategy on a TF_CONFIG cluster, across workers,
      on TPUs, or of a kind estweight does not run; the message says why
      and what to use instead.
  """
  strategy = getattr(config, field)
  if strategy is None:
    return
  name = _name(strategy)
  if config.cluster_spec.jobs:
    raise NotImplementedError(
        f"RunConfig.{field} is not run on a TF_CONFIG cluster. Received: "
        f"{field}={name} with TF_CONFIG cluster jobs "
        f"{sorted(config.cluster_spec.jobs)}. tf.estimator ran strategies on "
        "a cluster through its distribute coordinator, which TensorFlow "
        "2.16+ no longer has. To fix, leave RunConfig's strategies unset: "
        "train_and_evaluate runs each TF_CONFIG task's role itself (chief, "
        "workers, ps tasks with replica_device_setter; README, 'Distributed "
        "training').")
  if isinstance(strategy, _TPU):
    raise NotImplementedError(
        f"RunConfig.{field}={name}: TPUs are not supported by estweight "
        "(there is none to test on; TPUEstimator runs with use_tpu=False). " +
        _INSTEAD)
  if isinstance(strategy, _COLLECTIVE) and _has_cluster(strategy):
    raise NotImplementedError(
        f"RunConfig.{field}={name} across workers is not run by estweight: "
        "its collective all-reduce needs every worker to run every step in "
        "lockstep (one missing or restarted worker blocks the others), and "
        "estweight's cluster roles (restartable chief and workers, "
        "evaluator, ps tasks) do not coordinate that; tf.estimator did it "
        "with its distribute coordinator, gone in TensorFlow 2.16+. " +
        _INSTEAD)
  if isinstance(strategy, _v1.distribute.experimental.ParameterServerStrategy):
    if _has_cluster(strategy):
      raise NotImplementedError(
          f"RunConfig.{field}={name} with a cluster is not run by estweight "
          "(tf.estimator ran it through its distribute coordinator, gone in "
          "TensorFlow 2.16+). A TF_CONFIG cluster with ps tasks does the "
          "same: leave RunConfig's strategies unset and call "
          "train_and_evaluate in every task (README, 'Distributed "
          "training'). On one machine's devices, use "
          "tf.distribute.MirroredStrategy.")
    return  # local: variables on the CPU, one replica, in-graph
  if isinstance(strategy, _IN_GRAPH + _COLLECTIVE):
    return
  raise NotImplementedError(
      f"RunConfig.{field}={name} is not run by estweight: it runs the "
      "in-graph strategies MirroredStrategy, OneDeviceStrategy, "
      "CentralStorageStrategy (tf.distribute and tf.compat.v1 forms), and "
      "MultiWorkerMirroredStrategy or the compat.v1 ParameterServerStrategy "
      "without a cluster (one machine). " + _INSTEAD)


# ---------------------------------------------------------- session config
def _cpu_count_needed(strategy) -> int:
  devices = getattr(strategy.extended, "worker_devices", ())
  indices = [
      int(m.group(1))
      for d in devices
      for m in [re.search(r"device:CPU:(\d+)$", d, re.IGNORECASE)]
      if m
  ]
  return max(indices) + 1 if indices else 0


def session_config_for(session_config: tf.compat.v1.ConfigProto | None,
                       strategies: Iterable[Any]) -> Any:
  """`session_config` updated for `strategies` (a copy; None unchanged).

  Each strategy adds its own settings (`update_config_proto`, as 2.15's
  `strategy.configure` did), and a strategy over CPU devices beyond the
  first (`/cpu:1`: logical CPUs) gets them counted in `device_count`: a v1
  session does not see `tf.config` logical devices, and with them missing
  soft placement would put every replica on /cpu:0, where training hangs.

  Raises:
    ValueError: `session_config.device_count['CPU']` is set below the CPUs
      a strategy uses.
  """
  strategies = [s for s in strategies if s is not None]
  if session_config is None or not strategies:
    return session_config
  config = copy.deepcopy(session_config)
  for strategy in strategies:
    update = getattr(strategy, "update_config_proto", None)
    if update is not None and not isinstance(strategy, _COLLECTIVE):
      config = update(config)
    needed = _cpu_count_needed(strategy)
    if needed > 1:
      have = config.device_count.get("CPU")
      if have is None:
        config.device_count["CPU"] = needed
      elif have < needed:
        raise ValueError(
            f"`session_config.device_count['CPU']` is {have}, but the "
            f"strategy {_name(strategy)} uses {needed} CPU devices "
            f"({', '.join(strategy.extended.worker_devices)}). To fix, set "
            f"device_count={{'CPU': {needed}}} or leave it unset.")
  return config


def _check_devices(strategy, session_config):
  """Every device of `strategy` must exist in the session, else soft
  placement would silently stack the replicas on one device."""
  with tf.Graph().as_default(), _v1.Session(config=session_config) as s:
    have = {d.name.lower() for d in s.list_devices()}
  missing = [
      d for d in strategy.extended.worker_devices if d.lower() not in have and
      re.sub(r"^/job:[^/]*/replica:\d+/task:\d+", "/job:localhost/"
             "replica:0/task:0", d.lower()) not in have
  ]
  if missing:
    raise ValueError(
        f"The strategy {_name(strategy)} places replicas on {missing}, which "
        f"the session does not have (it has {sorted(have)}). To fix, name "
        "existing devices (tf.config.list_logical_devices()), or for "
        "logical CPUs set them up before TensorFlow starts "
        "(tf.config.set_logical_device_configuration).")


# ------------------------------------------------------------ loss scaling
def scale_loss_for_replicas(loss: tf.Tensor) -> tf.Tensor:
  """`loss` divided by the number of replicas when it is a batch mean.

  Called by the Keras-optimizer path of the canned heads (v1 optimizers
  scale by themselves), as tf.estimator 2.15's heads did: gradients are
  summed over the replicas, so a per-replica mean must be divided by their
  number for the update to equal single-device training on the global
  batch. A loss summed over the batch ('sum', the v1 heads'
  'weighted_sum') is left as it is. Outside a replica context with more
  than one replica, `loss` is returned unchanged.
  """
  if (not tf.distribute.has_strategy() or
      tf.distribute.in_cross_replica_context()):
    return loss
  replicas = tf.distribute.get_strategy().num_replicas_in_sync
  if replicas <= 1 or _loss_reduce_op() != tf.distribute.ReduceOp.MEAN:
    return loss
  return loss * (1.0 / replicas)


def _loss_reduce_op():
  """How the replicas' losses make the global batch's loss: their sum when
  the model's last loss summed over the batch (tf.compat.v1.losses or Keras
  reduction 'sum'), else their mean. Read under `_estimator_loss_scaling`."""
  return _v1.distribute.get_loss_reduction()


@contextlib.contextmanager
def _estimator_loss_scaling(strategy):
  """TensorFlow's switch making v1 optimizers divide a mean loss by the
  number of replicas (and `get_loss_reduction` read the model's losses)."""
  scale = getattr(strategy, "_scale_loss_for_estimator_enabled", None)
  with (scale() if scale is not None else contextlib.nullcontext()):
    yield


# -------------------------------------------------------------- the graph
class _Replica:
  """One replica's EstimatorSpec, kept opaque to the strategy's regrouping."""

  def __init__(self, spec):
    self.spec = spec


@contextlib.contextmanager
def _build_state_of(state):
  """Enters, on a replica thread, the per-thread build state captured on the
  building thread: the seed generator of Keras initializers (so replica 0
  draws the seeds a single-device build draws) and the build context."""
  generator, context = state
  with graph_lib.keras_seed_generator(generator), (preparation.building(context)
                                                   if context is not None else
                                                   contextlib.nullcontext()):
    yield


def _input_iterator(strategy, input_fn, mode, params, config):
  """A distributed iterator over input_fn's Dataset and its initializer op."""

  def dataset_fn(input_context):
    available = {
        "mode": mode,
        "params": copy.deepcopy(params),
        "config": copy.deepcopy(config),
        "input_context": input_context
    }
    with tf.device("/cpu:0"):
      result = fn_args_lib.call_with_available(input_fn, available)
    if not isinstance(result, tf.data.Dataset):
      raise ValueError(
          f"With RunConfig.{_FIELD_OF_MODE[mode]}, input_fn must return a "
          "tf.data.Dataset (each replica reads its own batches from it). "
          f"Received: {type(result).__name__}: {result!r}.")
    return result

  iterator = strategy.make_input_fn_iterator(dataset_fn)
  initializer = tf.group(*tf.nest.flatten(iterator.initialize()),
                         name="distributed_iterator_initializer")
  return iterator, initializer


class DistributedIteratorInitializerHook(_v1.train.SessionRunHook):
  """Initialises a strategy's input iterator once the session exists."""

  def __init__(self, initializer: tf.Operation):
    self._initializer = initializer

  def after_create_session(self, session: tf.compat.v1.Session,
                           coord: Any) -> None:
    del coord
    session.run(self._initializer)


def build_replicated_graph(
    *,
    strategy: tf.distribute.Strategy,
    input_fn: Callable[..., Any],
    call_model_fn: Callable[[Any, Any, str, Any], Any],
    mode: str,
    config: RunConfig,
    params: Any,
    use_labels: bool = True,
    after_model_fn: Callable[[Any], Any] | None = None) -> graph_lib.ModeGraph:
  """The TRAIN or EVAL graph of `mode` replicated by `strategy`.

  Arguments as `graph.build_mode_graph`. The returned ModeGraph has no
  `iterator` (a later call rebuilds the graph instead of feeding it) and an
  input hook initialising the strategy's iterator.
  """
  graph = tf.Graph()
  with graph.as_default(), graph_lib.seeded_legacy_initializers(
      config.tf_random_seed), graph_lib.fresh_keras_names():
    state = (graph_lib.current_keras_seed_generator(), preparation.current())
    if config.tf_random_seed is not None:
      _v1.set_random_seed(config.tf_random_seed)
    _check_devices(strategy, config.session_config)
    with strategy.scope(), _estimator_loss_scaling(strategy):
      # tf.estimator 2.15's order under a strategy: input, then global step.
      iterator, initializer = _input_iterator(strategy, input_fn, mode, params,
                                              config)
      global_step = _v1.train.create_global_step(graph)
      step_read = graph_lib.global_step_read(graph, global_step)

      element = iterator.get_next()
      # A step whose input ends for some replicas fails; nothing of it may
      # run in the others first (an evaluation would count part of it).
      barrier = [
          t for leaf in tf.nest.flatten(element)
          for t in strategy.experimental_local_results(leaf)
      ]
      skip_op = tf.group(*barrier, name="skip_step_input")

      def replica_fn(element):
        with _build_state_of(state):
          with tf.control_dependencies(barrier):
            element = tf.nest.map_structure(tf.identity, element)
          parsed = inputs_lib.parse_input_fn_result(element)
          labels = parsed.labels if use_labels else None
          weights = parsed.weights if use_labels else None
          spec = call_model_fn(parsed.features, labels, mode, weights)
          metrics = dict(spec.eval_metric_ops or {})
          return (spec.loss, spec.train_op, metrics, _Replica(spec))

      loss, train_op, metrics, replicas = (
          strategy.extended.call_for_each_replica(replica_fn, args=(element,)))
      specs = [r.spec for r in strategy.experimental_local_results(replicas)]
      spec = _merged_spec(strategy, mode, specs, loss, train_op, metrics)
      _without_replica_components(graph, strategy)
      _initializers_before_input(graph, strategy)
      if after_model_fn is not None:
        after_model_fn(spec)
  return graph_lib.ModeGraph(
      graph=graph,
      mode=mode,
      spec=spec,
      global_step=global_step,
      global_step_read=step_read,
      input_hooks=[DistributedIteratorInitializerHook(initializer)],
      features=None,
      labels=None,
      iterator=None,
      element_spec=None,
      next_op=None,
      skip_op=skip_op)


def _merged_spec(strategy, mode, specs, loss, train_op, metrics):
  """One EstimatorSpec from the replicas' (see the module docstring)."""
  first = specs[0]
  merged_loss = strategy.reduce(_loss_reduce_op(), loss, axis=None)
  kwargs = {
      "mode": mode,
      "loss": merged_loss,
      "predictions": first.predictions,
      "scaffold": _merged_scaffold(strategy, specs)
  }
  if mode == ModeKeys.TRAIN:
    kwargs.update(train_op=strategy.group(train_op),
                  training_hooks=list(first.training_hooks),
                  training_chief_hooks=list(first.training_chief_hooks))
  else:
    kwargs.update(eval_metric_ops=_merged_metrics(strategy, metrics),
                  evaluation_hooks=list(first.evaluation_hooks))
  return spec_lib.EstimatorSpec(**kwargs)


def _merged_metrics(strategy, metrics):
  """`{name: (value, update)}`: the first replica's value, the replicas'
  updates grouped.

  tf.compat.v1.metrics and Keras metrics aggregate their variables across
  the replicas, so every replica's value is the same (values derived from
  them are computed once per replica, equal). A metric that does not
  aggregate would report one replica's batches: reading its value checks
  that the replicas agree, and fails naming the metric when they do not.
  """
  out = {}
  for name, (value, update) in metrics.items():
    values = strategy.experimental_local_results(value)
    value = values[0]
    if (any(v is not value for v in values[1:]) and tf.is_tensor(value) and
        (value.dtype.is_floating or value.dtype.is_integer or
         value.dtype.is_bool)):
      message = (
          f"eval_metric_ops[{name!r}] differs between the replicas of "
          "RunConfig.eval_distribute: it is not aggregated across replicas, "
          "so it would cover one replica's batches. To fix, build it with "
          "tf.compat.v1.metrics or a Keras metric (both aggregate across "
          "replicas), or leave eval_distribute unset.")
      with tf.name_scope(f"replicas_agree_{len(out)}"):
        if value.dtype.is_floating:
          checks = [
              _v1.assert_near(v, value, rtol=1e-6, atol=0.0, message=message)
              for v in values[1:]
          ]
        else:
          checks = [
              _v1.assert_equal(v, value, message=message) for v in values[1:]
          ]
        with tf.control_dependencies(checks):
          value = tf.identity(value)
    out[name] = (value, strategy.group(update))
  return out


_INPUT_OPS = frozenset(("IteratorGetNext", "IteratorGetNextSync",
                        "MultiDeviceIteratorGetNextFromShard"))


def _initializers_before_input(graph, strategy):
  """Frees the per-device initializers of distributed metric variables from
  waiting for the input.

  A Keras metric's update ops are found by the assigns to its variable's
  handle and made to wait for the batch (metric_ops._after_input); under a
  strategy that handle is the replica's component, whose own initializer
  is such an assign, so local initialisation would read the input before
  its iterator is initialised.
  """
  keys = (_v1.GraphKeys.LOCAL_VARIABLES, _v1.GraphKeys.METRIC_VARIABLES,
          _v1.GraphKeys.GLOBAL_VARIABLES)
  seen = set()
  for key in keys:
    for variable in graph.get_collection(key):
      if not isinstance(variable, tf.distribute.DistributedValues):
        continue
      for component in strategy.experimental_local_results(variable):
        op = getattr(component, "initializer", None)
        if op is None or op.name in seen:
          continue
        seen.add(op.name)
        kept = [c for c in op.control_inputs if c.type not in _INPUT_OPS]
        if len(kept) != len(op.control_inputs):
          op._remove_all_control_inputs()  # pylint: disable=protected-access
          op._add_control_inputs(kept)  # pylint: disable=protected-access


def _without_replica_components(graph, strategy):
  """Leaves distributed variables, not their per-device components, in the
  variable collections, so savers write each variable once under its
  single-device name (Keras optimizer slots left their components there,
  saving `.../accumulator/replica_1` entries a single-device model_dir
  lacks)."""
  keys = (_v1.GraphKeys.GLOBAL_VARIABLES, _v1.GraphKeys.LOCAL_VARIABLES,
          _v1.GraphKeys.TRAINABLE_VARIABLES, _v1.GraphKeys.MODEL_VARIABLES,
          _v1.GraphKeys.METRIC_VARIABLES)
  for key in keys:
    collection = graph.get_collection_ref(key)
    components = {
        id(c) for v in collection
        if isinstance(v, tf.distribute.DistributedValues)
        for c in strategy.experimental_local_results(v)
    }
    collection[:] = [v for v in collection if id(v) not in components]


def _merged_scaffold(strategy, specs):
  """The replicas' scaffolds as one, as tf.estimator 2.15 combined them:
  their init and local-init ops and summaries grouped, the first saver,
  init_fn and init_feed_dict."""
  scaffolds = [s.scaffold for s in specs]

  def first(attr):
    for scaffold in scaffolds:
      value = getattr(scaffold, attr)
      if value is not None:
        return value
    return None

  def grouped(attr):
    ops = [getattr(s, attr) for s in scaffolds if getattr(s, attr) is not None]
    return strategy.group(ops) if ops else None

  return _v1.train.Scaffold(
      init_op=grouped("init_op"),
      init_feed_dict=first("init_feed_dict"),
      init_fn=first("_user_init_fn"),
      local_init_op=grouped("local_init_op"),
      local_init_feed_dict=first("local_init_feed_dict"),
      summary_op=grouped("summary_op"),
      saver=first("saver"),
      ready_op=first("ready_op"),
      ready_for_local_init_op=first("ready_for_local_init_op"),
      copy_from_scaffold=None)
