"""Warm graphs and sessions for train/evaluate alternation.

`Estimator.train`/`evaluate` build a new graph and session per call, as
tf.estimator did; for loops of short train/evaluate iterations that rebuild
dominates. `WarmTrainer` keeps the TRAIN graph, session and input pipeline
alive across `train(num_steps)` calls and writes the same model_dir layout
(checkpoints, graph.pbtxt, `loss` and `global_step/sec` events);
`WarmEvaluator` keeps the EVAL graph and session and only restores each new
checkpoint into it.
"""
from __future__ import annotations

import os
import time

import numpy as np
import tensorflow as tf

from estweight.mode_keys import ModeKeys
from estweight.runtime import evaluate as evaluate_lib
from estweight.runtime import hooks as hooks_lib
from estweight.runtime import train as train_lib

_v1 = tf.compat.v1


class WarmTrainer:
  """Trains `num_steps` at a time in one long-lived session.

  Args:
    estimator: the Estimator whose model_fn, config and model_dir to use.
    input_fn: training input; its pipeline continues across train() calls.
    skip_batches: batches of the input to skip first (the driver passes the
      restored global step so a resumed run sees the same data order).
  """

  def __init__(self, estimator, input_fn, *, skip_batches=0):
    self._est = estimator
    config = estimator.config
    self._config = config
    self._model_dir = estimator.model_dir
    warm = (estimator._warm_start_settings is not None and  # pylint: disable=protected-access
            not estimator.latest_checkpoint())
    if skip_batches:
      input_fn = _skipping(input_fn, skip_batches)
    self._graph = estimator._build(input_fn, ModeKeys.TRAIN, warm_start=warm)  # pylint: disable=protected-access
    train_lib.prepare_train_graph(self._graph, config)
    spec = self._graph.spec
    with self._graph.graph.as_default():
      scaffold = spec.scaffold
      self._summary = _v1.summary.merge_all()
      scaffold.finalize()  # builds the saver prepare_train_graph added
      self._saver = scaffold.saver
      self._session = _v1.Session(config=config.session_config)
      latest = estimator.latest_checkpoint()
      if latest:
        self._saver.restore(self._session, latest)
      else:
        self._session.run(scaffold.init_op)
        if scaffold.init_fn:
          scaffold.init_fn(scaffold, self._session)
      self._session.run(scaffold.local_init_op)
      for hook in self._graph.input_hooks:
        hook.begin()
        hook.after_create_session(self._session, None)
    os.makedirs(self._model_dir, exist_ok=True)
    with self._graph.graph.as_default():
      self._writer = _v1.summary.FileWriterCache.get(self._model_dir)
    if config.checkpoint_save_graph_def:
      tf.io.write_graph(self._graph.graph.as_graph_def(add_shapes=True),
                        self._model_dir, "graph.pbtxt")
    self.global_step = int(self._session.run(self._graph.global_step))
    self.target_step = None  # for the ETA in progress lines, if known
    self.exhausted = False
    self._step_fn = self._summary_fn = None
    self._meta_written = False
    if not latest:
      self.save()

  @property
  def session(self):
    return self._session

  def train(self, num_steps: int):
    """Runs up to `num_steps` steps (fewer at end of input); saves a
    checkpoint; returns the last loss (None if no step ran)."""
    spec, config = self._graph.spec, self._config
    if self._step_fn is None:  # callables skip session.run's fetch parsing
      self._step_fn = self._session.make_callable(
          [spec.train_op, spec.loss])
      if self._summary is not None:
        self._summary_fn = self._session.make_callable(
            [spec.train_op, spec.loss, self._summary])
    every = config.save_summary_steps
    loss, start, t0 = None, self.global_step, time.monotonic()
    step = start
    progress = _Progress(config.log_step_count_steps, self.target_step, start)
    for _ in range(num_steps):
      summarize = self._summary_fn is not None and every and (
          step == 0 or (step + 1) % every == 0)
      try:
        if summarize:
          _, loss, summary = self._summary_fn()
        else:
          _, loss = self._step_fn()
      except (tf.errors.OutOfRangeError, StopIteration):
        self.exhausted = True
        break
      if not np.isfinite(loss):
        raise _v1.train.NanLossDuringTrainingError
      step += 1
      if summarize:
        self._writer.add_summary(summary, step)
      progress.maybe_log(step, loss)
    elapsed = time.monotonic() - t0
    self.global_step = int(self._session.run(self._graph.global_step))
    done = self.global_step - start
    if done and elapsed > 0:
      rate = _v1.Summary(value=[_v1.Summary.Value(
          tag="global_step/sec", simple_value=done / elapsed)])
      self._writer.add_summary(rate, self.global_step)
    if done:
      self.save()
    return loss

  def save(self):
    with self._graph.graph.as_default():
      path = self._saver.save(
          self._session, os.path.join(self._model_dir, "model.ckpt"),
          global_step=self.global_step,
          # The graph never changes in this session: one .meta is enough.
          write_meta_graph=(self._config.checkpoint_save_graph_def and
                            not self._meta_written))
      self._meta_written = True
    self._writer.flush()
    return path

  def close(self):
    self._session.close()


