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
  """Wide & deep model with a user-given head.

  Args:
    head: the estweight head (e.g. `MultiLabelHead`) giving loss, predictions
      and metrics.
    model_dir: where checkpoints and summaries live; `None` uses
      `config.model_dir`, else a temporary directory.
    linear_feature_columns: `tf.feature_column` (v2) columns of the linear
      part; at least one of these and `dnn_feature_columns` is required.
    linear_optimizer: optimizer of the linear part: 'Adagrad', 'Adam', 'Ftrl',
      'RMSProp' or 'SGD' (Ftrl when `None`; learning rate min(0.005,
      1/sqrt(number of linear columns))), or an optimizer instance or class,
      or a zero-argument callable returning one.
    dnn_feature_columns: dense `tf.feature_column` (v2) columns of the DNN
      part; `None` or empty for no DNN part.
    dnn_optimizer: optimizer of the DNN part: 'Adagrad', 'Adam', 'Ftrl',
      'RMSProp' or 'SGD' (learning rate 0.001), or an optimizer instance or
      class, or a zero-argument callable returning one.
    dnn_hidden_units: sizes of the DNN's hidden layers, e.g. `[64, 32]`;
      required with `dnn_feature_columns`.
    dnn_activation_fn: activation of each of the DNN's hidden layers (default
      `tf.nn.relu`).
    dnn_dropout: the rate at which the DNN's hidden units are dropped in
      training, in `[0, 1)`; `None` for no dropout.
    config: a `RunConfig`; `None` means `RunConfig()`.
    batch_norm: add batch normalization after each of the DNN's hidden layers.
    linear_sparse_combiner: how the linear part combines the weights of a
      categorical column with several values per example: 'sum', 'mean' or
      'sqrtn'.
    warm_start_from: a checkpoint path or directory, a SavedModel directory or
      a `WarmStartSettings` to start from; used only while `model_dir` has no
      checkpoint.

  Raises:
    ValueError: `head` is not an estweight head, no feature columns at all,
      `dnn_feature_columns` without `dnn_hidden_units`, or another invalid
      argument.
  """

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
  """Wide & deep classifier (2.15 signature and defaults).

  Args:
    model_dir: where checkpoints and summaries live; `None` uses
      `config.model_dir`, else a temporary directory.
    linear_feature_columns: `tf.feature_column` (v2) columns of the linear
      part; at least one of these and `dnn_feature_columns` is required.
    linear_optimizer: optimizer of the linear part: 'Adagrad', 'Adam', 'Ftrl',
      'RMSProp' or 'SGD' (Ftrl when `None`; learning rate min(0.005,
      1/sqrt(number of linear columns))), or an optimizer instance or class,
      or a zero-argument callable returning one.
    dnn_feature_columns: dense `tf.feature_column` (v2) columns of the DNN
      part; `None` or empty for no DNN part.
    dnn_optimizer: optimizer of the DNN part: 'Adagrad', 'Adam', 'Ftrl',
      'RMSProp' or 'SGD' (learning rate 0.001), or an optimizer instance or
      class, or a zero-argument callable returning one.
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
    config: a `RunConfig`; `None` means `RunConfig()`.
    warm_start_from: a checkpoint path or directory, a SavedModel directory or
      a `WarmStartSettings` to start from; used only while `model_dir` has no
      checkpoint.
    loss_reduction: how weighted per-example losses become the loss:
      'sum_over_batch_size' (the default), 'sum', 'auto' or a
      `tf.compat.v1.losses.Reduction` other than NONE.
    batch_norm: add batch normalization after each of the DNN's hidden layers.
    linear_sparse_combiner: how the linear part combines the weights of a
      categorical column with several values per example: 'sum', 'mean' or
      'sqrtn'.
    class_weight: `None`, 'balanced' (counted in one pass over the training
      input), a dict from class id (or name, with `label_vocabulary`) to
      weight (missing classes weigh 1), or an `estweight.weights.ClassWeight`.

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
  """Wide & deep regressor (2.15 signature and defaults).

  Args:
    model_dir: where checkpoints and summaries live; `None` uses
      `config.model_dir`, else a temporary directory.
    linear_feature_columns: `tf.feature_column` (v2) columns of the linear
      part; at least one of these and `dnn_feature_columns` is required.
    linear_optimizer: optimizer of the linear part: 'Adagrad', 'Adam', 'Ftrl',
      'RMSProp' or 'SGD' (Ftrl when `None`; learning rate min(0.005,
      1/sqrt(number of linear columns))), or an optimizer instance or class,
      or a zero-argument callable returning one.
    dnn_feature_columns: dense `tf.feature_column` (v2) columns of the DNN
      part; `None` or empty for no DNN part.
    dnn_optimizer: optimizer of the DNN part: 'Adagrad', 'Adam', 'Ftrl',
      'RMSProp' or 'SGD' (learning rate 0.001), or an optimizer instance or
      class, or a zero-argument callable returning one.
    dnn_hidden_units: sizes of the DNN's hidden layers, e.g. `[64, 32]`;
      required with `dnn_feature_columns`.
    dnn_activation_fn: activation of each of the DNN's hidden layers (default
      `tf.nn.relu`).
    dnn_dropout: the rate at which the DNN's hidden units are dropped in
      training, in `[0, 1)`; `None` for no dropout.
    label_dimension: number of regression targets per example.
    weight_column: a feature key or `numeric_column` holding example weights;
      `None` weighs examples by the input's third element, if any, else 1.
    config: a `RunConfig`; `None` means `RunConfig()`.
    warm_start_from: a checkpoint path or directory, a SavedModel directory or
      a `WarmStartSettings` to start from; used only while `model_dir` has no
      checkpoint.
    loss_reduction: how weighted per-example losses become the loss:
      'sum_over_batch_size' (the default), 'sum', 'auto' or a
      `tf.compat.v1.losses.Reduction` other than NONE.
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
