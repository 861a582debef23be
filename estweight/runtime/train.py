"""The training loop: one TRAIN graph and session, kept across train() calls.

`TrainLoop.run` is what every training path runs (Estimator.train, the
iteration driver, grid trials, train_and_evaluate, the CLI). Per call it
does what a fresh tf.estimator session did: variables equal the latest
checkpoint in model_dir (restored when someone else wrote a newer one,
re-initialised when there is none), local variables and tables are reset,
the call's own input is read from its start, hooks get begin / after_create_
session / before_run / after_run / end, and the call ends with a checkpoint.
What tf.estimator did with hooks (step limit, NaN check, progress lines,
summaries, step rate, checkpoints and saving listeners) is done by the loop
itself, at the same steps, so that without user hooks a step is one call of a
prepared session callable.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
import time
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import tensorflow as tf
from estweight import _logging as logging
from estweight import _versions

from estweight.runtime import checkpoints
from estweight.runtime import cluster
from estweight.runtime import data_errors
from estweight.runtime import faults
from estweight.runtime import feed as feed_lib
from estweight.runtime import graph as graph_lib
from estweight.runtime import hooked
from estweight.runtime import hooks as hooks_lib
from estweight.runtime import lock as lock_lib
from estweight.runtime import nonfinite
from estweight.runtime import position

if TYPE_CHECKING:
  from estweight.run_config import RunConfig

_v1 = tf.compat.v1


def _has_summary_named(graph, name):
  for summary in graph.get_collection(_v1.GraphKeys.SUMMARIES):
    if summary.op.name.split("/")[-1] == name or summary.op.name == name:
      return True
  return False


def prepare_train_graph(mode_graph: graph_lib.ModeGraph,
                        config: RunConfig) -> None:
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
              sharded=True,
              max_to_keep=config.keep_checkpoint_max,
              # None (accepted by RunConfig, as in 2.15): no extra keeps.
              keep_checkpoint_every_n_hours=(
                  config.keep_checkpoint_every_n_hours or 10000.0),
              defer_build=True,
              save_relative_paths=True))


@dataclasses.dataclass
class TrainResult:
  """What one `TrainLoop.run` did."""
  loss: float | None  # of the last step (None if no step ran)
  global_step: int
  steps: int
  exhausted: bool  # the input ended


class TrainLoop:
  """Runs training steps in a kept TRAIN graph and session.

  Args:
    mode_graph: the built TRAIN `ModeGraph`.
    config: the RunConfig.
    model_dir: where checkpoints and summaries go.
    warm_started: whether the graph's initialisers warm-start.
  """

  def __init__(self,
               mode_graph: graph_lib.ModeGraph,
               *,
               config: RunConfig,
               model_dir: str,
               warm_started: bool = False):
    self.mode_graph = mode_graph
    self.warm_started = warm_started
    self._config = config
    self._model_dir = model_dir
    # One trainer per model_dir: the chief holds its lock during each call.
    self._lock = lock_lib.ModelDirLock(model_dir) if config.is_chief else None
    prepare_train_graph(mode_graph, config)
    graph, spec = mode_graph.graph, mode_graph.spec
    # On a cluster: which task this is, and (variables shared on ps tasks)
    # the global step after this task's step, which others advance too.
    self._distributed = cluster.is_distributed(config)
    self._waits_for_chief = (self._distributed and not config.is_chief and
                             cluster.shares_variables(config))
    self._step_after = None
    with graph.as_default():
      if self._distributed and cluster.shares_variables(config):
        with tf.control_dependencies([spec.train_op]):
          self._step_after = tf.identity(mode_graph.global_step,
                                         name="global_step_after_train")
      self._feed = (feed_lib.IteratorFeed(graph, mode_graph.iterator,
                                          mode_graph.element_spec)
                    if mode_graph.iterator is not None else None)
      spec.scaffold.finalize()  # finalizes the graph too
    self._restart_each_call = graph_lib.step_keeps_random_state(
        graph, [spec.train_op, spec.loss])
    graph.finalize()
    self._session: Any = None  # a tf.compat.v1.Session once opened
    self._callables: dict[Any, Callable[..., Any]] = {}
    # (checkpoint, stamp) or 'init'
    self._variables_from: tuple[str, Any] | str | None = None
    self._first_input_used = False
    self._graph_written = False
    # (graph version, serialized MetaGraphDef)
    self._meta: tuple[int, bytes] | None = None
    self._guard: nonfinite.Guard | None = None  # built by the first call asking

  @property
  def graph(self) -> tf.Graph:
    return self.mode_graph.graph

  def accepts(self, serialized: feed_lib.SerializedInput | None) -> bool:
    """Whether a call with this serialized input can run in this graph."""
    return self._feed is not None and self._feed.accepts(serialized)

  # ------------------------------------------------------------- session
  def _open_session(self):
    self.close()
    target = self._config.master or ""
    if self._distributed:  # this task's server, then the tasks it needs
      server = cluster.ensure_server(self._config)
      target = self._config.master or server.target
      cluster.wait_for_peers(self._config)
    self._session = _v1.Session(target=target,
                                graph=self.graph,
                                config=self._config.session_config)
    self._callables = {}
    self._variables_from = None

  def _sync_variables(self):
    """Makes the session's variables what a fresh session would restore."""
    scaffold = self.mode_graph.spec.scaffold
    if self._waits_for_chief:  # the chief initialises the shared variables
      cluster.wait_until_ready(self._session, scaffold.ready_op, self._config)
      return
    damaged = []
    while True:
      latest = checkpoints.latest_checkpoint(self._model_dir, skip=damaged)
      if not latest:
        break
      source = (latest, checkpoints.stamp(latest))
      if source == self._variables_from:
        return
      try:
        scaffold.saver.restore(self._session, latest)
      except (tf.errors.DataLossError, tf.errors.NotFoundError,
              tf.errors.OutOfRangeError) as e:
        checkpoints.raise_if_names_differ(latest, e)
        logging.warning("Cannot read checkpoint %s (%s: %s).", latest,
                        type(e).__name__,
                        str(e).splitlines()[0][:200])
        damaged.append(latest)
        continue
      # The saver counts the checkpoints already there against
      # keep_checkpoint_max (a resumed job does not leak them).
      state = tf.train.get_checkpoint_state(self._model_dir)
      kept = [
          p for p in (state.all_model_checkpoint_paths if state else ())
          if p not in damaged and checkpoints.is_complete(p)
      ]
      scaffold.saver.recover_last_checkpoints(kept or [latest])
      self._variables_from = source
      return
    if damaged:
      raise checkpoints.CheckpointError(
          f"No checkpoint in model_dir={self._model_dir!r} could be read "
          f"(damaged: {', '.join(damaged)}); training does not restart from "
          "step 0 on its own. Restore them, or to start over use a new "
          "model_dir.")
    self._session.run(scaffold.init_op, feed_dict=scaffold.init_feed_dict)
    if scaffold.init_fn:
      scaffold.init_fn(scaffold, self._session)
    self._variables_from = "init"

  def _callable(self, fetches_key, fetches):
    if fetches_key not in self._callables:
      self._callables[fetches_key] = self._session.make_callable(fetches)
    return self._callables[fetches_key]

  def close(self) -> None:
    if self._session is not None:
      self._session.close()
      self._session = None

  # ---------------------------------------------------------------- run
  def run(self, source: str | feed_lib.SerializedInput,
          **kwargs: Any) -> TrainResult:
    """Trains (see `_run` for the arguments) with the graph as default."""
    with self.graph.as_default(), (self._lock or contextlib.nullcontext()):
      if not self._distributed:
        return self._run(source, **kwargs)
      try:
        return self._run(source, **kwargs)
      except cluster.LOST_TASK_ERRORS as e:
        session, self._session = self._session, None
        raise cluster.lost_task_error(self._config, session, e) from e

  def _run(self,
           source,
           *,
           num_steps=None,
           last_step=None,
           hooks=(),
           saving_listeners=(),
           progress_target=None) -> TrainResult:
    """Trains until `num_steps` more steps, `last_step`, a hook's stop
    request or the end of input.

    Args:
      source: feed.FIRST_INPUT, feed.CONTINUE_INPUT or a `feed.SerializedInput`.
      num_steps: steps to run (None: no count limit).
      last_step: absolute global step to stop at (None: no limit).
      hooks: the call's SessionRunHooks (the spec's training hooks are
        added here, chief hooks on the chief).
      saving_listeners: CheckpointSaverListeners.
      progress_target: the step training ends at, for progress lines' ETA.
    """
    config, spec = self._config, self.mode_graph.spec
    skip_options, hooks = nonfinite.find(list(hooks))
    if skip_options is not None and self._step_after is not None:
      raise ValueError(
          "SkipNonFiniteBatches cannot run on a TF_CONFIG cluster whose "
          "variables live on ps tasks: other tasks update them meanwhile, "
          "so a step cannot be undone. Remove it from this task's hooks.")
    if self._session is None or self._restart_each_call:
      self._open_session()
    session = self._session
    if self._distributed:  # the first run, which TF lets hang on a dead peer

      def sync():  # in a thread of its own: the default graph is per thread
        with self.graph.as_default():
          self._sync_variables()

      cluster.watch_peers(config, sync)
    else:
      self._sync_variables()
    session.run(spec.scaffold.local_init_op,
                feed_dict=spec.scaffold.local_init_feed_dict)
    self._init_input(session, source)
    # A call to a fixed end resumes an interrupted one's input position.
    resumable = num_steps is None and not self._distributed
    if resumable:
      restored = int(session.run(self.mode_graph.global_step))
      skip, input_start = position.batches_to_skip(self._model_dir, restored,
                                                   last_step)
      self._skip_batches(session, skip)
    if (self._variables_from == "init" and not self._distributed and
        source != feed_lib.CONTINUE_INPUT):
      # Before anything is written.
      self._check_first_batch(session,
                              source,
                              non_finite_ok=skip_options is not None)

    user_hooks = list(hooks) + list(spec.training_hooks)
    if config.is_chief:
      user_hooks += list(spec.training_chief_hooks)
    runner = hooked.HookedRunner(user_hooks)
    saver = _Checkpoints.for_call(self, user_hooks, saving_listeners)
    # tf.estimator's hook order: the checkpoint saver (a chief hook) before
    # the user's hooks, in begin, after_create_session, after_run and end,
    # so a hook reading evaluations made at a save sees this step's.
    saver.begin()
    runner.begin(self.graph)
    step = start = int(session.run(self.mode_graph.global_step))
    # Only the chief writes events (tf.estimator's summary and step-rate
    # hooks were chief hooks).
    writer = self._writer() if config.is_chief else None
    graph_thread = self._write_graph(writer, saver.enabled)
    saver.after_create_session(session, step)
    if resumable:
      position.begin(self._model_dir, input_start, last_step)
    else:
      position.end(self._model_dir)
    runner.after_create_session(session)
    if writer is not None:
      writer.add_session_log(_v1.SessionLog(status=_v1.SessionLog.START), step)
    target = last_step
    if num_steps is not None:
      target = start + num_steps if target is None else min(
          target, start + num_steps)
    skipper = None
    if skip_options is not None:
      if self._guard is None:
        with hooked.open_graph(self.graph):
          self._guard = nonfinite.Guard(self.graph, self.mode_graph.global_step)
      self._guard.start(session)
      skipper = nonfinite.Skipper(skip_options, self._guard, writer)
    book = _StepBook(self, session, writer, saver, start, progress_target or
                     target, skipper)
    # From the first step on, the variables are ahead of any checkpoint until
    # the next save records them; a call that fails in between (NaN, an
    # exception in a hook) leaves the next call restoring the latest one.
    self._variables_from = None
    exhausted = False
    try:
      while (target is None or
             book.step < target) and not (runner.should_stop()):
        summarize = book.summary_due()
        fetches = book.fetches(summarize)
        try:
          if runner.hooks:
            _, stop = runner.run(
                session,
                fetches,
                before_hooks=(lambda out, s=summarize: book.after_run(out, s)))
          else:
            stop = book.after_run(book.callable(summarize)(), summarize)
        except (tf.errors.OutOfRangeError, StopIteration):
          exhausted = True
          break
        except tf.errors.InvalidArgumentError as e:
          raise data_errors.from_tf_error(e,
                                          batch=book.step - start + 1,
                                          step=book.step + 1) from None
        if stop or book.stop:
          break
    finally:
      step = int(session.run(self.mode_graph.global_step))
      if graph_thread is not None:
        graph_thread.join()
    saver.end(session, step)
    runner.end(session)
    if writer is not None:
      writer.flush()
    if resumable:
      position.end(self._model_dir)
    if step == start:
      logging.warning("Training with estimator made no steps. Perhaps input "
                      "is empty or misspecified.")
    else:
      logging.info("Loss for final step: %s.", book.loss)
    return TrainResult(None if book.loss is None else float(book.loss), step,
                       step - start, exhausted)

  def _init_input(self, session, source):
    if source == feed_lib.CONTINUE_INPUT and self._first_input_used:
      return
    if source in (feed_lib.FIRST_INPUT, feed_lib.CONTINUE_INPUT):
      if self._first_input_used:
        raise RuntimeError("The first input of this training graph was "
                           "already used; pass a serialized input.")
      for hook in self.mode_graph.input_hooks:  # the iterator's initializer
        hook.begin()
        hook.after_create_session(session, None)
    else:
      self._feed.initialize(session, source)
    self._first_input_used = True

  def _check_first_batch(self, session, source, non_finite_ok):
    """`data_errors.check_first_batch`, in a scratch session when the step
    draws random numbers (this session's streams stay untouched)."""

    def reinitialize(target):
      self._first_input_used = False
      self._init_input(target, source)

    if not self._restart_each_call:
      data_errors.check_first_batch(session,
                                    self.mode_graph,
                                    reinitialize,
                                    non_finite_ok=non_finite_ok)
      return
    scaffold = self.mode_graph.spec.scaffold
    with _v1.Session(graph=self.graph,
                     config=self._config.session_config) as scratch:
      scratch.run(scaffold.init_op, feed_dict=scaffold.init_feed_dict)
      scratch.run(scaffold.local_init_op,
                  feed_dict=scaffold.local_init_feed_dict)
      reinitialize(scratch)
      data_errors.check_first_batch(scratch,
                                    self.mode_graph,
                                    reinitialize,
                                    non_finite_ok=non_finite_ok)
    reinitialize(session)

  def _skip_batches(self, session, count):
    """Reads `count` steps' input (a batch each, one per replica under a
    strategy) without training on them."""
    if not count:
      return
    skip_op = self.mode_graph.skip_op
    if skip_op is None:
      logging.warning(
          "Cannot skip %d batches: input_fn returned tensors, "
          "not a Dataset; reading from its first batch.", count)
      return
    skip = self._callable("skip", skip_op)
    for _ in range(count):
      try:
        skip()
      except tf.errors.OutOfRangeError:
        return

  def _writer(self):
    with self.graph.as_default():
      return _v1.summary.FileWriterCache.get(self._model_dir)

  def _write_graph(self, writer, saving):
    """graph.pbtxt and the graph event, once per kept graph.

    Returns a thread writing graph.pbtxt (text formatting a graph with
    embedded data takes longer than a short train() call, so it overlaps
    the steps); the caller joins it before returning.
    """
    if self._graph_written or not (saving and
                                   self._config.checkpoint_save_graph_def):
      return None
    graph_def = self.graph.as_graph_def(add_shapes=True)
    thread = threading.Thread(target=_versions.write_graph_text,
                              args=(graph_def, self._model_dir, "graph.pbtxt"),
                              daemon=True)
    thread.start()
    writer.add_graph(self.graph)
    self._graph_written = True
    return thread

  def save_checkpoint(self, session: tf.compat.v1.Session, step: int) -> str:
    """Writes model.ckpt-`step` (with its .meta, as tf.estimator did).

    The MetaGraphDef is serialized once per graph version, not per save:
    it holds no step, and exporting a graph with embedded data is slow.
    """
    saver = self.mode_graph.spec.scaffold.saver
    try:
      path = saver.save(session,
                        os.path.join(self._model_dir, "model.ckpt"),
                        global_step=step,
                        write_meta_graph=False)
      faults.maybe_kill("save", step)
      if self._config.checkpoint_save_graph_def:
        version = self.graph.version
        if self._meta is None or self._meta[0] != version:
          self._meta = (version, saver.export_meta_graph().SerializeToString())
        with tf.io.gfile.GFile(path + ".meta", "wb") as f:
          f.write(self._meta[1])
    except (tf.errors.OpError, OSError) as e:
      raise checkpoints.CheckpointError(
          f"Cannot write the checkpoint of step {step} into model_dir="
          f"{self._model_dir!r}: {data_errors.cause(e)} (a full disk or a "
          "read-only model_dir?). Training stopped; the latest complete "
          "checkpoint is "
          f"{checkpoints.latest_checkpoint(self._model_dir) or 'none'}. "
          "Free space or fix the permissions, then rerun to resume.") from e
    self._variables_from = (path, checkpoints.stamp(path))
    return path


