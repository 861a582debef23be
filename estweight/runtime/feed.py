"""A new call's input, fed into a graph that was built for an earlier call.

Repeated `train()`/`evaluate()` calls pass new input_fns (usually a fresh
lambda over the same data). To reuse the built graph and session, the new
input_fn is called in a scratch graph whose first ops equal a real build's
(so the Dataset's random seeds are the ones a fresh build would draw), the
Dataset is serialized, and the kept graph's iterator is re-initialised from
the bytes through one string placeholder (`DatasetFromGraph`). No op is added
to the kept graph per call, so memory does not grow with the number of
calls, and each call reads its own data from the start, as tf.estimator did.

Inputs that cannot travel this way (tensors instead of a Dataset, datasets
holding Python state such as `from_generator`, or resources captured from
outside) make the caller build a fresh graph, as every call did before.
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Callable

import tensorflow as tf
from estweight import _logging as logging

from estweight import _tf_private
from estweight.runtime import graph as graph_lib

if TYPE_CHECKING:
  from estweight.run_config import RunConfig

_v1 = tf.compat.v1

FIRST_INPUT = "first"  # the input the graph was built with
CONTINUE_INPUT = "continue"  # the iterator goes on where it stopped


@dataclasses.dataclass(frozen=True)
class SerializedInput:
  """One call's Dataset as bytes, with the structure of its elements."""
  graph_def: bytes
  element_spec: Any


def serialize_input(input_fn: Callable[..., Any],
                    mode: str,
                    config: RunConfig,
                    params: Any,
                    *,
                    skip_batches: int = 0) -> SerializedInput | None:
  """The Dataset `input_fn` returns, serialized; None if it cannot be.

  Args:
    skip_batches: elements to skip first (a resumed run's data position).
  """
  graph, result = graph_lib.call_input_fn_alone(input_fn, mode, config, params)
  if not isinstance(result, tf.data.Dataset):
    return None
  with graph.as_default():
    dataset = result.skip(skip_batches) if skip_batches else result
    try:
      op = _tf_private.serialize_dataset(
          dataset, tf.data.experimental.ExternalStatePolicy.FAIL)
      with _v1.Session(graph=graph) as session:
        data = session.run(op)
    except (tf.errors.OpError, ValueError, TypeError) as e:
      logging.info(
          "Input is rebuilt per call: its Dataset cannot be "
          "serialized (%s).",
          str(e).splitlines()[0][:200])
      return None
  return SerializedInput(data, result.element_spec)


class IteratorFeed:
  """Re-initialises a built graph's iterator from a `SerializedInput`.

  Args:
    graph: the kept graph.
    iterator: its Dataset iterator (from `ModeGraph.iterator`).
    element_spec: the structure the graph was built for.
  """

  def __init__(self, graph: tf.Graph, iterator: tf.compat.v1.data.Iterator,
               element_spec: Any):
    self.element_spec = element_spec
    with graph.as_default(), graph.name_scope("estweight_feed"):
      self._bytes = _v1.placeholder(tf.string, [], name="dataset_graph_def")
      variant = tf.raw_ops.DatasetFromGraph(graph_def=self._bytes)
      dataset = tf.data.experimental.from_variant(variant, element_spec)
      self._initializer = iterator.make_initializer(dataset)

  def accepts(self, serialized: SerializedInput | None) -> bool:
    return (serialized is not None and
            serialized.element_spec == self.element_spec)

  def initialize(self, session: tf.compat.v1.Session,
                 serialized: SerializedInput) -> None:
    session.run(self._initializer, {self._bytes: serialized.graph_def})
