"""One-off passes over an input_fn outside training (e.g. counting labels)."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import tensorflow as tf

from estweight.mode_keys import ModeKeys
from estweight.runtime import inputs as inputs_lib

_v1 = tf.compat.v1


def count_labels(input_fn: Callable[..., Any],
                 *,
                 n_classes: int | None,
                 label_vocabulary: Sequence[str] | None = None,
                 params: Any = None,
                 config: Any = None) -> np.ndarray:
  """Counts examples per class in one pass over the training input.

  Args:
    input_fn: an input_fn that ends: `preparation.one_pass` or
      `preparation.first_examples` of the training input_fn (they refuse an
      input that cannot be made to end).
    n_classes: number of classes; None: one more than the largest id seen.
    label_vocabulary: class names when labels are strings.

  Returns:
    int64 array [n_classes] of counts.
  """
  graph = tf.Graph()
  with graph.as_default():
    result = inputs_lib.call_input_fn_raw(input_fn, ModeKeys.TRAIN, params,
                                          config)
    parsed = inputs_lib.parse_input_fn_result(result)
    labels = parsed.labels
    if labels is None:
      raise ValueError("class_weight='balanced' needs labels from the "
                       "training input_fn; it returned none.")
    labels = tf.reshape(labels, [-1])
    if label_vocabulary is not None:
      table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
          list(label_vocabulary), list(range(len(label_vocabulary))), tf.string,
          tf.int64),
                                        default_value=-1)
      labels = table.lookup(labels)
    labels = tf.cast(labels, tf.int64)
    with _v1.Session(graph=graph) as session:
      session.run(_v1.tables_initializer())
      for hook in parsed.hooks:  # dataset iterator initialisers
        hook.begin()
        hook.after_create_session(session, None)
      counts = np.zeros(n_classes or 0, np.int64)
      while True:
        try:
          batch = session.run(labels)
        except (tf.errors.OutOfRangeError, StopIteration):
          break
        limit = n_classes or np.iinfo(np.int64).max
        if batch.size and (batch.min() < 0 or batch.max() >= limit):
          bad = batch[(batch < 0) | (batch >= limit)][:5]
          raise ValueError(
              f"Labels must be class ids in [0, {n_classes}) (or in "
              f"label_vocabulary). Found {bad.tolist()} while counting "
              "classes for class_weight='balanced'.")
        batch_counts = np.bincount(batch, minlength=len(counts))
        if len(batch_counts) > len(counts):
          counts = np.pad(counts, (0, len(batch_counts) - len(counts)))
        counts += batch_counts
  return counts
