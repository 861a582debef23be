"""RunConfig: how and where an Estimator runs (tf.estimator 2.15 fields)."""
from __future__ import annotations

import copy
import json
import os
from typing import Any, Callable

import tensorflow as tf

from estweight import validation

# Typed Any so that it can be the default of the typed arguments it stands in
# for ("not given": tf.estimator's default applies).
_USE_DEFAULT: Any = object()
_DEFAULT_CHECKPOINT_SECS = 600

_REPLACEABLE = frozenset(
    ("model_dir", "tf_random_seed", "save_summary_steps",
     "save_checkpoints_steps", "save_checkpoints_secs", "session_config",
     "keep_checkpoint_max", "keep_checkpoint_every_n_hours",
     "log_step_count_steps", "train_distribute", "device_fn", "protocol",
     "eval_distribute", "experimental_distribute",
     "experimental_max_worker_delay_secs", "session_creation_timeout_secs",
     "checkpoint_save_graph_def"))


class TaskType:
  MASTER = "master"
  PS = "ps"
  WORKER = "worker"
  CHIEF = "chief"
  EVALUATOR = "evaluator"


def get_default_session_config() -> tf.compat.v1.ConfigProto:
  """tf.estimator's default: soft placement, one meta-optimizer pass."""
  rewrite = tf.compat.v1.GraphOptions(rewrite_options=_rewriter_config(
      meta_optimizer_iterations=1))
  return tf.compat.v1.ConfigProto(allow_soft_placement=True,
                                  graph_options=rewrite)


def _rewriter_config(**kwargs):
  from estweight import _tf_private  # pylint: disable=g-import-not-at-top
  return _tf_private.rewriter_config_pb2.RewriterConfig(**kwargs)


def _field(name: str, doc: str) -> property:
  """A read-only property over `self._<name>`, documented."""
  return property(lambda self: getattr(self, "_" + name), doc=doc)


