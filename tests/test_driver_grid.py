"""grid_search: trials, results files, resume, parallel workers, errors."""
import csv
import json
import os

import numpy as np
import pytest
import tensorflow as tf

import estweight
from estweight import driver
from support import models

X = np.linspace(-1, 1, 32).astype(np.float32)
Y = 2.0 * X
GRID = {"learning_rate": [0.0, 0.05], "batch_size": [4, 8]}


def estimator_fn(params, run_config):
  return estweight.Estimator(
      models.scalar_model_fn, config=run_config.replace(
          log_step_count_steps=None),
      params={"learning_rate": params["learning_rate"]})


def train_input(params):
  return tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).repeat().batch(
      params["batch_size"])


def eval_input():
  return tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).batch(16)


def search(model_dir, **kwargs):
  args = dict(model_dir=str(model_dir), metric="loss", mode="min",
              steps_per_iteration=5, max_steps=10)
  args.update(kwargs)
  return driver.grid_search(estimator_fn, GRID, train_input, eval_input,
                            **args)


def test_every_combination_runs_and_the_best_is_reported(tmp_path):
  result = search(tmp_path)
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


def test_parallel_workers_give_the_same_results(tmp_path):
  serial = search(tmp_path / "serial")
  parallel = search(tmp_path / "parallel", workers=2)
  assert [t["score"] for t in parallel.trials] == pytest.approx(
      [t["score"] for t in serial.trials])


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


def test_grid_summary_png_is_written(tmp_path):
  search(tmp_path)
  assert (tmp_path / "grid_summary.png").read_bytes()[:4] == b"\x89PNG"
