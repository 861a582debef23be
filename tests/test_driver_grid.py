"""grid_search: trials, results files, HParams, progress, resume, parallel
workers, errors. (Workers that die: test_driver_grid_workers.py.)"""
import csv
import json
import logging
import os
import re

import numpy as np
import pytest
import tensorflow as tf

import estweight
from estweight import driver
from estweight.driver import grid as grid_lib
from support import models

X = np.linspace(-1, 1, 32).astype(np.float32)
Y = 2.0 * X
GRID = {"learning_rate": [0.0, 0.05], "batch_size": [4, 8]}


def estimator_fn(params, run_config):
  return estweight.Estimator(
      models.scalar_model_fn, config=run_config.replace(
          log_step_count_steps=5),
      params={"learning_rate": params["learning_rate"]})


def train_input(params):
  return tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).repeat().batch(
      params["batch_size"])


def eval_input():
  return tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).batch(16)


def search(model_dir, *, estimator_fn=estimator_fn, grid=None, **kwargs):
  args = dict(model_dir=str(model_dir), metric="loss", mode="min",
              steps_per_iteration=5, max_steps=10)
  args.update(kwargs)
  return driver.grid_search(estimator_fn, grid or GRID, train_input,
                            eval_input, **args)


class _Lines(logging.Handler):

  def __init__(self):
    super().__init__(logging.INFO)
    self.lines = []

  def emit(self, record):
    self.lines.append(record.getMessage())


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
  """One sequential search, with the lines it logged."""
  model_dir = tmp_path_factory.mktemp("grid")
  absl_logger = logging.getLogger("absl")
  handler, level = _Lines(), absl_logger.level
  absl_logger.addHandler(handler)
  absl_logger.setLevel(logging.INFO)
  try:
    result = search(model_dir)
  finally:
    absl_logger.removeHandler(handler)
    absl_logger.setLevel(level)
  return model_dir, result, handler.lines


def test_every_combination_runs_and_the_best_is_reported(finished):
  tmp_path, result, _ = finished
  assert [t["params"] for t in result.trials] == [
      {"learning_rate": 0.0, "batch_size": 4},
      {"learning_rate": 0.0, "batch_size": 8},
      {"learning_rate": 0.05, "batch_size": 4},
      {"learning_rate": 0.05, "batch_size": 8}]
  # learning_rate 0 never moves w from 0; 0.05 does, so it wins.
  assert result.best_params["learning_rate"] == 0.05
  assert result.best_metrics["loss"] < result.trials[0]["score"]
  assert all(t["global_step"] == 10 for t in result.trials)
  with open(tmp_path / "results.json") as f:
    assert [r["trial"] for r in json.load(f)] == [0, 1, 2, 3]
  with open(tmp_path / "results.csv") as f:
    rows = list(csv.DictReader(f))
  assert rows[2]["learning_rate"] == "0.05" and rows[2]["batch_size"] == "4"
  assert os.path.isdir(tmp_path / "trial_3" / "best")


def test_rerun_skips_finished_trials(tmp_path):
  search(tmp_path)
  stamp = os.path.getmtime(tmp_path / "trial_0" / "checkpoint")
  again = search(tmp_path)
  assert os.path.getmtime(tmp_path / "trial_0" / "checkpoint") == stamp
  assert len(again.trials) == 4


def test_parallel_workers_give_the_same_results(tmp_path, finished, caplog):
  _, serial, _ = finished
  caplog.set_level("INFO")
  parallel = search(tmp_path / "parallel", workers=2)
  assert [t["score"] for t in parallel.trials] == pytest.approx(
      [t["score"] for t in serial.trials])
  # The workers' lines reach this process, each naming its trial.
  lines = [r.getMessage() for r in caplog.records
           if r.process != os.getpid()]
  for trial in range(1, 5):
    assert [l for l in lines if re.fullmatch(
        rf"trial {trial}/4 \| step (5|10) \| loss \d+\.\d{{4}} .*", l)], lines
  done = [r.getMessage() for r in caplog.records
          if r.process == os.getpid() and " | done in " in r.getMessage()]
  assert len(done) == 4
  assert all(re.fullmatch(r"trial [1-4]/4 \| done in \d:\d\d:\d\d: best loss "
                          r"\d\.\d{4} at step (5|10) \| [1-4]/4 trials done"
                          r"( \| eta \d:\d\d:\d\d)?", l) for l in done), done


@pytest.mark.parametrize("kwargs, pattern", [
    ({"mode": "lowest"}, "mode='lowest'"),
    ({"workers": 0}, "workers=0"),
])
def test_bad_arguments(tmp_path, kwargs, pattern):
  with pytest.raises(ValueError, match=pattern):
    search(tmp_path / "m", **kwargs)
  assert not (tmp_path / "m").exists()


def test_empty_grid_and_bad_estimator_fn(tmp_path):
  with pytest.raises(ValueError, match="non-empty"):
    driver.grid_search(estimator_fn, {}, train_input, eval_input,
                       model_dir=str(tmp_path), metric="loss", mode="min",
                       steps_per_iteration=5, max_steps=10)
  with pytest.raises(TypeError, match="must return an estweight.Estimator"):
    driver.grid_search(lambda p, c: "not an estimator", GRID, train_input,
                       eval_input, model_dir=str(tmp_path), metric="loss",
                       mode="min", steps_per_iteration=5, max_steps=10)


def test_unknown_metric_fails_before_training(tmp_path):
  with pytest.raises(ValueError, match="'auc' is not among"):
    search(tmp_path, metric="auc", mode="max")
  assert not os.path.exists(tmp_path / "trial_0" / "checkpoint")


