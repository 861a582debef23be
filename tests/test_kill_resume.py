"""A training process killed with SIGKILL resumes from its last checkpoint.

The job kills itself at a named point (ESTWEIGHT_KILL_AFTER, see
estweight/runtime/faults.py): no sleeps, the same moment on every run.
"""
import os

import pytest
import tensorflow as tf

from estweight.runtime import faults
from support import jobs

MAX_STEPS = 200  # checkpoints every 20 steps (train_job.py)


def _run(model_dir, kill_after=None):
  """Runs train_job.py to its end (or its kill); (exit code, stdout words)."""
  env = {faults.ENV: kill_after} if kill_after else None
  proc = jobs.start("train_job.py", model_dir, MAX_STEPS, env=env)
  out, _ = proc.communicate(timeout=300)
  return proc.returncode, out.split()


def _latest_step(model_dir):
  path = tf.train.latest_checkpoint(str(model_dir))
  return int(path.rsplit("-", 1)[1]) if path else None


@pytest.mark.slow
@pytest.mark.parametrize("kill_after, restored", [
    ("step:50", 40),  # after step 50: the checkpoint of step 40 is the latest
    # inside the save of step 60, after its variables are written: that
    # checkpoint is complete (only its .meta is missing) and is restored
    ("save:60", 60),
])
def test_sigkill_at_a_named_point_then_rerun_resumes(tmp_path, kill_after,
                                                     restored):
  code, words = _run(tmp_path, kill_after)
  assert code == -9 and words == ["START", "0"]
  assert _latest_step(tmp_path) == restored
  # A kill inside the save leaves that checkpoint without its .meta.
  assert os.path.exists(tmp_path / f"model.ckpt-{restored}.meta") == (
      kill_after.startswith("step"))

  code, words = _run(tmp_path)
  assert code == 0, words
  # The rerun started from the last checkpoint of the killed process and
  # finished at max_steps, as an uninterrupted run would.
  assert words == ["START", str(restored), "DONE", str(MAX_STEPS)]

  # Once there, rerunning the same command trains nothing.
  code, words = _run(tmp_path)
  assert code == 0 and words == ["DONE", str(MAX_STEPS)]