class _StepBook:
  """What the loop does after each step, before the user's hooks see it:
  NaN check, summaries, progress lines, checkpoints."""

  def __init__(self, loop, session, writer, saver, start, target, skipper=None):
    spec, config = loop.mode_graph.spec, loop._config  # pylint: disable=protected-access
    self._loop, self._session = loop, session
    self._writer, self._saver = writer, saver
    self._skipper = skipper
    self._summary_op = spec.scaffold.summary_op
    self._every = config.save_summary_steps or 0
    if self._summary_op is None or writer is None:
      self._every = 0
    # pylint: disable-next=protected-access
    self._shared_step = loop._step_after is not None
    self._plain = [spec.train_op, spec.loss
                  ] + ([loop._step_after] if self._shared_step else [])  # pylint: disable=protected-access
    self._counter = hooks_lib.StepCounter(config.log_step_count_steps, writer,
                                          start, target)
    self._last_summary = None
    self.step, self.loss, self.stop = start, None, False

  def summary_due(self) -> bool:
    """tf.estimator's cadence: a call's first step, then every N after."""
    return bool(self._every) and (self._last_summary is None or self.step + 1
                                  >= self._last_summary + self._every)

  def fetches(self, summarize):
    return self._plain + ([self._summary_op] if summarize else [])

  def callable(self, summarize):
    # pylint: disable-next=protected-access
    return self._loop._callable("summary" if summarize else "step",
                                self.fetches(summarize))

  def after_run(self, out, summarize) -> bool:
    """Books one step; True when a saving listener asks to stop."""
    self.loss = out[1]
    self.step = int(out[2]) if self._shared_step else self.step + 1

    def latest():
      return checkpoints.latest_checkpoint(self._loop._model_dir)  # pylint: disable=protected-access

    skipped = False
    if self._skipper is not None:
      skipped = self._skipper.after_step(self._session, self.loss, self.step,
                                         latest)
    elif not np.isfinite(self.loss):
      raise data_errors.NonFiniteLossError(self.loss, self.step, latest())
    if summarize and not skipped:
      self._writer.add_summary(out[-1], self.step)
      self._last_summary = self.step
    self._counter.after_step(self.step, self.loss)
    self.stop = self._saver.after_step(self._session, self.step)
    faults.maybe_kill("step", self.step)
    return self.stop


