"""A grid search killed with SIGKILL mid-search resumes without redoing
finished trials and ends with the uninterrupted run's results."""
import json
import os
import signal
import time

import pytest

from support import jobs


def _start(model_dir):
  return jobs.start("grid_job.py", model_dir)


def _finish(model_dir):
  return jobs.finish("grid_job.py", model_dir)


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
