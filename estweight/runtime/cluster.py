"""One task of a TF_CONFIG cluster, on TensorFlow's own distributed runtime.

What a training process needs beyond the single-process loop:
- its gRPC server (`tf.distribute.Server`, one per process, started once);
- the tasks it depends on reachable before it builds a session (a bounded
  wait that names the task, instead of TensorFlow's endless "CreateSession
  still waiting" when one is dead);
- a non-chief worker sharing variables on parameter servers waits, bounded by
  `session_creation_timeout_secs`, until the chief has initialised or
  restored them;
- errors from a task that died mid-run read as such, also one that dies
  while this task's session is being set up (TensorFlow then waits forever,
  whatever the timeouts: `watch_peers`);
- done markers in model_dir: a training task writes
  `model_dir/cluster/<type>-<index>.done` when it finishes, so parameter
  servers and the evaluator (which tf.estimator left waiting forever) learn
  that training is over and exit.
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time
from typing import TYPE_CHECKING, Any, Callable

import tensorflow as tf
from estweight import _logging as logging

from estweight import _tf_private
from estweight.runtime import files

if TYPE_CHECKING:
  from estweight.run_config import RunConfig

_v1 = tf.compat.v1

CHIEF_JOBS = ("chief", "master")
TRAINING_JOBS = ("chief", "master", "worker")
_POLL_SECS = 0.5
_LOST_GRACE_SECS = 3.0
_servers: dict = {}  # (task_type, task_id) -> tf.distribute.Server


class ClusterError(RuntimeError):
  """A cluster task is unreachable, not ready in time, or died mid-run."""


def is_distributed(config: RunConfig) -> bool:
  return bool(config.cluster_spec.jobs) and config.task_type in (TRAINING_JOBS +
                                                                 ("ps",))


def task_name(task_type: str, task_id: int) -> str:
  return f"/job:{task_type}/task:{task_id}"


def _describe(config, job, index) -> str:
  address = config.cluster_spec.task_address(job, index)
  return f"{task_name(job, index)} ({address})"


def shares_variables(config: RunConfig) -> bool:
  """Whether the training tasks share one set of variables on ps tasks
  (without ps tasks, each worker trains its own copy, as in tf.estimator)."""
  return config.num_ps_replicas > 0


def ensure_server(config: RunConfig) -> tf.distribute.Server:
  """This process's gRPC server for its task (started on first call)."""
  key = (config.task_type, config.task_id)
  if key not in _servers:
    logging.info("Starting the server of %s at %s.", task_name(*key),
                 config.cluster_spec.task_address(*key))
    _servers[key] = tf.distribute.Server(config.cluster_spec,
                                         job_name=config.task_type,
                                         task_index=config.task_id,
                                         protocol=config.protocol or "grpc",
                                         config=config.session_config,
                                         start=True)
  return _servers[key]


def _reachable(address, timeout) -> bool:
  host, _, port = address.rpartition(":")
  try:
    with socket.create_connection((host.strip("[]"), int(port)),
                                  timeout=timeout):
      return True
  except OSError:
    return False


def _unreachable(config, tasks):
  """The (job, index) of `tasks` whose port does not accept a connection."""
  return [(j, i)
          for j, i in tasks
          if not _reachable(config.cluster_spec.task_address(j, i), timeout=1.0)
         ]


def peers(config: RunConfig) -> list[tuple[str, int]]:
  """The tasks a training session of this task talks to: the ps tasks and,
  for a non-chief worker sharing variables, the chief."""
  jobs = config.cluster_spec.jobs
  out = [("ps", i) for i in range(config.num_ps_replicas)]
  if not config.is_chief and shares_variables(config):
    out += [(j, 0) for j in CHIEF_JOBS if j in jobs]
  return out


def wait_for_peers(config: RunConfig) -> None:
  """Waits until every peer task accepts connections.

  Raises:
    ClusterError: after `session_creation_timeout_secs`, naming the tasks
      still unreachable.
  """
  deadline = time.monotonic() + config.session_creation_timeout_secs
  waiting = list(peers(config))
  logged = False
  while waiting:
    waiting = _unreachable(config, waiting)
    if not waiting:
      return
    if time.monotonic() >= deadline:
      raise ClusterError(
          f"{task_name(config.task_type, config.task_id)} waited "
          f"session_creation_timeout_secs="
          f"{config.session_creation_timeout_secs} s for "
          f"{', '.join(_describe(config, j, i) for j, i in waiting)}, which "
          "never answered. Start every task of the TF_CONFIG cluster (or fix "
          "its address).")
    if not logged:
      logging.info("Waiting for %s to start.",
                   ", ".join(_describe(config, j, i) for j, i in waiting))
      logged = True
    time.sleep(_POLL_SECS)


def watch_peers(config: RunConfig, fn: Callable[[], Any]) -> Any:
  """Runs `fn` (a first session.run) while checking that the peers answer.

  A distributed session's first run finds the cluster's devices, and if a
  task dies meanwhile TensorFlow waits for it forever (neither
  `operation_timeout_in_ms` nor `RunOptions.timeout_in_ms` bound it). `fn`
  runs in a daemon thread; the caller gets its result or exception, or an
  UnavailableError as soon as a peer stops accepting connections (the run()
  of the training loop turns it into a ClusterError naming the task).
  """
  outcome: list = []

  def target():
    try:
      outcome.append((True, fn()))
    except BaseException as e:  # pylint: disable=broad-except
      outcome.append((False, e))

  thread = threading.Thread(target=target,
                            daemon=True,
                            name="estweight-first-run")
  thread.start()
  while True:
    thread.join(_POLL_SECS)
    if outcome:
      ok, value = outcome[0]
      if ok:
        return value
      raise value
    gone = _unreachable(config, peers(config))
    if gone:
      raise tf.errors.UnavailableError(
          None, None, f"{', '.join(_describe(config, j, i) for j, i in gone)}"
          " stopped answering while this task set up its session")