class _Progress:
  """Calls hooks.log_progress every `every` steps (the clock is read only
  then, not per step)."""

  def __init__(self, every, target_step, start_step):
    self._every = every
    self._target = target_step
    self._last = (time.monotonic(), start_step)  # previous line, or start

  def maybe_log(self, step, loss):
    if not self._every or step % self._every:
      return
    now = time.monotonic()
    seconds, steps = now - self._last[0], step - self._last[1]
    rate = steps / seconds if seconds > 0 and steps > 0 else None
    hooks_lib.log_progress(step, loss, rate, self._target)
    self._last = (now, step)


class WarmEvaluator:
  """Evaluates checkpoints in one long-lived EVAL graph and session."""

  def __init__(self, estimator, input_fn, *, name=None):
    self._est = estimator
    self._name = name
    self._graph = estimator._build(input_fn, ModeKeys.EVAL)  # pylint: disable=protected-access
    spec = self._graph.spec
    with self._graph.graph.as_default():
      self._values, self._update = evaluate_lib.add_default_metrics(
          spec, self._graph.global_step)
      # Assign ops for evaluate_values (the graph is finalized below).
      self._loaders = {}
      for var in _v1.global_variables():
        holder = _v1.placeholder(var.dtype.base_dtype, var.shape)
        self._loaders[var.op.name] = (holder, var.assign(holder))
      scaffold = evaluate_lib._eval_scaffold(spec.scaffold)  # pylint: disable=protected-access
      scaffold.finalize()
      self._scaffold = scaffold
      self._saver = scaffold.saver
      self._session = _v1.Session(config=estimator.config.session_config)

  @property
  def metric_names(self):
    return sorted(self._values)

  def evaluate(self, checkpoint_path=None, steps=None):
    """Metrics of `checkpoint_path` (default: the latest) on up to `steps`
    batches; also written to the eval dir like Estimator.evaluate."""
    checkpoint_path = checkpoint_path or self._est.latest_checkpoint()
    if not checkpoint_path:
      raise ValueError("No checkpoint to evaluate in "
                       f"{self._est.model_dir}.")
    with self._graph.graph.as_default():
      self._saver.restore(self._session, checkpoint_path)
    return self._run(steps, checkpoint_path)

  def evaluate_values(self, values, steps=None):
    """Metrics with the variables set from `values` ({name: array}, e.g. read
    from a live training session) instead of a checkpoint."""
    with self._graph.graph.as_default():
      missing = sorted(set(self._loaders) - set(values))
      if missing:
        raise ValueError(f"No values for evaluation variables {missing}.")
      self._session.run([op for _, op in self._loaders.values()],
                        {h: values[n] for n, (h, _) in self._loaders.items()})
    return self._run(steps, None)

  def _run(self, steps, checkpoint_path):
    session = self._session
    with self._graph.graph.as_default():
      session.run(self._scaffold.local_init_op)
      for hook in self._graph.input_hooks:
        hook.begin()
        hook.after_create_session(session, None)
      batches = 0
      while steps is None or batches < steps:
        try:
          session.run(self._update)
        except (tf.errors.OutOfRangeError, StopIteration):
          break
        batches += 1
      results = session.run(self._values)
      step = int(results[evaluate_lib.GLOBAL_STEP_KEY])
      evaluate_lib.write_eval_summary(self._est.eval_dir(self._name),
                                      results, step, checkpoint_path)
    return results

  def close(self):
    self._session.close()


def _skipping(input_fn, batches):
  """input_fn whose Dataset skips its first `batches` elements."""
  from estweight.runtime import fn_args  # pylint: disable=g-import-not-at-top

  def skipped(mode, params, config):
    result = fn_args.call_with_available(
        input_fn, {"mode": mode, "params": params, "config": config})
    if isinstance(result, tf.data.Dataset):
      return result.skip(batches)
    return result
  return skipped

