"""The prediction session loop."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

import tensorflow as tf

if TYPE_CHECKING:
  from estweight.runtime.graph import ModeGraph

_v1 = tf.compat.v1


def select_predictions(predictions: Any,
                       predict_keys: str | Sequence[str] | None) -> Any:
  """Filters a predictions dict to `predict_keys` (tf.estimator rules)."""
  if predict_keys is None:
    return predictions
  if isinstance(predict_keys, str):
    predict_keys = [predict_keys]
  if not isinstance(predictions, dict):
    raise ValueError(
        "`predict_keys` can be used only when model_fn returns a dict of "
        f"predictions. Received: predict_keys={predict_keys!r} for "
        f"predictions={predictions!r}.")
  selected = {k: v for k, v in predictions.items() if k in predict_keys}
  if not selected:
    raise ValueError(
        f"Expected to run at least one output from {list(predictions)}, "
        f"provided {list(predict_keys)}.")
  return selected


def _batch_length(values):
  lengths = {k: v.shape[0] for k, v in values.items()}
  if len(set(lengths.values())) > 1:
    raise ValueError("Batch length of predictions should be same. Received "
                     f"lengths {lengths}.")
  return next(iter(lengths.values()))


def run_prediction(mode_graph: ModeGraph, *, predictions: Any,
                   checkpoint_path: str | None, hooks: Iterable[Any],
                   master: str, session_config: Any,
                   yield_single_examples: bool) -> Iterator[Any]:
  """Yields predictions batch by batch, or example by example.

  The graph is the default graph only while the session is created, run and
  closed, never across a `yield`: a caller that takes a few predictions and
  goes on building models must not find itself inside this graph.
  """
  spec = mode_graph.spec
  graph = mode_graph.graph
  with graph.as_default():
    all_hooks = (list(mode_graph.input_hooks) + list(hooks) +
                 list(spec.prediction_hooks))
    creator = _v1.train.ChiefSessionCreator(
        scaffold=spec.scaffold,
        checkpoint_filename_with_path=checkpoint_path,
        master=master,
        config=session_config)
    session = _v1.train.MonitoredSession(session_creator=creator,
                                         hooks=all_hooks)
  try:
    while True:
      with graph.as_default():
        if session.should_stop():
          break
        try:
          batch = session.run(predictions)
        except (tf.errors.OutOfRangeError, StopIteration):
          break  # end of input (MonitoredSession's `with` swallowed it)
      if not yield_single_examples:
        yield batch
      elif not isinstance(batch, dict):
        yield from batch
      else:
        for i in range(_batch_length(batch)):
          yield {key: value[i] for key, value in batch.items()}
  finally:
    with graph.as_default():
      session.close()
