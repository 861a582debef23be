"""A grid search killed with SIGKILL mid-search resumes without redoing
finished trials and ends with the uninterrupted run's results."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(__file__)


def _start(model_dir):
  env = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get(
      "PYTHONPATH", ""), TF_CPP_MIN_LOG_LEVEL="3")
  return subprocess.Popen(
      [sys.executable, os.path.join(HERE, "support", "grid_job.py"),
       str(model_dir)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
      text=True, env=env)


def _finish(model_dir):
  proc = _start(model_dir)
  out, _ = proc.communicate(timeout=300)
  assert proc.returncode == 0
  return json.loads(out.strip().splitlines()[-1])


def _done_trials(model_dir):
  try:
    with open(os.path.join(str(model_dir), "results.json")) as f:
      return [r["trial"] for r in json.load(f)]
  except (OSError, ValueError):
    return []


@pytest.mark.slow
def test_killed_grid_resumes_without_redoing_finished_trials(tmp_path):
  reference = _finish(tmp_path / "reference")
  model_dir = tmp_path / "killed"
  proc = _start(model_dir)
  deadline = time.monotonic() + 240
  while len(_done_trials(model_dir)) < 2:
    assert proc.poll() is None and time.monotonic() < deadline
    time.sleep(0.02)
  time.sleep(0.3)  # into the third trial
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  finished = _done_trials(model_dir)
  assert 2 <= len(finished) < 4
  stamps = {t: os.path.getmtime(model_dir / f"trial_{t}" / "checkpoint")
            for t in finished}
  assert _finish(model_dir) == reference
  for t, stamp in stamps.items():  # finished trials were not touched
    assert os.path.getmtime(model_dir / f"trial_{t}" / "checkpoint") == stamp
