"""Estimator.train: step semantics, model_dir layout, hooks, warm start."""
import os

import numpy as np
import pytest
import tensorflow as tf

import estweight
from support import models

v1 = tf.compat.v1
X = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
Y = [2.0 * x for x in X]


def train_fn(repeat=True, batch_size=2):
  return models.xy_input_fn(X, Y, batch_size=batch_size, repeat=repeat)


def test_train_steps_is_incremental(tmp_path):
  est = models.make_estimator(tmp_path)
  est.train(train_fn(), steps=3)
  assert est.get_variable_value("global_step") == 3
  est.train(train_fn(), steps=2)
  assert est.get_variable_value("global_step") == 5
  assert est.latest_checkpoint().endswith("model.ckpt-5")


def test_max_steps_is_absolute(tmp_path):
  est = models.make_estimator(tmp_path)
  est.train(train_fn(), max_steps=4)
  est.train(train_fn(), max_steps=6)
  assert est.get_variable_value("global_step") == 6


def test_max_steps_already_reached_returns_without_touching_model_dir(
    tmp_path):
  est = models.make_estimator(tmp_path)
  est.train(train_fn(), steps=5)
  before = models.snapshot(tmp_path)

  def exploding_input_fn():
    raise AssertionError("input_fn must not be called")

  assert est.train(exploding_input_fn, max_steps=5) is est
  assert est.train(exploding_input_fn, max_steps=3) is est
  assert models.snapshot(tmp_path) == before


def test_train_without_steps_runs_until_end_of_input(tmp_path):
  # 8 examples, batch 3, one epoch: batches of 3, 3, 2 -> 3 steps.
  est = models.make_estimator(tmp_path)
  est.train(train_fn(repeat=False, batch_size=3))
  assert est.get_variable_value("global_step") == 3


def test_train_learns_by_gradient_descent_exactly(tmp_path):
  # One step from w=0 on batch x=[1,2], y=[2,4]: loss = mean((w*x-y)^2),
  # dloss/dw = mean(2*(w*x-y)*x) = (2*(-2)*1 + 2*(-4)*2) / 2 = -10,
  # w = 0 - 0.01 * (-10) = 0.1.
  est = models.make_estimator(tmp_path)
  est.train(train_fn(), steps=1)
  assert est.get_variable_value("w") == pytest.approx(0.1, rel=1e-6)


def test_model_dir_layout_matches_tf_estimator(tmp_path):
  est = models.make_estimator(tmp_path, save_checkpoints_steps=3,
                              log_step_count_steps=2, save_summary_steps=2)
  est.train(train_fn(), steps=7)
  files = set(os.listdir(tmp_path))
  assert {"checkpoint", "graph.pbtxt"} <= files
  for step in (0, 3, 6, 7):
    for suffix in ("index", "data-00000-of-00001", "meta"):
      assert f"model.ckpt-{step}.{suffix}" in files
  assert any(f.startswith("events.out.tfevents.") for f in files)
  scalars, _ = models.event_scalars(str(tmp_path))
  assert "loss" in scalars
  assert "global_step/sec" in scalars
  # Summaries fire at step 1 and then every save_summary_steps.
  assert [step for step, _ in scalars["loss"]][:3] == [1, 3, 5]


def test_checkpointing_disabled_writes_no_checkpoint_or_graph(tmp_path):
  est = estweight.Estimator(
      models.scalar_model_fn, model_dir=str(tmp_path),
      config=estweight.RunConfig(save_checkpoints_steps=None,
                                 save_checkpoints_secs=None))
  est.train(train_fn(), steps=2)
  files = os.listdir(tmp_path)
  assert "graph.pbtxt" not in files and "checkpoint" not in files
  assert any(f.startswith("events.out.tfevents.") for f in files)


def test_model_fn_receives_mode_params_and_config(tmp_path):
  seen = {}

  def model_fn(features, labels, mode, params, config):
    seen.update(mode=mode, params=params, model_dir=config.model_dir)
    return models.scalar_model_fn(features, labels, mode, params)

  est = estweight.Estimator(model_fn, model_dir=str(tmp_path),
                            params={"learning_rate": 0.5})
  est.train(train_fn(), steps=1)
  assert seen == {"mode": "train", "params": {"learning_rate": 0.5},
                  "model_dir": str(tmp_path)}


def test_input_fn_receives_mode_and_params(tmp_path):
  seen = {}

  def input_fn(mode, params):
    seen.update(mode=mode, params=params)
    return train_fn()()

  est = estweight.Estimator(models.scalar_model_fn, model_dir=str(tmp_path),
                            params={"learning_rate": 0.1})
  est.train(input_fn, steps=1)
  assert seen == {"mode": "train", "params": {"learning_rate": 0.1}}


class CountingHook(estweight.SessionRunHook):

  def begin(self):
    self.runs = 0
    self.ended = False

  def after_run(self, run_context, run_values):
    self.runs += 1

  def end(self, session):
    self.ended = True


class RecordingListener(estweight.CheckpointSaverListener):

  def __init__(self):
    self.saved = []

  def after_save(self, session, global_step_value):
    self.saved.append(global_step_value)


