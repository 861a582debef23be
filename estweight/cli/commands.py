"""train, evaluate and search, given a resolved config (no flags here),
and what every command shares: the data table, input_fns, the estimator.

`predict` lives in `estweight.cli.predict`, `export` in
`estweight.cli.serving`.
"""
from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import numpy as np
from estweight import _logging as logging

import estweight
from estweight import roles
from estweight.cli import build
from estweight.cli import checkpoint as checkpoint_lib
from estweight.cli import checks
from estweight.cli import config as config_lib
from estweight.cli import data as data_lib
from estweight.cli import extras
from estweight.cli.config import ConfigError

if TYPE_CHECKING:
  import ml_collections

  from estweight.cli.table import Table

DATA_DIR = "data"  # <model_dir>/data/: the prepared rows input_fns stream


def format_table(rows: Iterable[Sequence[Any]], headers: Sequence[str]) -> str:
  """A plain aligned text table."""
  cells = [[str(h) for h in headers]] + [[_fmt(v) for v in r] for r in rows]
  widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
  lines = [
      "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells
  ]
  lines.insert(1, "  ".join("-" * w for w in widths))
  return "\n".join(lines)


def _fmt(value):
  if isinstance(value, (float, np.floating)):
    return f"{value:.4f}"
  return str(value)


def metrics_table(metrics: Mapping[str, Any]) -> str:
  return format_table(sorted(metrics.items()), ["metric", "value"])


class _InputFn:
  """A picklable input_fn over a config's data (grid workers need that)."""

  def __init__(self, config, split, *, train, data_dir, write=True):
    self._data_config = config.data
    # The weighted factory's losses take class ids, not label strings.
    self._label_ids = config.model.name == checks.FACTORY
    self._split = split
    self._train = train
    self._data_dir = data_dir
    self._write = write

  def __call__(self, params=None):
    table = _table(self._data_config, self._data_dir)
    batch_size = (params or {}).get("data.batch_size")
    return table.input_fn(self._split,
                          repeat=self._train,
                          shuffle=self._train,
                          batch_size=batch_size,
                          label_ids=self._label_ids,
                          write=self._write)()


_TABLES: dict = {}


def _table(data_config, data_dir):
  """The loaded data of a data config, once per process."""
  key = (json.dumps(data_config.to_dict(), sort_keys=True), data_dir)
  if key not in _TABLES:
    _TABLES[key] = data_lib.load(data_config, data_dir=data_dir)
  return _TABLES[key]


def data_dir(model_dir: str) -> str:
  return os.path.join(model_dir, DATA_DIR)


def input_fn(config: ml_collections.ConfigDict,
             model_dir: str,
             split: str,
             *,
             train: bool = False,
             write: bool = True) -> Callable[..., Any]:
  """The input_fn of `split` ('train' repeats and shuffles) streaming from
  `<model_dir>/data/` (`write=False`: for checks, which build a graph but
  must leave model_dir untouched)."""
  return _InputFn(config,
                  split,
                  train=train,
                  data_dir=data_dir(model_dir),
                  write=write)


def prepare(config: ml_collections.ConfigDict,
            model_dir: str,
            *,
            data_from: str | None = None,
            **run_overrides: Any) -> tuple[Table, estweight.Estimator]:
  """(table, estimator) after every check that needs no graph; the data
  stream from `<data_from or model_dir>/data/`."""
  table = _table(config.data, data_dir(data_from or model_dir))
  build.check_task(config, table)
  est = build.build_estimator(
      config, table, build.run_config(config, model_dir, **run_overrides))
  return table, est


def _check_metric(est, config, model_dir, metric, where):
  eval_fn = input_fn(config, model_dir, "eval", write=False)
  names = est._runner.eval_metric_names(eval_fn)  # pylint: disable=protected-access
  if metric not in names:
    raise ConfigError(f"{where}={metric!r} is not an evaluation metric of "
                      f"this model; it has {sorted(names)}.")


def _save(config, model_dir, changes):
  if changes:
    logging.warning("Continuing with a changed config (--force): %s",
                    "; ".join(changes))
  if changes or config_lib.read_saved(model_dir) is None:
    config_lib.save(config, model_dir)


def train(config: ml_collections.ConfigDict,
          model_dir: str,
          *,
          force: bool = False) -> Any:
  """Trains with the iteration driver; returns the IterationResult.

  Prints the evaluation of the best checkpoint (the one evaluate, predict
  and export then use; see `estweight.cli.checkpoint`). On a TF_CONFIG
  cluster, this process runs its task's role instead (see
  `_train_on_cluster`).
  """
  checks.check(config, "train")
  changes = config_lib.check_against_saved(config, model_dir, force=force)
  if roles.on_cluster(build.run_config(config, model_dir)):
    return _train_on_cluster(config, model_dir, changes)
  table, est = prepare(config, model_dir)
  logging.info("Data:\n%s", table.describe())
  if not extras.available("matplotlib"):
    logging.warning(extras.hint("matplotlib", "learning_curve.png"))
  train_fn = input_fn(config, model_dir, "train", train=True)
  eval_fn = input_fn(config, model_dir, "eval")
  early = build.early_stopping(config)
  if early is not None:
    _check_metric(est, config, model_dir, early.metric,
                  "driver.early_stopping.metric")
  _save(config, model_dir, changes)
  result = estweight.driver.run_iterations(
      est,
      train_fn,
      eval_fn,
      steps_per_iteration=config.driver.steps_per_iteration,
      max_steps=config.driver.max_steps,
      eval_steps=config.driver.eval_steps,
      early_stopping=early)
  print(_summary(result, early))
  return result


