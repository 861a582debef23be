"""Worker processes for grid_search(workers=N): every failure ends the search.

multiprocessing.Pool replaces a worker that dies, so a worker that cannot
start (the classic case: a script without an `if __name__ == "__main__":`
guard, whose top level every spawned worker re-runs, calling grid_search
again) was respawned forever and the search never ended. Here a fixed set of
spawned processes takes one job at a time over a pipe:

- a worker that dies before it is ready fails the search with its error
  (also written by a re-run grid_search call, see `refuse_in_starting_worker`);
- a worker that dies in a job (killed, out of memory) fails the search naming
  the job and the exit code; an exception in a job is raised in the caller
  with the worker's traceback;
- the other workers are then stopped (finished jobs are already recorded, so
  a rerun resumes);
- the workers' log records are replayed in this process through its own
  loggers, so they print with this process's handlers, format and levels
  (the CLI's, a notebook's, absl's).
"""
from __future__ import annotations

import logging as std_logging
import logging.handlers
import multiprocessing
import multiprocessing.connection
import os
import pickle
import sys
import tempfile
import traceback
import warnings
from typing import Any, Callable, Sequence

_STOP = None
# The loggers whose levels workers copy from the parent.
_LOGGERS = ("", "absl", "tensorflow")


class WorkerError(RuntimeError):
  """A worker process died, at start-up or in a job."""


class _RemoteTraceback(Exception):
  """The traceback of an exception raised in a worker (its `__cause__`)."""

  def __init__(self, text):
    super().__init__(text)
    self.text = text

  def __str__(self):
    return self.text


def _startup_error_path(parent_pid, pid):
  return os.path.join(tempfile.gettempdir(),
                      f"estweight-worker-{parent_pid}-{pid}.error")


def refuse_in_starting_worker(what: str) -> None:
  """Raises when this process is a spawned worker still importing `__main__`.

  A spawned worker re-runs the main script (as `__mp_main__`) to find the
  functions it was sent; a script that calls `what` outside an
  `if __name__ == "__main__":` block calls it again there. The message is
  also left where the parent finds it (the worker's error ends its search).

  Args:
    what: the call, as the message names it (`grid_search(workers=2)`).

  Raises:
    RuntimeError: in that case.
  """
  mp_main = sys.modules.get("__mp_main__")
  if mp_main is None or mp_main is sys.modules.get("__main__"):
    return  # not a worker, or one whose main module is fully imported
  message = (
      f"{what} was called again while a worker process started: the "
      "script calling it has no `if __name__ == \"__main__\":` guard, and "
      "every worker process re-runs the script's top level. To fix, put "
      "the call (and the code that only the main process should run) under "
      "`if __name__ == \"__main__\":`, or pass workers=1.")
  try:
    with open(_startup_error_path(os.getppid(), os.getpid()), "w") as f:
      f.write(message)
  except OSError:
    pass  # the parent then points to this process's stderr
  raise RuntimeError(message)


def _parent_logging():
  """What a worker needs to log as this process does: levels, warnings."""
  levels = {
      name: std_logging.getLogger(name or None).getEffectiveLevel()
      for name in _LOGGERS
  }
  filters = list(warnings.filters)
  try:
    pickle.dumps(filters)
  except Exception:  # pylint: disable=broad-except
    filters = None  # e.g. a warning class defined in a closure
  return levels, filters


def _route_logs(queue, levels, filters):
  """In a worker: every log record goes to the parent, nothing prints here."""
  root = std_logging.getLogger()
  for name in _LOGGERS:
    logger = std_logging.getLogger(name or None)
    for handler in list(logger.handlers):
      logger.removeHandler(handler)
    logger.setLevel(levels[name])
  root.addHandler(logging.handlers.QueueHandler(queue))
  if filters is not None:
    warnings.filters[:] = filters


class _Replay:
  """In the parent: a worker's record goes through the logger it was made
  for, as if logged here."""

  def handle(self, record):
    logger = std_logging.getLogger(record.name)
    if logger.isEnabledFor(record.levelno):
      logger.handle(record)


def _worker_main(conn, log_queue, levels, filters):
  """A worker's loop: ready, then jobs until told to stop."""
  _route_logs(log_queue, levels, filters)
  conn.send(("ready",))
  while True:
    try:
      message = conn.recv()
    except EOFError:  # the parent is gone
      return
    if message is _STOP:
      return
    index, payload = message
    try:
      try:
        fn, job = pickle.loads(payload)
      except (AttributeError, ImportError) as e:
        raise RuntimeError(
            f"The worker process cannot find the functions sent to it ({e}). "
            "With workers > 1 they must be defined at the top level of an "
            "importable module or script, outside `if __name__ == "
            "\"__main__\":` (or pass workers=1).") from e
      conn.send(("done", index, fn(job)))
    except BaseException as e:  # pylint: disable=broad-except
      text = traceback.format_exc()
      try:
        pickle.dumps(e)
      except Exception:  # pylint: disable=broad-except
        e = RuntimeError(f"{type(e).__name__}: {e}")
      conn.send(("failed", index, e, text))
      return


