"""What the TF2 canned estimators and the compat.v1 ones do differently.

The DNN, linear, baseline and wide & deep estimators are built once, by the
builders in dnn.py, linear.py, baseline.py and dnn_linear_combined.py; a
`Flavour` says which defaults, optimizers, metrics and graph they use: `V2`
(`tf.estimator.DNNClassifier`, ...) or `V1`
(`tf.compat.v1.estimator.DNNClassifier`, ...).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Sequence

from estweight.canned import builder
from estweight.canned import graph_v1
from estweight.canned import heads as heads_lib
from estweight.canned import networks
from estweight.canned.heads import base as head_base


def check_hidden_units(hidden_units: Any,
                       arg: str = "hidden_units") -> list[int]:
  try:
    units = [int(u) for u in hidden_units]
    ok = bool(units) and all(
        u > 0 and u == v for u, v in zip(units, hidden_units))
  except (TypeError, ValueError):
    ok = False
  if not ok:
    raise ValueError(f"`{arg}` must be a non-empty list of positive integers."
                     f" Received: {arg}={hidden_units!r}.")
  return units


def check_dropout(dropout: Any, arg: str = "dropout") -> None:
  if dropout is not None and not (isinstance(dropout, (int, float)) and
                                  0 <= dropout < 1):
    raise ValueError(f"`{arg}` must be None or a rate in [0, 1). Received: "
                     f"{arg}={dropout!r}.")


def _dnn_args(hidden_units, feature_columns, dropout, activation_fn):
  hidden_units = check_hidden_units(hidden_units)
  columns = networks.check_feature_columns(feature_columns, dense_only=True)
  check_dropout(dropout)
  if not callable(activation_fn):
    raise ValueError("`activation_fn` must be callable. Received: "
                     f"activation_fn={activation_fn!r}.")
  return hidden_units, columns


def _dnn_args_v1(hidden_units, feature_columns, dropout, activation_fn):
  del activation_fn  # the v1 layers look it up (e.g. 'relu')
  check_dropout(dropout)
  hidden_units = check_hidden_units(hidden_units)
  return hidden_units, networks.check_feature_columns(feature_columns,
                                                      dense_only=True)


def _linear_args(feature_columns, sparse_combiner, optimizer, arg):
  builder.check_optimizer(optimizer, arg=arg)
  columns = networks.check_feature_columns(feature_columns)
  if sparse_combiner not in ("sum", "mean", "sqrtn"):
    raise ValueError("`sparse_combiner` must be 'sum', 'mean' or 'sqrtn'. "
                     f"Received: sparse_combiner={sparse_combiner!r}.")
  return columns


def _linear_args_v1(feature_columns, sparse_combiner, optimizer, arg):
  del sparse_combiner  # checked when the graph is built
  columns = networks.check_feature_columns(feature_columns)
  builder.check_optimizer(optimizer, arg=arg, v1=True)
  return columns


def _model_fn(head, towers, *, combined=False):
  del combined  # the first tower's optimizer counts the steps
  return builder.make_model_fn(head, towers)


@dataclasses.dataclass(frozen=True)
class Flavour:
  """Defaults, optimizers, metrics and graph of one line of estimators.

  Attributes:
    loss_reduction: the classifiers' and regressors' default.
    v1_optimizers: optimizer names are `tf.compat.v1.train` optimizers.
    v1_metrics: heads compute eval metrics with `tf.compat.v1.metrics`.
    dnn_learning_rate: of a DNN's optimizer given by name (None: the
      optimizer's own default).
    sdca: a `LinearSDCA` optimizer trains a linear model by SDCA.
    tower: the `builder.Tower` class of the towers.
    dnn_logits_fn: `(**dnn args) -> logits_fn` of a DNN tower.
    linear_logits_fn: `(**linear args) -> logits_fn` of a linear tower.
    baseline_logits_fn: `(units, weight_key) -> logits_fn` of a baseline.
    make_model_fn: `(head, towers, *, combined) -> model_fn`.
    check_dnn_args: `(hidden_units, feature_columns, dropout, activation_fn)
      -> (hidden_units, columns)`, checking in the order of this line.
    check_linear_args: `(feature_columns, sparse_combiner, optimizer, arg)
      -> columns`, likewise.
    combined_optimizer_args: what wide & deep's errors call its DNN and
      linear optimizers.
    no_columns_message: wide & deep's error when it has no columns.
  """
  loss_reduction: str
  v1_optimizers: bool
  v1_metrics: bool
  dnn_learning_rate: float | None
  sdca: bool
  tower: type
  dnn_logits_fn: Callable[..., Any]
  linear_logits_fn: Callable[..., Any]
  baseline_logits_fn: Callable[..., Any]
  make_model_fn: Callable[..., Any]
  check_dnn_args: Callable[..., Any]
  check_linear_args: Callable[..., Any]
  combined_optimizer_args: tuple[str, str]
  no_columns_message: str

  def check_optimizer(self, optimizer: Any, arg: str = "optimizer") -> None:
    builder.check_optimizer(optimizer, arg=arg, v1=self.v1_optimizers)

  def classifier_head(self,
                      n_classes: int,
                      weight_column: Any,
                      label_vocabulary: Sequence[str] | None,
                      loss_reduction: str,
                      class_weight: Any = None) -> head_base.Head:
    head = heads_lib.binary_or_multi_class_head(n_classes,
                                                weight_column,
                                                label_vocabulary,
                                                loss_reduction,
                                                class_weight=class_weight)
    return head.use_v1_metrics() if self.v1_metrics else head

  def regression_head(self, label_dimension: int, weight_column: Any,
                      loss_reduction: str) -> head_base.Head:
    head = heads_lib.RegressionHead(label_dimension=label_dimension,
                                    weight_column=weight_column,
                                    loss_reduction=loss_reduction)
    return head.use_v1_metrics() if self.v1_metrics else head


V2 = Flavour(loss_reduction=head_base.SUM_OVER_BATCH_SIZE,
             v1_optimizers=False,
             v1_metrics=False,
             dnn_learning_rate=None,
             sdca=True,
             tower=builder.Tower,
             dnn_logits_fn=networks.dnn_logits_fn,
             linear_logits_fn=networks.linear_logits_fn,
             baseline_logits_fn=networks.baseline_logits_fn,
             make_model_fn=_model_fn,
             check_dnn_args=_dnn_args,
             check_linear_args=_linear_args,
             combined_optimizer_args=("dnn_optimizer", "linear_optimizer"),
             no_columns_message=(
                 "Either linear_feature_columns or dnn_feature_columns must be "
                 "defined. Received: linear_feature_columns=[], "
                 "dnn_feature_columns=[]."))

# tf.estimator 2.15's compat.v1 defaults: summed loss, AdagradOptimizer(0.05)
# for DNNs, variable scopes with partitioners, tf.compat.v1.metrics.
V1 = Flavour(
    loss_reduction="weighted_sum",
    v1_optimizers=True,
    v1_metrics=True,
    dnn_learning_rate=0.05,
    sdca=False,
    tower=graph_v1.Tower,
    dnn_logits_fn=graph_v1.dnn_logits_fn,
    linear_logits_fn=graph_v1.linear_logits_fn,
    baseline_logits_fn=graph_v1.baseline_logits_fn,
    make_model_fn=graph_v1.make_model_fn,
    check_dnn_args=_dnn_args_v1,
    check_linear_args=_linear_args_v1,
    combined_optimizer_args=("optimizer", "optimizer"),
    no_columns_message=("Either linear_feature_columns or dnn_feature_columns "
                        "must be defined. Received: both empty."))
