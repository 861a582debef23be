"""A grid search killed with SIGKILL mid-search resumes without redoing
finished trials and ends with the uninterrupted run's results.

The job kills itself at a named point of a named trial (ESTWEIGHT_KILL_AFTER
with KILL_IN_TRIAL, see tests/support/grid_job.py): no sleeps.
"""
import json
import os

import pytest
import tensorflow as tf

from estweight.runtime import faults
from support import jobs


def _done_trials(model_dir):
  with open(os.path.join(str(model_dir), "results.json")) as f:
    return [r["trial"] for r in json.load(f)]


@pytest.mark.slow
def test_killed_grid_resumes_without_redoing_finished_trials(tmp_path):
  reference = jobs.finish("grid_job.py", tmp_path / "reference")
  assert len(reference) == 4
  model_dir = tmp_path / "killed"
  # After step 25 of the third trial (checkpoints at 0, 10, 20 there).
  proc = jobs.start("grid_job.py", model_dir,
                    env={faults.ENV: "step:25", "KILL_IN_TRIAL": "2"})
  out, _ = proc.communicate(timeout=300)
  assert proc.returncode == -9 and out == ""
  assert _done_trials(model_dir) == [0, 1]
  assert tf.train.latest_checkpoint(
      str(model_dir / "trial_2")).endswith("model.ckpt-20")
  assert not os.path.exists(model_dir / "trial_3")
  stamps = {t: os.stat(model_dir / f"trial_{t}" / "checkpoint").st_mtime_ns
            for t in (0, 1)}
  # Scores compared as exact floats.
  assert jobs.finish("grid_job.py", model_dir) == reference
  assert _done_trials(model_dir) == [0, 1, 2, 3]
  for t, stamp in stamps.items():  # finished trials were not touched
    assert os.stat(model_dir / f"trial_{t}" / "checkpoint").st_mtime_ns == (
        stamp)
