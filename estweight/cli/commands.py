"""What each subcommand does, given a resolved config (no flags here)."""
from __future__ import annotations

import csv
import json
import os

import numpy as np
from absl import logging

import estweight
from estweight import roles
from estweight.cli import build
from estweight.cli import config as config_lib
from estweight.cli import data as data_lib
from estweight.cli.config import ConfigError


def _positive(path, value):
  if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
    raise ConfigError(f"{path} must be a positive integer. Received: "
                      f"{path}={value!r}.")


def check_driver(config):
  driver = config.driver
  _positive("driver.steps_per_iteration", driver.steps_per_iteration)
  _positive("driver.max_steps", driver.max_steps)
  if driver.eval_steps is not None:
    _positive("driver.eval_steps", driver.eval_steps)
  es = driver.early_stopping
  if es.metric and es.mode not in ("min", "max"):
    raise ConfigError("driver.early_stopping.mode must be 'min' or 'max'. "
                      f"Received: driver.early_stopping.mode={es.mode!r}.")


def format_table(rows, headers) -> str:
  """A plain aligned text table."""
  cells = [[str(h) for h in headers]] + [[_fmt(v) for v in r] for r in rows]
  widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
  lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
           for r in cells]
  lines.insert(1, "  ".join("-" * w for w in widths))
  return "\n".join(lines)


def _fmt(value):
  if isinstance(value, (float, np.floating)):
    return f"{value:.4f}"
  return str(value)


def metrics_table(metrics) -> str:
  return format_table(sorted(metrics.items()), ["metric", "value"])


class _InputFn:
  """A picklable input_fn over a config's data (grid workers need that)."""

  def __init__(self, config, split, *, train):
    self._data_config = config.data
    # The weighted factory's losses take class ids, not label strings.
    self._label_ids = config.model.name == build.FACTORY
    self._split = split
    self._train = train

  def __call__(self, params=None):
    table = _table(self._data_config)
    batch_size = (params or {}).get("data.batch_size")
    return table.input_fn(self._split, repeat=self._train,
                          shuffle=self._train, batch_size=batch_size,
                          label_ids=self._label_ids)()


_TABLES = {}


def _table(data_config):
  """The loaded data of a data config, once per process."""
  key = json.dumps(data_config.to_dict(), sort_keys=True)
  if key not in _TABLES:
    _TABLES[key] = data_lib.load(data_config)
  return _TABLES[key]


def prepare(config, model_dir, **run_overrides):
  """(table, estimator) after every check that needs no graph."""
  table = _table(config.data)
  build.check_task(config, table)
  est = build.build_estimator(config, table, build.run_config(
      config, model_dir, **run_overrides))
  return table, est


def _check_metric(est, eval_input_fn, metric, where):
  names = est._runner.eval_metric_names(eval_input_fn)  # pylint: disable=protected-access
  if metric not in names:
    raise ConfigError(f"{where}={metric!r} is not an evaluation metric of "
                      f"this model; it has {sorted(names)}.")


def _save(config, model_dir, changes):
  if changes:
    logging.warning("Continuing with a changed config (--force): %s",
                    "; ".join(changes))
  if changes or config_lib.read_saved(model_dir) is None:
    config_lib.save(config, model_dir)


def train(config, model_dir, *, force=False):
  """Trains with the iteration driver; returns the IterationResult.

  On a TF_CONFIG cluster, this process runs its task's role instead (see
  `_train_on_cluster`).
  """
  check_driver(config)
  changes = config_lib.check_against_saved(config, model_dir, force=force)
  if roles.on_cluster(build.run_config(config, model_dir)):
    return _train_on_cluster(config, model_dir, changes)
  table, est = prepare(config, model_dir)
  logging.info("Data:\n%s", table.describe())
  train_fn = _InputFn(config, "train", train=True)
  eval_fn = _InputFn(config, "eval", train=False)
  early = build.early_stopping(config)
  if early is not None:
    _check_metric(est, eval_fn, early.metric, "driver.early_stopping.metric")
  _save(config, model_dir, changes)
  result = estweight.driver.run_iterations(
      est, train_fn, eval_fn,
      steps_per_iteration=config.driver.steps_per_iteration,
      max_steps=config.driver.max_steps,
      eval_steps=config.driver.eval_steps, early_stopping=early)
  if result.history:
    last = result.history[-1]["metrics"]
    print(f"Evaluation at step {last['global_step']}"
          + (" (stopped early)" if result.stopped_early else "") + ":")
    print(metrics_table(last))
  if result.best:
    print(f"Best checkpoint: {result.best['checkpoint']} (step "
          f"{result.best['global_step']})")
  return result


