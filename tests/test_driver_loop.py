"""run_iterations: history, best checkpoint, early stopping, resume."""
import json
import os

import numpy as np
import pytest
import tensorflow as tf

import estweight
from estweight import driver
from support import models

X, Y = models.LINE_X, models.LINE_Y
train_input = models.line_train_input
eval_input = models.line_eval_input


def make(tmp_path, lr=0.05):
  return estweight.Estimator(
      models.scalar_model_fn, model_dir=str(tmp_path),
      params={"learning_rate": lr},
      config=estweight.RunConfig(log_step_count_steps=None))


def test_history_best_and_final_step(tmp_path):
  est = make(tmp_path)
  result = driver.run_iterations(est, train_input, eval_input,
                                 steps_per_iteration=5, max_steps=20)
  assert [h["global_step"] for h in result.history] == [5, 10, 15, 20]
  losses = [h["metrics"]["loss"] for h in result.history]
  assert losses == sorted(losses, reverse=True)  # w -> 2: loss falls
  assert result.best["global_step"] == 20 and not result.stopped_early
  assert result.global_step == 20 == est.get_variable_value("global_step")
  # The best checkpoint is a copy outside keep_checkpoint_max's reach.
  assert result.best["checkpoint"] == os.path.join(str(tmp_path), "best",
                                                   "model.ckpt-20")
  assert tf.train.load_variable(result.best["checkpoint"], "global_step") == 20
  # Each evaluation is also an eval event, like Estimator.evaluate.
  scalars, _ = models.event_scalars(est.eval_dir())
  assert [s for s, _ in scalars["loss"]] == [5, 10, 15, 20]


def test_rerun_continues_and_extends(tmp_path):
  est = make(tmp_path)
  driver.run_iterations(est, train_input, eval_input, steps_per_iteration=5,
                        max_steps=10)
  # Same call again: nothing left to do, history unchanged.
  again = driver.run_iterations(make(tmp_path), train_input, eval_input,
                                steps_per_iteration=5, max_steps=10)
  assert [h["global_step"] for h in again.history] == [5, 10]
  more = driver.run_iterations(make(tmp_path), train_input, eval_input,
                               steps_per_iteration=5, max_steps=20)
  assert [h["global_step"] for h in more.history] == [5, 10, 15, 20]


def test_early_stopping_stops_and_stays_stopped(tmp_path):
  # learning_rate 0: the loss never improves after the first evaluation.
  est = make(tmp_path, lr=0.0)
  es = driver.EarlyStopping(metric="loss", mode="min", patience=2)
  result = driver.run_iterations(est, train_input, eval_input,
                                 steps_per_iteration=5, max_steps=100,
                                 early_stopping=es)
  assert result.stopped_early
  assert [h["global_step"] for h in result.history] == [5, 10, 15]
  state = json.load(open(os.path.join(str(tmp_path), "driver",
                                      "state.json")))
  assert state["stopped_early"] and state["early_stopping"]["wait"] == 2
  # A rerun after an early stop does not train further.
  rerun = driver.run_iterations(
      make(tmp_path, lr=0.0), train_input, eval_input, steps_per_iteration=5,
      max_steps=100, early_stopping=driver.EarlyStopping(patience=2))
  assert rerun.stopped_early and rerun.global_step == 15


def test_the_best_checkpoint_honours_min_delta(tmp_path):
  # The loss falls at every evaluation, but never by more than min_delta:
  # the first evaluation stays the best, for early stopping and for best/.
  es = driver.EarlyStopping(patience=3, min_delta=1e9)
  result = driver.run_iterations(make(tmp_path), train_input, eval_input,
                                 steps_per_iteration=5.0, max_steps=15,
                                 early_stopping=es)
  losses = [h["metrics"]["loss"] for h in result.history]
  assert losses == sorted(losses, reverse=True) and losses[0] > losses[-1]
  assert result.best["global_step"] == es.best_step == 5
  assert result.best["checkpoint"] == os.path.join(str(tmp_path), "best",
                                                   "model.ckpt-5")
  assert result.global_step == 15 and not result.stopped_early


def test_checkpoint_without_recorded_evaluation_is_evaluated_first(tmp_path):
  est = make(tmp_path)
  est.train(train_input, steps=5)  # e.g. killed before its evaluation
  result = driver.run_iterations(est, train_input, eval_input,
                                 steps_per_iteration=5, max_steps=10)
  assert [h["global_step"] for h in result.history] == [5, 10]


@pytest.mark.parametrize("kwargs, pattern", [
    ({"steps_per_iteration": 0}, "steps_per_iteration=0"),
    ({"max_steps": -1}, "max_steps=-1"),
    ({"max_steps": 10.5}, "`max_steps` must be a positive integer. "
     "Received: max_steps=10.5."),
    ({"eval_steps": 0}, "`eval_steps` must be a positive integer or None. "
     "Received: eval_steps=0."),
    ({"steps_per_iteration": True}, "steps_per_iteration=True"),
    ({"early_stopping": "loss"}, "early_stopping='loss'"),
])
def test_bad_arguments(tmp_path, kwargs, pattern):
  args = {"steps_per_iteration": 5, "max_steps": 10, **kwargs}
  with pytest.raises((ValueError, TypeError), match=pattern):
    driver.run_iterations(make(tmp_path / "m"), train_input, eval_input,
                          **args)
  assert not (tmp_path / "m").exists()


def test_unknown_metric_lists_metrics_before_training(tmp_path):
  with pytest.raises(ValueError, match=r"'auc' is not among the evaluation "
                     r"metrics \['global_step', 'loss', 'mean_prediction'\]"):
    driver.run_iterations(make(tmp_path / "m"), train_input, eval_input,
                          steps_per_iteration=5, max_steps=10,
                          early_stopping=driver.EarlyStopping("auc", "max"))
  assert not os.path.exists(os.path.join(str(tmp_path / "m"), "checkpoint"))


def test_estimator_must_be_an_estimator(tmp_path):
  with pytest.raises(TypeError, match="estweight.Estimator"):
    driver.run_iterations(object(), train_input, eval_input,
                          steps_per_iteration=5, max_steps=10)


def test_learning_curve_png_is_written(tmp_path):
  est = make(tmp_path)
  driver.run_iterations(est, train_input, eval_input, steps_per_iteration=5,
                        max_steps=10)
  png = tmp_path / "learning_curve.png"
  assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_progress_lines_every_log_step_count_steps(tmp_path, caplog):
  import re  # pylint: disable=g-import-not-at-top
  est = estweight.Estimator(
      models.scalar_model_fn, model_dir=str(tmp_path),
      params={"learning_rate": 0.05},
      config=estweight.RunConfig(log_step_count_steps=4))
  caplog.set_level("INFO")
  driver.run_iterations(est, train_input, eval_input, steps_per_iteration=6,
                        max_steps=12)
  lines = [r.getMessage() for r in caplog.records
           if r.getMessage().startswith("step ")]
  # Steps 4, 8 and 12 (every 4, across the two iterations of 6), with the
  # rate since the previous line and the time left to max_steps=12.
  assert [int(l.split()[1]) for l in lines] == [4, 8, 12]
  pattern = r"step \d+ \| loss \d+\.\d{4} \| [\d.]+ steps/s \| eta \d:\d\d:\d\d"
  assert all(re.fullmatch(pattern, l) for l in lines), lines
  assert lines[-1].endswith("eta 0:00:00")
