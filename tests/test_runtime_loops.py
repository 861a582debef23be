"""The one train loop and eval loop of runtime/ (train.py, evaluate.py,
runner.py): what a kept graph and session must preserve of tf.estimator's
per-call semantics, and that every caller runs through them."""
import os
import resource

import numpy as np
import pytest
import tensorflow as tf

import estweight
from estweight import driver
from support import models

v1 = tf.compat.v1
X, Y = models.LINE_X, models.LINE_Y
train_input = models.line_train_input
eval_input = models.line_eval_input


def make(model_dir, model_fn=models.scalar_model_fn, **config):
  config.setdefault("log_step_count_steps", None)
  return estweight.Estimator(model_fn, model_dir=str(model_dir),
                             params={"learning_rate": 0.05},
                             config=estweight.RunConfig(**config))


class Counter(v1.train.SessionRunHook):

  def __init__(self):
    self.calls = {"begin": 0, "after_create_session": 0, "before_run": 0,
                  "after_run": 0, "end": 0}

  def begin(self):
    self.calls["begin"] += 1

  def after_create_session(self, session, coord):
    self.calls["after_create_session"] += 1

  def before_run(self, run_context):
    self.calls["before_run"] += 1

  def after_run(self, run_context, run_values):
    self.calls["after_run"] += 1

  def end(self, session):
    self.calls["end"] += 1


def hooked_model_fn(train_hook, eval_hook):
  def model_fn(features, labels, mode, params):
    spec = models.scalar_model_fn(features, labels, mode, params)
    return spec._replace(training_hooks=[train_hook],
                         evaluation_hooks=[eval_hook])
  return model_fn


# ------------------------------------------------- one loop for everyone
def test_driver_calls_model_fn_hooks_as_estimator_calls_do(tmp_path):
  counts = {}
  for how in ("estimator", "driver"):
    train_hook, eval_hook = Counter(), Counter()
    est = make(tmp_path / how, hooked_model_fn(train_hook, eval_hook))
    if how == "estimator":
      for _ in range(3):
        est.train(train_input, steps=20)
        est.evaluate(eval_input)
    else:
      driver.run_iterations(est, train_input, eval_input,
                            steps_per_iteration=20, max_steps=60)
    counts[how] = (train_hook.calls, eval_hook.calls)
  assert counts["driver"] == counts["estimator"]
  train_calls, eval_calls = counts["driver"]
  # 3 calls of 20 steps; 3 evaluations of 2 batches (32 examples / 16),
  # each with a third before_run whose run meets the end of input (as in
  # MonitoredSession).
  assert train_calls == {"begin": 3, "after_create_session": 3,
                         "before_run": 60, "after_run": 60, "end": 3}
  assert eval_calls == {"begin": 3, "after_create_session": 3,
                        "before_run": 9, "after_run": 6, "end": 3}


def test_grid_search_calls_model_fn_hooks(tmp_path):
  train_hook, eval_hook = Counter(), Counter()

  def estimator_fn(params, run_config):
    del params
    return estweight.Estimator(hooked_model_fn(train_hook, eval_hook),
                               config=run_config.replace(
                                   log_step_count_steps=None),
                               params={"learning_rate": 0.05})
  driver.grid_search(estimator_fn, {"unused": [1, 2]}, train_input,
                     eval_input, model_dir=str(tmp_path), metric="loss",
                     mode="min", steps_per_iteration=5, max_steps=10)
  # 2 trials x 10 steps; 2 trials x 2 evaluations x 2 batches.
  assert train_hook.calls["after_run"] == 20
  assert eval_hook.calls["after_run"] == 8


def test_driver_honours_save_checkpoints_steps(tmp_path):
  est = make(tmp_path, save_checkpoints_steps=4, keep_checkpoint_max=100)
  driver.run_iterations(est, train_input, eval_input, steps_per_iteration=10,
                        max_steps=20)
  state = tf.train.get_checkpoint_state(str(tmp_path))
  steps = [int(p.rsplit("-", 1)[1]) for p in state.all_model_checkpoint_paths]
  # Every 4 steps from each call's start (0 and 10, as tf.estimator's saver
  # hook counts), and at each call's end.
  assert steps == [0, 4, 8, 10, 14, 18, 20]


# -------------------------------------------- warm calls, same numbers
def _variables(model_dir):
  reader = tf.train.load_checkpoint(str(model_dir))
  return {name: reader.get_tensor(name)
          for name in reader.get_variable_to_shape_map()}


