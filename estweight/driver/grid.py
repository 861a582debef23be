"""grid_search: every combination of a parameter grid, one model_dir each.

Each trial is a `run_iterations` in `model_dir/trial_<i>/`, so an
interrupted trial resumes from its own checkpoint and state, and finished
trials (recorded in `results.json`) are skipped on a rerun. Results are
rewritten atomically after every trial as `results.json` and `results.csv`.

Why not Optuna: a grid is a fixed enumeration, and every piece of state a
resume needs already lives in the trial directories; a study database would
add a dependency and a second source of truth without changing a result.
Parallel trials run in worker processes (`workers > 1`; the functions
passed must then be importable, i.e. defined at module level).
"""
from __future__ import annotations

import copy
import csv
import dataclasses
import io
import itertools
import multiprocessing
import os

from absl import logging

from estweight.driver import plots
from estweight.driver.early_stopping import EarlyStopping
from estweight.driver.loop import run_iterations
from estweight.runtime import files
from estweight.runtime import fn_args as fn_args_lib

RESULTS_JSON = "results.json"
RESULTS_CSV = "results.csv"


@dataclasses.dataclass
class GridResult:
  """What grid_search returns: all trials and the best one's params."""
  trials: list
  best_params: dict | None
  best_metrics: dict | None


def _trials(param_grid):
  if not isinstance(param_grid, dict) or not param_grid:
    raise ValueError("`param_grid` must be a non-empty dict of parameter "
                     f"name -> list of values. Received: param_grid="
                     f"{param_grid!r}.")
  for name, values in param_grid.items():
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__") \
        or not list(values):
      raise ValueError(f"`param_grid[{name!r}]` must be a non-empty list of "
                       f"values. Received: {values!r}.")
  names = list(param_grid)
  return [dict(zip(names, combo))
          for combo in itertools.product(*(list(param_grid[n])
                                           for n in names))]


def _with_params(input_fn, params):
  """An input_fn without arguments that passes the trial's params."""
  def bound():
    return fn_args_lib.call_with_available(input_fn, {"params": params})
  return bound


def _run_trial(job):
  """Runs (or resumes) one trial; returns its summary dict."""
  from estweight import run_config as run_config_lib  # pylint: disable=g-import-not-at-top
  from estweight.estimator import Estimator  # pylint: disable=g-import-not-at-top
  (index, params, trial_dir, estimator_fn, train_input_fn, eval_input_fn,
   loop_kwargs, metric, mode) = job
  estimator = estimator_fn(params,
                           run_config_lib.RunConfig(model_dir=trial_dir))
  if not isinstance(estimator, Estimator):
    raise TypeError("`estimator_fn` must return an estweight.Estimator. "
                    f"Received: {estimator!r} for params {params}.")
  try:
    result = run_iterations(estimator, _with_params(train_input_fn, params),
                            _with_params(eval_input_fn, params),
                            **loop_kwargs)
  finally:
    estimator._runner.close()  # pylint: disable=protected-access
  scored = [h for h in result.history if metric in h["metrics"]]
  if not scored:
    raise ValueError(f"Metric {metric!r} is not among the evaluation metrics "
                     f"{sorted(result.history[-1]['metrics']) if result.history else []}.")
  pick = min if mode == "min" else max
  best = pick(scored, key=lambda h: h["metrics"][metric])
  return {"trial": index, "params": params, "model_dir": trial_dir,
          "status": "done", "score": best["metrics"][metric],
          "best_step": best["global_step"], "best_metrics": best["metrics"],
          "global_step": result.global_step,
          "stopped_early": result.stopped_early}