class _Worker:

  def __init__(self, number, process, conn):
    self.number, self.process, self.conn = number, process, conn
    self.ready = False
    self.job = None  # the index of the job it runs
    self.stopped = False

  def describe(self):
    return f"worker {self.number} (pid {self.process.pid})"


def run(fn: Callable[[Any], Any],
        jobs: Sequence[Any],
        *,
        workers: int,
        on_result: Callable[[int, Any], Any],
        describe_job: Callable[[int], str] = str) -> None:
  """Runs `fn(job)` for every job in up to `workers` spawned processes.

  Args:
    fn: a module-level function (sent by reference).
    jobs: picklable arguments, one call each.
    workers: how many processes (at most one per job).
    on_result: `(index, result)`, called here as each job finishes.
    describe_job: `index -> str`, how errors name a job.

  Raises:
    WorkerError: a worker died (at start-up: with its error).
    TypeError: a job cannot be sent to another process.
    Exception: a job's own exception, raised again here (its `__cause__`
      holds the worker's traceback).
  """
  payloads = []
  for index, job in enumerate(jobs):
    try:
      payloads.append(pickle.dumps((fn, job)))
    except Exception as e:  # pylint: disable=broad-except
      raise TypeError(
          f"{describe_job(index)} cannot be sent to a worker process ({e}). "
          "With workers > 1, the functions passed must be importable: "
          "defined at the top level of a module or script, not lambdas or "
          "nested functions (or pass workers=1).") from e
  context = multiprocessing.get_context("spawn")
  log_queue = context.Queue()
  listener = logging.handlers.QueueListener(log_queue,
                                            _Replay())  # type: ignore[arg-type]
  listener.start()
  pool = []
  try:
    levels, filters = _parent_logging()
    for number in range(1, min(workers, len(jobs)) + 1):
      parent_end, child_end = context.Pipe()
      process = context.Process(target=_worker_main,
                                args=(child_end, log_queue, levels, filters),
                                name=f"estweight-worker-{number}",
                                daemon=True)
      process.start()
      child_end.close()
      pool.append(_Worker(number, process, parent_end))
    _serve(pool, payloads, on_result, describe_job)
  finally:
    _shut_down(pool)
    listener.stop()
    log_queue.close()


def _serve(pool, payloads, on_result, describe_job):
  queue = list(range(len(payloads)))
  finished = 0

  def assign(worker):
    if queue:
      worker.job = queue.pop(0)
      worker.conn.send((worker.job, payloads[worker.job]))
    else:
      worker.job, worker.stopped = None, True
      worker.conn.send(_STOP)

  while finished < len(payloads):
    live = [w for w in pool if not w.stopped]
    waitables = [w.conn for w in live] + [w.process.sentinel for w in live]
    for ready in multiprocessing.connection.wait(waitables):
      worker = next(w for w in live if ready in (w.conn, w.process.sentinel))
      if worker.stopped:
        continue
      message = None
      if worker.conn.poll():
        try:
          message = worker.conn.recv()
        except EOFError:
          message = None
      if message is None:  # the pipe closed: the process is gone
        worker.process.join(5)
        raise _death(worker, describe_job)
      kind = message[0]
      if kind == "ready":
        worker.ready = True
        assign(worker)
      elif kind == "done":
        _, index, result = message
        finished += 1
        on_result(index, result)
        assign(worker)
      else:  # "failed"
        _, index, error, text = message
        error.__cause__ = _RemoteTraceback(
            f"\n{describe_job(index)} failed in {worker.describe()}:\n"
            f"{text}")
        raise error


def _death(worker, describe_job):
  code = worker.process.exitcode
  if not worker.ready:
    path = _startup_error_path(os.getpid(), worker.process.pid)
    try:
      with open(path) as f:
        cause = f.read()
      os.remove(path)
    except OSError:
      cause = "its error is printed above, on its standard error"
    return WorkerError(
        f"grid_search: {worker.describe()} exited with code {code} while "
        f"starting, before running any trial: {cause}")
  return WorkerError(
      f"grid_search: {worker.describe()} died with exit code {code} while "
      f"running {describe_job(worker.job)}. Finished trials are recorded; "
      "rerun the same call to resume.")


def _shut_down(pool):
  """Stops every worker: politely when idle, else terminate, then kill."""
  for worker in pool:
    if worker.process.is_alive() and not worker.stopped and worker.ready \
        and worker.job is None:
      try:
        worker.conn.send(_STOP)
      except OSError:
        pass
  for worker in pool:  # busy or still starting: its job is abandoned
    if worker.process.is_alive() and (worker.job is not None or
                                      not worker.ready):
      worker.process.terminate()
  for worker in pool:
    worker.process.join(10)
    if worker.process.is_alive():
      worker.process.kill()
      worker.process.join()
    worker.conn.close()
    try:  # a start-up error nobody read (several workers failed at once)
      os.remove(_startup_error_path(os.getpid(), worker.process.pid))
    except OSError:
      pass
