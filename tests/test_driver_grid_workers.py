"""grid_search(workers=N) with real worker processes that fail.

A worker that dies ends the search with its error, within a bounded time:
never a respawn loop (multiprocessing.Pool respawned a worker that crashed
at start-up forever), never a hang.
"""
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import tempfile

import pytest

from estweight.driver import workers
from support import jobs
import test_driver_grid as grid_tests


@pytest.mark.slow
def test_script_without_main_guard_fails_with_the_workers_error(tmp_path):
  model_dir = tmp_path / "grid"
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  # Its own session, so a hang (the old respawn loop) is killed whole.
  proc = subprocess.Popen(
      [sys.executable, os.path.join(jobs.TESTS, "support",
                                    "grid_unguarded_job.py"), str(model_dir)],
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
      start_new_session=True)
  try:
    out, err = proc.communicate(timeout=400)
  except subprocess.TimeoutExpired:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    pytest.fail("grid_search(workers=2) without a main guard did not end "
                "within 400 s")
  assert proc.returncode == 1 and "FINISHED" not in out
  last = err.strip().splitlines()[-1]
  assert re.fullmatch(
      r"estweight\.driver\.workers\.WorkerError: grid_search: worker [12] "
      r"\(pid (\d+)\) exited with code 1 while starting, before running any "
      r"trial: grid_search\(workers=2\) was called again while a worker "
      r"process started: the script calling it has no `if __name__ == "
      r"\"__main__\":` guard, and every worker process re-runs the script's "
      r"top level\. To fix, put the call \(and the code that only the main "
      r"process should run\) under `if __name__ == \"__main__\":`, or pass "
      r"workers=1\.", last), last
  pid = int(re.search(r"pid (\d+)", last).group(1))
  with pytest.raises(ProcessLookupError):  # reaped, not left running
    os.kill(pid, 0)
  assert not os.path.exists(model_dir / "trial_0")
  # The error file a worker leaves for its parent was read and removed.
  assert not [f for f in os.listdir(tempfile.gettempdir())
              if f.startswith(f"estweight-worker-{proc.pid}-")]


def kill_own_worker(params, run_config):
  """An estimator_fn whose worker process dies (SIGKILL, as the OOM killer
  does) in every trial."""
  if multiprocessing.parent_process() is not None:
    os.kill(os.getpid(), signal.SIGKILL)
  return grid_tests.estimator_fn(params, run_config)


@pytest.mark.slow
def test_worker_killed_in_a_trial_fails_the_search(tmp_path):
  with pytest.raises(workers.WorkerError) as raised:
    grid_tests.search(tmp_path, workers=2, estimator_fn=kill_own_worker,
                      grid={"learning_rate": [0.0, 0.05], "batch_size": [4]})
  assert re.fullmatch(
      r"grid_search: worker [12] \(pid \d+\) died with exit code -9 while "
      r"running trial ([12])/2 \(trial_([01])\)\. Finished trials are "
      r"recorded; rerun the same call to resume\.", str(raised.value))
  assert not os.path.exists(tmp_path / "results.json")


@pytest.mark.slow
def test_trial_exception_in_a_worker_is_raised_with_its_traceback(
    tmp_path, caplog):
  caplog.set_level("INFO")
  with pytest.raises(ValueError, match="'auc' is not among") as raised:
    grid_tests.search(tmp_path, workers=2, metric="auc", mode="max")
  cause = str(raised.value.__cause__)
  assert re.search(r"trial [1-4]/4 \(trial_[0-3]\) failed in worker [12] "
                   r"\(pid \d+\):\nTraceback", cause), cause
  # The workers' log records were replayed here, labelled with the trial.
  started = [r for r in caplog.records if r.process != os.getpid() and
             re.fullmatch(r"trial [1-4]/4 \| started in .*trial_[0-3]: "
                          r"learning_rate=0\.0?5?, batch_size=[48]",
                          r.getMessage())]
  assert started, [r.getMessage() for r in caplog.records]
  assert not os.path.exists(tmp_path / "results.json")


def test_unpicklable_functions_are_refused_before_any_process(tmp_path):
  with pytest.raises(TypeError, match=r"trial 1/4 \(trial_0\) cannot be sent "
                     r"to a worker process .*must be importable"):
    grid_tests.search(tmp_path, workers=2,
                      estimator_fn=lambda p, c: grid_tests.estimator_fn(p, c))
  assert not os.path.exists(tmp_path / "trial_0")
