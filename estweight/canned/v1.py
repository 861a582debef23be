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
  """v1 DNNClassifier: summed loss, AdagradOptimizer(0.05).

  Args:
    hidden_units: sizes of the hidden layers, from input to output, e.g.
      `[64, 32]` (positive integers).
    feature_columns: the input's feature columns, all dense (wrap a
      categorical column in `indicator_column` or `embedding_column`).
    model_dir: where checkpoints and summaries live; `None` uses
      `config.model_dir`, else a temporary directory.
    n_classes: number of classes, at least 2 (2: a sigmoid head, more: a
      softmax head).
    weight_column: a feature key or `numeric_column` holding example weights;
      `None` weighs examples by the input's third element, if any, else 1.
    label_vocabulary: the class names, when labels are strings (`n_classes`
      unique strings); `None` expects integer class ids in `[0, n_classes)`.
    optimizer: 'Adagrad', 'Adam', 'Ftrl', 'RMSProp' or 'SGD', built as
      `tf.compat.v1.train` optimizers at learning rate 0.05, or a
      `tf.compat.v1.train` optimizer instance or class, or a zero-argument
      callable returning one.
    activation_fn: activation of each hidden layer (default `tf.nn.relu`).
    dropout: the rate at which hidden units are dropped in training, in
      `[0, 1)`; `None` for no dropout.
    input_layer_partitioner: partitioner of the input layer's variables;
      `None` uses a `min_max_variable_partitioner` over `config`'s parameter
      servers.
    config: a `RunConfig`; `None` means `RunConfig()`.
    warm_start_from: a checkpoint path or directory, a SavedModel directory or
      a `WarmStartSettings` to start from; used only while `model_dir` has no
      checkpoint.
    loss_reduction: how weighted per-example losses become the loss:
      `tf.compat.v1.losses.Reduction.SUM` ('weighted_sum', the default) or
      another v1 reduction but NONE, or 'sum_over_batch_size', 'sum', 'auto'.
    batch_norm: add batch normalization after each hidden layer.

  Raises:
    ValueError: an invalid argument (e.g. `n_classes` < 2, a
      `label_vocabulary` of the wrong size, an unknown optimizer name).
  """

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
  """v1 DNNRegressor: summed loss, AdagradOptimizer(0.05).

  Args:
    hidden_units: sizes of the hidden layers, from input to output, e.g.
      `[64, 32]` (positive integers).
    feature_columns: the input's feature columns, all dense (wrap a
      categorical column in `indicator_column` or `embedding_column`).
    model_dir: where checkpoints and summaries live; `None` uses
      `config.model_dir`, else a temporary directory.
    label_dimension: number of regression targets per example.
    weight_column: a feature key or `numeric_column` holding example weights;
      `None` weighs examples by the input's third element, if any, else 1.
    optimizer: 'Adagrad', 'Adam', 'Ftrl', 'RMSProp' or 'SGD', built as
      `tf.compat.v1.train` optimizers at learning rate 0.05, or a
      `tf.compat.v1.train` optimizer instance or class, or a zero-argument
      callable returning one.
    activation_fn: activation of each hidden layer (default `tf.nn.relu`).
    dropout: the rate at which hidden units are dropped in training, in
      `[0, 1)`; `None` for no dropout.
    input_layer_partitioner: partitioner of the input layer's variables;
      `None` uses a `min_max_variable_partitioner` over `config`'s parameter
      servers.
    config: a `RunConfig`; `None` means `RunConfig()`.
    warm_start_from: a checkpoint path or directory, a SavedModel directory or
      a `WarmStartSettings` to start from; used only while `model_dir` has no
      checkpoint.
    loss_reduction: how weighted per-example losses become the loss:
      `tf.compat.v1.losses.Reduction.SUM` ('weighted_sum', the default) or
      another v1 reduction but NONE, or 'sum_over_batch_size', 'sum', 'auto'.
    batch_norm: add batch normalization after each hidden layer.

  Raises:
    ValueError: an invalid argument (e.g. an unknown optimizer name).
  """

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
  """v1 LinearClassifier: summed loss, FtrlOptimizer(0.2).

  Args:
    feature_columns: the input's feature columns, dense or categorical.
    model_dir: where checkpoints and summaries live; `None` uses
      `config.model_dir`, else a temporary directory.
    n_classes: number of classes, at least 2 (2: a sigmoid head, more: a
      softmax head).
    weight_column: a feature key or `numeric_column` holding example weights;
      `None` weighs examples by the input's third element, if any, else 1.
    label_vocabulary: the class names, when labels are strings (`n_classes`
      unique strings); `None` expects integer class ids in `[0, n_classes)`.
    optimizer: 'Adagrad', 'Adam', 'Ftrl', 'RMSProp' or 'SGD', built as
      `tf.compat.v1.train` optimizers at learning rate 0.2 (`None`: Ftrl at
      min(0.2, 1/sqrt(number of columns))), or a `tf.compat.v1.train`
      optimizer instance or class, or a zero-argument callable returning one.
    config: a `RunConfig`; `None` means `RunConfig()`.
    partitioner: partitioner of the model's variables; `None` uses a
      `min_max_variable_partitioner` over `config`'s parameter servers.
    warm_start_from: a checkpoint path or directory, a SavedModel directory or
      a `WarmStartSettings` to start from; used only while `model_dir` has no
      checkpoint.
    loss_reduction: how weighted per-example losses become the loss:
      `tf.compat.v1.losses.Reduction.SUM` ('weighted_sum', the default) or
      another v1 reduction but NONE, or 'sum_over_batch_size', 'sum', 'auto'.
    sparse_combiner: how the weights of a categorical column with several
      values per example combine: 'sum', 'mean' or 'sqrtn'.

  Raises:
    ValueError: an invalid argument (e.g. `n_classes` < 2, a
      `label_vocabulary` of the wrong size, an unknown optimizer name).
  """

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
  """v1 LinearRegressor: summed loss, FtrlOptimizer(0.2).

  Args:
    feature_columns: the input's feature columns, dense or categorical.
    model_dir: where checkpoints and summaries live; `None` uses
      `config.model_dir`, else a temporary directory.
    label_dimension: number of regression targets per example.
    weight_column: a feature key or `numeric_column` holding example weights;
      `None` weighs examples by the input's third element, if any, else 1.
    optimizer: 'Adagrad', 'Adam', 'Ftrl', 'RMSProp' or 'SGD', built as
      `tf.compat.v1.train` optimizers at learning rate 0.2 (`None`: Ftrl at
      min(0.2, 1/sqrt(number of columns))), or a `tf.compat.v1.train`
      optimizer instance or class, or a zero-argument callable returning one.
    config: a `RunConfig`; `None` means `RunConfig()`.
    partitioner: partitioner of the model's variables; `None` uses a
      `min_max_variable_partitioner` over `config`'s parameter servers.
    warm_start_from: a checkpoint path or directory, a SavedModel directory or
      a `WarmStartSettings` to start from; used only while `model_dir` has no
      checkpoint.
    loss_reduction: how weighted per-example losses become the loss:
      `tf.compat.v1.losses.Reduction.SUM` ('weighted_sum', the default) or
      another v1 reduction but NONE, or 'sum_over_batch_size', 'sum', 'auto'.
    sparse_combiner: how the weights of a categorical column with several
      values per example combine: 'sum', 'mean' or 'sqrtn'.

  Raises:
    ValueError: an invalid argument (e.g. an unknown optimizer name).
  """

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
  """v1 BaselineClassifier: summed loss, FtrlOptimizer(0.3).

  Args:
    model_dir: where checkpoints and summaries live; `None` uses
      `config.model_dir`, else a temporary directory.
    n_classes: number of classes, at least 2 (2: a sigmoid head, more: a
      softmax head).
    weight_column: a feature key or `numeric_column` holding example weights;
      `None` weighs examples by the input's third element, if any, else 1.
    label_vocabulary: the class names, when labels are strings (`n_classes`
      unique strings); `None` expects integer class ids in `[0, n_classes)`.
    optimizer: 'Adagrad', 'Adam', 'Ftrl', 'RMSProp' or 'SGD', built as
      `tf.compat.v1.train` optimizers at learning rate 0.3, or a
      `tf.compat.v1.train` optimizer instance or class, or a zero-argument
      callable returning one.
    config: a `RunConfig`; `None` means `RunConfig()`.
    loss_reduction: how weighted per-example losses become the loss:
      `tf.compat.v1.losses.Reduction.SUM` ('weighted_sum', the default) or
      another v1 reduction but NONE, or 'sum_over_batch_size', 'sum', 'auto'.

  Raises:
    ValueError: an invalid argument (e.g. `n_classes` < 2, a
      `label_vocabulary` of the wrong size, an unknown optimizer name).
  """

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
  """v1 BaselineRegressor: summed loss, FtrlOptimizer(0.3).

  Args:
    model_dir: where checkpoints and summaries live; `None` uses
      `config.model_dir`, else a temporary directory.
    label_dimension: number of regression targets per example.
    weight_column: a feature key or `numeric_column` holding example weights;
      `None` weighs examples by the input's third element, if any, else 1.
    optimizer: 'Adagrad', 'Adam', 'Ftrl', 'RMSProp' or 'SGD', built as
      `tf.compat.v1.train` optimizers at learning rate 0.3, or a
      `tf.compat.v1.train` optimizer instance or class, or a zero-argument
      callable returning one.
    config: a `RunConfig`; `None` means `RunConfig()`.
    loss_reduction: how weighted per-example losses become the loss:
      `tf.compat.v1.losses.Reduction.SUM` ('weighted_sum', the default) or
      another v1 reduction but NONE, or 'sum_over_batch_size', 'sum', 'auto'.

  Raises:
    ValueError: an invalid argument (e.g. an unknown optimizer name).
  """

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
  """v1 wide & deep classifier: summed loss, v1 Adagrad and Ftrl.

  Args:
    model_dir: where checkpoints and summaries live; `None` uses
      `config.model_dir`, else a temporary directory.
    linear_feature_columns: feature columns of the linear part; at least one
      of these and `dnn_feature_columns` is required.
    linear_optimizer: optimizer of the linear part: 'Adagrad', 'Adam', 'Ftrl',
      'RMSProp' or 'SGD', built as `tf.compat.v1.train` optimizers (Ftrl when
      `None`; learning rate min(0.005, 1/sqrt(number of linear columns))), or
      a `tf.compat.v1.train` optimizer instance or class, or a zero-argument
      callable returning one.
    dnn_feature_columns: dense feature columns of the DNN part; `None` or
      empty for no DNN part.
    dnn_optimizer: optimizer of the DNN part: 'Adagrad', 'Adam', 'Ftrl',
      'RMSProp' or 'SGD', built as `tf.compat.v1.train` optimizers at learning
      rate 0.001, or a `tf.compat.v1.train` optimizer instance or class, or a
      zero-argument callable returning one.
    dnn_hidden_units: sizes of the DNN's hidden layers, e.g. `[64, 32]`;
      required with `dnn_feature_columns`.
    dnn_activation_fn: activation of each of the DNN's hidden layers (default
      `tf.nn.relu`).
    dnn_dropout: the rate at which the DNN's hidden units are dropped in
      training, in `[0, 1)`; `None` for no dropout.
    n_classes: number of classes, at least 2 (2: a sigmoid head, more: a
      softmax head).
    weight_column: a feature key or `numeric_column` holding example weights;
      `None` weighs examples by the input's third element, if any, else 1.
    label_vocabulary: the class names, when labels are strings (`n_classes`
      unique strings); `None` expects integer class ids in `[0, n_classes)`.
    input_layer_partitioner: partitioner of the DNN input layer's and the
      linear part's variables; `None` uses a `min_max_variable_partitioner`
      over `config`'s parameter servers.
    config: a `RunConfig`; `None` means `RunConfig()`.
    warm_start_from: a checkpoint path or directory, a SavedModel directory or
      a `WarmStartSettings` to start from; used only while `model_dir` has no
      checkpoint.
    loss_reduction: how weighted per-example losses become the loss:
      `tf.compat.v1.losses.Reduction.SUM` ('weighted_sum', the default) or
      another v1 reduction but NONE, or 'sum_over_batch_size', 'sum', 'auto'.
    batch_norm: add batch normalization after each of the DNN's hidden layers.
    linear_sparse_combiner: how the linear part combines the weights of a
      categorical column with several values per example: 'sum', 'mean' or
      'sqrtn'.

  Raises:
    ValueError: no feature columns at all, `dnn_feature_columns` without
      `dnn_hidden_units`, or another invalid argument.
  """

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
  """v1 wide & deep regressor: summed loss, v1 Adagrad and Ftrl.

  Args:
    model_dir: where checkpoints and summaries live; `None` uses
      `config.model_dir`, else a temporary directory.
    linear_feature_columns: feature columns of the linear part; at least one
      of these and `dnn_feature_columns` is required.
    linear_optimizer: optimizer of the linear part: 'Adagrad', 'Adam', 'Ftrl',
      'RMSProp' or 'SGD', built as `tf.compat.v1.train` optimizers (Ftrl when
      `None`; learning rate min(0.005, 1/sqrt(number of linear columns))), or
      a `tf.compat.v1.train` optimizer instance or class, or a zero-argument
      callable returning one.
    dnn_feature_columns: dense feature columns of the DNN part; `None` or
      empty for no DNN part.
    dnn_optimizer: optimizer of the DNN part: 'Adagrad', 'Adam', 'Ftrl',
      'RMSProp' or 'SGD', built as `tf.compat.v1.train` optimizers at learning
      rate 0.001, or a `tf.compat.v1.train` optimizer instance or class, or a
      zero-argument callable returning one.
    dnn_hidden_units: sizes of the DNN's hidden layers, e.g. `[64, 32]`;
      required with `dnn_feature_columns`.
    dnn_activation_fn: activation of each of the DNN's hidden layers (default
      `tf.nn.relu`).
    dnn_dropout: the rate at which the DNN's hidden units are dropped in
      training, in `[0, 1)`; `None` for no dropout.
    label_dimension: number of regression targets per example.
    weight_column: a feature key or `numeric_column` holding example weights;
      `None` weighs examples by the input's third element, if any, else 1.
    input_layer_partitioner: partitioner of the DNN input layer's and the
      linear part's variables; `None` uses a `min_max_variable_partitioner`
      over `config`'s parameter servers.
    config: a `RunConfig`; `None` means `RunConfig()`.
    warm_start_from: a checkpoint path or directory, a SavedModel directory or
      a `WarmStartSettings` to start from; used only while `model_dir` has no
      checkpoint.
    loss_reduction: how weighted per-example losses become the loss:
      `tf.compat.v1.losses.Reduction.SUM` ('weighted_sum', the default) or
      another v1 reduction but NONE, or 'sum_over_batch_size', 'sum', 'auto'.
    batch_norm: add batch normalization after each of the DNN's hidden layers.
    linear_sparse_combiner: how the linear part combines the weights of a
      categorical column with several values per example: 'sum', 'mean' or
      'sqrtn'.

  Raises:
    ValueError: no feature columns at all, `dnn_feature_columns` without
      `dnn_hidden_units`, or another invalid argument.
  """

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
