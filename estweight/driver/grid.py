"""grid_search: every combination of a parameter grid, one model_dir each.

Each trial is a `run_iterations` in `model_dir/trial_<i>/`, so an
interrupted trial resumes from its own checkpoint and state, and finished
trials (recorded in `results.json`) are skipped on a rerun. Results are
rewritten atomically after every trial as `results.json` and `results.csv`.

The finished grid is also drawn (`grid_summary.png`) and written as a
TensorBoard HParams summary (`model_dir/hparams/`).

Progress: each trial's lines carry it (`trial 3/9 | step 200 | loss ...`),
and every finished trial logs its result, how many are done and the ETA of
the whole search.

Why not Optuna: a grid is a fixed enumeration, and every piece of state a
resume needs already lives in the trial directories; a study database would
add a dependency and a second source of truth without changing a result.
Parallel trials run in worker processes (`workers > 1`, see workers.py; the
functions passed must then be importable, i.e. defined at module level, and
a script must call grid_search under `if __name__ == "__main__":`).
"""
from __future__ import annotations

import copy
import csv
import dataclasses
import datetime
import io
import itertools
import os
import time
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from estweight import _logging as logging
from estweight.driver import hparams as hparams_lib
from estweight.driver import plots
from estweight.driver import workers as workers_lib
from estweight.driver.early_stopping import EarlyStopping
from estweight.driver.loop import run_iterations
from estweight.runtime import best as best_lib
from estweight.runtime import files
from estweight.runtime import fn_args as fn_args_lib

if TYPE_CHECKING:
  from estweight.estimator import Estimator
  from estweight.run_config import RunConfig

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
  return [
      dict(zip(names, combo))
      for combo in itertools.product(*(list(param_grid[n]) for n in names))
  ]


def _with_params(input_fn, params):
  """An input_fn without arguments that passes the trial's params."""

  def bound():
    return fn_args_lib.call_with_available(input_fn, {"params": params})

  return bound


def _label(index, total):
  return f"trial {index + 1}/{total}"


def _run_trial(job):
  """Runs (or resumes) one trial; returns its summary dict."""
  from estweight import run_config as run_config_lib  # pylint: disable=g-import-not-at-top
  from estweight.estimator import Estimator  # pylint: disable=g-import-not-at-top
  (index, total, params, trial_dir, estimator_fn, train_input_fn, eval_input_fn,
   loop_kwargs, metric, mode) = job
  started = time.monotonic()
  with logging.label(_label(index, total)):
    logging.info("started in %s: %s", trial_dir, _params_text(params))
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
    raise ValueError(
        f"Metric {metric!r} is not among the evaluation metrics "
        f"{sorted(result.history[-1]['metrics']) if result.history else []}.")
  # The trial's best/ checkpoint is the watcher's pick: when the watcher
  # ranks by the same metric, its min_delta applies here too, so best_step
  # names that checkpoint.
  watcher = loop_kwargs["early_stopping"]
  min_delta = (watcher.min_delta if
               (watcher.metric, watcher.mode) == (metric, mode) else 0.0)
  best = best_lib.BestMetric(metric, mode, min_delta).select(
      scored, key=lambda h: h["metrics"][metric])
  return {
      "trial": index,
      "params": params,
      "model_dir": trial_dir,
      "status": "done",
      "score": best["metrics"][metric],
      "best_step": best["global_step"],
      "best_metrics": best["metrics"],
      "global_step": result.global_step,
      "stopped_early": result.stopped_early,
      "seconds": round(time.monotonic() - started, 3)
  }


def _params_text(params):
  return ", ".join(f"{k}={v}" for k, v in params.items())


class _Progress:
  """One line per finished trial: its result, the count, the search's ETA.

  The ETA is the mean duration of the trials finished in this call times
  the trials left, shared among the workers (at most one per trial left).
  """

  def __init__(self, *, total, pending, workers, metric):
    self._total, self._pending = total, pending
    self._workers, self._metric = workers, metric
    self._seconds = []

  def finished(self, summary, done):
    self._seconds.append(summary["seconds"])
    left = self._pending - len(self._seconds)
    parts = [
        f"done in {_duration(summary['seconds'])}: best {self._metric} "
        f"{summary['score']:.4f} at step {summary['best_step']}",
        f"{done}/{self._total} trials done"
    ]
    if left:
      mean = sum(self._seconds) / len(self._seconds)
      parts.append(f"eta {_duration(left * mean / min(self._workers, left))}")
    with logging.label(_label(summary["trial"], self._total)):
      logging.info(" | ".join(parts))


def _duration(seconds):
  return str(datetime.timedelta(seconds=round(seconds)))


