"""run_iterations killed with SIGKILL at several moments, then rerun, ends
exactly like an uninterrupted run (history, final step, early-stop)."""
import json
import os
import signal
import time

import pytest
import tensorflow as tf

from support import jobs


def _start(model_dir):
  return jobs.start("driver_job.py", model_dir)


def _finish(model_dir):
  return jobs.finish("driver_job.py", model_dir, timeout=180)


def _latest_step(model_dir):
  path = tf.train.latest_checkpoint(str(model_dir))
  return int(path.rsplit("-", 1)[1]) if path else -1


def _history_len(model_dir):
  path = os.path.join(str(model_dir), "driver", "state.json")
  if not os.path.exists(path):
    return 0
  try:
    with open(path) as f:
      return len(json.load(f)["history"])
  except ValueError:
    return 0


@pytest.mark.slow
def test_sigkill_at_several_moments_then_rerun_matches_uninterrupted(
    tmp_path):
  reference = _finish(tmp_path / "reference")
  assert reference["stopped_early"] and reference["global_step"] == 140

  moments = {
      # right after the checkpoint of step 30 exists (its evaluation may
      # not be recorded yet)
      "after_checkpoint": lambda d: _latest_step(d) >= 30,
      # in the middle of the training of the iteration after the 5th eval
      "mid_iteration": lambda d: _history_len(d) >= 5,
  }
  for name, ready in moments.items():
    model_dir = tmp_path / name
    proc = _start(model_dir)
    deadline = time.monotonic() + 120
    while not ready(model_dir):
      assert proc.poll() is None, f"{name}: job ended before the kill"
      assert time.monotonic() < deadline
      time.sleep(0.01)
    if name == "mid_iteration":
      time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _history_len(model_dir) < len(reference["steps"])
    resumed = _finish(model_dir)
    assert resumed == reference, name
