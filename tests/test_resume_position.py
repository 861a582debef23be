"""A killed train(max_steps=N), rerun, ends with the variables of an
uninterrupted call: the rerun skips the batches the killed call trained on
(runtime/position.py). Real processes, killed at named points."""
import json
import os

import numpy as np
import pytest

from estweight.runtime import faults
from estweight.runtime import position
from support import jobs
from support import position_job


def _run(model_dir, max_steps, kill_after=None):
  env = {faults.ENV: kill_after} if kill_after else {faults.ENV: ""}
  proc = jobs.start("position_job.py", model_dir, max_steps, env=env)
  out, _ = proc.communicate(timeout=300)
  if kill_after:
    assert proc.returncode == -9, out
    return None
  assert proc.returncode == 0, out
  return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
  return _run(str(tmp_path_factory.mktemp("whole")), 200)


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", ["step:130", "save:150", "step:50"])
def test_a_killed_call_rerun_ends_bit_exact(tmp_path, uninterrupted,
                                            kill_after):
  model_dir = str(tmp_path)
  _run(model_dir, 200, kill_after)
  assert os.path.exists(os.path.join(model_dir, position.FILE))
  resumed = _run(model_dir, 200)
  assert resumed.keys() == uninterrupted.keys()
  for name, value in uninterrupted.items():
    np.testing.assert_array_equal(resumed[name], value, err_msg=name)
  assert not os.path.exists(os.path.join(model_dir, position.FILE))


@pytest.mark.slow
def test_a_chain_of_kills_still_ends_bit_exact(tmp_path, uninterrupted):
  model_dir = str(tmp_path)
  for point in ("step:60", "save:100", "step:170"):
    _run(model_dir, 200, point)
  resumed = _run(model_dir, 200)
  for name, value in uninterrupted.items():
    np.testing.assert_array_equal(resumed[name], value, err_msg=name)


def test_calls_that_return_read_their_input_from_the_start(tmp_path):
  # tf.estimator's meaning is kept for calls that return: train(max_steps=
  # 100) then train(max_steps=200) reads batches 1-100 twice, which differs
  # from one train(max_steps=200) call.
  split = position_job.estimator(str(tmp_path / "split"))
  split.train(position_job.input_fn, max_steps=100)
  assert not os.path.exists(str(tmp_path / "split" / position.FILE))
  split.train(position_job.input_fn, max_steps=200)
  whole = position_job.estimator(str(tmp_path / "whole"))
  whole.train(position_job.input_fn, max_steps=200)
  name = "dnn/logits/kernel"
  assert not np.array_equal(split.get_variable_value(name),
                            whole.get_variable_value(name))


def test_a_steps_call_clears_an_interrupted_calls_record(tmp_path):
  model_dir = str(tmp_path)
  est = position_job.estimator(model_dir)
  est.train(position_job.input_fn, max_steps=50)
  position.begin(model_dir, 0, 200)  # as a call killed after step 50 left
  est.train(position_job.input_fn, steps=10)
  assert not os.path.exists(os.path.join(model_dir, position.FILE))


def test_the_record_is_only_used_by_a_call_to_the_same_end(tmp_path):
  model_dir = str(tmp_path)
  position.begin(model_dir, 20, 200)
  assert position.batches_to_skip(model_dir, 50, 200) == (30, 20)
  assert position.batches_to_skip(model_dir, 50, 300) == (0, 50)
  assert position.batches_to_skip(model_dir, 10, 200) == (0, 10)
  position.end(model_dir)
  assert position.batches_to_skip(model_dir, 50, 200) == (0, 50)
