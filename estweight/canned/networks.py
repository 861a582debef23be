"""The logit builders of canned estimators: DNN, linear, baseline.

Variable names are the checkpoint contract with tf.estimator 2.15:
`dnn/hiddenlayer_<i>/{kernel,bias}`, `dnn/logits/...`,
`dnn/input_from_feature_columns/input_layer/<col>_embedding/...`,
`linear/linear_model/<col>/weights`, `linear/linear_model/bias_weights`.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Mapping, Sequence

import tensorflow as tf
import tf_keras

from estweight.mode_keys import ModeKeys

_v1 = tf.compat.v1
_fc = tf.__internal__.feature_column


def _is_sequence(column) -> bool:
  return type(column).__name__.startswith("Sequence")


def check_feature_columns(feature_columns: Any,
                          *,
                          arg: str = "feature_columns",
                          dense_only: bool = False) -> tuple[Any, ...]:
  """Validates v2 feature columns; returns them as a sorted tuple."""
  if feature_columns is None or isinstance(feature_columns, (str, dict)):
    raise ValueError(f"`{arg}` must be a list of tf.feature_column columns. "
                     f"Received: {arg}={feature_columns!r}.")
  if isinstance(feature_columns, _fc.FeatureColumn):
    feature_columns = [feature_columns]
  columns = list(feature_columns)
  if not columns:
    raise ValueError(f"`{arg}` must not be empty. Received: {arg}=[].")
  for column in columns:
    if not isinstance(column, _fc.FeatureColumn):
      raise ValueError(
          f"Items of `{arg}` must be tf.feature_column (v2) columns; v1 "
          "columns (tf.compat.v1.feature_column) need the compat.v1 "
          f"estimators. Received: {column!r}.")
    if _is_sequence(column):
      raise ValueError(f"Sequence feature columns are not supported by "
                       f"canned estimators. Received: {column.name!r} in "
                       f"`{arg}`.")
    if dense_only and not isinstance(column, _fc.DenseColumn):
      raise ValueError(
          f"DNN models need dense columns; {column.name!r} is categorical. To "
          "fix, wrap it: tf.feature_column.indicator_column(col) or "
          "tf.feature_column.embedding_column(col, dimension).")
  names = [c.name for c in columns]
  dupes = sorted({n for n in names if names.count(n) > 1})
  if dupes:
    raise ValueError(f"Duplicate feature column names in `{arg}`: {dupes}.")
  return tuple(sorted(columns, key=lambda c: c.name))


def check_features(features: Any) -> None:
  if not isinstance(features, dict):
    raise ValueError(
        "`features` must be a dict of feature key -> Tensor for canned "
        "estimators; make input_fn return ({'key': tensor, ...}, labels). "
        f"Received: features={features!r}.")


def add_layer_summary(value: tf.Tensor, tag: str) -> None:
  _v1.summary.scalar(f"{tag}/fraction_of_zero_values",
                     tf.math.zero_fraction(value))
  _v1.summary.histogram(f"{tag}/activation", value)


class DNNNetwork(tf_keras.Model):
  """Input layer, hidden Dense layers and a logits layer, named as in 2.15."""

  def __init__(self,
               units: int,
               hidden_units: Sequence[int],
               feature_columns: Any,
               activation_fn: Any,
               dropout: float | None,
               batch_norm: bool,
               name: str = "dnn") -> None:
    super().__init__(name=name)
    with tf.name_scope("input_from_feature_columns") as scope:
      self._input_layer = tf_keras.layers.DenseFeatures(
          feature_columns=feature_columns, name=scope + "input_layer")
    self._dropout = dropout
    self._hidden, self._norms, self._drops = [], [], []
    for i, n in enumerate(hidden_units):
      self._hidden.append(
          tf_keras.layers.Dense(
              n,
              activation=activation_fn,
              kernel_initializer=_v1.glorot_uniform_initializer(),
              name=f"hiddenlayer_{i}"))
      if dropout is not None:
        self._drops.append(tf_keras.layers.Dropout(rate=dropout))
      if batch_norm:
        self._norms.append(
            tf_keras.layers.BatchNormalization(
                momentum=0.999,
                trainable=True,
                name=f"hiddenlayer_{i}/batchnorm_{i}"))
    self._logits = tf_keras.layers.Dense(
        units,
        kernel_initializer=_v1.glorot_uniform_initializer(),
        name="logits")

  # Plain Python control flow only: autograph's conversion cost 0.6 s of a
  # first train() and changed no op.
  @tf.autograph.experimental.do_not_convert
  def call(self, features: Mapping[str, Any], mode: str) -> tf.Tensor:
    training = mode == ModeKeys.TRAIN
    net = self._input_layer(features, training=training)
    for i, layer in enumerate(self._hidden):
      net = layer(net)
      if self._drops and training:
        net = self._drops[i](net, training=True)
      if self._norms:
        net = self._norms[i](net, training=training)
      add_layer_summary(net, f"hiddenlayer_{i}")
    logits = self._logits(net)
    add_layer_summary(logits, "logits")
    return logits


def dnn_logits(features: Mapping[str, Any], mode: str, *, units: int,
               hidden_units: Sequence[int], feature_columns: Any,
               activation_fn: Any, dropout: float | None,
               batch_norm: bool) -> tuple[tf.Tensor, list[Any], list[Any]]:
  """(logits, trainable variables, update ops) of a DNN."""
  network = DNNNetwork(units, hidden_units, feature_columns, activation_fn,
                       dropout, batch_norm)
  logits = network(features, mode)
  return logits, network.trainable_variables, network.updates


def linear_logits(features: Mapping[str, Any],
                  *,
                  units: int,
                  feature_columns: Any,
                  sparse_combiner: str,
                  partitioner: Any = None) -> tuple[tf.Tensor, list[Any]]:
  """(logits, variables) of a linear model over feature columns."""
  if sparse_combiner not in ("sum", "mean", "sqrtn"):
    raise ValueError("`sparse_combiner` must be 'sum', 'mean' or 'sqrtn'. "
                     f"Received: sparse_combiner={sparse_combiner!r}.")
  cols_to_vars: dict[Any, list[Any]] = {}
  with _v1.variable_scope("linear", partitioner=partitioner):
    logits = _v1.feature_column.linear_model(features,
                                             list(feature_columns),
                                             units=units,
                                             sparse_combiner=sparse_combiner,
                                             cols_to_vars=cols_to_vars)
  biases = cols_to_vars.pop("bias")  # a list: partitions of one variable
  bias = biases[0] if len(biases) == 1 else tf.concat(biases, 0)
  weights = [v for vs in cols_to_vars.values() for v in vs]
  if units > 1:
    _v1.summary.histogram("bias", bias)
  else:
    _v1.summary.scalar("bias", bias[0])
  sizes = [tf.cast(tf.size(v), tf.float32) for v in weights]
  zeros = [tf.math.zero_fraction(v) * s for v, s in zip(weights, sizes)]
  _v1.summary.scalar("fraction_of_zero_weights",
                     tf.math.divide_no_nan(tf.add_n(zeros), tf.add_n(sizes)))
  return logits, weights + list(biases)


def baseline_logits(
    features: Mapping[str, Any],
    *,
    units: int,
    weight_key: str | None = None) -> tuple[tf.Tensor, list[tf.Variable]]:
  """Logits that are one learned bias per unit, the same for every example.

  Unlike tf.estimator 2.15, the bias initializer does not depend on the
  input batch, so Dataset inputs work.
  """
  batch_size = batch_size_of(features, weight_key)
  with tf.name_scope("baseline"):
    bias = tf.Variable(tf.zeros([units]), name="bias")
  logits = tf.math.multiply(bias, tf.ones(tf.stack([batch_size, units])))
  return logits, [bias]


def batch_size_of(features: Mapping[str, Any],
                  weight_key: str | None) -> tf.Tensor:
  # Prefer a real feature (serving may not feed weights); fall back to the
  # weights when they are all there is.
  keys = [k for k in features if k != weight_key] or list(features)
  if not keys:
    raise ValueError("Baseline estimators need at least one feature to know "
                     "the batch size. Received: features={}.")
  value = features[keys[0]]
  if isinstance(value, tf.SparseTensor):
    return tf.cast(value.dense_shape[0], tf.int32)
  return tf.shape(value)[0]


# The `logits_fn(features, mode) -> (logits, variables, update_ops)` of the
# towers of the (v2) canned estimators.


def dnn_logits_fn(*,
                  input_layer_partitioner: Any = None,
                  **kwargs: Any) -> Callable[..., Any]:
  """A DNN tower's `logits_fn` (see `dnn_logits` for the arguments)."""
  del input_layer_partitioner  # None: only compat.v1 DNNs take one
  return functools.partial(dnn_logits, **kwargs)


def linear_logits_fn(**kwargs: Any) -> Callable[..., Any]:
  """A linear tower's `logits_fn` (see `linear_logits` for the arguments)."""
  return functools.partial(_without_updates, linear_logits, **kwargs)


def baseline_logits_fn(**kwargs: Any) -> Callable[..., Any]:
  """A baseline's `logits_fn` (see `baseline_logits` for the arguments)."""
  return functools.partial(_without_updates, baseline_logits, **kwargs)


def _without_updates(logits_fn, features, mode, **kwargs):
  del mode
  logits, variables = logits_fn(features, **kwargs)
  return logits, variables, []
