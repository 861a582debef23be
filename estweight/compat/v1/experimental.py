"""`tf.compat.v1.estimator.experimental`: the v2 names (without the RNN
estimators, as in 2.15) plus KMeans and the v1 logit function builders."""
from __future__ import annotations

# Private names only: dir() of this namespace lists its globals.
import typing as _typing

# pylint: disable=g-importing-member,unused-import
from estweight import _api
from estweight.experimental import InMemoryEvaluatorHook
from estweight.experimental import build_raw_supervised_input_receiver_fn
from estweight.experimental import call_logit_fn
from estweight.experimental import make_early_stopping_hook
from estweight.experimental import make_stop_at_checkpoint_step_hook
from estweight.experimental import read_eval_metrics
from estweight.experimental import stop_if_higher_hook
from estweight.experimental import stop_if_lower_hook
from estweight.experimental import stop_if_no_decrease_hook
from estweight.experimental import stop_if_no_increase_hook

if _typing.TYPE_CHECKING:
  from typing import Any, Callable, Iterable, Mapping, Sequence

# Loaded on first use: the canned package imports tf_keras.
_LAZY = {
    "KMeans": "estweight.canned.kmeans",
    "LinearSDCA": "estweight.canned.linear_sdca"
}

__dir__, __getattr__ = _api.lazy_attributes(globals(), _LAZY)


def dnn_logit_fn_builder(
    units: int, hidden_units: Sequence[int], feature_columns: Iterable[Any],
    activation_fn: Callable[..., Any] | None, dropout: float | None,
    input_layer_partitioner: Callable[..., Any] | None,
    batch_norm: bool) -> Callable[[Mapping[str, Any], str], Any]:
  """`logit_fn(features, mode)` building tf.compat.v1's DNN (input layer,
  `hiddenlayer_i`, `logits`) in the caller's variable scope.

  Args:
    units: size of the logits layer (a positive int).
    hidden_units: sizes of the hidden layers, first to last.
    feature_columns: the columns the input layer reads from `features`.
    activation_fn: activation of the hidden layers.
    dropout: probability of dropping a hidden unit in training, or None
      for no dropout.
    input_layer_partitioner: partitioner of the input layer's variables,
      or None.
    batch_norm: whether to add batch normalization after each hidden layer.

  Returns:
    A `logit_fn(features, mode)` returning the logits Tensor.

  Raises:
    ValueError: if `units`, `hidden_units` or `dropout` is invalid.
  """
  from estweight.canned import dnn as dnn_lib  # pylint: disable=g-import-not-at-top
  from estweight.canned import v1 as v1_lib  # pylint: disable=g-import-not-at-top
  if not isinstance(units, int) or isinstance(units, bool) or units < 1:
    raise ValueError(f"`units` must be a positive int. Received: "
                     f"units={units!r}.")
  hidden_units = dnn_lib.check_hidden_units(hidden_units)
  dnn_lib.check_dropout(dropout)

  def dnn_logit_fn(features, mode):
    return v1_lib.dnn_layers(features,
                             mode,
                             units=units,
                             hidden_units=hidden_units,
                             feature_columns=list(feature_columns),
                             activation_fn=activation_fn,
                             dropout=dropout,
                             batch_norm=batch_norm,
                             input_layer_partitioner=input_layer_partitioner)

  return dnn_logit_fn


def linear_logit_fn_builder(
    units: int,
    feature_columns: Iterable[Any],
    sparse_combiner: str = "sum") -> Callable[[Mapping[str, Any]], Any]:
  """`logit_fn(features)` building tf.compat.v1's linear model
  (`linear_model/...` weights and bias) in the caller's variable scope.

  Args:
    units: number of logits per example.
    feature_columns: the columns the linear model reads from `features`.
    sparse_combiner: how the weights of a multivalent sparse column are
      combined: 'sum', 'mean' or 'sqrtn'.

  Returns:
    A `logit_fn(features)` returning the logits Tensor.

  Raises:
    ValueError: if `sparse_combiner` is not one of those three.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  if sparse_combiner not in ("sum", "mean", "sqrtn"):
    raise ValueError("`sparse_combiner` must be 'sum', 'mean' or 'sqrtn'. "
                     f"Received: sparse_combiner={sparse_combiner!r}.")

  def linear_logit_fn(features):
    return tf.compat.v1.feature_column.linear_model(
        features,
        list(feature_columns),
        units=units,
        sparse_combiner=sparse_combiner)

  return linear_logit_fn


__all__ = [
    "InMemoryEvaluatorHook",
    "build_raw_supervised_input_receiver_fn",
    "call_logit_fn",
    "dnn_logit_fn_builder",
    "linear_logit_fn_builder",
    "make_early_stopping_hook",
    "make_stop_at_checkpoint_step_hook",
    "read_eval_metrics",
    "stop_if_higher_hook",
    "stop_if_lower_hook",
    "stop_if_no_decrease_hook",
    "stop_if_no_increase_hook",
]