class _Checkpoints:
  """Checkpoint cadence of one call (tf.estimator's CheckpointSaverHook).

  A save when the call starts (skipped when the latest checkpoint already
  holds this step), every `save_checkpoints_steps` steps or
  `save_checkpoints_secs` seconds, and at the end; saving listeners around
  each save. A user's own CheckpointSaverHook replaces it (and gets the
  listeners), as in tf.estimator.
  """

  def __init__(self, loop, listeners, enabled):
    self._loop = loop
    self._listeners = list(listeners)
    self.enabled = enabled
    config = loop._config  # pylint: disable=protected-access
    self._every_steps = config.save_checkpoints_steps
    self._every_secs = config.save_checkpoints_secs
    self._last_step = None
    self._last_time = None

  @classmethod
  def for_call(cls, loop, user_hooks, listeners):
    config = loop._config  # pylint: disable=protected-access
    own = [
        h for h in user_hooks if isinstance(h, _v1.train.CheckpointSaverHook)
    ]
    if own:
      # pylint: disable-next=protected-access
      own[0]._listeners.extend(listeners)
      return cls(loop, (), enabled=False)
    enabled = bool(
        config.is_chief and
        (config.save_checkpoints_steps or config.save_checkpoints_secs))
    if listeners and not enabled:
      raise ValueError(
          "There should be a CheckpointSaverHook to use saving_listeners. "
          "To fix, enable checkpointing: set save_checkpoints_steps or "
          "save_checkpoints_secs in RunConfig.")
    return cls(loop, listeners, enabled)

  def begin(self):
    if self.enabled:
      for listener in self._listeners:
        listener.begin()

  def after_create_session(self, session, step):
    if not self.enabled:
      return
    latest = checkpoints.latest_checkpoint(self._loop._model_dir)  # pylint: disable=protected-access
    if latest and latest.endswith(f"model.ckpt-{step}"):
      self._last_step, self._last_time = step, time.monotonic()
    else:
      self._save(session, step)

  def after_step(self, session, step) -> bool:
    """Saves when due; True when a listener asks to stop."""
    if not self.enabled:
      return False
    if self._every_steps:
      due = step >= self._last_step + self._every_steps
    else:
      due = time.monotonic() - self._last_time >= self._every_secs
    return self._save(session, step) if due else False

  def end(self, session, step):
    if not self.enabled:
      return
    if step != self._last_step:
      self._save(session, step)
    for listener in self._listeners:
      listener.end(session, step)

  def _save(self, session, step) -> bool:
    loop = self._loop
    logging.info(
        "Calling checkpoint listeners before saving checkpoint "
        "%d...", step)
    for listener in self._listeners:
      listener.before_save(session, step)
    path = loop.save_checkpoint(session, step)
    logging.info("Saving checkpoints for %d into %s.", step, path)
    self._last_step, self._last_time = step, time.monotonic()
    stop = False
    for listener in self._listeners:
      if listener.after_save(session, step):
        logging.info(
            "A CheckpointSaverListener requested that training be "
            "stopped. listener: %s", listener)
        stop = True
    return stop