def wait_until_ready(session: tf.compat.v1.Session, ready_op: Any,
                     config: RunConfig) -> None:
  """A non-chief worker's wait for the chief to initialise the variables.

  Raises:
    ClusterError: after `session_creation_timeout_secs`, naming the chief.
  """
  deadline = time.monotonic() + config.session_creation_timeout_secs
  logged = False
  while True:
    not_ready = session.run(ready_op)
    if not len(not_ready):  # pylint: disable=g-explicit-length-test
      return
    if time.monotonic() >= deadline:
      chief = [
          _describe(config, j, 0)
          for j in CHIEF_JOBS
          if j in config.cluster_spec.jobs
      ]
      names = ", ".join(v.decode() for v in not_ready[:3])
      raise ClusterError(
          f"{task_name(config.task_type, config.task_id)} waited "
          f"session_creation_timeout_secs="
          f"{config.session_creation_timeout_secs} s for the chief "
          f"{chief[0] if chief else ''} to initialise or restore the model; "
          f"still uninitialised: {names}. Is the chief running?")
    if not logged:
      logging.info("Waiting for the chief to initialise the model.")
      logged = True
    time.sleep(_POLL_SECS)


def lost_task_error(config: RunConfig, session: tf.compat.v1.Session | None,
                    error: BaseException) -> ClusterError:
  """A ClusterError for a session error caused by a task that went away.

  The session is abandoned: closing it would block forever.
  """
  if session is not None:
    _tf_private.abandon_session(session)
  # A killed task's connections can reset a moment before its port closes.
  deadline = time.monotonic() + _LOST_GRACE_SECS
  gone = _unreachable(config, peers(config))
  while not gone and time.monotonic() < deadline:
    time.sleep(_POLL_SECS / 2)
    gone = _unreachable(config, peers(config))
  lines = [
      line.strip()
      for line in str(getattr(error, "message", error)).splitlines()
      if line.strip()
  ]
  detail = next(
      (line for line in lines if "/job:" in line or "connect" in line),
      lines[0] if lines else "")
  who = ", ".join(
      _describe(config, j, i) for j, i in gone) or ("a task of its cluster")
  return ClusterError(
      f"{task_name(config.task_type, config.task_id)} lost {who} during "
      f"training ({type(error).__name__}: {detail}). Restart the failed "
      "task; after a parameter server failed, restart the whole job: it "
      "resumes from the latest checkpoint.")


LOST_TASK_ERRORS = (tf.errors.UnavailableError, tf.errors.AbortedError,
                    tf.errors.CancelledError, tf.errors.DeadlineExceededError)


# ------------------------------------------------------------ done markers
def _marker_dir(model_dir):
  return os.path.join(model_dir, "cluster")


def mark_done(model_dir: str, config: RunConfig, global_step: int) -> None:
  """Records that this task finished training at `global_step`."""
  files.write_json(
      os.path.join(_marker_dir(model_dir),
                   f"{config.task_type}-{config.task_id}.done"), {
                       "global_step": int(global_step),
                       "time": time.time()
                   })


def read_done(model_dir: str) -> dict:
  """{'<type>-<index>': {'global_step', 'time'}} of finished tasks."""
  directory = _marker_dir(model_dir)
  out: dict[str, dict] = {}
  if not tf.io.gfile.isdir(directory):
    return out
  for name in tf.io.gfile.listdir(directory):
    if not name.endswith(".done"):
      continue
    try:
      with tf.io.gfile.GFile(os.path.join(directory, name)) as f:
        out[name[:-len(".done")]] = json.loads(f.read())
    except (ValueError, tf.errors.NotFoundError):
      continue  # being replaced
  return out


def chief_done(model_dir: str,
               since: float,
               max_steps: int | None = None) -> dict | None:
  """The chief's done record if it finished after `since` (a time.time()),
  or at `max_steps` or later (a task restarted after the end)."""
  for job in CHIEF_JOBS:
    record = read_done(model_dir).get(f"{job}-0")
    if record is not None and (record["time"] >= since or
                               (max_steps is not None and
                                record["global_step"] >= max_steps)):
      return record
  return None


def serve_until_done(config: RunConfig,
                     model_dir: str,
                     *,
                     max_steps: int | None = None,
                     grace_secs: float | None = None) -> int:
  """A ps task: serves variables until the chief and the workers are done.

  Returns once the chief has finished training (after this task started,
  or at `max_steps`) and every worker has finished too, or `grace_secs`
  after the chief (default: `session_creation_timeout_secs`) for workers
  that died.
  """
  ensure_server(config)
  started = time.time()
  grace = config.session_creation_timeout_secs if grace_secs is None else (
      grace_secs)
  workers = [
      f"worker-{i}" for i in range(
          config.cluster_spec.num_tasks("worker") if "worker" in
          config.cluster_spec.jobs else 0)
  ]
  logging.info("%s serving until training is done.",
               task_name(config.task_type, config.task_id))
  while True:
    chief = chief_done(model_dir, started, max_steps)
    if chief is not None:
      done = read_done(model_dir)
      pending = [
          w for w in workers
          if w not in done or (done[w]["time"] < started and
                               done[w]["global_step"] < chief["global_step"])
      ]
      if not pending or time.time() - chief["time"] >= grace:
        logging.info("Training is done (global step %d); %s exits.",
                     chief["global_step"],
                     task_name(config.task_type, config.task_id))
        return chief["global_step"]
    time.sleep(_POLL_SECS)
