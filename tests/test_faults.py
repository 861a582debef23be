"""The named kill points (ESTWEIGHT_KILL_AFTER) the crash tests rely on."""
import os

import pytest
import tensorflow as tf

from estweight.runtime import faults
from support import jobs


def test_an_unset_or_other_phase_does_not_kill(monkeypatch):
  monkeypatch.delenv(faults.ENV, raising=False)
  faults.maybe_kill("step", 10**9)
  monkeypatch.setenv(faults.ENV, "save:5")
  faults.maybe_kill("step", 10)
  faults.maybe_kill("save", 4)


@pytest.mark.parametrize("value", ["step", "step:", "jump:3", "step:-1",
                                   "step:3.5"])
def test_a_malformed_kill_point_names_the_variable(monkeypatch, value):
  monkeypatch.setenv(faults.ENV, value)
  with pytest.raises(ValueError, match=f"ESTWEIGHT_KILL_AFTER={value!r}"):
    faults.kill_point()


def _run(tmp_path, point):
  proc = jobs.start("train_job.py", tmp_path, 200,
                    env={faults.ENV: point})
  out, _ = proc.communicate(timeout=300)
  return proc.returncode, out


def test_killed_after_a_step_keeps_the_checkpoints_before_it(tmp_path):
  code, out = _run(tmp_path, "step:30")
  assert code == -9 and "DONE" not in out
  # save_checkpoints_steps=20: step 0 and 20 are saved, 30 is not.
  assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-20")


def test_killed_inside_a_save_leaves_that_checkpoint_without_its_meta(
    tmp_path):
  code, _ = _run(tmp_path, "save:40")
  assert code == -9
  prefix = os.path.join(str(tmp_path), "model.ckpt-40")
  assert os.path.exists(prefix + ".index")
  assert not os.path.exists(prefix + ".meta")
  assert os.path.exists(os.path.join(str(tmp_path), "model.ckpt-20.meta"))
