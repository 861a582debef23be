"""Per-class recall and balanced accuracy: what a class-weighted model
needs reported next to accuracy.

recall/class_<k> = Σ_{label=k} w·[predicted k] / Σ_{label=k} w, and
balanced_accuracy = their mean over the classes present in the evaluation
data (sklearn's `balanced_accuracy_score`), with `w` the example weights
(weight_column or the third input element; 1 without them). Class weights
are constant within a class, so they would not change these numbers.
"""
from __future__ import annotations

from typing import Any, Callable

import tensorflow as tf
import tf_keras

BALANCED_ACCURACY = "balanced_accuracy"
RECALL_AT_CLASS = "recall/class_%d"


def recall_key(class_id: int) -> str:
  return RECALL_AT_CLASS % class_id


def class_recall_metrics(
    labels: tf.Tensor,
    class_ids: tf.Tensor,
    weights: tf.Tensor | None,
    n_classes: int,
    *,
    key: Callable[[str], str] = lambda name: name) -> dict[str, Any]:
  """Per-class recall metrics and balanced accuracy, updated with a batch.

  Args:
    labels: class ids, [batch_size] or [batch_size, 1] (any number type).
    class_ids: predicted class ids, same shape.
    weights: example weights [batch_size] or [batch_size, 1], or None.
    n_classes: number of classes.
    key: maps a metric name to its key (e.g. a head's name suffix).

  Returns:
    `{key('recall/class_<k>'): tf_keras Mean}` for k in range(n_classes)
    (each with its `update_op`) and `{key('balanced_accuracy'): (value,
    no_op)}`, computed from those recalls' totals.
  """
  labels = tf.reshape(tf.cast(labels, tf.int32), [-1])
  class_ids = tf.reshape(tf.cast(class_ids, tf.int32), [-1])
  weights = (tf.ones_like(labels, tf.float32) if weights is None else
             tf.reshape(tf.cast(weights, tf.float32), [-1]))
  correct = tf.cast(tf.equal(labels, class_ids), tf.float32)
  out, recalls = {}, []
  for k in range(n_classes):
    in_class = tf.cast(tf.equal(labels, k), tf.float32)
    metric = tf_keras.metrics.Mean(name=f"recall_class_{k}")
    metric.update_op = metric.update_state(correct,
                                           sample_weight=weights * in_class)
    out[key(recall_key(k))] = metric
    recalls.append(metric)
  totals = tf.stack([tf.convert_to_tensor(m.total) for m in recalls])
  counts = tf.stack([tf.convert_to_tensor(m.count) for m in recalls])
  present = tf.cast(counts > 0, tf.float32)
  balanced = tf.math.divide_no_nan(
      tf.reduce_sum(tf.math.divide_no_nan(totals, counts) * present),
      tf.reduce_sum(present))
  out[key(BALANCED_ACCURACY)] = (balanced, tf.no_op())
  return out
