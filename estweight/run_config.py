"""RunConfig: how and where an Estimator runs (tf.estimator 2.15 fields)."""
from __future__ import annotations

import copy
import json
import os
from typing import Any

import tensorflow as tf

from estweight import validation

_USE_DEFAULT = object()
_DEFAULT_CHECKPOINT_SECS = 600

_REPLACEABLE = frozenset((
    "model_dir", "tf_random_seed", "save_summary_steps",
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
  rewrite = tf.compat.v1.GraphOptions(
      rewrite_options=_rewriter_config(meta_optimizer_iterations=1))
  return tf.compat.v1.ConfigProto(allow_soft_placement=True,
                                  graph_options=rewrite)


def _rewriter_config(**kwargs):
  from tensorflow.core.protobuf import rewriter_config_pb2  # pylint: disable=g-import-not-at-top
  return rewriter_config_pb2.RewriterConfig(**kwargs)


class RunConfig:
  """Run configuration of an Estimator; same fields as tf.estimator 2.15.

  Cluster properties (`task_type`, `is_chief`, `master`, ...) come from the
  `TF_CONFIG` environment variable, read at construction.
  """

  def __init__(self,
               model_dir: str | os.PathLike | None = None,
               tf_random_seed: int | None = None,
               save_summary_steps: int = 100,
               save_checkpoints_steps=_USE_DEFAULT,
               save_checkpoints_secs=_USE_DEFAULT,
               session_config=None,
               keep_checkpoint_max: int | None = 5,
               keep_checkpoint_every_n_hours: float = 10000,
               log_step_count_steps: int | None = 100,
               train_distribute=None,
               device_fn=None,
               protocol: str | None = None,
               eval_distribute=None,
               experimental_distribute=None,
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
    if save_checkpoints_steps is _USE_DEFAULT and (
        save_checkpoints_secs is _USE_DEFAULT):
      save_checkpoints_steps, save_checkpoints_secs = (
          None, _DEFAULT_CHECKPOINT_SECS)
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
    self._save_summary_steps = validation.integer(
        "save_summary_steps", self._save_summary_steps, minimum=0)
    self._save_checkpoints_steps = validation.integer(
        "save_checkpoints_steps", self._save_checkpoints_steps, minimum=0)
    validation.number("save_checkpoints_secs", self._save_checkpoints_secs,
                      minimum=0)
    if self._session_config is not None and not isinstance(
        self._session_config, tf.compat.v1.ConfigProto):
      raise ValueError("`session_config` must be a tf.compat.v1.ConfigProto. "
                       f"Received: session_config={self._session_config!r}.")
    self._keep_checkpoint_max = validation.integer(
        "keep_checkpoint_max", self._keep_checkpoint_max, minimum=0)
    validation.number("keep_checkpoint_every_n_hours",
                      self._keep_checkpoint_every_n_hours, minimum=0,
                      exclusive=True)
    self._log_step_count_steps = validation.integer(
        "log_step_count_steps", self._log_step_count_steps, minimum=1)
    self._session_creation_timeout_secs = validation.integer(
        "session_creation_timeout_secs", self._session_creation_timeout_secs,
        minimum=1, allow_none=False)
    self._experimental_max_worker_delay_secs = validation.integer(
        "experimental_max_worker_delay_secs",
        self._experimental_max_worker_delay_secs, minimum=0)
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
    self._master = tf_config.get("session_master") or (
        "" if one_node else "grpc://" + address)
    self._is_chief = self._task_type == chief_job
    self._num_ps_replicas = (self._cluster_spec.num_tasks(TaskType.PS)
                             if TaskType.PS in jobs else 0)
    self._num_worker_replicas = sum(
        self._cluster_spec.num_tasks(j)
        for j in (TaskType.CHIEF, TaskType.MASTER, TaskType.WORKER)
        if j in jobs)
    order = [chief_job] + sorted(
        j for j in jobs if j not in (chief_job, TaskType.PS,
                                     TaskType.EVALUATOR))
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
  def replace(self, **kwargs) -> "RunConfig":
    """Returns a copy with the given fields changed (validated again)."""
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
  model_dir = property(lambda self: self._model_dir)
  tf_random_seed = property(lambda self: self._tf_random_seed)
  save_summary_steps = property(lambda self: self._save_summary_steps)
  save_checkpoints_steps = property(lambda self: self._save_checkpoints_steps)
  save_checkpoints_secs = property(lambda self: self._save_checkpoints_secs)
  session_config = property(lambda self: self._session_config)
  keep_checkpoint_max = property(lambda self: self._keep_checkpoint_max)
  keep_checkpoint_every_n_hours = property(
      lambda self: self._keep_checkpoint_every_n_hours)
  log_step_count_steps = property(lambda self: self._log_step_count_steps)
  train_distribute = property(lambda self: self._train_distribute)
  eval_distribute = property(lambda self: self._eval_distribute)
  experimental_distribute = property(
      lambda self: self._experimental_distribute)
  device_fn = property(lambda self: self._device_fn)
  protocol = property(lambda self: self._protocol)
  experimental_max_worker_delay_secs = property(
      lambda self: self._experimental_max_worker_delay_secs)
  session_creation_timeout_secs = property(
      lambda self: self._session_creation_timeout_secs)
  checkpoint_save_graph_def = property(
      lambda self: self._checkpoint_save_graph_def)
  cluster_spec = property(lambda self: self._cluster_spec)
  task_type = property(lambda self: self._task_type)
  task_id = property(lambda self: self._task_id)
  master = property(lambda self: self._master)
  evaluation_master = property(lambda self: self._evaluation_master)
  is_chief = property(lambda self: self._is_chief)
  num_ps_replicas = property(lambda self: self._num_ps_replicas)
  num_worker_replicas = property(lambda self: self._num_worker_replicas)
  global_id_in_cluster = property(lambda self: self._global_id_in_cluster)
  service = property(lambda self: self._service)


def _load_tf_config() -> dict[str, Any]:
  raw = os.environ.get("TF_CONFIG", "")
  if not raw:
    return {}
  try:
    parsed = json.loads(raw)
  except json.JSONDecodeError as e:
    # Still a JSONDecodeError (a ValueError), as tf.estimator raised.
    raise json.JSONDecodeError(f"TF_CONFIG is not valid JSON: {e.msg}",
                               e.doc, e.pos) from None
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
