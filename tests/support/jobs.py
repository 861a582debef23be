"""Run tests/support/*_job.py scripts as real processes (kill/resume tests)."""
import json
import os
import subprocess
import sys

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start(script, *args):
  """Starts `tests/support/<script>` with `args`; stdout is piped."""
  env = dict(os.environ, PYTHONPATH=TESTS + os.pathsep + os.environ.get(
      "PYTHONPATH", ""), TF_CPP_MIN_LOG_LEVEL="3")
  return subprocess.Popen(
      [sys.executable, os.path.join(TESTS, "support", script),
       *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
      text=True, env=env)


def finish(script, *args, timeout=300):
  """Runs the job to the end; returns its last stdout line parsed as JSON."""
  proc = start(script, *args)
  out, _ = proc.communicate(timeout=timeout)
  assert proc.returncode == 0, out
  return json.loads(out.strip().splitlines()[-1])
