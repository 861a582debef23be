"""run_iterations: train(steps) / evaluate in a loop, resumable from model_dir.

Each iteration runs what `Estimator.train(steps=...)` and
`Estimator.evaluate` run (the same kept loops, hooks, checkpoint and summary
cadence), except that the training input goes on across iterations instead
of restarting; it records the metrics and
updates early stopping and the best checkpoint. That state is written
atomically to `model_dir/driver/state.json` after every evaluation, so
rerunning the same call after a kill continues where the last finished
evaluation left off; a run that already stopped early does not train again.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import time
from typing import Any, Callable, Sequence

import numpy as np
import tensorflow as tf
from estweight import _logging as logging

from estweight.driver import plots
from estweight.driver.early_stopping import EarlyStopping
from estweight import roles
from estweight import training
from estweight import validation
from estweight.estimator import Estimator
from estweight.export import exporters as exporters_lib
from estweight.runtime import checkpoints
from estweight.runtime import files

STATE_FILE = os.path.join("driver", "state.json")
BEST_DIR = "best"


@dataclasses.dataclass
class IterationResult:
  """What run_iterations returns.

  Attributes:
    history: one dict per evaluation: {'global_step': int, 'metrics': {...},
      'seconds': wall time of that iteration's train + evaluate,
      'train_loss': loss of its last training step}.
    best: {'global_step', 'metrics', 'checkpoint'} of the best evaluation
      (lowest loss, or better by the early stopping's metric, mode and
      min_delta: `EarlyStopping.best_metric`), or None. The first
      evaluation is the best until a later one is better.
    stopped_early: whether early stopping ended the run.
    global_step: the final global step.
  """
  history: list
  best: dict | None
  stopped_early: bool
  global_step: int


def _plain(metrics):
  return {
      k: (int(v) if isinstance(v, (np.integer, int)) else float(v))
      for k, v in metrics.items()
  }


def run_iterations(
    estimator: Estimator,
    train_input_fn: Callable[..., Any],
    eval_input_fn: Callable[..., Any],
    *,
    steps_per_iteration: int,
    max_steps: int,
    eval_steps: int | None = None,
    early_stopping: EarlyStopping | None = None,
    keep_best: bool = True,
    exporters: exporters_lib.Exporter | Sequence[exporters_lib.Exporter] |
    None = None
) -> IterationResult:
  """Alternates training and evaluation until `max_steps` or early stop.

  Args:
    estimator: an `estweight.Estimator` (canned or custom).
    train_input_fn: training input; should repeat (one pipeline serves all
      iterations; a resumed run skips the batches already trained on).
    eval_input_fn: evaluation input, read from the start at every
      evaluation (`eval_steps=None`: until it ends).
    steps_per_iteration: training steps between evaluations.
    max_steps: absolute global step to stop at, like Estimator.train.
    eval_steps: batches per evaluation; None = the whole input.
    early_stopping: an `EarlyStopping`, or None.
    keep_best: copy the best checkpoint to model_dir/best/, safe from
      keep_checkpoint_max deletion. A later evaluation replaces it only if
      it beats it by more than the early stopping's `min_delta` (earlier
      versions ignored min_delta here, so the kept best could be an
      evaluation that early stopping did not count as an improvement).
    exporters: `Exporter`s (e.g. `estweight.BestExporter` to export each new
      best model) called after every evaluation, as train_and_evaluate does:
      into model_dir/export/<name>, `is_the_final_export` True at
      `max_steps` or when early stopping ends the run.
  """
  if not isinstance(estimator, Estimator):
    raise TypeError("`estimator` must be an estweight.Estimator. Received: "
                    f"estimator={estimator!r}.")
  steps_per_iteration = validation.integer("steps_per_iteration",
                                           steps_per_iteration,
                                           minimum=1,
                                           allow_none=False)
  max_steps = validation.integer("max_steps",
                                 max_steps,
                                 minimum=1,
                                 allow_none=False)
  eval_steps = validation.integer("eval_steps", eval_steps, minimum=1)
  if early_stopping is not None and not isinstance(early_stopping,
                                                   EarlyStopping):
    raise TypeError("`early_stopping` must be an estweight.driver."
                    "EarlyStopping or None. Received: early_stopping="
                    f"{early_stopping!r}.")
  exporters = training.check_exporters(exporters)
  if roles.on_cluster(estimator.config):
    raise ValueError(
        "run_iterations trains and evaluates in one process; this one is "
        f"task {estimator.config.task_type!r} of a TF_CONFIG cluster. On a "
        "cluster use estweight.train_and_evaluate (or `estweight train`, "
        "which runs each task's role), or unset TF_CONFIG.")
  watch = early_stopping or EarlyStopping("loss", "min", patience=1)
  model_dir = estimator.model_dir
  state_path = os.path.join(model_dir, STATE_FILE)
  state = files.read_json(state_path, expect=dict) or {
      "history": [],
      "best": None,
      "early_stopping": None,
      "stopped_early": False
  }
  if early_stopping is not None and state["early_stopping"]:
    early_stopping.load_state_dict(state["early_stopping"])

  def result(step):
    return IterationResult(state["history"], state["best"],
                           state["stopped_early"], step)

  global_step = checkpoints.model_dir_global_step(model_dir)
  if state["stopped_early"]:
    logging.info("Stopped early before (best at step %s); not training.",
                 (state["best"] or {}).get("global_step"))
    return result(global_step)

  runner = estimator._runner  # pylint: disable=protected-access
  runner.train_input_fn = train_input_fn  # for e.g. class_weight='balanced'
  names = runner.eval_metric_names(eval_input_fn)
  if watch.metric not in names:
    raise ValueError(
        f"Metric {watch.metric!r} is not among the evaluation metrics "
        f"{names}. To fix, pass one of those to EarlyStopping(metric=...).")
  recorded = len(state["history"])
  last_evaluated = (state["history"][-1]["global_step"]
                    if state["history"] else None)
  record = functools.partial(_record,
                             state,
                             estimator,
                             eval_input_fn,
                             eval_steps,
                             early_stopping,
                             watch,
                             keep_best,
                             state_path,
                             exporters=exporters,
                             max_steps=max_steps)
  if global_step and global_step != last_evaluated and (
      not state["history"] or global_step > (last_evaluated or 0)):
    record()  # killed between saving a checkpoint and recording its evaluation
  first = True
  while global_step < max_steps and not state["stopped_early"]:
    started = time.perf_counter()
    # The first iteration starts the input afresh, past the batches already
    # trained on (a resumed run reads what an uninterrupted one would).
    trained = runner.train(train_input_fn,
                           continue_input=not first,
                           skip_batches=global_step if first else 0,
                           num_steps=min(steps_per_iteration,
                                         max_steps - global_step),
                           last_step=max_steps,
                           progress_target=max_steps)
    first = False
    if trained.global_step == global_step:
      break  # the input ended before any step of this iteration
    global_step = trained.global_step
    record(seconds=time.perf_counter() - started, train_loss=trained.loss)
    if trained.exhausted:
      break
  if len(state["history"]) != recorded:  # redraw only what changed
    plots.learning_curve(model_dir,
                         state["history"],
                         watch.metric,
                         best_step=(state["best"] or {}).get("global_step"))
  return result(global_step)


def _record(state,
            estimator,
            eval_input_fn,
            eval_steps,
            early_stopping,
            watch,
            keep_best,
            state_path,
            seconds=None,
            train_loss=None,
            exporters=(),
            max_steps=None):
  """Evaluates the latest checkpoint and persists history/best/stop state."""
  checkpoint = estimator.latest_checkpoint()
  metrics = _plain(
      estimator.evaluate(eval_input_fn,
                         steps=eval_steps,
                         checkpoint_path=checkpoint))
  step = metrics["global_step"]
  entry = {"global_step": step, "metrics": metrics}
  if seconds is not None:
    entry["seconds"] = seconds  # wall time of this train + evaluate
  if train_loss is not None:
    entry["train_loss"] = float(train_loss)  # of the iteration's last step
  state["history"].append(entry)
  value = watch.metric_value(metrics)
  best = state["best"]
  improved = best is None or watch.best_metric.better(
      value, best["metrics"][watch.metric])
  if improved:
    kept = _keep(checkpoint, estimator.model_dir) if keep_best else checkpoint
    state["best"] = {
        "global_step": step,
        "metrics": metrics,
        "checkpoint": kept
    }
  if early_stopping is not None:
    state["stopped_early"] = early_stopping.update(value, step)
    state["early_stopping"] = early_stopping.state_dict()
  logging.info("iteration at step %d: %s = %.4f%s", step, watch.metric, value,
               " (stopping early)" if state["stopped_early"] else "")
  # Exports go before the state: a kill in between re-evaluates and re-exports
  # this checkpoint on rerun instead of losing the export.
  final = state["stopped_early"] or (max_steps is not None and
                                     step >= max_steps)
  exporters_lib.run_exporters(estimator, exporters, checkpoint, metrics, final)
  files.write_json(state_path, state)


def _keep(checkpoint, model_dir):
  """Copies a checkpoint's files to model_dir/best/ (replacing the old best)."""
  best_dir = os.path.join(model_dir, BEST_DIR)
  tmp = best_dir + ".tmp"
  shutil.rmtree(tmp, ignore_errors=True)
  os.makedirs(tmp)
  prefix = os.path.basename(checkpoint)
  for path in tf.io.gfile.glob(checkpoint + ".*"):
    shutil.copy2(path, os.path.join(tmp, os.path.basename(path)))
  with open(os.path.join(tmp, "checkpoint"), "w") as f:
    f.write(f'model_checkpoint_path: "{prefix}"\n'
            f'all_model_checkpoint_paths: "{prefix}"\n')
  shutil.rmtree(best_dir, ignore_errors=True)
  os.replace(tmp, best_dir)
  return os.path.join(best_dir, prefix)