def test_grid_summary_png_is_written(finished):
  tmp_path, _, _ = finished
  assert (tmp_path / "grid_summary.png").read_bytes()[:4] == b"\x89PNG"


def test_progress_lines_name_the_trial(finished):
  _, result, lines = finished
  started = [l for l in lines if " | started in " in l]
  assert [l.split(" | ")[0] for l in started] == [
      "trial 1/4", "trial 2/4", "trial 3/4", "trial 4/4"]
  assert started[2].endswith("trial_2: learning_rate=0.05, batch_size=4")
  # Progress lines (log_step_count_steps=5) carry the trial.
  assert [l for l in lines if l.startswith("trial 3/4 | step 10 | loss ")]
  done = [l for l in lines if " | done in " in l]
  assert len(done) == 4
  score = result.trials[3]["score"]
  assert done[3].startswith(
      f"trial 4/4 | done in 0:00:") and done[3].endswith(
          f": best loss {score:.4f} at step 10 | 4/4 trials done")
  assert all(" | eta " in l for l in done[:3])


def test_eta_is_the_mean_trial_time_spread_over_the_workers(caplog):
  caplog.set_level("INFO")
  progress = grid_lib._Progress(total=9, pending=7, workers=2,
                                metric="auc")
  progress.finished({"trial": 2, "score": 0.96712, "best_step": 400,
                     "seconds": 40.0}, done=3)
  progress.finished({"trial": 3, "score": 0.9851, "best_step": 300,
                     "seconds": 60.0}, done=4)
  for _ in range(4):
    progress.finished({"trial": 4, "score": 0.5, "best_step": 1,
                       "seconds": 50.0}, done=5)
  progress.finished({"trial": 8, "score": 0.5, "best_step": 1,
                     "seconds": 50.0}, done=9)
  lines = [r.getMessage() for r in caplog.records]
  # 6 trials left, 40 s each so far, 2 workers: 6 * 40 / 2 = 120 s.
  assert lines[0] == ("trial 3/9 | done in 0:00:40: best auc 0.9671 at step "
                      "400 | 3/9 trials done | eta 0:02:00")
  # 5 left, mean (40 + 60) / 2 = 50 s: 5 * 50 / 2 = 125 s.
  assert lines[1].endswith("4/9 trials done | eta 0:02:05")
  # 1 left, one worker busy: 50 s.
  assert lines[5].endswith("| eta 0:00:50")
  assert lines[6] == ("trial 9/9 | done in 0:00:50: best auc 0.5000 at step "
                      "1 | 9/9 trials done")


def test_hparams_summary_has_the_grid_and_every_trial(finished):
  from tensorboard.backend.event_processing import event_accumulator  # pylint: disable=g-import-not-at-top
  from tensorboard.plugins.hparams import plugin_data_pb2  # pylint: disable=g-import-not-at-top
  tmp_path, result, _ = finished

  def plugin_data(run, tag):
    acc = event_accumulator.EventAccumulator(
        str(tmp_path / "hparams" / run),
        size_guidance={event_accumulator.TENSORS: 0})
    acc.Reload()
    data = plugin_data_pb2.HParamsPluginData()
    data.ParseFromString(acc.SummaryMetadata(tag).plugin_data.content)
    return data, acc

  experiment, _ = plugin_data("", "_hparams_/experiment")
  infos = {h.name: [v.number_value for v in h.domain_discrete.values]
           for h in experiment.experiment.hparam_infos}
  assert infos == {"learning_rate": [0.0, 0.05], "batch_size": [4.0, 8.0]}
  assert [m.name.tag for m in experiment.experiment.metric_infos] == [
      "loss", "mean_prediction"]
  for trial in result.trials:
    start, acc = plugin_data(f"trial_{trial['trial']}",
                             "_hparams_/session_start_info")
    assert {k: v.number_value for k, v in
            start.session_start_info.hparams.items()} == trial["params"]
    assert start.session_start_info.group_name == f"trial_{trial['trial']}"
    [loss] = acc.Scalars("loss")
    assert (loss.step, loss.value) == (trial["best_step"], pytest.approx(
        trial["score"]))


def test_results_csv_has_each_column_once(finished):
  tmp_path, result, _ = finished
  with open(tmp_path / "results.csv") as f:
    header = next(csv.reader(f))
  assert len(header) == len(set(header)), header
  # trial, 2 params, score, best_step, global_step, stopped_early and the
  # model_fn's metrics (scalar_model_fn: loss, mean_prediction).
  assert header == ["trial", "batch_size", "learning_rate", "score",
                    "best_step", "global_step", "stopped_early", "loss",
                    "mean_prediction"]
  assert result.trials[0]["best_metrics"]["global_step"] == int(
      list(csv.DictReader(open(tmp_path / "results.csv")))[0]["best_step"])


def test_best_step_honours_the_early_stoppings_min_delta(tmp_path):
  """A min_delta no improvement can beat: the first evaluation stays the
  best, as run_iterations keeps it in best/ (a plain min would pick a later,
  slightly lower loss)."""
  stopper = driver.EarlyStopping("loss", "min", patience=10, min_delta=1e6)
  result = search(tmp_path, grid={"learning_rate": [0.05], "batch_size": [4]},
                  early_stopping=stopper)
  trial = result.trials[0]
  with open(tmp_path / "trial_0" / "driver" / "state.json") as f:
    state = json.load(f)
  losses = [h["metrics"]["loss"] for h in state["history"]]
  assert [h["global_step"] for h in state["history"]] == [5, 10]
  assert losses[1] < losses[0]  # learning goes on, yet below min_delta
  assert trial["best_step"] == 5 == state["best"]["global_step"]
  assert trial["score"] == losses[0]