def test_hooks_and_saving_listeners_are_called(tmp_path):
  hook, listener = CountingHook(), RecordingListener()
  est = models.make_estimator(tmp_path, save_checkpoints_steps=2)
  est.train(train_fn(), steps=5, hooks=[hook], saving_listeners=[listener])
  assert hook.runs == 5 and hook.ended
  assert listener.saved == [0, 2, 4, 5]


def test_nan_loss_raises_nan_loss_during_training_error(tmp_path):
  est = models.make_estimator(tmp_path)
  bad = models.xy_input_fn([1.0, 2.0], [np.nan, 1.0], repeat=True)
  with pytest.raises(estweight.NanLossDuringTrainingError):
    est.train(bad, steps=3)


def test_warm_start_copies_trainable_variables_only(tmp_path):
  source = models.make_estimator(tmp_path / "a")
  source.train(train_fn(), steps=4)
  w = source.get_variable_value("w")
  target = estweight.Estimator(
      models.scalar_model_fn, model_dir=str(tmp_path / "b"),
      params={"learning_rate": 0.0}, warm_start_from=str(tmp_path / "a"))
  target.train(train_fn(), steps=1)
  # learning_rate 0: w stays the warm-started value; global_step restarts.
  assert target.get_variable_value("w") == pytest.approx(w)
  assert target.get_variable_value("global_step") == 1


def test_get_variable_names_lists_checkpoint(tmp_path):
  est = models.make_estimator(tmp_path)
  with pytest.raises(ValueError, match="Could not find trained model"):
    est.get_variable_names()
  est.train(train_fn(), steps=1)
  assert est.get_variable_names() == ["global_step", "w"]


def test_model_dir_none_uses_a_temporary_directory():
  est = estweight.Estimator(models.scalar_model_fn)
  assert os.path.isdir(est.model_dir)
  assert est.config.model_dir == est.model_dir


def test_train_twice_with_tf_random_seed_is_reproducible(tmp_path):
  def model_fn(features, labels, mode):
    logits = estweight.compat.v1.layers.dense(features["x"][:, None], 1)
    loss = tf.reduce_mean(tf.square(logits[:, 0] - labels))
    train_op = v1.train.AdamOptimizer(0.1).minimize(
        loss, v1.train.get_global_step())
    return estweight.EstimatorSpec(mode, loss=loss, train_op=train_op)

  def input_fn():
    ds = tf.data.Dataset.from_tensor_slices(
        ({"x": np.float32(X)}, np.float32(Y)))
    return ds.shuffle(8).repeat().batch(3)

  kernels = []
  for name in ("a", "b"):
    est = estweight.Estimator(model_fn, model_dir=str(tmp_path / name),
                              config=estweight.RunConfig(tf_random_seed=3))
    est.train(input_fn, steps=5)
    kernels.append(est.get_variable_value("dense/kernel"))
  np.testing.assert_array_equal(kernels[0], kernels[1])


def test_model_fn_may_create_variables_from_tensors(tmp_path):
  # TF1 code often writes tf.Variable(<initial tensor>); its initializer must
  # not depend on anything the runtime adds (e.g. a global-step read).
  def model_fn(features, labels, mode):
    w = tf.Variable(tf.zeros([]), name="w")
    loss = tf.reduce_mean(tf.square(w * features["x"] - labels))
    train_op = v1.train.GradientDescentOptimizer(0.01).minimize(
        loss, v1.train.get_global_step())
    return estweight.EstimatorSpec(mode, loss=loss, train_op=train_op)

  est = estweight.Estimator(model_fn, model_dir=str(tmp_path))
  est.train(train_fn(), steps=2)
  assert est.get_variable_value("global_step") == 2


def test_keras3_auto_named_layers_restore_in_evaluate(tmp_path):
  # Keras 3 numbers auto-named layers per process; each graph must start
  # over, or EVAL would look for dense_2/... in a checkpoint of dense/...
  import keras  # pylint: disable=g-import-not-at-top

  def model_fn(features, labels, mode):
    out = keras.layers.Dense(1)(keras.layers.Dense(4)(features["x"][:, None]))
    loss = tf.reduce_mean(tf.square(out[:, 0] - labels))
    train_op = v1.train.AdamOptimizer(0.1).minimize(
        loss, v1.train.get_global_step())
    return estweight.EstimatorSpec(mode, loss=loss, train_op=train_op)

  est = estweight.Estimator(model_fn, model_dir=str(tmp_path),
                            config=estweight.RunConfig(tf_random_seed=2))
  est.train(train_fn(), steps=2)
  assert "dense/kernel" in est.get_variable_names()
  assert est.evaluate(train_fn(repeat=False))["global_step"] == 2
  # Seeded: a second run in a new model_dir starts from the same weights.
  first = est.get_variable_value("dense_1/kernel")
  again = estweight.Estimator(model_fn, model_dir=str(tmp_path / "b"),
                              config=estweight.RunConfig(tf_random_seed=2))
  again.train(train_fn(), steps=2)
  np.testing.assert_array_equal(first, again.get_variable_value(
      "dense_1/kernel"))
