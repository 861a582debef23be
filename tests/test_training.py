"""train_and_evaluate (local) and the experimental early-stopping hooks."""
import numpy as np
import pytest
import tensorflow as tf

import estweight
from support import models

X, Y = models.LINE_X, models.LINE_Y
train_input = models.line_train_input
eval_input = models.line_eval_input


def make(tmp_path, lr=0.05, save_steps=5):
  return estweight.Estimator(
      models.scalar_model_fn, model_dir=str(tmp_path),
      params={"learning_rate": lr},
      config=estweight.RunConfig(save_checkpoints_steps=save_steps,
                                 log_step_count_steps=None))


def test_train_and_evaluate_evaluates_at_checkpoints(tmp_path):
  est = make(tmp_path)
  metrics, exports = estweight.train_and_evaluate(
      est, estweight.TrainSpec(train_input, max_steps=15),
      estweight.EvalSpec(eval_input, steps=None, throttle_secs=0))
  assert metrics["global_step"] == 15 and exports == []
  records = estweight.experimental.read_eval_metrics(est.eval_dir())
  # The save at session start (step 0) is skipped, as in tf.estimator.
  assert list(records) == [5, 10, 15]


def test_max_steps_reached_returns_the_last_evaluation_at_once(tmp_path):
  est = make(tmp_path)
  spec = estweight.TrainSpec(train_input, max_steps=10)
  first, _ = estweight.train_and_evaluate(
      est, spec, estweight.EvalSpec(eval_input, steps=None, throttle_secs=0))
  again, exports = estweight.train_and_evaluate(
      est, spec, estweight.EvalSpec(eval_input, steps=None, throttle_secs=0))
  # tf.estimator returned (None, None) here.
  assert again["global_step"] == 10 and again["loss"] == pytest.approx(
      float(first["loss"]))
  assert est.get_variable_value("global_step") == 10


def test_no_decrease_hook_works_in_a_manual_loop_and_resumes_promptly(
    tmp_path):
  est = make(tmp_path, lr=0.0)  # the loss never decreases
  hook = estweight.experimental.stop_if_no_decrease_hook(
      est, "loss", max_steps_without_decrease=10, run_every_secs=None,
      run_every_steps=1)
  steps = []
  for _ in range(5):
    est.train(train_input, steps=5, hooks=[hook])
    steps.append(int(est.get_variable_value("global_step")))
    est.evaluate(eval_input)
  # Evaluations at 5, 10, 15: at 15 there were 10 steps without decrease,
  # so the next train() call stops before its first step (not after one).
  assert steps == [5, 10, 15, 15, 15]


def test_higher_hook_and_missing_metric(tmp_path):
  est = make(tmp_path)
  est.train(train_input, steps=5)
  est.evaluate(eval_input)
  hook = estweight.experimental.stop_if_higher_hook(
      est, "loss", threshold=-1.0, run_every_secs=None, run_every_steps=1)
  est.train(train_input, steps=5, hooks=[hook])  # loss > -1: stop at once
  assert est.get_variable_value("global_step") == 5
  bad = estweight.experimental.stop_if_lower_hook(
      est, "auc", threshold=0.5, run_every_secs=None, run_every_steps=1)
  with pytest.raises(ValueError, match="metric_name 'auc' is not among"):
    est.train(train_input, steps=1, hooks=[bad])


def test_spec_validation():
  with pytest.raises(ValueError, match="max_steps=0"):
    estweight.TrainSpec(train_input, max_steps=0)
  with pytest.raises(ValueError, match="throttle_secs=-1"):
    estweight.EvalSpec(eval_input, throttle_secs=-1)
  with pytest.raises(TypeError, match="input_fn"):
    estweight.TrainSpec("not callable")
  with pytest.raises(ValueError, match="Only one of"):
    estweight.experimental.make_early_stopping_hook(
        None, lambda: False, run_every_secs=1, run_every_steps=1)


def test_in_memory_evaluator_hook_evaluates_live_variables(tmp_path):
  # No checkpoints at all: the hook copies variables from the live session.
  est = estweight.Estimator(
      models.scalar_model_fn, model_dir=str(tmp_path),
      params={"learning_rate": 0.05},
      config=estweight.RunConfig(save_checkpoints_steps=None,
                                 save_checkpoints_secs=None,
                                 log_step_count_steps=None))
  hook = estweight.experimental.InMemoryEvaluatorHook(
      est, eval_input, every_n_iter=4)
  est.train(train_input, steps=10, hooks=[hook])
  steps = [int(r["global_step"]) for r in hook.results]
  assert steps == [0, 4, 8, 10]  # start, every 4 iterations, end
  losses = [float(r["loss"]) for r in hook.results]
  assert losses == sorted(losses, reverse=True)
  # w starts at 0: loss at step 0 is mean((2x)^2) over x in [-1, 1].
  assert losses[0] == pytest.approx(float(np.mean((2 * X) ** 2)), rel=1e-5)
  assert list(estweight.experimental.read_eval_metrics(est.eval_dir())) == [
      0, 4, 8, 10]