def grid_search(estimator_fn, param_grid, train_input_fn, eval_input_fn, *,
                model_dir, metric, mode, steps_per_iteration, max_steps,
                early_stopping=None, eval_steps=None,
                workers=1) -> GridResult:
  """Trains one model per grid point and reports the best by `metric`.

  Args:
    estimator_fn: `(params, run_config) -> Estimator`; run_config carries
      the trial's model_dir.
    param_grid: {name: [values]}; every combination is a trial.
    train_input_fn, eval_input_fn: may take `params` (the trial's), e.g. to
      search the batch size.
    model_dir: root directory; trials go to `model_dir/trial_<i>`.
    metric, mode: what to rank trials by ('min' or 'max'), using each
      trial's best evaluation.
    steps_per_iteration, max_steps, early_stopping, eval_steps: passed to
      run_iterations for every trial (early_stopping is copied per trial).
    workers: trials run in parallel processes when > 1.
  """
  trials = _trials(param_grid)
  if mode not in ("min", "max"):
    raise ValueError(f"`mode` must be 'min' or 'max'. Received: "
                     f"mode={mode!r}.")
  if not isinstance(metric, str) or not metric:
    raise ValueError(f"`metric` must be a metric name. Received: "
                     f"metric={metric!r}.")
  if not callable(estimator_fn):
    raise TypeError("`estimator_fn` must be callable (params, run_config) "
                    f"-> Estimator. Received: estimator_fn={estimator_fn!r}.")
  if isinstance(workers, bool) or not isinstance(workers, int) or (
      workers < 1):
    raise ValueError(f"`workers` must be a positive integer. Received: "
                     f"workers={workers!r}.")
  if early_stopping is not None and not isinstance(early_stopping,
                                                   EarlyStopping):
    raise TypeError("`early_stopping` must be an EarlyStopping or None. "
                    f"Received: early_stopping={early_stopping!r}.")
  model_dir = os.fspath(model_dir)
  results_path = os.path.join(model_dir, RESULTS_JSON)
  done = {r["trial"]: r for r in files.read_json(results_path, [], expect=list)
          if r.get("status") == "done"}
  jobs = []
  for index, params in enumerate(trials):
    if index in done:
      if done[index]["params"] != params:
        raise ValueError(
            f"{results_path} records trial {index} with params "
            f"{done[index]['params']}, but the grid now gives {params}. Use a "
            "new model_dir for a different grid.")
      continue
    # Without early stopping, a watcher that never stops still checks the
    # metric name before training and keeps the best checkpoint by it.
    watcher = (copy.deepcopy(early_stopping) if early_stopping is not None
               else EarlyStopping(metric, mode, patience=2**31 - 1))
    loop_kwargs = {"steps_per_iteration": steps_per_iteration,
                   "max_steps": max_steps, "eval_steps": eval_steps,
                   "early_stopping": watcher}
    jobs.append((index, params, os.path.join(model_dir, f"trial_{index}"),
                 estimator_fn, train_input_fn, eval_input_fn, loop_kwargs,
                 metric, mode))
  if done:
    logging.info("grid_search: %d of %d trials already done.", len(done),
                 len(trials))

  def record(summary):
    done[summary["trial"]] = summary
    _write_results(model_dir, [done[i] for i in sorted(done)])

  if workers == 1 or len(jobs) <= 1:
    for job in jobs:
      record(_run_trial(job))
  else:
    context = multiprocessing.get_context("spawn")
    with context.Pool(min(workers, len(jobs))) as pool:
      for summary in pool.imap_unordered(_run_trial, jobs):
        record(summary)
  finished = [done[i] for i in sorted(done)]
  plots.grid_summary(model_dir, finished, metric)
  pick = min if mode == "min" else max
  best = pick(finished, key=lambda r: r["score"]) if finished else None
  return GridResult(trials=finished,
                    best_params=best["params"] if best else None,
                    best_metrics=best["best_metrics"] if best else None)


def _write_results(model_dir, rows):
  files.write_json(os.path.join(model_dir, RESULTS_JSON), rows)
  param_names = sorted({k for r in rows for k in r["params"]})
  metric_names = sorted({k for r in rows for k in r["best_metrics"]})
  out = io.StringIO()
  writer = csv.writer(out)
  writer.writerow(["trial", *param_names, "score", "best_step",
                   "global_step", "stopped_early", *metric_names])
  for r in rows:
    writer.writerow([r["trial"], *(r["params"].get(p) for p in param_names),
                     r["score"], r["best_step"], r["global_step"],
                     r["stopped_early"],
                     *(r["best_metrics"].get(m) for m in metric_names)])
  files.write_atomic(os.path.join(model_dir, RESULTS_CSV), out.getvalue())