class RunConfig:
  """Run configuration of an Estimator; same fields as tf.estimator 2.15.

  Cluster properties (`task_type`, `is_chief`, `master`, ...) come from the
  `TF_CONFIG` environment variable, read at construction. Counts must be
  whole numbers (a whole float such as `1000 / 10` is accepted).

  Args:
    model_dir: where checkpoints, summaries and state files go. `None`: the
      Estimator's `model_dir` argument, TF_CONFIG's 'model_dir', or a
      temporary directory.
    tf_random_seed: graph-level seed of every graph built (also seeds
      `tf.compat.v1.layers` and Keras 3 initialisers in model_fns).
      `None`: unseeded.
    save_summary_steps: summaries every this many steps (0: none).
    save_checkpoints_steps: checkpoint every this many steps. Give at most
      one of it and `save_checkpoints_secs`; neither: every 600 seconds.
    save_checkpoints_secs: checkpoint every this many seconds.
    session_config: a `tf.compat.v1.ConfigProto`; `None`: soft placement,
      one meta-optimizer pass (and device filters on a cluster).
    keep_checkpoint_max: recent checkpoints kept (`None` or 0: all).
    keep_checkpoint_every_n_hours: additionally keep one checkpoint per
      this many hours (`None`: none).
    log_step_count_steps: progress lines and `global_step/sec` every this
      many steps (`None`: none).
    train_distribute: a `tf.distribute` strategy replicating training over
      this process's devices (`MirroredStrategy`: each replica reads its
      own batches of input_fn's Dataset); see README, 'Distributed
      training', for the strategies that run and why the others do not.
    device_fn: `fn(op) -> device` for every op; `None`: default placement.
    protocol: `None`, 'grpc' or 'grpc+verbs'.
    eval_distribute: as `train_distribute`, for `evaluate()`.
    experimental_distribute: tf.estimator's deprecated DistributeConfig.
    experimental_max_worker_delay_secs: validated and kept; unused.
    session_creation_timeout_secs: how long a cluster task waits for the
      tasks it needs before failing with their names.
    checkpoint_save_graph_def: write the graph into checkpoints' .meta and
      graph.pbtxt.

  Raises:
    ValueError: a value out of range, both checkpoint cadences, or a
      TF_CONFIG that 2.15 also refused (no or two chiefs, an index out of
      range, ...).
    TypeError: a count that is not a number (a bool, a string).
    json.JSONDecodeError: TF_CONFIG is not JSON.
  """

  def __init__(
      self,
      model_dir: str | os.PathLike | None = None,
      tf_random_seed: int | None = None,
      save_summary_steps: int = 100,
      save_checkpoints_steps: int | None = _USE_DEFAULT,
      save_checkpoints_secs: float | None = _USE_DEFAULT,
      session_config: tf.compat.v1.ConfigProto | None = None,
      keep_checkpoint_max: int | None = 5,
      keep_checkpoint_every_n_hours: float = 10000,
      log_step_count_steps: int | None = 100,
      train_distribute: (tf.distribute.Strategy |
                         tf.compat.v1.distribute.Strategy | None) = None,
      device_fn: Callable[[tf.Operation], str] | None = None,
      protocol: str | None = None,
      eval_distribute: (tf.distribute.Strategy |
                        tf.compat.v1.distribute.Strategy | None) = None,
      experimental_distribute: Any = None,
      experimental_max_worker_delay_secs: int | None = None,
      session_creation_timeout_secs: int = 7200,
      checkpoint_save_graph_def: bool = True):
    if (save_checkpoints_steps is not _USE_DEFAULT and
        save_checkpoints_secs is not _USE_DEFAULT and
        save_checkpoints_steps is not None and
        save_checkpoints_secs is not None):
      raise ValueError(
          "`save_checkpoints_steps` and `save_checkpoints_secs` cannot both "
          f"be set. Received: save_checkpoints_steps={save_checkpoints_steps},"
          f" save_checkpoints_secs={save_checkpoints_secs}.")
    if save_checkpoints_steps is _USE_DEFAULT and (save_checkpoints_secs
                                                   is _USE_DEFAULT):
      save_checkpoints_steps, save_checkpoints_secs = (None,
                                                       _DEFAULT_CHECKPOINT_SECS)
    else:
      if save_checkpoints_steps is _USE_DEFAULT:
        save_checkpoints_steps = None
      if save_checkpoints_secs is _USE_DEFAULT:
        save_checkpoints_secs = None

    tf_config = _load_tf_config()
    model_dir = _resolve_model_dir(model_dir, tf_config)
    self._model_dir = model_dir
    self._tf_random_seed = tf_random_seed
    self._save_summary_steps = save_summary_steps
    self._save_checkpoints_steps = save_checkpoints_steps
    self._save_checkpoints_secs = save_checkpoints_secs
    self._session_config = session_config
    self._keep_checkpoint_max = keep_checkpoint_max
    self._keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
    self._log_step_count_steps = log_step_count_steps
    self._train_distribute = train_distribute
    self._device_fn = device_fn
    self._protocol = protocol
    self._eval_distribute = eval_distribute
    self._experimental_distribute = experimental_distribute
    self._experimental_max_worker_delay_secs = (
        experimental_max_worker_delay_secs)
    self._session_creation_timeout_secs = session_creation_timeout_secs
    self._checkpoint_save_graph_def = checkpoint_save_graph_def
    self._validate()
    self._tf_config = tf_config
    self._init_cluster(tf_config)

  # ---------------------------------------------------------------- checks
  def _validate(self):
    if self._model_dir is not None and not self._model_dir:
      raise ValueError("`model_dir` must be a non-empty path or None. "
                       f"Received: model_dir={self._model_dir!r}.")
    if self._tf_random_seed is not None and (
        isinstance(self._tf_random_seed, bool) or
        not isinstance(self._tf_random_seed, int)):
      raise ValueError("`tf_random_seed` must be an integer or None. "
                       f"Received: tf_random_seed={self._tf_random_seed!r}.")
    self._save_summary_steps = validation.integer("save_summary_steps",
                                                  self._save_summary_steps,
                                                  minimum=0)
    self._save_checkpoints_steps = validation.integer(
        "save_checkpoints_steps", self._save_checkpoints_steps, minimum=0)
    validation.number("save_checkpoints_secs",
                      self._save_checkpoints_secs,
                      minimum=0)
    if self._session_config is not None and not isinstance(
        self._session_config, tf.compat.v1.ConfigProto):
      raise ValueError("`session_config` must be a tf.compat.v1.ConfigProto. "
                       f"Received: session_config={self._session_config!r}.")
    self._keep_checkpoint_max = validation.integer("keep_checkpoint_max",
                                                   self._keep_checkpoint_max,
                                                   minimum=0)
    validation.number("keep_checkpoint_every_n_hours",
                      self._keep_checkpoint_every_n_hours,
                      minimum=0,
                      exclusive=True)
    self._log_step_count_steps = validation.integer("log_step_count_steps",
                                                    self._log_step_count_steps,
                                                    minimum=1)
    self._session_creation_timeout_secs = validation.integer(
        "session_creation_timeout_secs",
        self._session_creation_timeout_secs,
        minimum=1,
        allow_none=False)
    self._experimental_max_worker_delay_secs = validation.integer(
        "experimental_max_worker_delay_secs",
        self._experimental_max_worker_delay_secs,
        minimum=0)
    if self._protocol not in (None, "grpc", "grpc+verbs"):
      raise ValueError("`protocol` must be None, 'grpc' or 'grpc+verbs'. "
                       f"Received: protocol={self._protocol!r}.")
    if self._device_fn is not None:
      from estweight.runtime import fn_args  # pylint: disable=g-import-not-at-top
      if fn_args.fn_args(self._device_fn) != ("op",):
        raise ValueError("`device_fn` must take exactly one argument named "
                         f"`op`. Received: device_fn={self._device_fn!r}.")
    strategies = (tf.distribute.Strategy, tf.compat.v1.distribute.Strategy)
    for name in ("train_distribute", "eval_distribute"):
      strategy = getattr(self, "_" + name)
      if strategy is not None and not isinstance(strategy, strategies):
        raise ValueError(f"`{name}` must be a tf.distribute.Strategy (or a "
                         "tf.compat.v1.distribute one). Received: "
                         f"{name}={strategy!r}.")
      if isinstance(strategy,
                    tf.distribute.experimental.ParameterServerStrategy):
        # As tf.estimator 2.15: TF2's strategy needs a ClusterCoordinator.
        raise ValueError(
            "Please use `tf.compat.v1.distribute.experimental.Parameter"
            "ServerStrategy` for parameter server strategy with estimator. "
            f"Received: {name}={strategy.__class__.__name__} (TensorFlow 2's "
            "ParameterServerStrategy, which runs steps from a "
            "ClusterCoordinator in eager mode). With estweight, a TF_CONFIG "
            "cluster with ps tasks and train_and_evaluate does parameter-"
            "server training without a strategy.")

  # -------------------------------------------------------------- cluster
  def _init_cluster(self, tf_config):
    cluster = tf_config.get("cluster") or {}
    task = tf_config.get("task") or {}
    self._service = tf_config.get("service")
    if self._service is not None and not isinstance(self._service, dict):
      raise TypeError("TF_CONFIG 'service' must be a dict. "
                      f"Received: service={self._service!r}.")
    self._cluster_spec = tf.train.ClusterSpec(cluster)
    self._task_type = task.get("type", TaskType.WORKER)
    self._task_id = int(task.get("index", 0))
    self._evaluation_master = tf_config.get("eval_session_master", "")
    if not cluster:
      if self._task_type != TaskType.WORKER or self._task_id != 0:
        raise ValueError(
            "TF_CONFIG without a 'cluster' allows only task type 'worker' with "
            f"index 0. Received: task={task!r}.")
      self._master = tf_config.get("session_master", "")
      self._is_chief = True
      self._num_ps_replicas = 0
      self._num_worker_replicas = 1
      self._global_id_in_cluster = 0
      return
    jobs = self._cluster_spec.jobs
    if "type" not in task or "index" not in task:
      raise ValueError("TF_CONFIG with a 'cluster' needs task type and index."
                       f" Received: task={task!r}.")
    if self._task_type == TaskType.EVALUATOR:
      # As tf.estimator: the evaluator is outside the training cluster (any
      # index names it), and a 'master' cluster cannot have one.
      if TaskType.MASTER in jobs:
        raise ValueError("TF_CONFIG task type 'evaluator' cannot be used with "
                         "a cluster that has a 'master' job (use 'chief'). "
                         f"Received: cluster jobs {sorted(jobs)}.")
      self._cluster_spec = tf.train.ClusterSpec({})
      self._master, self._is_chief = "", False
      self._num_ps_replicas, self._num_worker_replicas = 0, 0
      self._global_id_in_cluster = None
      return
    if self._task_type not in jobs:
      raise ValueError(f"TF_CONFIG task type {self._task_type!r} is not in "
                       f"the cluster's jobs {sorted(jobs)}.")
    if not 0 <= self._task_id < self._cluster_spec.num_tasks(self._task_type):
      raise ValueError(f"TF_CONFIG task index {self._task_id} is out of range"
                       f" for job {self._task_type!r}.")
    if TaskType.CHIEF in jobs and TaskType.MASTER in jobs:
      raise ValueError("TF_CONFIG cluster may not have both 'chief' and "
                       "'master' jobs.")
    chief_job = TaskType.MASTER if TaskType.MASTER in jobs else TaskType.CHIEF
    if chief_job not in jobs or self._cluster_spec.num_tasks(chief_job) != 1:
      raise ValueError(
          f"TF_CONFIG cluster must have exactly one chief node ('chief', or "
          f"'master' in older configs). Received: cluster="
          f"{self._cluster_spec.as_dict()}. To fix, name one worker 'chief'.")
    address = self._cluster_spec.task_address(self._task_type, self._task_id)
    one_node = sum(self._cluster_spec.num_tasks(j) for j in jobs) == 1
    self._master = tf_config.get("session_master") or ("" if one_node else
                                                       "grpc://" + address)
    self._is_chief = self._task_type == chief_job
    self._num_ps_replicas = (self._cluster_spec.num_tasks(TaskType.PS)
                             if TaskType.PS in jobs else 0)
    self._num_worker_replicas = sum(
        self._cluster_spec.num_tasks(j)
        for j in (TaskType.CHIEF, TaskType.MASTER, TaskType.WORKER)
        if j in jobs)
    order = [chief_job] + sorted(j for j in jobs if j not in
                                 (chief_job, TaskType.PS, TaskType.EVALUATOR))
    order.append(TaskType.PS)
    gid = 0
    for job in order:
      if job not in jobs:
        continue
      if job == self._task_type:
        self._global_id_in_cluster = gid + self._task_id
        break
      gid += self._cluster_spec.num_tasks(job)
    if self._session_config is None:
      self._session_config = _distributed_session_config(
          self._task_type, self._task_id)

  # ------------------------------------------------------------ replace()
  def replace(self, **kwargs: Any) -> "RunConfig":
    """Returns a copy with the given fields changed (validated again).

    Setting `save_checkpoints_steps` clears `save_checkpoints_secs` in the
    copy, and the other way round.

    Args:
      **kwargs: new values of constructor arguments, by name (e.g.
        `model_dir`, `save_checkpoints_steps`); any of them may be given.

    Returns:
      The new RunConfig; this one is unchanged.

    Raises:
      ValueError: if a field cannot be replaced, both checkpoint
        intervals are given, or the new values are invalid.
    """
    for key in kwargs:
      if key not in _REPLACEABLE:
        raise ValueError(f"Replacing {key} is not supported. Replaceable "
                         f"fields: {sorted(_REPLACEABLE)}.")
    steps = kwargs.get("save_checkpoints_steps")
    secs = kwargs.get("save_checkpoints_secs")
    if steps is not None and secs is not None:
      raise ValueError(
          "`save_checkpoints_steps` and `save_checkpoints_secs` cannot both "
          f"be set. Received: save_checkpoints_steps={steps}, "
          f"save_checkpoints_secs={secs}.")
    new = copy.deepcopy(self)
    if "save_checkpoints_steps" in kwargs and steps is not None:
      new._save_checkpoints_secs = None  # pylint: disable=protected-access
    if "save_checkpoints_secs" in kwargs and secs is not None:
      new._save_checkpoints_steps = None  # pylint: disable=protected-access
    for key, value in kwargs.items():
      if key == "model_dir" and value is not None:
        value = os.fspath(value)
      setattr(new, "_" + key, value)
    new._validate()  # pylint: disable=protected-access
    return new

  def __repr__(self):
    fields = ", ".join(f"{k[1:]}={v!r}" for k, v in sorted(vars(self).items())
                       if k != "_tf_config")
    return f"RunConfig({fields})"

  # ----------------------------------------------------------- properties
  # Read-only views of the fields, as in tf.estimator.
  model_dir = _field(
      "model_dir",
      "Directory of checkpoints, summaries and state files (a str), or "
      "None before an Estimator picks one.")
  tf_random_seed = _field(
      "tf_random_seed",
      "Graph-level random seed of every graph the Estimator builds; "
      "None: unseeded.")
  save_summary_steps = _field(
      "save_summary_steps",
      "Summaries are written every this many steps (0: never).")
  save_checkpoints_steps = _field(
      "save_checkpoints_steps",
      "Checkpoints are written every this many steps; None when "
      "`save_checkpoints_secs` rules.")
  save_checkpoints_secs = _field(
      "save_checkpoints_secs",
      "Checkpoints are written every this many seconds (default 600 "
      "when neither is given); None when `save_checkpoints_steps` "
      "rules.")
  session_config = _field(
      "session_config",
      "The `tf.compat.v1.ConfigProto` of the sessions; None: the "
      "Estimator's default (soft placement, one meta-optimizer pass).")
  keep_checkpoint_max = _field(
      "keep_checkpoint_max",
      "How many recent checkpoints are kept (None or 0: all).")
  keep_checkpoint_every_n_hours = _field(
      "keep_checkpoint_every_n_hours",
      "One checkpoint per this many hours is kept beyond "
      "`keep_checkpoint_max` (None: none).")
  log_step_count_steps = _field(
      "log_step_count_steps",
      "Progress lines and `global_step/sec` every this many steps "
      "(None: never).")
  train_distribute = _field(
      "train_distribute",
      "A `tf.distribute` strategy replicating training over this "
      "process's devices (e.g. MirroredStrategy); None: one device.")
  eval_distribute = _field(
      "eval_distribute",
      "A `tf.distribute` strategy replicating evaluation over this "
      "process's devices; None: one device.")
  experimental_distribute = _field(
      "experimental_distribute",
      "tf.estimator's deprecated `DistributeConfig`; kept for "
      "compatibility.")
  device_fn = _field(
      "device_fn",
      "`fn(op) -> device string` placing every op; None: the default "
      "placement (ps tasks get variables).")
  protocol = _field(
      "protocol", "Server protocol on a cluster: None (gRPC), 'grpc' or "
      "'grpc+verbs'.")
  experimental_max_worker_delay_secs = _field(
      "experimental_max_worker_delay_secs",
      "tf.estimator's bound on a worker's start delay; validated and "
      "kept, but estweight's cluster workers start without a delay.")
  session_creation_timeout_secs = _field(
      "session_creation_timeout_secs",
      "How long a task waits for its session (its peers) on a cluster "
      "before it fails, naming the missing task.")
  checkpoint_save_graph_def = _field(
      "checkpoint_save_graph_def",
      "Whether checkpoints and graph.pbtxt include the graph "
      "definition.")
  cluster_spec = _field(
      "cluster_spec",
      "The `tf.train.ClusterSpec` of TF_CONFIG's 'cluster' (empty when "
      "local or for the evaluator).")
  task_type = _field(
      "task_type",
      "This process's TF_CONFIG task type ('chief', 'worker', 'ps', "
      "'evaluator', 'master'); 'worker' when local.")
  task_id = _field("task_id",
                   "This process's TF_CONFIG task index; 0 when local.")
  master = _field("master", "The session target of this task ('' when local).")
  evaluation_master = _field(
      "evaluation_master", "The session target of evaluations (TF_CONFIG "
      "'eval_session_master', else '').")
  is_chief = _field("is_chief",
                    "True for the chief (or master) task, and when local.")
  num_ps_replicas = _field("num_ps_replicas",
                           "Number of ps tasks in the cluster.")
  num_worker_replicas = _field(
      "num_worker_replicas",
      "Number of training tasks (chief, master and workers); 1 when "
      "local.")
  global_id_in_cluster = _field(
      "global_id_in_cluster",
      "This task's index over all training tasks (chief first, then "
      "workers, then ps); None for the evaluator.")
  service = _field("service", "TF_CONFIG's 'service' dict, or None.")


