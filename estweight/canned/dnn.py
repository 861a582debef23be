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
  """A DNN with a user-given head (e.g. `MultiLabelHead`)."""

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
  """A feed-forward regressor of `label_dimension` targets (squared error)."""

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
