"""The SessionRunHook protocol over a plain session, as MonitoredSession runs it.

`begin` (graph still open for new ops) -> `after_create_session` -> per run
`before_run`/`after_run` (fetches and feeds merged into one `session.run`)
-> `end`. The train and eval loops use this only when there are user hooks;
without them they call the session directly, which is the fast path.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator, Mapping, Sequence

import tensorflow as tf

from estweight import _tf_private

_v1 = tf.compat.v1


@contextlib.contextmanager
def open_graph(graph: tf.Graph) -> Iterator[None]:
  """Lets hooks add ops in `begin()` to a graph the loop keeps finalized."""
  if graph.finalized:
    _tf_private.unfinalize(graph)
  try:
    with graph.as_default():
      yield
  finally:
    graph.finalize()


class HookedRunner:
  """Runs `session.run` calls wrapped by `hooks`' before_run/after_run.

  Args:
    hooks: SessionRunHooks, called in this order (end() too).
  """

  def __init__(self, hooks: Sequence[_v1.train.SessionRunHook]):
    self.hooks = list(hooks)
    self.coord = tf.train.Coordinator()

  def begin(self, graph: tf.Graph) -> None:
    with open_graph(graph):
      for hook in self.hooks:
        hook.begin()

  def after_create_session(self, session: tf.compat.v1.Session) -> None:
    for hook in self.hooks:
      hook.after_create_session(session, self.coord)

  def should_stop(self) -> bool:
    """Whether a hook asked the coordinator to stop (as MonitoredSession)."""
    return self.coord.should_stop()

  def run(self,
          session: tf.compat.v1.Session,
          fetches: Any,
          feed_dict: Mapping[Any, Any] | None = None,
          before_hooks: Callable[..., Any] | None = None) -> tuple[Any, bool]:
    """Returns (results of `fetches`, whether a hook requested a stop).

    `before_hooks(results)`, if given, runs between the session run and the
    hooks' after_run (the loop's own bookkeeping, which tf.estimator ran as
    hooks placed before the user's); True from it also means stop.
    """
    context = _v1.train.SessionRunContext(
        original_args=_v1.train.SessionRunArgs(fetches, feed_dict),
        session=session)
    feed = dict(feed_dict or {})
    hook_fetches = {}
    options = None
    for i, hook in enumerate(self.hooks):
      request = hook.before_run(context)
      if request is None:
        continue
      hook_fetches[i] = request.fetches
      for key, value in (request.feed_dict or {}).items():
        if key in feed:
          raise RuntimeError(
              f"Two hooks (or a hook and the loop) feed the same tensor "
              f"{key!r}; {type(hook).__name__} cannot feed it again.")
        feed[key] = value
      if request.options is not None:
        options = _merge_options(options, request.options)
    run_metadata = _v1.RunMetadata() if options is not None else None
    results = session.run({
        "loop": fetches,
        "hooks": hook_fetches
    },
                          feed_dict=feed or None,
                          options=options,
                          run_metadata=run_metadata)
    stop = bool(before_hooks(results["loop"])) if before_hooks else False
    for i, hook in enumerate(self.hooks):
      hook.after_run(
          context,
          _v1.train.SessionRunValues(results=results["hooks"].get(i),
                                     options=options,
                                     run_metadata=run_metadata))
    return results["loop"], (stop or context.stop_requested or
                             self.should_stop())

  def end(self, session: tf.compat.v1.Session) -> None:
    for hook in self.hooks:
      hook.end(session)


def _merge_options(options, new):
  if options is None:
    options = _v1.RunOptions()
  options.trace_level = max(options.trace_level, new.trace_level)
  options.timeout_in_ms = max(options.timeout_in_ms, new.timeout_in_ms)
  options.output_partition_graphs |= new.output_partition_graphs
  options.debug_options.debug_tensor_watch_opts.extend(
      new.debug_options.debug_tensor_watch_opts)
  return options