def test_kept_session_gives_the_numbers_of_fresh_estimators(tmp_path):
  """One Estimator (kept graph) against a new Estimator per call (fresh
  graph each time, as tf.estimator): bit-identical variables and metrics."""
  kept = make(tmp_path / "kept")
  kept_metrics, fresh_metrics = [], []
  for _ in range(3):
    kept.train(train_input, steps=7)
    kept_metrics.append(kept.evaluate(eval_input))
    make(tmp_path / "fresh").train(train_input, steps=7)
    fresh_metrics.append(make(tmp_path / "fresh").evaluate(eval_input))
  assert kept_metrics == fresh_metrics
  kept_vars, fresh_vars = (_variables(tmp_path / "kept"),
                           _variables(tmp_path / "fresh"))
  assert kept_vars.keys() == fresh_vars.keys()
  for name in kept_vars:
    np.testing.assert_array_equal(kept_vars[name], fresh_vars[name])


def test_dropout_restarts_like_fresh_sessions(tmp_path):
  """Stateful random ops in the step (dropout) restart per call in
  tf.estimator; the kept graph opens a new session per call to match."""
  cols = [tf.feature_column.numeric_column("x")]

  def dnn(model_dir):
    return estweight.DNNRegressor(
        hidden_units=[8], feature_columns=cols, dropout=0.5,
        model_dir=str(model_dir),
        config=estweight.RunConfig(tf_random_seed=3,
                                   log_step_count_steps=None))
  kept = dnn(tmp_path / "kept")
  for _ in range(3):
    kept.train(train_input, steps=4)
    dnn(tmp_path / "fresh").train(train_input, steps=4)
  kept_vars, fresh_vars = (_variables(tmp_path / "kept"),
                           _variables(tmp_path / "fresh"))
  for name in kept_vars:
    np.testing.assert_array_equal(kept_vars[name], fresh_vars[name])


def test_each_call_reads_its_own_input(tmp_path):
  est = make(tmp_path)
  est.train(train_input, steps=1)
  # A second call with other data: w moves by lr * d/dw mean((w x - y)^2)
  # on that data: x = 1, y = 3 at w = w1 gives w2 = w1 - 0.05 * 2 (w1 - 3).
  w1 = est.get_variable_value("w")
  est.train(models.xy_input_fn([1.0], [3.0], batch_size=1, repeat=True),
            steps=1)
  assert est.get_variable_value("w") == pytest.approx(
      w1 - 0.05 * 2 * (w1 - 3.0), rel=1e-6)


def test_a_checkpoint_replaced_between_calls_is_picked_up(tmp_path):
  est = make(tmp_path)
  est.train(train_input, steps=3)
  # Someone else writes model.ckpt-3 with w = 10 (same name, new content).
  other = make(tmp_path / "other", save_checkpoints_steps=None,
               save_checkpoints_secs=None)
  with tf.Graph().as_default():
    w = v1.get_variable("w", [], initializer=v1.constant_initializer(10.0))
    step = v1.train.create_global_step()
    with v1.Session() as session:
      session.run(v1.global_variables_initializer())
      session.run(step.assign(3))
      v1.train.Saver([w, step]).save(
          session, os.path.join(str(tmp_path), "model.ckpt"), global_step=3)
  del other
  # loss = mean((10 x - 2 x)^2) = 64 mean(x^2).
  assert est.evaluate(eval_input)["loss"] == pytest.approx(
      64 * np.mean(X**2), rel=1e-6)
  est.train(models.xy_input_fn([1.0], [3.0], batch_size=1, repeat=True),
            steps=1)
  # From w = 10: w = 10 - 0.05 * 2 * (10 - 3) = 9.3.
  assert est.get_variable_value("w") == pytest.approx(9.3, rel=1e-6)


def test_no_checkpoint_means_fresh_variables_each_call(tmp_path):
  """Without checkpoints tf.estimator restarted from the initial values."""
  est = make(tmp_path, save_checkpoints_steps=None,
             save_checkpoints_secs=None)
  hook = _LastW()
  est.train(models.xy_input_fn([1.0], [3.0], batch_size=1, repeat=True),
            steps=1, hooks=[hook])
  first = hook.w
  est.train(models.xy_input_fn([1.0], [3.0], batch_size=1, repeat=True),
            steps=1, hooks=[hook])
  # w0 = 0: 0 - 0.05 * 2 * (0 - 3) = 0.3, both times.
  assert first == hook.w == pytest.approx(0.3)


class _LastW(v1.train.SessionRunHook):

  def begin(self):
    self._w = [v for v in v1.global_variables() if v.op.name == "w"][0]

  def end(self, session):
    self.w = session.run(self._w)


def test_summary_and_checkpoint_steps_are_exact(tmp_path):
  est = make(tmp_path, save_checkpoints_steps=3, save_summary_steps=4,
             keep_checkpoint_max=100)
  est.train(train_input, steps=10)
  est.train(train_input, steps=5)
  state = tf.train.get_checkpoint_state(str(tmp_path))
  steps = [int(p.rsplit("-", 1)[1]) for p in state.all_model_checkpoint_paths]
  # Call 1: start 0, every 3, end 10; call 2 from 10: 13, end 15.
  assert steps == [0, 3, 6, 9, 10, 13, 15]
  scalars, _ = models.event_scalars(str(tmp_path))
  # Summaries at each call's first step, then every 4 after the last one.
  assert [s for s, _ in scalars["loss"]] == [1, 5, 9, 11, 15]


