"""The training session loop (MonitoredTrainingSession, as tf.estimator)."""
from __future__ import annotations

import tensorflow as tf
from absl import logging

from estweight.runtime import hooks as hooks_lib

_v1 = tf.compat.v1


def _has_summary_named(graph, name):
  for summary in graph.get_collection(_v1.GraphKeys.SUMMARIES):
    if summary.op.name.split("/")[-1] == name or summary.op.name == name:
      return True
  return False


def prepare_train_graph(mode_graph, config):
  """Adds what tf.estimator adds to a TRAIN graph: loss summary and a saver."""
  graph, spec = mode_graph.graph, mode_graph.spec
  with graph.as_default():
    _v1.add_to_collection(_v1.GraphKeys.LOSSES, spec.loss)
    if not _has_summary_named(graph, "loss"):
      _v1.summary.scalar("loss", spec.loss)
    if (spec.scaffold.saver is None and
        not graph.get_collection(_v1.GraphKeys.SAVERS)):
      _v1.add_to_collection(
          _v1.GraphKeys.SAVERS,
          _v1.train.Saver(
              sharded=True, max_to_keep=config.keep_checkpoint_max,
              keep_checkpoint_every_n_hours=(
                  config.keep_checkpoint_every_n_hours),
              defer_build=True, save_relative_paths=True))


def run_training(mode_graph, *, config, model_dir, session_config, hooks,
                 saving_listeners, last_step=None):
  """Runs train_op until a hook stops the session; returns the last loss.

  Args:
    mode_graph: a TRAIN `ModeGraph`.
    config: RunConfig.
    model_dir: where checkpoints and summaries go.
    session_config: ConfigProto for the session.
    hooks: user hooks plus the step-limit hook.
    saving_listeners: CheckpointSaverListeners for the checkpoint hook.
    last_step: the step training will stop at, if known (progress ETA).
  """
  prepare_train_graph(mode_graph, config)
  spec = mode_graph.spec
  with mode_graph.graph.as_default():
    worker_hooks = list(mode_graph.input_hooks) + list(hooks)
    worker_hooks.append(_v1.train.NanTensorHook(spec.loss))
    if config.log_step_count_steps is not None:
      worker_hooks.append(hooks_lib.ProgressLoggingHook(
          spec.loss, mode_graph.global_step_read,
          every_n_iter=config.log_step_count_steps, last_step=last_step))
    worker_hooks.extend(spec.training_hooks)

    chief_hooks = []
    all_hooks = worker_hooks + list(spec.training_chief_hooks)
    saver_hooks = [h for h in all_hooks
                   if isinstance(h, _v1.train.CheckpointSaverHook)]
    if (config.save_checkpoints_secs or config.save_checkpoints_steps):
      if not saver_hooks:
        chief_hooks.append(_v1.train.CheckpointSaverHook(
            model_dir, save_secs=config.save_checkpoints_secs,
            save_steps=config.save_checkpoints_steps,
            scaffold=spec.scaffold,
            save_graph_def=config.checkpoint_save_graph_def))
        saver_hooks = chief_hooks[:1]
    if saving_listeners:
      if not saver_hooks:
        raise ValueError(
            "There should be a CheckpointSaverHook to use saving_listeners. "
            "To fix, enable checkpointing: set save_checkpoints_steps or "
            "save_checkpoints_secs in RunConfig.")
      # pylint: disable=protected-access
      saver_hooks[0]._listeners.extend(saving_listeners)
    chief_hooks.extend(spec.training_chief_hooks)

    loss = None
    steps_done = 0
    with _v1.train.MonitoredTrainingSession(
        master=config.master,
        is_chief=config.is_chief,
        checkpoint_dir=model_dir,
        scaffold=spec.scaffold,
        hooks=worker_hooks,
        chief_only_hooks=chief_hooks,
        save_checkpoint_secs=0,
        save_summaries_steps=config.save_summary_steps,
        config=session_config,
        max_wait_secs=config.session_creation_timeout_secs,
        log_step_count_steps=config.log_step_count_steps,
        save_graph_def=config.checkpoint_save_graph_def) as session:
      while not session.should_stop():
        _, loss = session.run([spec.train_op, spec.loss])
        steps_done += 1
  if not steps_done:
    logging.warning("Training with estimator made no steps. Perhaps input is "
                    "empty or misspecified.")
  else:
    logging.info("Loss for final step: %s.", loss)
  return loss
