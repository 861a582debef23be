"""Evaluations never rewind eval/: older and foreign checkpoints get their
own eval_<name>/; readers take old out-of-order files as a forward history;
evaluate and predict name the checkpoint they use."""
import json
import logging
import os

import pytest
import tensorflow as tf

import estweight
from estweight import driver
from estweight.runtime import evaluate as evaluate_lib
from support import models

read = estweight.experimental.read_eval_metrics
RAW = estweight.export.build_raw_serving_input_receiver_fn(
    {"x": tf.TensorSpec([None], tf.float32)})


def eval_fn():
  # [1, 2] and [3] with y = x: loss = ((w-1)^2 (1 + 4) / 2 + 9 (w-1)^2) / 2
  # = 5.75 (w-1)^2.
  return models.xy_input_fn([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], batch_size=2)


def train_fn():
  return models.xy_input_fn([1.0], [2.0], repeat=True)()


def loss_at(w):
  return 5.75 * (w - 1.0) ** 2


# Gradient descent on x=1, y=2, lr 0.01: w <- w + 0.02 (2 - w), from 0.
W = {0: 0.0, 2: 0.0792, 4: 0.15526368}


def trained(tmp_path):
  est = models.make_estimator(tmp_path, save_checkpoints_steps=2,
                              log_step_count_steps=None)
  est.train(train_fn, steps=4)  # checkpoints 0, 2, 4
  return est


def event_steps(directory):
  scalars, _ = models.event_scalars(directory)
  return [step for step, _ in scalars["loss"]]


def test_older_checkpoint_after_newer_evaluation_gets_its_own_dir(tmp_path):
  est = trained(tmp_path)
  latest = est.evaluate(eval_fn())
  assert latest["loss"] == pytest.approx(loss_at(W[4]), rel=1e-5)
  older = est.evaluate(eval_fn(),
                       checkpoint_path=str(tmp_path / "model.ckpt-2"))
  assert older["global_step"] == 2
  assert older["loss"] == pytest.approx(loss_at(W[2]), rel=1e-5)
  # eval/ keeps only the forward history, in metrics.jsonl and events.
  assert list(read(est.eval_dir())) == [4]
  assert event_steps(est.eval_dir()) == [4]
  own = est.eval_dir("model.ckpt-2")
  assert own == os.path.join(str(tmp_path), "eval_model.ckpt-2")
  assert list(read(own)) == [2] and event_steps(own) == [2]


def test_an_older_checkpoint_before_any_evaluation_starts_eval(tmp_path):
  est = trained(tmp_path)
  est.evaluate(eval_fn(), checkpoint_path=str(tmp_path / "model.ckpt-2"))
  est.evaluate(eval_fn())
  est.evaluate(eval_fn())  # the same step again: replaces, not rewinds
  assert list(read(est.eval_dir())) == [2, 4]
  est.evaluate(eval_fn(), checkpoint_path=str(tmp_path / "model.ckpt-0"))
  assert list(read(est.eval_dir())) == [2, 4]
  assert list(read(est.eval_dir("model.ckpt-0"))) == [0]
  assert sorted(d for d in os.listdir(tmp_path) if d.startswith("eval")) == [
      "eval", "eval_model.ckpt-0"]


def test_best_checkpoint_evaluates_into_eval_best(tmp_path):
  est = models.make_estimator(tmp_path, log_step_count_steps=None)
  result = driver.run_iterations(est, train_fn, eval_fn(),
                                 steps_per_iteration=2, max_steps=4)
  # The loss falls with every step (w moves towards 1 and beyond it only
  # after 35 steps), so the best is the last: step 4, also the latest.
  assert result.best["global_step"] == 4
  best = est.evaluate(eval_fn(),
                      checkpoint_path=os.path.join(str(tmp_path), "best"))
  assert best["global_step"] == 4
  assert best["loss"] == pytest.approx(loss_at(W[4]), rel=1e-5)
  assert list(read(est.eval_dir())) == [2, 4]
  assert list(read(est.eval_dir("best"))) == [4]


