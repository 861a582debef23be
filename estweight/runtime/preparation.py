"""What a model resolves from its input or model_dir while its graph is built.

Some models need facts before their graph can be built: class counts for
`class_weight='balanced'`, a vocabulary, ... The runtime states what it is
building (mode, model_dir, the training input_fn) in a `BuildContext` for
the duration of every graph build; model code asks `current()` for it. The
context belongs to the build, not to the model_fn object, so a model_fn
wrapped by `add_metrics`, the driver, a grid trial or any user function
still finds it.

Counting facts such as class counts needs one pass over the training input,
which usually repeats forever (`ds.shuffle(n).repeat().batch(32)`).
`one_pass(input_fn)` gives that pass: a Dataset whose size is infinite or
unknown has every `repeat()` without a count, wherever it sits in the
pipeline (also inside `interleave`/`flat_map` functions), made to run once
in its serialized graph; one that still never ends is refused at once.
`first_examples(input_fn, n)` bounds a count to a sample instead.
"""
from __future__ import annotations

import contextlib
import dataclasses
import threading
from typing import Any, Callable, Iterator

import numpy as np
import tensorflow as tf
from estweight import _logging as logging

from estweight import _tf_private
from estweight.runtime import fn_args as fn_args_lib

_local = threading.local()
_v1 = tf.compat.v1


@dataclasses.dataclass(frozen=True)
class BuildContext:
  """The graph being built.

  Attributes:
    mode: the ModeKeys value of the graph.
    model_dir: the Estimator's model_dir (resolved facts are cached there).
    train_input_fn: the training input_fn when it is known (always in
      TRAIN; in EVAL when a driver evaluates before its first step).
    params: the Estimator's params.
    config: the RunConfig.
  """
  mode: str
  model_dir: str
  train_input_fn: Callable | None = None
  params: Any = None
  config: Any = None


def current() -> BuildContext | None:
  """The context of the graph being built on this thread, if any."""
  return getattr(_local, "context", None)


@contextlib.contextmanager
def building(context: BuildContext) -> Iterator[BuildContext]:
  previous = current()
  _local.context = context
  try:
    yield context
  finally:
    _local.context = previous


# ------------------------------------------------- one pass of an input_fn
def one_pass(input_fn: Callable, *, purpose: str, fix: str) -> Callable:
  """An input_fn over one pass of `input_fn`'s data (see the module doc).

  Args:
    input_fn: a training input_fn (may take `mode`, `params`, `config`).
    purpose: what the pass is for, named in the log and errors (e.g.
      "class_weight='balanced'").
    fix: what to do instead when there is no finite pass, for the error.

  Returns:
    An input_fn to call in a graph, like `input_fn`. Its Dataset is
    `input_fn`'s when that is finite, else the one-pass rewrite; a result
    that is not a Dataset is passed on (its size is unknown: logged).

  Raises:
    ValueError: (when the returned input_fn is called) the Dataset never
      ends even with its repeats run once, or it is infinite and cannot be
      rewritten (it holds Python state, e.g. `from_generator`).
  """

  def input_fn_once(mode, params, config):
    result = fn_args_lib.call_with_available(input_fn, {
        "mode": mode,
        "params": params,
        "config": config
    })
    if not isinstance(result, tf.data.Dataset):
      logging.info(
          "%s: counting over the training input until it ends (it "
          "is not a Dataset, so its size is unknown).", purpose)
      return result
    return _one_pass_dataset(result, purpose, fix)

  return input_fn_once


def first_examples(input_fn: Callable, max_examples: int) -> Callable:
  """An input_fn over the labels of the first `max_examples` examples.

  The Dataset `input_fn` returns yields batches of `(features, labels)` or
  `(features, labels, weights)`; the result yields `(labels, labels)` in
  batches, `max_examples` labels in all (fewer when the data ends first).
  """

  def input_fn_sample(mode, params, config):
    result = fn_args_lib.call_with_available(input_fn, {
        "mode": mode,
        "params": params,
        "config": config
    })
    if not isinstance(result, tf.data.Dataset) or not isinstance(
        result.element_spec, tuple) or len(result.element_spec) < 2:
      raise ValueError(
          "Counting a sample of the input needs an input_fn returning a "
          "Dataset of (features, labels) batches. Received: "
          f"{fn_args_lib.describe(input_fn)} returned {result!r}.")
    labels = result.map(lambda *element: tf.reshape(element[1], [-1]))
    labels = labels.unbatch().take(max_examples).batch(4096)
    return labels.map(lambda batch: (batch, batch))

  return input_fn_sample


