"""One trainer per model_dir, and resuming from damaged checkpoints.

Real processes where processes matter (the lock holder), real checkpoint
files damaged on disk.
"""
import os

import numpy as np
import pytest
import tensorflow as tf

import estweight
from estweight.runtime import checkpoints
from estweight.runtime import lock as lock_lib
from support import jobs
from support import models

XY = models.xy_input_fn([1.0, 2.0, 3.0], [2.0, 4.0, 6.0], repeat=True)


def _trained(model_dir, steps=30, **config):
  """An Estimator trained `steps` steps, checkpoints every 10."""
  config.setdefault("save_checkpoints_steps", 10)
  est = models.make_estimator(model_dir, tf_random_seed=1, **config)
  est.train(XY, max_steps=steps)
  return est


def _fresh(model_dir, **config):
  config.setdefault("save_checkpoints_steps", 10)
  return models.make_estimator(model_dir, tf_random_seed=1, **config)


def _indexes(model_dir):
  return sorted(int(n.split("-")[1].split(".")[0]) for n in
                os.listdir(model_dir) if n.endswith(".index"))


# ----------------------------------------------------------------- lock
def test_a_second_trainer_process_is_refused_naming_the_holder(tmp_path):
  model_dir = str(tmp_path / "m")
  holder = jobs.Task("train_job.py", model_dir, 10**6)
  try:
    holder.wait_for_line(lambda line: line.startswith("START"))
    with pytest.raises(lock_lib.ModelDirLockedError,
                       match=f"pid {holder.proc.pid} on host"):
      _fresh(model_dir).train(XY, steps=1)
    # The holder is killed: its lock is stale (pid gone) and taken over.
    holder.kill()
    est = _fresh(model_dir)
    est.train(XY, steps=3)
  finally:
    if holder.proc.poll() is None:
      holder.kill()
  assert not os.path.exists(os.path.join(model_dir, lock_lib.LOCK_FILE))
  assert est.get_variable_value("global_step") >= 3


def test_a_second_estimator_in_the_same_process_is_refused(tmp_path):
  model_dir = str(tmp_path)
  other = _fresh(model_dir)
  seen = []

  class TrainOtherInside(estweight.SessionRunHook):

    def after_create_session(self, session, coord):
      try:
        other.train(XY, steps=1)
      except lock_lib.ModelDirLockedError as e:
        seen.append(str(e))

  _fresh(model_dir).train(XY, steps=2, hooks=[TrainOtherInside()])
  assert len(seen) == 1 and f"pid {os.getpid()}" in seen[0]
  # Readers are never blocked, and the lock is gone after the call.
  assert not os.path.exists(os.path.join(model_dir, lock_lib.LOCK_FILE))
  other.train(XY, steps=1)
  assert other.get_variable_value("global_step") == 3


def test_a_lock_whose_heartbeat_stopped_is_taken_over(tmp_path, monkeypatch):
  model_dir = str(tmp_path)
  path = os.path.join(model_dir, lock_lib.LOCK_FILE)
  with open(path, "w") as f:  # a live pid (ours) on another host, 2 min old
    f.write('{"pid": %d, "host": "elsewhere", "started": 0, "heartbeat": '
            '%f, "token": "x"}' % (os.getpid(), 0.0))
  _fresh(model_dir).train(XY, steps=1)
  assert not os.path.exists(path)


# ------------------------------------------------ damaged checkpoints
def test_a_deleted_latest_index_resumes_from_the_newest_complete_one(
    tmp_path):
  model_dir = str(tmp_path)
  _trained(model_dir)
  assert _indexes(model_dir) == [0, 10, 20, 30]
  os.remove(os.path.join(model_dir, "model.ckpt-30.index"))
  est = _fresh(model_dir)
  est.train(XY, steps=5)
  # From 20 (not 0, which would overwrite model.ckpt-10/20 with a new run).
  assert est.get_variable_value("global_step") == 25


def test_a_checkpoint_file_naming_a_missing_prefix_resumes_from_disk(tmp_path):
  model_dir = str(tmp_path)
  _trained(model_dir)
  with open(os.path.join(model_dir, "checkpoint"), "w") as f:
    f.write('model_checkpoint_path: "model.ckpt-99"\n')
  est = _fresh(model_dir)
  est.train(XY, steps=5)
  assert est.get_variable_value("global_step") == 35


def test_a_truncated_latest_data_file_resumes_from_the_one_before(tmp_path):
  model_dir = str(tmp_path)
  _trained(model_dir)
  data = os.path.join(model_dir, "model.ckpt-30.data-00000-of-00001")
  with open(data, "r+b") as f:
    f.truncate(2)
  est = _fresh(model_dir)
  est.train(XY, steps=5)
  assert est.get_variable_value("global_step") == 25


