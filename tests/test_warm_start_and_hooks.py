"""Warm starting variants and user-supplied standard hooks."""
import os

import pytest
import tensorflow as tf

import estweight
from support import models

TRAIN = models.xy_input_fn([1.0, 2.0], [2.0, 4.0], repeat=True)


def _source(tmp_path):
  est = models.make_estimator(tmp_path / "src", save_checkpoints_steps=2)
  est.train(TRAIN, steps=4)
  return est


def _frozen(model_dir, warm_start_from):
  # learning_rate 0 keeps the warm-started values observable after a step.
  return estweight.Estimator(
      models.scalar_model_fn, model_dir=str(model_dir),
      params={"learning_rate": 0.0}, warm_start_from=warm_start_from)


def test_warm_start_from_a_checkpoint_prefix(tmp_path):
  src = _source(tmp_path)
  old = str(tmp_path / "src" / "model.ckpt-2")
  w2 = tf.train.load_variable(old, "w")
  assert w2 != src.get_variable_value("w")
  est = _frozen(tmp_path / "dst", old)
  est.train(TRAIN, steps=1)
  assert est.get_variable_value("w") == pytest.approx(w2)


def test_warm_start_settings_with_regex_list_takes_global_step(tmp_path):
  src = _source(tmp_path)
  settings = estweight.WarmStartSettings(src.model_dir,
                                         vars_to_warm_start=[".*"])
  est = _frozen(tmp_path / "dst", settings)
  est.train(TRAIN, steps=1)
  # A list of regexes matches all global variables, global_step included.
  assert est.get_variable_value("global_step") == 5
  assert est.latest_checkpoint().endswith("model.ckpt-5")


def test_warm_start_is_ignored_once_model_dir_has_a_checkpoint(tmp_path):
  src = _source(tmp_path)
  est = _frozen(tmp_path / "dst", src.model_dir)
  est.train(TRAIN, steps=1)
  before = est.get_variable_value("w")
  # Retrain the source further; dst must keep restoring its own checkpoint.
  src.train(TRAIN, steps=3)
  est.train(TRAIN, steps=1)
  assert est.get_variable_value("w") == pytest.approx(before)


def test_evaluate_without_checkpoint_uses_warm_start(tmp_path):
  src = _source(tmp_path)
  est = _frozen(tmp_path / "dst", src.model_dir)
  ours = est.evaluate(TRAIN, steps=1)
  theirs = src.evaluate(TRAIN, steps=1)
  assert ours["loss"] == pytest.approx(theirs["loss"])
  assert ours["global_step"] == 0


def test_warm_start_settings_need_a_checkpoint():
  with pytest.raises(ValueError, match="ckpt_to_initialize_from"):
    estweight.WarmStartSettings("")


def test_user_checkpoint_saver_hook_replaces_the_default(tmp_path):
  saver_dir = tmp_path / "own"
  hook = estweight.CheckpointSaverHook(str(saver_dir), save_steps=3)
  saved = []

  class Listener(estweight.CheckpointSaverListener):

    def after_save(self, session, global_step_value):
      saved.append(global_step_value)

  est = models.make_estimator(tmp_path / "md", save_checkpoints_steps=1)
  est.train(TRAIN, steps=4, hooks=[hook], saving_listeners=[Listener()])
  # Only the user's hook saved (to its own directory), listeners on it.
  assert saved == [0, 3, 4]
  assert est.latest_checkpoint() is None
  assert tf.train.latest_checkpoint(str(saver_dir)).endswith("model.ckpt-4")


def test_user_standard_hooks_run(tmp_path):
  holder = []

  def model_fn(features, labels, mode, params):
    spec = models.scalar_model_fn(features, labels, mode, params)
    (w,) = tf.compat.v1.trainable_variables()
    hook = estweight.FinalOpsHook({"w": w})
    holder.append(hook)
    return spec._replace(training_hooks=[hook])

  est = estweight.Estimator(model_fn, model_dir=str(tmp_path),
                            params={"learning_rate": 0.01})
  est.train(TRAIN, steps=2, hooks=[estweight.StopAtStepHook(last_step=1)])
  # The user's StopAtStepHook(last_step=1) stops before steps=2 would.
  assert est.get_variable_value("global_step") == 1
  assert holder[-1].final_ops_values["w"] == pytest.approx(
      est.get_variable_value("w"))
  assert os.path.exists(os.path.join(str(tmp_path), "graph.pbtxt"))