def grid_search(estimator_fn: Callable[[dict[str, Any], RunConfig], Estimator],
                param_grid: Mapping[str, Sequence[Any]],
                train_input_fn: Callable[..., Any],
                eval_input_fn: Callable[..., Any],
                *,
                model_dir: str | os.PathLike[str],
                metric: str,
                mode: str,
                steps_per_iteration: int,
                max_steps: int,
                early_stopping: EarlyStopping | None = None,
                eval_steps: int | None = None,
                workers: int = 1) -> GridResult:
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
    workers: trials run in that many parallel processes when > 1. A worker
      that dies (at start-up, e.g. in a script without an
      `if __name__ == "__main__":` guard, or in a trial) ends the search
      with its error; finished trials stay recorded for a rerun.

  Returns:
    A `GridResult`: every finished trial (as in results.json), the best
    one's params and metrics.

  Raises:
    ValueError, TypeError: bad arguments (before anything is written).
    workers.WorkerError: a worker process died.
  """
  if isinstance(workers, int) and workers > 1:
    workers_lib.refuse_in_starting_worker(f"grid_search(workers={workers})")
  trials = _trials(param_grid)
  ranking = best_lib.BestMetric(metric, mode)  # checks mode
  if not isinstance(metric, str) or not metric:
    raise ValueError(f"`metric` must be a metric name. Received: "
                     f"metric={metric!r}.")
  if not callable(estimator_fn):
    raise TypeError("`estimator_fn` must be callable (params, run_config) "
                    f"-> Estimator. Received: estimator_fn={estimator_fn!r}.")
  if isinstance(workers, bool) or not isinstance(workers, int) or (workers < 1):
    raise ValueError(f"`workers` must be a positive integer. Received: "
                     f"workers={workers!r}.")
  if early_stopping is not None and not isinstance(early_stopping,
                                                   EarlyStopping):
    raise TypeError("`early_stopping` must be an EarlyStopping or None. "
                    f"Received: early_stopping={early_stopping!r}.")
  model_dir = os.fspath(model_dir)
  results_path = os.path.join(model_dir, RESULTS_JSON)
  done = {
      r["trial"]: r
      for r in files.read_json(results_path, [], expect=list)
      if r.get("status") == "done"
  }
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
    watcher = (copy.deepcopy(early_stopping) if early_stopping is not None else
               EarlyStopping(metric, mode, patience=2**31 - 1))
    loop_kwargs = {
        "steps_per_iteration": steps_per_iteration,
        "max_steps": max_steps,
        "eval_steps": eval_steps,
        "early_stopping": watcher
    }
    jobs.append((index, len(trials), params,
                 os.path.join(model_dir, f"trial_{index}"), estimator_fn,
                 train_input_fn, eval_input_fn, loop_kwargs, metric, mode))
  processes = min(workers, len(jobs))
  logging.info(
      "grid_search: %d trials%s, %s, in %s.", len(trials),
      f" ({len(done)} done before)" if done else "",
      f"{processes} worker processes" if processes > 1 else "one at a time",
      model_dir)
  progress = _Progress(total=len(trials),
                       pending=len(jobs),
                       workers=max(processes, 1),
                       metric=metric)

  def record(summary):
    done[summary["trial"]] = summary
    _write_results(model_dir, [done[i] for i in sorted(done)])
    progress.finished(summary, len(done))

  if processes <= 1:
    for job in jobs:
      record(_run_trial(job))
  else:
    workers_lib.run(_run_trial,
                    jobs,
                    workers=processes,
                    on_result=lambda _, summary: record(summary),
                    describe_job=lambda i: _label(jobs[i][0], len(trials)) +
                    f" ({os.path.basename(jobs[i][3])})")
  finished = [done[i] for i in sorted(done)]
  plots.grid_summary(model_dir, finished, metric, mode=mode)
  hparams_lib.write_hparams(model_dir, finished, param_grid, metric)
  best = ranking.select(finished, key=lambda r: r["score"])
  return GridResult(trials=finished,
                    best_params=best["params"] if best else None,
                    best_metrics=best["best_metrics"] if best else None)


def _write_results(model_dir, rows):
  files.write_json(os.path.join(model_dir, RESULTS_JSON), rows)
  param_names = sorted({k for r in rows for k in r["params"]})
  # best_metrics' global_step is best_step's column already.
  metric_names = sorted({k for r in rows for k in r["best_metrics"]} -
                        {"global_step"})
  out = io.StringIO()
  writer = csv.writer(out)
  writer.writerow([
      "trial", *param_names, "score", "best_step", "global_step",
      "stopped_early", *metric_names
  ])
  for r in rows:
    writer.writerow([
        r["trial"], *(r["params"].get(p) for p in param_names), r["score"],
        r["best_step"], r["global_step"], r["stopped_early"],
        *(r["best_metrics"].get(m) for m in metric_names)
    ])
  files.write_atomic(os.path.join(model_dir, RESULTS_CSV), out.getvalue())
