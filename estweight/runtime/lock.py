"""One trainer per model_dir: a lock file held while a train call runs.

`model_dir/trainer.lock` holds the holder's pid, host and start time, and a
heartbeat its thread renews every `HEARTBEAT_SECS`. A second trainer (in
another process, or another Estimator in this one) is refused with a
`ModelDirLockedError` naming the holder. A lock is stale, and taken over
with a warning, when its process is gone (same host: the pid no longer
runs) or its heartbeat is older than `LEASE_SECS` (any host). Readers
(evaluate, predict, export, TensorBoard) never take it. Works on local
disks (atomic create) and through `tf.io.gfile` paths (write, then read
back: the last writer wins, and a loser sees it).
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid

import tensorflow as tf
from estweight import _logging as logging

from estweight.runtime import files

LOCK_FILE = "trainer.lock"
HEARTBEAT_SECS = 10.0
LEASE_SECS = 60.0


class ModelDirLockedError(RuntimeError):
  """Another trainer holds the model_dir."""


def _pid_running(pid) -> bool:
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True
  return True


def _read(path):
  try:
    with tf.io.gfile.GFile(path) as f:
      return json.loads(f.read())
  except (tf.errors.NotFoundError, ValueError):
    return None


def _stale(holder) -> bool:
  if holder is None:
    return True
  if time.time() - holder.get("heartbeat", 0) > LEASE_SECS:
    return True
  return (holder.get("host") == socket.gethostname() and
          not _pid_running(holder.get("pid", -1)))


class ModelDirLock:
  """The train lock of one model_dir; `with lock:` holds it."""

  def __init__(self, model_dir: str):
    self._dir = model_dir
    self.path = os.path.join(model_dir, LOCK_FILE)
    self._token = None
    self._stop = threading.Event()
    self._thread = None
    self._created: list[str] = [
    ]  # directories made for the lock, deepest first

  def _record(self, started):
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": started,
        "heartbeat": time.time(),
        "token": self._token
    }

  def _write(self, record):
    files.write_json(self.path, record)

  def _create_local(self, record) -> bool:
    try:
      fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
      return False
    with os.fdopen(fd, "w") as f:
      f.write(json.dumps(record))
    return True

  def acquire(self) -> ModelDirLock:
    """Takes the lock or raises ModelDirLockedError naming the holder.

    Raises:
      ModelDirLockedError: another live trainer holds it.
      PermissionError: model_dir cannot be written (read-only, no space).
    """
    try:
      return self._acquire()
    except (OSError, tf.errors.OpError) as e:
      cause = getattr(e, "strerror", None) or getattr(e, "message", None) or e
      raise PermissionError(
          f"Cannot write to model_dir={self._dir!r} ({cause}): training "
          "writes its checkpoints there. Use a writable model_dir (a "
          "read-only one can still be evaluated, predicted from and "
          "exported).") from e

  def _acquire(self):
    self._created = []
    path = self._dir
    while path and not tf.io.gfile.isdir(path):
      self._created.append(path)
      path = os.path.dirname(path.rstrip("/"))
    tf.io.gfile.makedirs(self._dir)
    self._token = uuid.uuid4().hex
    started = time.time()
    local = "://" not in self.path
    for _ in range(3):
      holder = _read(self.path)
      if holder is not None and not _stale(holder):
        raise ModelDirLockedError(
            f"model_dir={self._dir!r} is being trained by another trainer: "
            f"pid {holder.get('pid')} on host {holder.get('host')!r}, since "
            f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(holder.get('started', 0)))}"
            f" (lock {self.path}). Wait for it to finish or stop it, or use "
            "another model_dir. Two trainers on one model_dir would "
            "overwrite each other's checkpoints.")
      if holder is not None:
        logging.warning(
            "Taking over the lock of model_dir %s from pid %s on "
            "%s, which is gone.", self._dir, holder.get("pid"),
            holder.get("host"))
        try:
          tf.io.gfile.remove(self.path)
        except tf.errors.NotFoundError:
          pass
      record = self._record(started)
      if local:
        if not self._create_local(record):
          continue  # someone was faster: look again
      else:
        self._write(record)
        time.sleep(0.2)
        if (_read(self.path) or {}).get("token") != self._token:
          continue
      self._start_heartbeat(started)
      return self
    raise ModelDirLockedError(
        f"model_dir={self._dir!r}: another trainer took its lock "
        f"({self.path}) at the same moment; use one trainer per model_dir.")

  def _start_heartbeat(self, started):
    self._stop.clear()

    def beat():
      while not self._stop.wait(HEARTBEAT_SECS):
        try:
          if (_read(self.path) or {}).get("token") == self._token:
            self._write(self._record(started))
        except (OSError, tf.errors.OpError) as e:
          logging.warning("Cannot renew the model_dir lock %s: %s", self.path,
                          e)

    self._thread = threading.Thread(target=beat,
                                    daemon=True,
                                    name="estweight-lock-heartbeat")
    self._thread.start()

  def release(self) -> None:
    if self._thread is not None:
      self._stop.set()
      self._thread.join()
      self._thread = None
    if self._token is not None:
      if (_read(self.path) or {}).get("token") == self._token:
        try:
          tf.io.gfile.remove(self.path)
        except tf.errors.NotFoundError:
          pass
      self._token = None
    # A call that failed before writing anything leaves no directory behind.
    for path in self._created:
      try:
        if tf.io.gfile.listdir(path):
          break
        tf.io.gfile.rmtree(path)
      except tf.errors.OpError:
        break
    self._created = []

  def __enter__(self):
    return self.acquire()

  def __exit__(self, *exc):
    self.release()
