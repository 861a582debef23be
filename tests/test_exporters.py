"""LatestExporter, FinalExporter, BestExporter: alone, in train_and_evaluate
and in driver.run_iterations. Exports are real SavedModels on disk."""
import os

import numpy as np
import pytest
import tensorflow as tf

import estweight
from estweight import driver
from support import models

X = np.linspace(-1, 1, 32).astype(np.float32)
Y = 2.0 * X
RAW = estweight.export.build_raw_serving_input_receiver_fn(
    {"x": tf.TensorSpec([None], tf.float32)})


def train_input():
  return tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).repeat().batch(8)


def eval_input():
  return tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).batch(16)


def make(model_dir, save_steps=5):
  return estweight.Estimator(
      models.scalar_model_fn, model_dir=str(model_dir),
      params={"learning_rate": 0.05},
      config=estweight.RunConfig(save_checkpoints_steps=save_steps,
                                 log_step_count_steps=None))


def versions(path):
  return estweight.export.exporters.export_versions(str(path))


@pytest.fixture(name="trained")
def fixture_trained(tmp_path):
  return make(tmp_path / "m", save_steps=1).train(train_input, steps=2)


def test_latest_exporter_keeps_the_newest(trained, tmp_path):
  exporter = estweight.LatestExporter("latest", RAW, exports_to_keep=2)
  path = tmp_path / "export"
  made = [exporter.export(trained, str(path), trained.latest_checkpoint(),
                          {"loss": 1.0}, False) for _ in range(3)]
  assert [int(os.path.basename(p)) for p in made[1:]] == versions(path)


def test_final_exporter_exports_only_the_final_evaluation(trained, tmp_path):
  exporter = estweight.FinalExporter("final", RAW)
  path = str(tmp_path / "export")
  ckpt = trained.latest_checkpoint()
  assert exporter.export(trained, path, ckpt, {"loss": 1.0}, False) is None
  assert versions(path) == []
  assert exporter.export(trained, path, ckpt, {"loss": 1.0}, True)
  assert len(versions(path)) == 1


def test_best_exporter_exports_improvements_only(trained, tmp_path):
  exporter = estweight.BestExporter(serving_input_receiver_fn=RAW,
                                    event_file_pattern=None)
  path = str(tmp_path / "export")
  ckpt = trained.latest_checkpoint()
  exported = [exporter.export(trained, path, ckpt,
                              {"loss": loss, "global_step": step}, False)
              is not None
              for step, loss in enumerate([3.0, 2.0, 2.5, 2.0, 1.0])]
  # First export, better, worse, equal (not better), better.
  assert exported == [True, True, False, False, True]
  assert len(versions(path)) == 3


def test_restarted_best_exporter_seeds_from_events(tmp_path):
  est = make(tmp_path / "m", save_steps=1).train(train_input, steps=2)
  path = str(tmp_path / "export")
  ckpt = {step: os.path.join(est.model_dir, f"model.ckpt-{step}")
          for step in (1, 2)}
  first = est.evaluate(eval_input, checkpoint_path=ckpt[1])
  assert estweight.BestExporter(serving_input_receiver_fn=RAW).export(
      est, path, ckpt[1], first, False)
  # A restarted job (a new exporter) sees step 1's loss in the event files.
  second = est.evaluate(eval_input, checkpoint_path=ckpt[2])
  assert second["loss"] < first["loss"]  # w moves towards 2
  assert estweight.BestExporter(serving_input_receiver_fn=RAW).export(
      est, path, ckpt[2], second, False)
  # tf.estimator 2.15 exported the first evaluation of every restart, even a
  # worse one; here a worse result after a restart is not exported.
  worse = {"loss": first["loss"] + 1.0, "global_step": 3}
  assert estweight.BestExporter(serving_input_receiver_fn=RAW).export(
      est, path, ckpt[2], worse, False) is None
  assert len(versions(path)) == 2


def _eval_records(est, records, events=True, jsonl=True):
  """Records evaluations {step: loss} in est's eval dir: event files and/or
  metrics.jsonl, as estweight's evaluation writes both."""
  from estweight.runtime import evaluate as evaluate_lib
  for step, loss in records.items():
    if events:
      evaluate_lib.write_eval_summary(est.eval_dir(), {"loss": loss}, step,
                                      None)
    if jsonl:
      os.makedirs(est.eval_dir(), exist_ok=True)
      evaluate_lib.append_eval_record(est.eval_dir(), {"loss": loss}, step)
  path = os.path.join(est.eval_dir(), evaluate_lib.EVAL_LOG)
  if not jsonl and os.path.exists(path):
    os.remove(path)  # write_eval_summary appends there too


@pytest.mark.parametrize("events, jsonl", [(False, True), (True, False)])
def test_restarted_best_exporter_seeds_from_metrics_jsonl_or_events(
    trained, tmp_path, events, jsonl):
  # metrics.jsonl alone (an estweight model_dir), or event files alone (one
  # written by tf.estimator 2.15): either seeds the best, 1.0 at step 1.
  _eval_records(trained, {1: 1.0}, events=events, jsonl=jsonl)
  path = str(tmp_path / "export")
  ckpt = trained.latest_checkpoint()
  first = estweight.BestExporter(serving_input_receiver_fn=RAW)
  assert first.export(trained, path, ckpt, {"loss": 5.0, "global_step": 2},
                      False)  # the first export: made whatever its loss
  restarted = estweight.BestExporter(serving_input_receiver_fn=RAW)
  assert restarted.export(trained, path, ckpt,
                          {"loss": 2.0, "global_step": 3}, False) is None
  assert restarted.export(trained, path, ckpt,
                          {"loss": 0.5, "global_step": 4}, False)