def _run(fetches):
  with _v1.Session(graph=_v1.get_default_graph()) as session:
    return session.run(fetches)


def _one_pass_dataset(dataset, purpose, fix):
  size = int(_run(dataset.cardinality()))
  if size >= 0:
    return dataset
  infinite = size == tf.data.INFINITE_CARDINALITY
  try:
    serialized = _run(
        _tf_private.serialize_dataset(
            dataset, tf.data.experimental.ExternalStatePolicy.FAIL))
  except (tf.errors.OpError, ValueError, TypeError):
    serialized = None
    why = ("its graph cannot be rewritten: it holds Python state or "
           "resources from outside, e.g. from_generator")
  if serialized is not None:
    rewritten, repeats = _repeat_once(serialized)
    why = "it has no repeat() without a count"
    if repeats:
      once = _from_graph_def(tf.constant(rewritten), dataset.element_spec)
      once_size = int(_run(once.cardinality()))
      if once_size != tf.data.INFINITE_CARDINALITY:
        logging.info(
            "%s: the training input repeats %s; counting one pass of its "
            "data (%d repeat() made to run once%s).", purpose,
            "forever" if infinite else "(size unknown)", repeats,
            f", {once_size} batches" if once_size >= 0 else "")
        # Built at run time inside the pipeline: with the GraphDef a graph
        # constant, grappler would fold DatasetFromGraph into a variant
        # constant that cannot be encoded (the size is then unknown).
        return tf.data.Dataset.from_tensors(rewritten).flat_map(
            lambda graph_def: _from_graph_def(graph_def, dataset.element_spec))
      why = "it never ends even with its repeat() run once"
  if infinite:
    raise ValueError(
        f"{purpose} needs one pass over the training input, but the Dataset "
        f"its input_fn returns never ends and cannot be made to ({why}). "
        f"To fix, {fix}")
  logging.info(
      "%s: counting over the training input until it ends (its "
      "size is unknown: %s).", purpose, why)
  return dataset


def _from_graph_def(graph_def, element_spec):
  return tf.data.experimental.from_variant(
      tf.raw_ops.DatasetFromGraph(graph_def=graph_def), element_spec)


def _repeat_once(serialized: bytes) -> tuple[bytes, int]:
  """The dataset GraphDef with each `repeat()` (count -1) made `repeat(1)`;
  returns (GraphDef bytes, number of repeats changed)."""
  graph_def = _v1.GraphDef.FromString(serialized)
  changed = _repeat_nodes_once(graph_def.node, in_function=False)
  for function in graph_def.library.function:
    changed += _repeat_nodes_once(function.node_def, in_function=True)
  return graph_def.SerializeToString(), changed


def _repeat_nodes_once(nodes, *, in_function):
  """Points the count of every RepeatDataset among `nodes` whose count is
  the constant -1 at a new constant 1 (the old one may be shared)."""
  by_name = {node.name: node for node in nodes}
  changed = 0
  for node in list(nodes):
    if node.op != "RepeatDataset" or len(node.input) < 2:
      continue
    count = by_name.get(node.input[1].split(":")[0])
    if count is None or count.op != "Const" or int(
        tf.make_ndarray(count.attr["value"].tensor)) != -1:
      continue  # a finite repeat, or a count computed at run time
    once = nodes.add()
    once.CopyFrom(count)
    once.name = f"{node.name}/estweight_once"
    once.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(np.int64(1)))
    node.input[1] = once.name + (":output:0" if in_function else "")
    changed += 1
  return changed
