"""Run tests/support/*_job.py scripts as real processes (kill/resume tests)."""
import json
import os
import socket
import subprocess
import sys
import threading
import time

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start(script, *args, env=None, stderr=subprocess.DEVNULL):
  """Starts `tests/support/<script>` with `args`; stdout is piped."""
  env = dict(os.environ, **(env or {}))
  env.update(PYTHONPATH=TESTS + os.pathsep + os.environ.get("PYTHONPATH", ""),
             TF_CPP_MIN_LOG_LEVEL="3")
  return subprocess.Popen(
      [sys.executable, os.path.join(TESTS, "support", script),
       *map(str, args)], stdout=subprocess.PIPE, stderr=stderr, text=True,
      env=env)


class Task:
  """A job process whose stdout and stderr lines are collected as they
  come, so a test can wait for a named line (and kill the task there)."""

  def __init__(self, script, *args, env=None):
    self.proc = start(script, *args, env=env, stderr=subprocess.PIPE)
    self.lines, self.errors = [], []
    self._changed = threading.Condition()
    self._threads = [threading.Thread(target=self._collect, args=(stream, out),
                                      daemon=True)
                     for stream, out in ((self.proc.stdout, self.lines),
                                         (self.proc.stderr, self.errors))]
    for thread in self._threads:
      thread.start()

  def _collect(self, stream, out):
    for line in stream:
      with self._changed:
        out.append(line.rstrip("\n"))
        self._changed.notify_all()
    with self._changed:
      self._changed.notify_all()

  def wait_for_line(self, predicate, timeout=300):
    """Blocks until a stdout line satisfies `predicate`; returns it."""
    deadline = time.monotonic() + timeout
    seen = 0
    with self._changed:
      while True:
        for line in self.lines[seen:]:
          if predicate(line):
            return line
        seen = len(self.lines)
        if self.proc.poll() is not None and not any(
            t.is_alive() for t in self._threads):
          raise AssertionError(f"exited ({self.proc.returncode}) first: "
                               f"{self.errors[-5:]}")
        left = deadline - time.monotonic()
        if left <= 0:
          raise AssertionError("timed out waiting for a line")
        self._changed.wait(min(left, 1.0))

  def kill(self):
    self.proc.kill()
    self.proc.wait()

  def result(self, timeout=300):
    """Waits for the exit; (return code, last stdout line as JSON or None)."""
    self.proc.wait(timeout=timeout)
    for thread in self._threads:
      thread.join(timeout=10)
    try:
      return self.proc.returncode, json.loads(self.lines[-1])
    except (IndexError, ValueError):
      return self.proc.returncode, None


def free_ports(n):
  """`n` distinct free TCP ports on 127.0.0.1."""
  sockets = [socket.socket() for _ in range(n)]
  try:
    for s in sockets:
      s.bind(("127.0.0.1", 0))
    return [s.getsockname()[1] for s in sockets]
  finally:
    for s in sockets:
      s.close()


def finish(script, *args, timeout=300):
  """Runs the job to the end; returns its last stdout line parsed as JSON."""
  proc = start(script, *args)
  out, _ = proc.communicate(timeout=timeout)
  assert proc.returncode == 0, out
  return json.loads(out.strip().splitlines()[-1])