def test_best_exporter_reads_metrics_jsonl_not_events_when_both_exist(
    trained, tmp_path):
  from estweight.runtime import evaluate as evaluate_lib
  _eval_records(trained, {1: 3.0}, jsonl=False)  # events say 3.0
  _eval_records(trained, {1: 1.0}, events=False)  # metrics.jsonl says 1.0
  assert os.path.exists(os.path.join(trained.eval_dir(),
                                     evaluate_lib.EVAL_LOG))
  path = str(tmp_path / "export")
  ckpt = trained.latest_checkpoint()
  assert estweight.BestExporter(serving_input_receiver_fn=RAW).export(
      trained, path, ckpt, {"loss": 9.0, "global_step": 2}, False)
  restarted = estweight.BestExporter(serving_input_receiver_fn=RAW)
  # 2.0 beats the events' 3.0 but not metrics.jsonl's 1.0: not exported.
  assert restarted.export(trained, path, ckpt,
                          {"loss": 2.0, "global_step": 3}, False) is None


def test_default_compare_is_lower_loss_nan_never_better():
  compare = estweight.export.exporters._loss_smaller  # pylint: disable=protected-access
  assert compare(best_eval_result={"loss": 2.0},
                 current_eval_result={"loss": 1.0})
  assert not compare(best_eval_result={"loss": 1.0},
                     current_eval_result={"loss": 1.0})
  assert not compare(best_eval_result={"loss": 1.0},
                     current_eval_result={"loss": float("nan")})
  assert not compare(best_eval_result={"loss": float("nan")},
                     current_eval_result={"loss": 1.0})
  with pytest.raises(ValueError, match="with a 'loss'"):
    compare(best_eval_result={"auc": 1.0}, current_eval_result={"loss": 1.0})


def test_custom_compare_fn_and_its_validation(trained, tmp_path):
  def higher_accuracy(best_eval_result, current_eval_result):
    return current_eval_result["accuracy"] > best_eval_result["accuracy"]
  exporter = estweight.BestExporter(serving_input_receiver_fn=RAW,
                                    compare_fn=higher_accuracy,
                                    event_file_pattern=None)
  path = str(tmp_path / "export")
  ckpt = trained.latest_checkpoint()
  assert exporter.export(trained, path, ckpt, {"accuracy": 0.5}, False)
  assert exporter.export(trained, path, ckpt, {"accuracy": 0.4}, False) is None
  with pytest.raises(ValueError, match="exactly the arguments"):
    estweight.BestExporter(serving_input_receiver_fn=RAW,
                           compare_fn=lambda best, current: True)


@pytest.mark.parametrize("make_exporter, match", [
    (lambda: estweight.LatestExporter("x", RAW, exports_to_keep=0),
     "exports_to_keep=0"),
    (lambda: estweight.BestExporter(serving_input_receiver_fn=RAW,
                                    exports_to_keep=-1), "exports_to_keep=-1"),
    (lambda: estweight.FinalExporter("", RAW), "name=''"),
    (lambda: estweight.LatestExporter("x", None), TypeError),
])
def test_bad_exporter_arguments(make_exporter, match):
  if isinstance(match, type):
    with pytest.raises(match):
      make_exporter()
  else:
    with pytest.raises(ValueError, match=match):
      make_exporter()


def test_train_and_evaluate_exports_after_each_evaluation(tmp_path):
  est = make(tmp_path)
  metrics, exports = estweight.train_and_evaluate(
      est, estweight.TrainSpec(train_input, max_steps=10),
      estweight.EvalSpec(eval_input, throttle_secs=0, exporters=[
          estweight.LatestExporter("latest", RAW, exports_to_keep=1),
          estweight.FinalExporter("final", RAW)]))
  assert metrics["global_step"] == 10
  latest, final = exports
  assert latest and final  # the evaluation at step 10 is the final one
  assert len(versions(tmp_path / "export" / "latest")) == 1
  assert len(versions(tmp_path / "export" / "final")) == 1
  step = tf.train.load_variable(
      os.path.join(final.decode(), "variables", "variables"), "global_step")
  assert step == 10


def test_run_iterations_exports_the_best_and_the_final(tmp_path):
  est = make(tmp_path)
  result = driver.run_iterations(
      est, train_input, eval_input, steps_per_iteration=5, max_steps=15,
      exporters=[estweight.BestExporter("best", RAW),
                 estweight.FinalExporter("final", RAW)])
  losses = [h["metrics"]["loss"] for h in result.history]
  assert losses == sorted(losses, reverse=True)  # each one a new best
  assert len(versions(tmp_path / "export" / "best")) == 3
  [final] = versions(tmp_path / "export" / "final")
  served = tf.saved_model.load(
      str(tmp_path / "export" / "final" / str(final))).signatures[
          "serving_default"](x=tf.constant([1.0]))
  w = est.get_variable_value("w")
  np.testing.assert_allclose(served["prediction"].numpy(), [w], rtol=1e-6)