def _train_on_cluster(config, model_dir, changes):
  """This task's role in `train_and_evaluate`: the chief and workers train to
  driver.max_steps (checkpoints every run.save_checkpoints_steps, else every
  driver.steps_per_iteration), the evaluator evaluates each checkpoint on
  driver.eval_steps batches, ps tasks serve. Early stopping is a training
  hook in every training task, reading the evaluator's results in
  model_dir. Returns None (the evaluator: its last evaluation)."""
  driver = config.driver
  table, est = prepare(config, model_dir, save_checkpoints_steps=(
      config.run.save_checkpoints_steps or driver.steps_per_iteration))
  logging.info("Task %r %d of a TF_CONFIG cluster. Data:\n%s",
               est.config.task_type, est.config.task_id, table.describe())
  train_fn = _InputFn(config, "train", train=True)
  eval_fn = _InputFn(config, "eval", train=False)
  hooks = []
  early = build.early_stopping(config)
  if early is not None:
    _check_metric(est, eval_fn, early.metric, "driver.early_stopping.metric")

    def should_stop():
      records = estweight.experimental.read_eval_metrics(est.eval_dir())
      return early.stops_on(
          early.metric_value(records[step]) for step in sorted(records))
    hooks.append(estweight.experimental.make_early_stopping_hook(
        est, should_stop, run_every_secs=None,
        run_every_steps=driver.steps_per_iteration))
  if est.config.is_chief:
    _save(config, model_dir, changes)
  out = estweight.train_and_evaluate(
      est, estweight.TrainSpec(train_fn, max_steps=driver.max_steps,
                               hooks=hooks),
      estweight.EvalSpec(eval_fn, steps=driver.eval_steps,
                         start_delay_secs=0, throttle_secs=0))
  if out is not None and out[0] is not None:
    print(f"Evaluation at step {out[0]['global_step']}:")
    print(metrics_table(out[0]))
  return out


def evaluate(config, model_dir, *, checkpoint=None):
  _require_checkpoint(model_dir)
  _, est = prepare(config, model_dir)
  metrics = est.evaluate(_InputFn(config, "eval", train=False),
                         steps=config.driver.eval_steps,
                         checkpoint_path=checkpoint or None)
  print(metrics_table(metrics))
  return metrics


def _require_checkpoint(model_dir):
  from estweight.runtime import checkpoints  # pylint: disable=g-import-not-at-top
  if not checkpoints.latest_checkpoint(model_dir):
    raise ConfigError(f"--model_dir={model_dir!r} has no checkpoint; run "
                      "`estweight train` first.")


def predict(config, model_dir, *, output=None, checkpoint=None):
  """Writes one row per example (inputs' row id, label, predictions)."""
  _require_checkpoint(model_dir)
  table, est = prepare(config, model_dir)
  split = config.predict.split
  if split not in ("train", "eval"):
    raise ConfigError("predict.split must be 'train' or 'eval'. Received: "
                      f"predict.split={split!r}.")
  fmt = config.predict.format
  if fmt not in ("csv", "jsonl"):
    raise ConfigError("predict.format must be 'csv' or 'jsonl'. Received: "
                      f"predict.format={fmt!r}.")
  output = output or config.predict.output or os.path.join(
      model_dir, f"predictions.{fmt}")
  rows = table.rows(split)
  labels = rows.get(table.label)
  predictions = est.predict(
      table.input_fn(split, with_labels=False, with_weights=False),
      checkpoint_path=checkpoint or None)
  records = []
  for i, pred in enumerate(predictions):
    record = {"row": i}
    if labels is not None:
      record["label"] = _plain(labels[i])
    for key, value in sorted(pred.items()):
      record[key] = _plain(value)
    records.append(record)
  _write(records, output, fmt)
  print(f"Wrote {len(records)} predictions to {output}")
  return output


