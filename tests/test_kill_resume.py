"""A training process killed with SIGKILL resumes from its last checkpoint."""
import signal
import time

import pytest
import tensorflow as tf

from support import jobs


def _job(model_dir, max_steps):
  return jobs.start("train_job.py", model_dir, max_steps)


def _latest_step(model_dir):
  path = tf.train.latest_checkpoint(str(model_dir))
  return int(path.rsplit("-", 1)[1]) if path else 0


@pytest.mark.slow
def test_sigkill_mid_training_then_rerun_resumes(tmp_path):
  proc = _job(tmp_path, 200)
  deadline = time.monotonic() + 120
  while _latest_step(tmp_path) < 40:
    assert proc.poll() is None, "job ended before it could be killed"
    assert time.monotonic() < deadline, "no checkpoint appeared in time"
    time.sleep(0.05)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  killed_at = _latest_step(tmp_path)
  assert 40 <= killed_at < 200

  rerun = _job(tmp_path, 200)
  out, _ = rerun.communicate(timeout=180)
  assert rerun.returncode == 0, out
  lines = out.split()
  # The rerun started from the last checkpoint of the killed process...
  assert lines[:2] == ["START", str(killed_at)]
  # ...and finished at max_steps, as an uninterrupted run would.
  assert lines[-2:] == ["DONE", "200"]

  # Once there, rerunning the same command trains nothing.
  again = _job(tmp_path, 200)
  out, _ = again.communicate(timeout=120)
  assert again.returncode == 0 and "START" not in out and "DONE 200" in out