def _load_tf_config() -> dict[str, Any]:
  raw = os.environ.get("TF_CONFIG", "")
  if not raw:
    return {}
  try:
    parsed = json.loads(raw)
  except json.JSONDecodeError as e:
    # Still a JSONDecodeError (a ValueError), as tf.estimator raised.
    raise json.JSONDecodeError(f"TF_CONFIG is not valid JSON: {e.msg}", e.doc,
                               e.pos) from None
  if not isinstance(parsed, dict):
    raise ValueError(f"TF_CONFIG must be a JSON object. Received: {raw!r}.")
  return parsed


def _resolve_model_dir(model_dir, tf_config):
  if model_dir is not None:
    model_dir = os.fspath(model_dir)
    if not model_dir:
      raise ValueError("`model_dir` must be a non-empty path or None. "
                       f"Received: model_dir={model_dir!r}.")
  from_env = tf_config.get("model_dir")
  if from_env is not None and not from_env:
    raise ValueError("TF_CONFIG['model_dir'] must be a non-empty path. "
                     f"Received: TF_CONFIG model_dir={from_env!r}.")
  if from_env and model_dir and from_env != model_dir:
    raise ValueError(
        "`model_dir` in RunConfig differs from TF_CONFIG['model_dir']. "
        f"Received: model_dir={model_dir!r}, TF_CONFIG model_dir="
        f"{from_env!r}.")
  return model_dir or from_env or None


def _distributed_session_config(task_type, task_id):
  if task_type == TaskType.PS:
    filters = ["/job:ps", "/job:worker", "/job:chief", "/job:master"]
  elif task_type in (TaskType.CHIEF, TaskType.MASTER):
    filters = ["/job:ps", f"/job:{task_type}"]
  elif task_type == TaskType.WORKER:
    filters = ["/job:ps", f"/job:worker/task:{task_id}"]
  else:
    return None
  config = get_default_session_config()
  config.device_filters.extend(filters)
  return config