def _plain(value):
  value = np.asarray(value)
  if value.dtype.kind in "SO":
    value = np.vectorize(
        lambda v: v.decode() if isinstance(v, bytes) else v,
        otypes=[object])(value)
  out = value.tolist()
  if isinstance(out, list) and len(out) == 1:
    return out[0]
  return out


def _write(records, output, fmt):
  os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
  tmp = output + ".tmp"
  with open(tmp, "w", newline="") as f:
    if fmt == "jsonl":
      for record in records:
        f.write(json.dumps(record) + "\n")
    else:
      flat = [_flatten(r) for r in records]
      fields = list(flat[0]) if flat else ["row"]
      writer = csv.DictWriter(f, fieldnames=fields)
      writer.writeheader()
      writer.writerows(flat)
  os.replace(tmp, output)


def _flatten(record):
  out = {}
  for key, value in record.items():
    if isinstance(value, list):
      for i, v in enumerate(value):
        out[f"{key}_{i}"] = v
    else:
      out[key] = value
  return out


def export(config, model_dir, *, checkpoint=None):
  _require_checkpoint(model_dir)
  table, est = prepare(config, model_dir)
  base = config.export.dir or os.path.join(model_dir, "export")
  best = os.path.join(model_dir, "best")
  if checkpoint is None and os.path.isdir(best):
    checkpoint = best  # the driver's best checkpoint, if it kept one
  path = est.export_saved_model(base, build.serving_receiver_fn(config, table),
                                checkpoint_path=checkpoint or None)
  path = path.decode()
  print(path)
  return path


class _TrialEstimatorFn:
  """A picklable estimator_fn: the config with a trial's params applied."""

  def __init__(self, config):
    self._config = config.to_dict()

  def __call__(self, params, run_config):
    trial = config_lib.resolve(None, sorted(params.items()),
                               base=self._config)
    table = _table(trial.data)
    return build.build_estimator(
        trial, table, build.run_config(trial, run_config.model_dir))


def _check_grid(config):
  grid = dict(config.search.grid)
  if not grid:
    raise ConfigError("search.grid is empty; give {config key: [values]}, "
                      "e.g. {'model.learning_rate': [0.01, 0.1]}.")
  for key, values in grid.items():
    if key.startswith("data.") and key != "data.batch_size":
      raise ConfigError(f"search.grid may vary data.batch_size but not {key}"
                        " (one dataset serves every trial).")
    if not isinstance(values, (list, tuple)) or not values:
      raise ConfigError(f"search.grid[{key!r}] must be a non-empty list. "
                        f"Received: {values!r}.")
    for value in values:  # each value must be valid for its key
      config_lib.resolve(None, [(key, value)], base=config.to_dict())
  if config.search.mode not in ("min", "max"):
    raise ConfigError("search.mode must be 'min' or 'max'. Received: "
                      f"search.mode={config.search.mode!r}.")
  _positive("search.workers", config.search.workers)
  return grid


def search(config, model_dir, *, force=False):
  """Grid search over search.grid; one trial per point, resumable."""
  check_driver(config)
  grid = _check_grid(config)
  changes = config_lib.check_against_saved(config, model_dir, force=force)
  table, est = prepare(config, os.path.join(model_dir, "trial_0"))
  logging.info("Data:\n%s", table.describe())
  eval_fn = _InputFn(config, "eval", train=False)
  _check_metric(est, eval_fn, config.search.metric, "search.metric")
  _save(config, model_dir, changes)
  result = estweight.driver.grid_search(
      _TrialEstimatorFn(config), grid,
      _InputFn(config, "train", train=True), eval_fn,
      model_dir=model_dir, metric=config.search.metric,
      mode=config.search.mode,
      steps_per_iteration=config.driver.steps_per_iteration,
      max_steps=config.driver.max_steps,
      eval_steps=config.driver.eval_steps,
      early_stopping=build.early_stopping(config),
      workers=config.search.workers)
  metric = config.search.metric
  rows = [[t["trial"], *[t["params"][k] for k in grid],
           (t.get("best_metrics") or {}).get(metric)]
          for t in result.trials]
  print(format_table(rows, ["trial", *grid, metric]))
  print(f"Best: {result.best_params} ({metric} = "
        f"{_fmt((result.best_metrics or {}).get(metric))})")
  return result
