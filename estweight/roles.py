"""What each task of a TF_CONFIG cluster does in `train_and_evaluate`.

The same program runs in every process; TF_CONFIG says which task it is:
- `chief` (or `master`'s training part) and `worker`: train to
  `max_steps` with between-graph replication (variables on the ps tasks
  when there are any; without ps, each worker trains its own copy), through
  the same train loop as a local `train()` (runtime/train.py). Only the
  chief writes checkpoints and summaries. Each writes a done marker at the
  end (runtime/cluster.py).
- `ps`: serves variables until the chief and workers are done, then returns
  (tf.estimator's ps tasks never returned).
- `evaluator`: evaluates each new checkpoint (at most once per
  `throttle_secs`, after `start_delay_secs`), runs the exporters, and
  returns after evaluating the final checkpoint: the one at `max_steps`,
  or the chief's last when training ended earlier (tf.estimator's evaluator
  waited forever then).
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import tensorflow as tf
from estweight import _logging as logging

from estweight import estimator as estimator_lib
from estweight.export import exporters as exporters_lib
from estweight.run_config import TaskType
from estweight.runtime import checkpoints
from estweight.runtime import cluster

if TYPE_CHECKING:
  from estweight.run_config import RunConfig
  from estweight.training import EvalSpec, TrainSpec

_POLL_SECS = 0.5


def on_cluster(config: RunConfig) -> bool:
  """Whether this process is a task of a TF_CONFIG cluster that runs a role
  (a 'master' task trains and evaluates in one process, as locally)."""
  return config.task_type == TaskType.EVALUATOR or bool(
      config.cluster_spec.jobs and config.task_type != TaskType.MASTER)


def check_task(config: RunConfig) -> None:
  """Refuses a task this function cannot run, before any network wait."""
  for field in ("train_distribute", "eval_distribute"):
    estimator_lib.check_no_strategy(config, field)
  if config.task_type == TaskType.EVALUATOR and config.task_id > 0:
    raise ValueError(
        "A TF_CONFIG cluster can have only one evaluator task, with index 0. "
        f"Received: task type 'evaluator', index {config.task_id}.")
  if config.task_type not in (TaskType.CHIEF, TaskType.WORKER, TaskType.PS,
                              TaskType.EVALUATOR):
    raise ValueError(
        f"train_and_evaluate cannot run TF_CONFIG task type "
        f"{config.task_type!r}; use 'chief', 'worker', 'ps', 'evaluator' (or "
        "'master').")


def run_task(estimator: estimator_lib.Estimator, train_spec: TrainSpec,
             eval_spec: EvalSpec) -> tuple[Any, list[Any]] | None:
  """This process's role; see the module docstring."""
  config = estimator.config
  check_task(config)
  if config.task_type == TaskType.PS:
    cluster.serve_until_done(config,
                             estimator.model_dir,
                             max_steps=train_spec.max_steps)
    return None
  if config.task_type == TaskType.EVALUATOR:
    return run_evaluator(estimator, train_spec, eval_spec)
  estimator.train(train_spec.input_fn,
                  max_steps=train_spec.max_steps,
                  hooks=train_spec.hooks,
                  saving_listeners=train_spec.saving_listeners)
  cluster.mark_done(estimator.model_dir, config,
                    checkpoints.model_dir_global_step(estimator.model_dir))
  return None


def run_evaluator(estimator: estimator_lib.Estimator, train_spec: TrainSpec,
                  eval_spec: EvalSpec) -> tuple[Any, list[Any]]:
  """Evaluates new checkpoints until the final one; returns the last
  `(eval_result, export_results)`."""
  started = time.time()
  max_steps = train_spec.max_steps
  if eval_spec.start_delay_secs:
    logging.info("Waiting %s s before the first evaluation.",
                 eval_spec.start_delay_secs)
    time.sleep(eval_spec.start_delay_secs)
  result, exports, evaluated = None, [], None
  last_time = None
  while True:
    done = cluster.chief_done(estimator.model_dir, started, max_steps)
    latest = estimator.latest_checkpoint()
    step = checkpoints.global_step_of(latest) if latest else None
    if latest and step != evaluated and (last_time is None or
                                         done is not None or time.monotonic() -
                                         last_time >= eval_spec.throttle_secs):
      try:
        result = estimator.evaluate(eval_spec.input_fn,
                                    steps=eval_spec.steps,
                                    hooks=eval_spec.hooks,
                                    checkpoint_path=latest,
                                    name=eval_spec.name)
      except (tf.errors.NotFoundError, ValueError) as e:
        if checkpoints.latest_checkpoint(estimator.model_dir) == latest:
          raise
        logging.info(
            "Checkpoint %s was replaced while being read (%s); "
            "evaluating the newer one.", latest, e)
        continue
      last_time, evaluated = time.monotonic(), step
      final = (max_steps is not None and
               step >= max_steps) or (done is not None and
                                      step >= done["global_step"])
      exports = exporters_lib.run_exporters(estimator, eval_spec.exporters,
                                            latest, result, final)
      if final:
        return result, exports
      continue
    if done is not None and (latest is None or
                             (evaluated is not None and
                              evaluated >= done["global_step"])):
      return result, exports
    time.sleep(_POLL_SECS)
