"""Wide & deep: DNNLinearCombined{Classifier,Regressor,Estimator}.

Logits are the sum of a linear model's and a DNN's logits; each part has its
own optimizer (Ftrl and Adagrad by default). The DNN optimizer counts the
global step (the linear one when there is no DNN part); the compat.v1
ones (v1.py) count it once, after both. `combined_model_fn` builds both.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Sequence

import tensorflow as tf

from estweight.canned import builder
from estweight.canned import dnn as dnn_lib
from estweight.canned import linear as linear_lib
from estweight.canned.flavour import V2
from estweight.canned.heads import base as head_base
from estweight.estimator import Estimator

if TYPE_CHECKING:
  from estweight.canned.flavour import Flavour
  from estweight.run_config import RunConfig

DNN_LEARNING_RATE = 0.001
LINEAR_LEARNING_RATE = 0.005


def combined_model_fn(
    flavour: Flavour,
    head: head_base.Head,
    *,
    linear_feature_columns: Any,
    linear_optimizer: Any,
    dnn_feature_columns: Any,
    dnn_optimizer: Any,
    dnn_hidden_units: Sequence[int] | None,
    dnn_activation_fn: Any,
    dnn_dropout: float | None,
    batch_norm: bool,
    linear_sparse_combiner: str,
    input_layer_partitioner: Any = None) -> Callable[..., Any]:
  """The model_fn of a wide & deep estimator (the DNN tower first)."""
  linear_feature_columns = list(linear_feature_columns or [])
  dnn_feature_columns = list(dnn_feature_columns or [])
  if not linear_feature_columns and not dnn_feature_columns:
    raise ValueError(flavour.no_columns_message)
  dnn_arg, linear_arg = flavour.combined_optimizer_args
  towers = []
  if dnn_feature_columns:
    if not dnn_hidden_units:
      raise ValueError(
          "dnn_hidden_units must be defined when dnn_feature_columns is "
          f"specified. Received: dnn_hidden_units={dnn_hidden_units!r}.")
    towers.append(
        dnn_lib.dnn_tower(flavour,
                          units=head.logits_dimension,
                          hidden_units=dnn_hidden_units,
                          feature_columns=dnn_feature_columns,
                          activation_fn=dnn_activation_fn,
                          dropout=dnn_dropout,
                          batch_norm=batch_norm,
                          optimizer=dnn_optimizer,
                          learning_rate=DNN_LEARNING_RATE,
                          input_layer_partitioner=input_layer_partitioner,
                          optimizer_arg=dnn_arg))
  if linear_feature_columns:
    rate = builder.linear_default_learning_rate(linear_feature_columns,
                                                cap=LINEAR_LEARNING_RATE)
    towers.append(
        linear_lib.linear_tower(flavour,
                                units=head.logits_dimension,
                                feature_columns=linear_feature_columns,
                                sparse_combiner=linear_sparse_combiner,
                                optimizer=linear_optimizer or "Ftrl",
                                default_learning_rate=rate,
                                partitioner=input_layer_partitioner,
                                optimizer_arg=linear_arg))
  return flavour.make_model_fn(head, towers, combined=True)


class DNNLinearCombinedEstimator(Estimator):
  """Wide & deep model with a user-given head."""

  def __init__(self,
               head: head_base.Head,
               model_dir: str | os.PathLike | None = None,
               linear_feature_columns: Any = None,
               linear_optimizer: Any = "Ftrl",
               dnn_feature_columns: Any = None,
               dnn_optimizer: Any = "Adagrad",
               dnn_hidden_units: Sequence[int] | None = None,
               dnn_activation_fn: Any = tf.nn.relu,
               dnn_dropout: float | None = None,
               config: RunConfig | None = None,
               batch_norm: bool = False,
               linear_sparse_combiner: str = "sum",
               warm_start_from: Any = None) -> None:
    if not isinstance(head, head_base.Head):
      raise ValueError("`head` must be an estweight head. Received: "
                       f"head={head!r}.")
    model_fn = combined_model_fn(V2,
                                 head,
                                 linear_feature_columns=linear_feature_columns,
                                 linear_optimizer=linear_optimizer,
                                 dnn_feature_columns=dnn_feature_columns,
                                 dnn_optimizer=dnn_optimizer,
                                 dnn_hidden_units=dnn_hidden_units,
                                 dnn_activation_fn=dnn_activation_fn,
                                 dnn_dropout=dnn_dropout,
                                 batch_norm=batch_norm,
                                 linear_sparse_combiner=linear_sparse_combiner)
    super().__init__(model_fn=model_fn,
                     model_dir=model_dir,
                     config=config,
                     warm_start_from=warm_start_from)


class DNNLinearCombinedClassifier(DNNLinearCombinedEstimator):
  """Wide & deep classifier (2.15 signature and defaults)."""

  def __init__(self,
               model_dir: str | os.PathLike | None = None,
               linear_feature_columns: Any = None,
               linear_optimizer: Any = "Ftrl",
               dnn_feature_columns: Any = None,
               dnn_optimizer: Any = "Adagrad",
               dnn_hidden_units: Sequence[int] | None = None,
               dnn_activation_fn: Any = tf.nn.relu,
               dnn_dropout: float | None = None,
               n_classes: int = 2,
               weight_column: Any = None,
               label_vocabulary: Sequence[str] | None = None,
               config: RunConfig | None = None,
               warm_start_from: Any = None,
               loss_reduction: str = head_base.SUM_OVER_BATCH_SIZE,
               batch_norm: bool = False,
               linear_sparse_combiner: str = "sum",
               class_weight: Any = None) -> None:
    head = V2.classifier_head(n_classes,
                              weight_column,
                              label_vocabulary,
                              loss_reduction,
                              class_weight=class_weight)
    super().__init__(head,
                     model_dir=model_dir,
                     linear_feature_columns=linear_feature_columns,
                     linear_optimizer=linear_optimizer,
                     dnn_feature_columns=dnn_feature_columns,
                     dnn_optimizer=dnn_optimizer,
                     dnn_hidden_units=dnn_hidden_units,
                     dnn_activation_fn=dnn_activation_fn,
                     dnn_dropout=dnn_dropout,
                     config=config,
                     batch_norm=batch_norm,
                     linear_sparse_combiner=linear_sparse_combiner,
                     warm_start_from=warm_start_from)


class DNNLinearCombinedRegressor(DNNLinearCombinedEstimator):
  """Wide & deep regressor (2.15 signature and defaults)."""

  def __init__(self,
               model_dir: str | os.PathLike | None = None,
               linear_feature_columns: Any = None,
               linear_optimizer: Any = "Ftrl",
               dnn_feature_columns: Any = None,
               dnn_optimizer: Any = "Adagrad",
               dnn_hidden_units: Sequence[int] | None = None,
               dnn_activation_fn: Any = tf.nn.relu,
               dnn_dropout: float | None = None,
               label_dimension: int = 1,
               weight_column: Any = None,
               config: RunConfig | None = None,
               warm_start_from: Any = None,
               loss_reduction: str = head_base.SUM_OVER_BATCH_SIZE,
               batch_norm: bool = False,
               linear_sparse_combiner: str = "sum") -> None:
    head = V2.regression_head(label_dimension, weight_column, loss_reduction)
    super().__init__(head,
                     model_dir=model_dir,
                     linear_feature_columns=linear_feature_columns,
                     linear_optimizer=linear_optimizer,
                     dnn_feature_columns=dnn_feature_columns,
                     dnn_optimizer=dnn_optimizer,
                     dnn_hidden_units=dnn_hidden_units,
                     dnn_activation_fn=dnn_activation_fn,
                     dnn_dropout=dnn_dropout,
                     config=config,
                     batch_norm=batch_norm,
                     linear_sparse_combiner=linear_sparse_combiner,
                     warm_start_from=warm_start_from)