def test_no_complete_checkpoint_left_is_an_error_not_a_restart(tmp_path):
  model_dir = str(tmp_path)
  _trained(model_dir)
  for step in (0, 10, 20, 30):
    os.remove(os.path.join(model_dir, f"model.ckpt-{step}.index"))
  before = models.snapshot(model_dir)
  with pytest.raises(checkpoints.CheckpointError,
                     match="none is complete.*new model_dir"):
    _fresh(model_dir).train(XY, steps=5)
  assert models.snapshot(model_dir) == before


def test_resumed_training_keeps_only_keep_checkpoint_max(tmp_path):
  model_dir = str(tmp_path)
  _trained(model_dir, keep_checkpoint_max=2)
  assert _indexes(model_dir) == [20, 30]
  _fresh(model_dir, keep_checkpoint_max=2).train(XY, steps=30)
  # 40, 50, 60 were saved after the resume; the older ones were deleted.
  assert _indexes(model_dir) == [50, 60]


def test_an_inf_loss_stops_training_like_nan(tmp_path):
  model_dir = str(tmp_path)
  est = models.make_estimator(model_dir)
  inf = models.xy_input_fn([1.0, 2.0], [np.inf, np.inf])
  with pytest.raises(estweight.NanLossDuringTrainingError):
    est.train(inf, steps=1)


def test_the_cli_shows_the_cause_of_a_tensorflow_error(tmp_path, capsys):
  from estweight.cli import app  # pylint: disable=g-import-not-at-top
  v1 = tf.compat.v1
  graph = tf.Graph()
  with graph.as_default():
    v1.get_variable("v", [3])
    saver = v1.train.Saver()
    with v1.Session() as session:
      session.run(v1.global_variables_initializer())
      prefix = saver.save(session, str(tmp_path / "m"))
    with open(prefix + ".data-00000-of-00001", "r+b") as f:
      f.truncate(2)
    with v1.Session() as session:
      with pytest.raises(tf.errors.OpError) as info:
        saver.restore(session, prefix)
  assert str(info.value).startswith("Graph execution error")
  assert app._error("train", info.value, 1) == 1  # pylint: disable=protected-access
  # The cause, not "Graph execution error:" (what the first line said).
  assert capsys.readouterr().err == (
      "estweight train: error: Read less bytes than requested\n")


def test_a_non_finite_loss_names_the_step_and_the_latest_checkpoint(tmp_path):
  model_dir = str(tmp_path)
  _trained(model_dir, steps=20)  # checkpoints 0, 10, 20
  bad = models.xy_input_fn([1.0, 1.0], [2.0, np.inf], batch_size=1)
  with pytest.raises(estweight.NanLossDuringTrainingError,
                     match=r"Loss is inf at global step 22; .* latest "
                     r"checkpoint is .*model\.ckpt-20\.") as info:
    _fresh(model_dir).train(bad, steps=5)  # step 21 trains, 22 is Inf
  assert info.value.step == 22
  assert _indexes(model_dir) == [0, 10, 20]  # nothing non-finite saved


def test_evaluate_retries_when_the_latest_checkpoint_is_rotated_away(
    tmp_path):
  model_dir = str(tmp_path)
  _trained(model_dir, steps=20, keep_checkpoint_max=1)
  reader = _fresh(model_dir)
  runner = reader._runner  # pylint: disable=protected-access
  evaluate = runner.evaluate

  def rotate_first(input_fn, **kwargs):
    # A trainer saves model.ckpt-25 and deletes model.ckpt-20 between the
    # evaluator's look-up of the latest checkpoint and its restore.
    runner.evaluate = evaluate
    _fresh(model_dir, keep_checkpoint_max=1).train(XY, steps=5)
    assert _indexes(model_dir) == [25]
    return evaluate(input_fn, **kwargs)
  runner.evaluate = rotate_first
  metrics = reader.evaluate(models.xy_input_fn([1.0], [2.0]), steps=1)
  assert metrics["global_step"] == 25


def test_a_model_whose_names_changed_is_told_so_not_that_files_are_damaged(
    tmp_path):
  model_dir = str(tmp_path)
  columns = [tf.feature_column.numeric_column("x")]
  input_fn = models.xy_input_fn([1.0, 2.0], [2.0, 4.0])
  estweight.DNNRegressor(hidden_units=[3], model_dir=model_dir,
                         feature_columns=columns).train(input_fn, steps=2)
  deeper = estweight.DNNRegressor(  # adds dnn/hiddenlayer_1/*
      hidden_units=[3, 3], model_dir=model_dir, feature_columns=columns)
  before = sorted(os.listdir(model_dir))
  with pytest.raises(checkpoints.CheckpointError,
                     match=r"has no variable 'dnn/hiddenlayer_1/.*', which "
                     r"this model has: the model's variable names differ.*"
                     r"var_name_to_prev_var_name"):
    deeper.train(input_fn, steps=2)
  assert sorted(os.listdir(model_dir)) == before