def test_an_explicit_name_is_respected(tmp_path):
  est = trained(tmp_path)
  est.evaluate(eval_fn())
  est.evaluate(eval_fn(), checkpoint_path=str(tmp_path / "model.ckpt-2"),
               name="replay")
  assert list(read(est.eval_dir("replay"))) == [2]
  # name='' is tf.estimator's eval/ itself: written there, as asked ...
  est.evaluate(eval_fn(), checkpoint_path=str(tmp_path / "model.ckpt-0"),
               name="")
  with open(os.path.join(est.eval_dir(), "metrics.jsonl")) as f:
    assert [json.loads(line)["global_step"] for line in f] == [4, 0]
  # ... and read back as the forward history.
  assert list(read(est.eval_dir())) == [4]


def test_evaluate_and_predict_name_their_checkpoint(tmp_path, caplog):
  est = trained(tmp_path)
  caplog.set_level(logging.INFO, logger="absl")
  est.evaluate(eval_fn())
  est.evaluate(eval_fn(), checkpoint_path=str(tmp_path / "model.ckpt-2"))
  next(est.predict(models.xy_input_fn([1.0])))
  messages = [r.getMessage() for r in caplog.records]
  ckpt4, ckpt2 = (os.path.join(str(tmp_path), f"model.ckpt-{n}")
                  for n in (4, 2))
  assert f"Starting evaluation of checkpoint {ckpt4}." in messages
  assert f"Starting evaluation of checkpoint {ckpt2}." in messages
  assert f"Predicting with checkpoint {ckpt4}." in messages
  assert any(m.startswith(f"Recording this evaluation of {ckpt2} in "
                          f"{est.eval_dir('model.ckpt-2')}")
             for m in messages)


def _write_old_style_records(eval_dir, records):
  os.makedirs(eval_dir, exist_ok=True)
  with open(os.path.join(eval_dir, "metrics.jsonl"), "w") as f:
    for step, loss in records:
      f.write(json.dumps({"global_step": step, "loss": loss}) + "\n")


def test_out_of_order_records_are_read_as_a_forward_history(tmp_path,
                                                             caplog):
  # Written by an older estweight: evaluations at 100, 200, 300, then a
  # re-evaluation of step 100 (`--checkpoint=best`), then 300 once more.
  _write_old_style_records(str(tmp_path), [(100, 1.0), (200, 0.5),
                                           (300, 0.6), (100, 0.1),
                                           (300, 0.7)])
  records = read(str(tmp_path))
  assert {s: r["loss"] for s, r in records.items()} == {
      100: 1.0, 200: 0.5, 300: 0.7}
  assert evaluate_lib.last_recorded_step(str(tmp_path)) == 300
  assert "steps [100] after a later step" in caplog.text


def test_no_decrease_hook_ignores_an_appended_older_evaluation(tmp_path):
  est = models.make_estimator(tmp_path / "m", log_step_count_steps=None)
  # Forward history: best 0.5 at 200, 300 is 100 steps later: go on. Read
  # with the appended (100, 0.1) as step 100's value, the best would be at
  # 100 and 300 - 100 >= 150 would stop training before its first step.
  _write_old_style_records(est.eval_dir(), [(100, 1.0), (200, 0.5),
                                            (300, 0.6), (100, 0.1)])
  hook = estweight.experimental.stop_if_no_decrease_hook(
      est, "loss", 150, run_every_secs=None, run_every_steps=1)
  est.train(train_fn, steps=2, hooks=[hook])
  assert est.get_variable_value("global_step") == 2


def test_best_exporter_seeds_from_the_forward_history_of_events(tmp_path):
  est = models.make_estimator(tmp_path / "m", log_step_count_steps=None)
  est.train(train_fn, steps=2)
  ckpt = est.latest_checkpoint()
  # Old-style eval events: loss 3 at step 1, 2 at step 2, then a step-1
  # re-evaluation with loss 0.5 appended after them.
  for step, loss in ((1, 3.0), (2, 2.0), (1, 0.5)):
    evaluate_lib.write_eval_summary(est.eval_dir(), {"loss": loss}, step,
                                    None)
  path = str(tmp_path / "export")
  assert estweight.BestExporter(serving_input_receiver_fn=RAW).export(
      est, path, ckpt, {"loss": 2.5, "global_step": 2}, False)  # the first
  # A restarted exporter seeds its best from steps before 3: 2.0 (step 2),
  # not the appended 0.5, so loss 1.0 is an improvement and is exported.
  restarted = estweight.BestExporter(serving_input_receiver_fn=RAW)
  assert restarted.export(est, path, ckpt, {"loss": 1.0, "global_step": 3},
                          False)
  assert len(estweight.export.exporters.export_versions(path)) == 2
