"""The compat.v1 canned estimators (`tf.compat.v1.estimator.DNNClassifier`...).

Same models as the v2 classes, built by the same builders with the `V1`
flavour: the v1 defaults of tf.estimator 2.15, loss summed over the batch
(`loss_reduction='weighted_sum'`), `tf.compat.v1.train` optimizers
(Adagrad at 0.05 for DNNs, Ftrl at 0.2 for linear models), variables built
through variable scopes with partitioners (so slots are named e.g.
`dnn/hiddenlayer_0/kernel/t_0/Adagrad`), and eval metrics from
`tf.compat.v1.metrics`. Only the signatures are the v1 classes' own.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Sequence

import tensorflow as tf

from estweight.canned import graph_v1
from estweight.canned.baseline import baseline_model_fn
from estweight.canned.dnn import dnn_model_fn
from estweight.canned.dnn_linear_combined import combined_model_fn
from estweight.canned.flavour import V1
from estweight.canned.linear import linear_model_fn
from estweight.estimator import Estimator

if TYPE_CHECKING:
  from estweight.run_config import RunConfig

V1_SUM = V1.loss_reduction
# compat.v1.estimator.experimental.dnn_logit_fn_builder builds with this.
dnn_layers = graph_v1.dnn_layers


class _V1Canned(Estimator):

  def __init__(self, model_fn, model_dir, config, warm_start_from):
    super().__init__(model_fn=model_fn,
                     model_dir=model_dir,
                     config=config,
                     warm_start_from=warm_start_from)


class DNNClassifier(_V1Canned):
  """v1 DNNClassifier: summed loss, AdagradOptimizer(0.05)."""

  def __init__(self,
               hidden_units: Sequence[int],
               feature_columns: Any,
               model_dir: str | os.PathLike | None = None,
               n_classes: int = 2,
               weight_column: Any = None,
               label_vocabulary: Sequence[str] | None = None,
               optimizer: Any = "Adagrad",
               activation_fn: Any = tf.nn.relu,
               dropout: float | None = None,
               input_layer_partitioner: Any = None,
               config: RunConfig | None = None,
               warm_start_from: Any = None,
               loss_reduction: str = V1_SUM,
               batch_norm: bool = False) -> None:
    head = V1.classifier_head(n_classes, weight_column, label_vocabulary,
                              loss_reduction)
    model_fn = dnn_model_fn(V1,
                            head,
                            hidden_units=hidden_units,
                            feature_columns=feature_columns,
                            activation_fn=activation_fn,
                            dropout=dropout,
                            batch_norm=batch_norm,
                            optimizer=optimizer,
                            input_layer_partitioner=input_layer_partitioner)
    super().__init__(model_fn, model_dir, config, warm_start_from)


class DNNRegressor(_V1Canned):
  """v1 DNNRegressor: summed loss, AdagradOptimizer(0.05)."""

  def __init__(self,
               hidden_units: Sequence[int],
               feature_columns: Any,
               model_dir: str | os.PathLike | None = None,
               label_dimension: int = 1,
               weight_column: Any = None,
               optimizer: Any = "Adagrad",
               activation_fn: Any = tf.nn.relu,
               dropout: float | None = None,
               input_layer_partitioner: Any = None,
               config: RunConfig | None = None,
               warm_start_from: Any = None,
               loss_reduction: str = V1_SUM,
               batch_norm: bool = False) -> None:
    head = V1.regression_head(label_dimension, weight_column, loss_reduction)
    model_fn = dnn_model_fn(V1,
                            head,
                            hidden_units=hidden_units,
                            feature_columns=feature_columns,
                            activation_fn=activation_fn,
                            dropout=dropout,
                            batch_norm=batch_norm,
                            optimizer=optimizer,
                            input_layer_partitioner=input_layer_partitioner)
    super().__init__(model_fn, model_dir, config, warm_start_from)


class LinearClassifier(_V1Canned):
  """v1 LinearClassifier: summed loss, FtrlOptimizer(0.2)."""

  def __init__(self,
               feature_columns: Any,
               model_dir: str | os.PathLike | None = None,
               n_classes: int = 2,
               weight_column: Any = None,
               label_vocabulary: Sequence[str] | None = None,
               optimizer: Any = "Ftrl",
               config: RunConfig | None = None,
               partitioner: Any = None,
               warm_start_from: Any = None,
               loss_reduction: str = V1_SUM,
               sparse_combiner: str = "sum") -> None:
    head = V1.classifier_head(n_classes, weight_column, label_vocabulary,
                              loss_reduction)
    model_fn = linear_model_fn(V1,
                               head,
                               feature_columns=feature_columns,
                               optimizer=optimizer,
                               sparse_combiner=sparse_combiner,
                               partitioner=partitioner)
    super().__init__(model_fn, model_dir, config, warm_start_from)


class LinearRegressor(_V1Canned):
  """v1 LinearRegressor: summed loss, FtrlOptimizer(0.2)."""

  def __init__(self,
               feature_columns: Any,
               model_dir: str | os.PathLike | None = None,
               label_dimension: int = 1,
               weight_column: Any = None,
               optimizer: Any = "Ftrl",
               config: RunConfig | None = None,
               partitioner: Any = None,
               warm_start_from: Any = None,
               loss_reduction: str = V1_SUM,
               sparse_combiner: str = "sum") -> None:
    head = V1.regression_head(label_dimension, weight_column, loss_reduction)
    model_fn = linear_model_fn(V1,
                               head,
                               feature_columns=feature_columns,
                               optimizer=optimizer,
                               sparse_combiner=sparse_combiner,
                               partitioner=partitioner)
    super().__init__(model_fn, model_dir, config, warm_start_from)


class BaselineClassifier(_V1Canned):
  """v1 BaselineClassifier: summed loss, FtrlOptimizer(0.3)."""

  def __init__(self,
               model_dir: str | os.PathLike | None = None,
               n_classes: int = 2,
               weight_column: Any = None,
               label_vocabulary: Sequence[str] | None = None,
               optimizer: Any = "Ftrl",
               config: RunConfig | None = None,
               loss_reduction: str = V1_SUM) -> None:
    head = V1.classifier_head(n_classes, weight_column, label_vocabulary,
                              loss_reduction)
    super().__init__(baseline_model_fn(V1, head, optimizer=optimizer),
                     model_dir, config, None)


class BaselineRegressor(_V1Canned):
  """v1 BaselineRegressor: summed loss, FtrlOptimizer(0.3)."""

  def __init__(self,
               model_dir: str | os.PathLike | None = None,
               label_dimension: int = 1,
               weight_column: Any = None,
               optimizer: Any = "Ftrl",
               config: RunConfig | None = None,
               loss_reduction: str = V1_SUM) -> None:
    head = V1.regression_head(label_dimension, weight_column, loss_reduction)
    super().__init__(baseline_model_fn(V1, head, optimizer=optimizer),
                     model_dir, config, None)


class DNNLinearCombinedClassifier(_V1Canned):
  """v1 wide & deep classifier: summed loss, v1 Adagrad and Ftrl."""

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
               input_layer_partitioner: Any = None,
               config: RunConfig | None = None,
               warm_start_from: Any = None,
               loss_reduction: str = V1_SUM,
               batch_norm: bool = False,
               linear_sparse_combiner: str = "sum") -> None:
    head = V1.classifier_head(n_classes, weight_column, label_vocabulary,
                              loss_reduction)
    model_fn = combined_model_fn(
        V1,
        head,
        linear_feature_columns=linear_feature_columns,
        linear_optimizer=linear_optimizer,
        dnn_feature_columns=dnn_feature_columns,
        dnn_optimizer=dnn_optimizer,
        dnn_hidden_units=dnn_hidden_units,
        dnn_activation_fn=dnn_activation_fn,
        dnn_dropout=dnn_dropout,
        batch_norm=batch_norm,
        linear_sparse_combiner=linear_sparse_combiner,
        input_layer_partitioner=input_layer_partitioner)
    super().__init__(model_fn, model_dir, config, warm_start_from)


class DNNLinearCombinedRegressor(_V1Canned):
  """v1 wide & deep regressor: summed loss, v1 Adagrad and Ftrl."""

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
               input_layer_partitioner: Any = None,
               config: RunConfig | None = None,
               warm_start_from: Any = None,
               loss_reduction: str = V1_SUM,
               batch_norm: bool = False,
               linear_sparse_combiner: str = "sum") -> None:
    head = V1.regression_head(label_dimension, weight_column, loss_reduction)
    model_fn = combined_model_fn(
        V1,
        head,
        linear_feature_columns=linear_feature_columns,
        linear_optimizer=linear_optimizer,
        dnn_feature_columns=dnn_feature_columns,
        dnn_optimizer=dnn_optimizer,
        dnn_hidden_units=dnn_hidden_units,
        dnn_activation_fn=dnn_activation_fn,
        dnn_dropout=dnn_dropout,
        batch_norm=batch_norm,
        linear_sparse_combiner=linear_sparse_combiner,
        input_layer_partitioner=input_layer_partitioner)
    super().__init__(model_fn, model_dir, config, warm_start_from)