def _summary(result, early):
  """What train prints: where it stopped, then the best checkpoint's
  evaluation (the model the other commands use)."""
  metric = early.metric if early is not None else "loss"
  history = result.history
  lines = [
      f"Trained to step {result.global_step}" +
      (f" (stopped early: {metric} did not improve for "
       f"{early.patience} evaluations)" if result.stopped_early else "") +
      f"; {len(history)} evaluations."
  ]
  if result.best:
    best = result.best
    lines.append(f"Best checkpoint: {best['checkpoint']} (step "
                 f"{best['global_step']}, best {metric}); evaluate, predict "
                 "and export use it.")
    lines.append(f"Evaluation at step {best['global_step']} (best):")
    lines.append(metrics_table(best["metrics"]))
  return "\n".join(lines)


def _train_on_cluster(config, model_dir, changes):
  """This task's role in `train_and_evaluate`: the chief and workers train to
  driver.max_steps (checkpoints every run.save_checkpoints_steps, else every
  driver.steps_per_iteration), the evaluator evaluates each checkpoint on
  driver.eval_steps batches, ps tasks serve. Early stopping is a training
  hook in every training task, reading the evaluator's results in
  model_dir. Returns None (the evaluator: its last evaluation)."""
  driver = config.driver
  table, est = prepare(
      config,
      model_dir,
      save_checkpoints_steps=(config.run.save_checkpoints_steps or
                              driver.steps_per_iteration))
  logging.info("Task %r %d of a TF_CONFIG cluster. Data:\n%s",
               est.config.task_type, est.config.task_id, table.describe())
  train_fn = input_fn(config, model_dir, "train", train=True)
  eval_fn = input_fn(config, model_dir, "eval")
  hooks = []
  early = build.early_stopping(config)
  if early is not None:
    _check_metric(est, config, model_dir, early.metric,
                  "driver.early_stopping.metric")

    def should_stop():
      records = estweight.experimental.read_eval_metrics(est.eval_dir())
      return early.stops_on(
          early.metric_value(records[step]) for step in sorted(records))

    hooks.append(
        estweight.experimental.make_early_stopping_hook(
            est,
            should_stop,
            run_every_secs=None,
            run_every_steps=driver.steps_per_iteration))
  if est.config.is_chief:
    _save(config, model_dir, changes)
  out = estweight.train_and_evaluate(
      est, estweight.TrainSpec(train_fn,
                               max_steps=driver.max_steps,
                               hooks=hooks),
      estweight.EvalSpec(eval_fn,
                         steps=driver.eval_steps,
                         start_delay_secs=0,
                         throttle_secs=0))
  if out is not None and out[0] is not None:
    print(f"Evaluation at step {out[0]['global_step']}:")
    print(metrics_table(out[0]))
  return out


def evaluate(config: ml_collections.ConfigDict,
             model_dir: str,
             *,
             checkpoint: str | None = None) -> dict[str, Any]:
  """Evaluates the checkpoint `estweight.cli.checkpoint` chooses; prints
  the choice and the metrics."""
  checks.check(config, "evaluate")
  choice = checkpoint_lib.choose(model_dir, checkpoint)
  print(choice.describe().capitalize())
  _, est = prepare(config, model_dir)
  metrics = est.evaluate(
      input_fn(config, model_dir, "eval"),
      steps=config.driver.eval_steps,
      checkpoint_path=None if choice.kind == "latest" else choice.path,
      name=choice.eval_name)
  print(metrics_table(metrics))
  return metrics


class _TrialEstimatorFn:
  """A picklable estimator_fn: the config with a trial's params applied."""

  def __init__(self, config, data_dir):
    self._config = config.to_dict()
    self._data_dir = data_dir

  def __call__(self, params, run_config):
    trial = config_lib.resolve(None, sorted(params.items()), base=self._config)
    table = _table(trial.data, self._data_dir)
    return build.build_estimator(trial, table,
                                 build.run_config(trial, run_config.model_dir))


def search(config: ml_collections.ConfigDict,
           model_dir: str,
           *,
           force: bool = False) -> Any:
  """Grid search over search.grid; one trial per point, resumable."""
  checks.check(config, "search")
  grid = dict(config.search.grid)
  changes = config_lib.check_against_saved(config, model_dir, force=force)
  # One copy of the data for every trial, in the search's own model_dir.
  table, est = prepare(config,
                       os.path.join(model_dir, "trial_0"),
                       data_from=model_dir)
  logging.info("Data:\n%s", table.describe())
  eval_fn = input_fn(config, model_dir, "eval")
  _check_metric(est, config, model_dir, config.search.metric, "search.metric")
  _save(config, model_dir, changes)
  result = estweight.driver.grid_search(
      _TrialEstimatorFn(config, data_dir(model_dir)),
      grid,
      input_fn(config, model_dir, "train", train=True),
      eval_fn,
      model_dir=model_dir,
      metric=config.search.metric,
      mode=config.search.mode,
      steps_per_iteration=config.driver.steps_per_iteration,
      max_steps=config.driver.max_steps,
      eval_steps=config.driver.eval_steps,
      early_stopping=build.early_stopping(config),
      workers=config.search.workers)
  metric = config.search.metric
  rows = [[
      t["trial"], *[t["params"][k]
                    for k in grid], (t.get("best_metrics") or {}).get(metric)
  ]
          for t in result.trials]
  print(format_table(rows, ["trial", *grid, metric]))
  print(f"Best: {result.best_params} ({metric} = "
        f"{_fmt((result.best_metrics or {}).get(metric))})")
  return result
