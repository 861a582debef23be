"""A full disk or a read-only model_dir: a clear error, the earlier
checkpoints intact, and a rerun resumes once there is space. Uses a real
small tmpfs (skipped where this machine may not mount one)."""
import os
import subprocess

import numpy as np
import pytest
import tensorflow as tf

import estweight
from estweight.runtime import checkpoints
from support import jobs
from support import position_job


@pytest.fixture
def small_disk(tmp_path):
  mount = str(tmp_path / "disk")
  os.makedirs(mount)
  made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs",
                         mount], capture_output=True, check=False)
  if made.returncode != 0:
    pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode()[:200]}")
  yield mount
  # The summary writer cache keeps the events file open; lazy unmount
  # frees the mount even if something else still holds a file on it.
  tf.compat.v1.summary.FileWriterCache.clear()
  subprocess.run(["umount", "-l", mount], check=False)


def _remount(mount, options):
  subprocess.run(["mount", "-o", f"remount,{options}", mount], check=True)


def _estimator(model_dir):
  # 50x256 + 256x256 + 256x2 float weights, ~0.3 MB per checkpoint with
  # its .meta: a 3 MB disk fills up after a few saves.
  return estweight.DNNClassifier(
      hidden_units=[256, 256], model_dir=model_dir,
      feature_columns=[tf.feature_column.numeric_column("x", shape=(50,))],
      config=estweight.RunConfig(save_checkpoints_steps=10,
                                 keep_checkpoint_max=100, tf_random_seed=1))


def _input_fn():
  x = np.random.RandomState(0).normal(size=(64, 50)).astype(np.float32)
  y = (x[:, 0] > 0).astype(np.int32)
  return tf.data.Dataset.from_tensor_slices(({"x": x}, y)).repeat().batch(8)


def test_a_full_disk_stops_with_a_clear_error_and_resumes(small_disk):
  model_dir = os.path.join(small_disk, "model")
  with pytest.raises(checkpoints.CheckpointError,
                     match=r"Cannot write the checkpoint of step \d+ into "
                     r"model_dir=.*No space left on device.*Free space") as e:
    _estimator(model_dir).train(_input_fn, max_steps=400)
  latest = tf.train.latest_checkpoint(model_dir)
  assert latest in str(e.value)
  saved = checkpoints.global_step_of(latest)
  assert 0 < saved < 400
  _remount(small_disk, "size=60m")  # space freed
  est = _estimator(model_dir)
  est.train(_input_fn, max_steps=400)
  assert est.get_variable_value("global_step") == 400


def test_a_read_only_model_dir_is_refused_before_any_step(small_disk):
  model_dir = os.path.join(small_disk, "model")
  # Trained by another process (this one would keep its event file open).
  job = jobs.start("position_job.py", model_dir, 10)
  assert job.wait(timeout=300) == 0
  before = sorted(os.listdir(model_dir))
  _remount(small_disk, "ro")
  est = position_job.estimator(model_dir)
  with pytest.raises(PermissionError,
                     match=r"Cannot write to model_dir=.*Read-only file "
                     r"system.*read-only one can still be evaluated"):
    est.train(position_job.input_fn, max_steps=20)
  assert sorted(os.listdir(model_dir)) == before
  # Readers are not blocked.
  predictions = list(est.predict(lambda: position_job.input_fn().take(1)))
  assert len(predictions) == 8
