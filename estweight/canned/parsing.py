"""Parse specs for tf.Example training data (tf.estimator's helpers).

The feature columns' spec plus a fixed-length label (and weight) feature, as
`tf.io.parse_example` takes it, e.g. in an input_fn reading TFRecords.
"""
from __future__ import annotations

from typing import Any, Iterable

import tensorflow as tf

from estweight import validation


def _with_label_and_weight(feature_columns, label_key, label_feature,
                           weight_column):
  spec = tf.compat.v1.feature_column.make_parse_example_spec(
      list(feature_columns))
  if label_key in spec:
    raise ValueError(
        "`label_key` must not be a feature column's key: the label would be "
        f"parsed as a feature. Received: label_key={label_key!r}, features "
        f"{sorted(spec)}.")
  spec[label_key] = label_feature
  if isinstance(weight_column, str):
    spec[weight_column] = tf.io.FixedLenFeature((1,), tf.float32)
  elif weight_column is not None:
    weight_spec = getattr(weight_column, "parse_example_spec", None)
    if weight_spec is None:
      raise ValueError("`weight_column` must be a string or a numeric_column."
                       f" Received: weight_column={weight_column!r}.")
    spec.update(weight_spec)
  return spec


def classifier_parse_example_spec(feature_columns: Iterable[Any],
                                  label_key: str,
                                  label_dtype: tf.dtypes.DType = tf.int64,
                                  label_default: Any = None,
                                  weight_column: Any = None) -> dict[str, Any]:
  """Parse spec of the features, a [1] class label and the weight column.

  Args:
    feature_columns: the model's feature columns.
    label_key: the tf.Example key of the label.
    label_dtype: tf.int64 for class ids, tf.string for vocabulary labels.
    label_default: used when an example has no label (None: required).
    weight_column: a key (read as a [1] float) or a numeric_column.

  Returns:
    A dict from feature key to its parse spec (`FixedLenFeature`,
    `VarLenFeature`, ...), for `tf.io.parse_example`.

  Raises:
    ValueError: `label_key` is a feature column's key, or `weight_column`
      is neither a key nor a column with a parse spec.
  """
  return _with_label_and_weight(
      feature_columns, label_key,
      tf.io.FixedLenFeature((1,), label_dtype, label_default), weight_column)


def regressor_parse_example_spec(feature_columns: Iterable[Any],
                                 label_key: str,
                                 label_dtype: tf.dtypes.DType = tf.float32,
                                 label_default: Any = None,
                                 label_dimension: int = 1,
                                 weight_column: Any = None) -> dict[str, Any]:
  """Parse spec of the features, a [label_dimension] label and the weight
  column (see classifier_parse_example_spec).

  Args:
    feature_columns: the model's feature columns.
    label_key: the tf.Example key of the label.
    label_dtype: the label's dtype (tf.float32 by default).
    label_default: used when an example has no label (None: required).
    label_dimension: number of label values per example, at least 1.
    weight_column: a key (read as a [1] float) or a numeric_column.

  Returns:
    A dict from feature key to its parse spec (`FixedLenFeature`,
    `VarLenFeature`, ...), for `tf.io.parse_example`.

  Raises:
    TypeError: `label_dimension` is not a number (or is a bool).
    ValueError: `label_dimension` is a fraction or below 1, `label_key` is
      a feature column's key, or `weight_column` is neither a key nor a
      column with a parse spec.
  """
  label_dimension = validation.integer("label_dimension",
                                       label_dimension,
                                       minimum=1,
                                       allow_none=False)
  return _with_label_and_weight(
      feature_columns, label_key,
      tf.io.FixedLenFeature((label_dimension,), label_dtype, label_default),
      weight_column)