def test_many_train_evaluate_pairs_do_not_grow_memory(tmp_path):
  est = make(tmp_path, save_checkpoints_steps=None, save_checkpoints_secs=None)

  def pair():
    est.train(train_input, steps=2)
    est.evaluate(eval_input, steps=1)
  for _ in range(20):
    pair()
  runner = est._runner  # pylint: disable=protected-access
  graphs = (runner._train.graph, runner._eval.mode_graph.graph)  # pylint: disable=protected-access
  ops = [len(g.get_operations()) for g in graphs]
  rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
  for _ in range(180):
    pair()
  assert (runner._train.graph, runner._eval.mode_graph.graph) == graphs  # pylint: disable=protected-access
  assert [len(g.get_operations()) for g in graphs] == ops
  grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss) / 1024
  assert grown_mib < 40, grown_mib


# ------------------------------------------ class_weight='balanced' paths
def _imbalanced():
  x = np.linspace(-1, 1, 40).astype(np.float32)
  y = (x > 0.6).astype(np.int64)  # 8 of 40 positive

  def train_fn():
    return tf.data.Dataset.from_tensor_slices(({"x": x}, y)).batch(10)

  def eval_fn():
    return tf.data.Dataset.from_tensor_slices(({"x": x}, y)).batch(40)
  return train_fn, eval_fn


def _balanced_classifier(model_dir):
  return estweight.LinearClassifier(
      [tf.feature_column.numeric_column("x")], class_weight="balanced",
      model_dir=str(model_dir),
      config=estweight.RunConfig(log_step_count_steps=None))


def _cached_weights(model_dir):
  import json  # pylint: disable=g-import-not-at-top
  with open(os.path.join(str(model_dir), "class_weights.json")) as f:
    return json.load(f)["class_weight"]


def test_balanced_class_weight_through_the_driver(tmp_path):
  train_fn, eval_fn = _imbalanced()
  result = driver.run_iterations(_balanced_classifier(tmp_path), train_fn,
                                 eval_fn, steps_per_iteration=2, max_steps=4)
  assert [h["global_step"] for h in result.history] == [2, 4]
  # 40 / (2 * 32) = 0.625 and 40 / (2 * 8) = 2.5.
  assert _cached_weights(tmp_path) == pytest.approx([0.625, 2.5])


def test_balanced_class_weight_through_add_metrics(tmp_path):
  train_fn, eval_fn = _imbalanced()

  def metric_fn(predictions):
    return {"mean_p": v1.metrics.mean(predictions["logistic"])}
  est = estweight.add_metrics(_balanced_classifier(tmp_path), metric_fn)
  est.train(train_fn, steps=2)
  assert "mean_p" in est.evaluate(eval_fn)
  assert _cached_weights(tmp_path) == pytest.approx([0.625, 2.5])


def test_balanced_class_weight_through_grid_search(tmp_path):
  train_fn, eval_fn = _imbalanced()

  def estimator_fn(params, run_config):
    del params
    return estweight.LinearClassifier(
        [tf.feature_column.numeric_column("x")], class_weight="balanced",
        config=run_config.replace(log_step_count_steps=None))
  result = driver.grid_search(estimator_fn, {"unused": [1]}, train_fn,
                              eval_fn, model_dir=str(tmp_path),
                              metric="loss", mode="min",
                              steps_per_iteration=2, max_steps=4)
  assert result.trials[0]["global_step"] == 4
  assert _cached_weights(tmp_path / "trial_0") == pytest.approx([0.625, 2.5])


def test_a_failed_call_leaves_the_next_call_at_the_latest_checkpoint(
    tmp_path):
  est = make(tmp_path)
  good = models.xy_input_fn([1.0], [3.0], batch_size=1, repeat=True)
  est.train(good, steps=1)
  w1 = est.get_variable_value("w")  # 0 - 0.05 * 2 * (0 - 3) = 0.3
  bad = models.xy_input_fn([1.0, 1.0], [3.0, np.nan], batch_size=1,
                           repeat=True)
  with pytest.raises(estweight.NanLossDuringTrainingError):
    est.train(bad, steps=5)  # step 2 trains, step 3 is NaN
  est.train(good, steps=1)
  # From the checkpoint at step 1 (w1), as a fresh tf.estimator session:
  # w = w1 - 0.05 * 2 * (w1 - 3), not from the NaN-damaged variables.
  assert est.get_variable_value("w") == pytest.approx(
      w1 - 0.05 * 2 * (w1 - 3.0), rel=1e-6)
  assert est.get_variable_value("global_step") == 2
