"""DNNClassifier, DNNRegressor, DNNEstimator (tf.estimator 2.15 signatures).

`dnn_model_fn` builds them and the compat.v1 DNNs (v1.py), by flavour.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Sequence

import tensorflow as tf

from estweight.canned import flavour as flavour_lib
from estweight.canned.flavour import V2
from estweight.canned.heads import base as head_base
from estweight.estimator import Estimator

if TYPE_CHECKING:
  from estweight.canned.flavour import Flavour
  from estweight.run_config import RunConfig

# compat.v1.estimator.experimental.dnn_logit_fn_builder checks with these.
check_hidden_units = flavour_lib.check_hidden_units
check_dropout = flavour_lib.check_dropout


def dnn_tower(flavour: Flavour,
              *,
              units: int,
              hidden_units: Sequence[int],
              feature_columns: Any,
              activation_fn: Any,
              dropout: float | None,
              batch_norm: bool,
              optimizer: Any,
              learning_rate: float | None,
              input_layer_partitioner: Any = None,
              optimizer_arg: str = "optimizer") -> Any:
  """The DNN part of a canned model (its optimizer is checked first)."""
  flavour.check_optimizer(optimizer, arg=optimizer_arg)
  hidden_units, columns = flavour.check_dnn_args(hidden_units, feature_columns,
                                                 dropout, activation_fn)
  return flavour.tower(name="dnn",
                       logits_fn=flavour.dnn_logits_fn(
                           units=units,
                           hidden_units=hidden_units,
                           feature_columns=columns,
                           activation_fn=activation_fn,
                           dropout=dropout,
                           batch_norm=batch_norm,
                           input_layer_partitioner=input_layer_partitioner),
                       optimizer=optimizer,
                       learning_rate=learning_rate)


def dnn_model_fn(flavour: Flavour, head: head_base.Head,
                 **kwargs: Any) -> Callable[..., Any]:
  """The model_fn of a DNN estimator (`kwargs`: `dnn_tower`'s)."""
  tower = dnn_tower(flavour,
                    units=head.logits_dimension,
                    learning_rate=flavour.dnn_learning_rate,
                    **kwargs)
  return flavour.make_model_fn(head, [tower])


class DNNEstimator(Estimator):
  """A DNN with a user-given head (e.g. `MultiLabelHead`).

  Args:
    head: the estweight head (e.g. `MultiLabelHead`) giving loss, predictions
      and metrics.
    hidden_units: sizes of the hidden layers, from input to output, e.g.
      `[64, 32]` (positive integers).
    feature_columns: the input's `tf.feature_column` (v2) columns, all dense
      (wrap a categorical column in `indicator_column` or `embedding_column`).
    model_dir: where checkpoints and summaries live; `None` uses
      `config.model_dir`, else a temporary directory.
    optimizer: 'Adagrad', 'Adam', 'Ftrl', 'RMSProp' or 'SGD' (at the
      optimizer's default learning rate); a tf_keras legacy, Keras 3 or
      `tf.compat.v1.train` optimizer instance or class; or a zero-argument
      callable returning one.
    activation_fn: activation of each hidden layer (default `tf.nn.relu`).
    dropout: the rate at which hidden units are dropped in training, in
      `[0, 1)`; `None` for no dropout.
    config: a `RunConfig`; `None` means `RunConfig()`.
    warm_start_from: a checkpoint path or directory, a SavedModel directory or
      a `WarmStartSettings` to start from; used only while `model_dir` has no
      checkpoint.
    batch_norm: add batch normalization after each hidden layer.

  Raises:
    ValueError: `head` is not an estweight head, or another argument is
      invalid (e.g. an unknown optimizer name).
  """

  def __init__(self,
               head: head_base.Head,
               hidden_units: Sequence[int],
               feature_columns: Any,
               model_dir: str | os.PathLike | None = None,
               optimizer: Any = "Adagrad",
               activation_fn: Any = tf.nn.relu,
               dropout: float | None = None,
               config: RunConfig | None = None,
               warm_start_from: Any = None,
               batch_norm: bool = False) -> None:
    if not isinstance(head, head_base.Head):
      raise ValueError("`head` must be an estweight head (e.g. "
                       f"BinaryClassHead()). Received: head={head!r}.")
    model_fn = dnn_model_fn(V2,
                            head,
                            hidden_units=hidden_units,
                            feature_columns=feature_columns,
                            activation_fn=activation_fn,
                            dropout=dropout,
                            batch_norm=batch_norm,
                            optimizer=optimizer)
    super().__init__(model_fn=model_fn,
                     model_dir=model_dir,
                     config=config,
                     warm_start_from=warm_start_from)


class DNNClassifier(DNNEstimator):
  """A feed-forward classifier; `n_classes=2` uses a sigmoid head.

  Defaults as tf.estimator 2.15: Adagrad with Keras' learning rate 0.001,
  relu, glorot-uniform kernels, loss summed over the batch and divided by
  the batch size (`loss_reduction='sum_over_batch_size'`).

  Args:
    hidden_units: sizes of the hidden layers, from input to output, e.g.
      `[64, 32]` (positive integers).
    feature_columns: the input's `tf.feature_column` (v2) columns, all dense
      (wrap a categorical column in `indicator_column` or `embedding_column`).
    model_dir: where checkpoints and summaries live; `None` uses
      `config.model_dir`, else a temporary directory.
    n_classes: number of classes, at least 2 (2: a sigmoid head, more: a
      softmax head).
    weight_column: a feature key or `numeric_column` holding example weights;
      `None` weighs examples by the input's third element, if any, else 1.
    label_vocabulary: the class names, when labels are strings (`n_classes`
      unique strings); `None` expects integer class ids in `[0, n_classes)`.
    optimizer: 'Adagrad', 'Adam', 'Ftrl', 'RMSProp' or 'SGD' (at the
      optimizer's default learning rate); a tf_keras legacy, Keras 3 or
      `tf.compat.v1.train` optimizer instance or class; or a zero-argument
      callable returning one.
    activation_fn: activation of each hidden layer (default `tf.nn.relu`).
    dropout: the rate at which hidden units are dropped in training, in
      `[0, 1)`; `None` for no dropout.
    config: a `RunConfig`; `None` means `RunConfig()`.
    warm_start_from: a checkpoint path or directory, a SavedModel directory or
      a `WarmStartSettings` to start from; used only while `model_dir` has no
      checkpoint.
    loss_reduction: how weighted per-example losses become the loss:
      'sum_over_batch_size' (the default), 'sum', 'auto' or a
      `tf.compat.v1.losses.Reduction` other than NONE.
    batch_norm: add batch normalization after each hidden layer.
    class_weight: `None`, 'balanced' (counted in one pass over the training
      input), a dict from class id (or name, with `label_vocabulary`) to
      weight (missing classes weigh 1), or an `estweight.weights.ClassWeight`.

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
               config: RunConfig | None = None,
               warm_start_from: Any = None,
               loss_reduction: str = head_base.SUM_OVER_BATCH_SIZE,
               batch_norm: bool = False,
               class_weight: Any = None) -> None:
    head = V2.classifier_head(n_classes,
                              weight_column,
                              label_vocabulary,
                              loss_reduction,
                              class_weight=class_weight)
    super().__init__(head,
                     hidden_units,
                     feature_columns,
                     model_dir=model_dir,
                     optimizer=optimizer,
                     activation_fn=activation_fn,
                     dropout=dropout,
                     config=config,
                     warm_start_from=warm_start_from,
                     batch_norm=batch_norm)


class DNNRegressor(DNNEstimator):
  """A feed-forward regressor of `label_dimension` targets (squared error).

  Args:
    hidden_units: sizes of the hidden layers, from input to output, e.g.
      `[64, 32]` (positive integers).
    feature_columns: the input's `tf.feature_column` (v2) columns, all dense
      (wrap a categorical column in `indicator_column` or `embedding_column`).
    model_dir: where checkpoints and summaries live; `None` uses
      `config.model_dir`, else a temporary directory.
    label_dimension: number of regression targets per example.
    weight_column: a feature key or `numeric_column` holding example weights;
      `None` weighs examples by the input's third element, if any, else 1.
    optimizer: 'Adagrad', 'Adam', 'Ftrl', 'RMSProp' or 'SGD' (at the
      optimizer's default learning rate); a tf_keras legacy, Keras 3 or
      `tf.compat.v1.train` optimizer instance or class; or a zero-argument
      callable returning one.
    activation_fn: activation of each hidden layer (default `tf.nn.relu`).
    dropout: the rate at which hidden units are dropped in training, in
      `[0, 1)`; `None` for no dropout.
    config: a `RunConfig`; `None` means `RunConfig()`.
    warm_start_from: a checkpoint path or directory, a SavedModel directory or
      a `WarmStartSettings` to start from; used only while `model_dir` has no
      checkpoint.
    loss_reduction: how weighted per-example losses become the loss:
      'sum_over_batch_size' (the default), 'sum', 'auto' or a
      `tf.compat.v1.losses.Reduction` other than NONE.
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
               config: RunConfig | None = None,
               warm_start_from: Any = None,
               loss_reduction: str = head_base.SUM_OVER_BATCH_SIZE,
               batch_norm: bool = False) -> None:
    head = V2.regression_head(label_dimension, weight_column, loss_reduction)
    super().__init__(head,
                     hidden_units,
                     feature_columns,
                     model_dir=model_dir,
                     optimizer=optimizer,
                     activation_fn=activation_fn,
                     dropout=dropout,
                     config=config,
                     warm_start_from=warm_start_from,
                     batch_norm=batch_norm)
