"""run_iterations killed with SIGKILL at named points, then rerun, ends
exactly like an uninterrupted run (history and losses, final step,
early-stop decision).

The job kills itself at the point (ESTWEIGHT_KILL_AFTER, see
estweight/runtime/faults.py): no sleeps, the same moment on every run.
"""
import json
import os

import pytest

from estweight.runtime import faults
from support import jobs


def _history_steps(model_dir):
  with open(os.path.join(str(model_dir), "driver", "state.json")) as f:
    return [h["global_step"] for h in json.load(f)["history"]]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
  return jobs.finish("driver_job.py", tmp_path_factory.mktemp("reference"),
                     timeout=300)


@pytest.mark.slow
def test_the_uninterrupted_run_stops_early(reference):
  # steps_per_iteration=10, patience=2: the reference the kills compare to.
  assert reference["steps"] == list(range(10, 141, 10))
  assert reference["stopped_early"] and reference["global_step"] == 140


@pytest.mark.slow
@pytest.mark.parametrize("kill_after, recorded", [
    # inside the save at the end of iteration 3, before its evaluation
    ("save:30", [10, 20]),
    # the evaluation of step 40 is computed but not written
    ("eval:40", [10, 20, 30]),
    # mid-iteration, after step 55 of the 6th iteration
    ("step:55", [10, 20, 30, 40, 50]),
])
def test_sigkill_at_a_named_point_then_rerun_matches_uninterrupted(
    tmp_path, reference, kill_after, recorded):
  proc = jobs.start("driver_job.py", tmp_path, env={faults.ENV: kill_after})
  out, _ = proc.communicate(timeout=300)
  assert proc.returncode == -9 and out == ""
  assert _history_steps(tmp_path) == recorded
  resumed = jobs.finish("driver_job.py", tmp_path, timeout=300)
  assert resumed == reference  # losses compared as exact floats
