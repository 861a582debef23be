"""DNNClassifier, DNNRegressor, DNNEstimator (tf.estimator 2.15 signatures)."""
from __future__ import annotations

import functools

import tensorflow as tf

from estweight.canned import builder
from estweight.canned import heads as heads_lib
from estweight.canned import networks
from estweight.canned.heads import base as head_base
from estweight.estimator import Estimator


def check_hidden_units(hidden_units, arg="hidden_units"):
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


def check_dropout(dropout, arg="dropout"):
  if dropout is not None and not (isinstance(dropout, (int, float)) and
                                  0 <= dropout < 1):
    raise ValueError(f"`{arg}` must be None or a rate in [0, 1). Received: "
                     f"{arg}={dropout!r}.")


def dnn_tower(*,
              units,
              hidden_units,
              feature_columns,
              activation_fn,
              dropout,
              batch_norm,
              optimizer,
              learning_rate=None):
  """The DNN part of a canned model."""
  hidden_units = check_hidden_units(hidden_units)
  columns = networks.check_feature_columns(feature_columns, dense_only=True)
  check_dropout(dropout)
  if not callable(activation_fn):
    raise ValueError("`activation_fn` must be callable. Received: "
                     f"activation_fn={activation_fn!r}.")
  return builder.Tower(name="dnn",
                       logits_fn=functools.partial(_dnn_logits,
                                                   units=units,
                                                   hidden_units=hidden_units,
                                                   feature_columns=columns,
                                                   activation_fn=activation_fn,
                                                   dropout=dropout,
                                                   batch_norm=batch_norm),
                       optimizer=optimizer,
                       learning_rate=learning_rate)


def _dnn_logits(features, mode, **kwargs):
  return networks.dnn_logits(features, mode, **kwargs)


class DNNEstimator(Estimator):
  """A DNN with a user-given head (e.g. `MultiLabelHead`)."""

  def __init__(self,
               head,
               hidden_units,
               feature_columns,
               model_dir=None,
               optimizer="Adagrad",
               activation_fn=tf.nn.relu,
               dropout=None,
               config=None,
               warm_start_from=None,
               batch_norm=False):
    if not isinstance(head, head_base.Head):
      raise ValueError("`head` must be an estweight head (e.g. "
                       f"BinaryClassHead()). Received: head={head!r}.")
    builder.check_optimizer(optimizer)
    tower = dnn_tower(units=head.logits_dimension,
                      hidden_units=hidden_units,
                      feature_columns=feature_columns,
                      activation_fn=activation_fn,
                      dropout=dropout,
                      batch_norm=batch_norm,
                      optimizer=optimizer)
    super().__init__(model_fn=builder.make_model_fn(head, [tower]),
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
               hidden_units,
               feature_columns,
               model_dir=None,
               n_classes=2,
               weight_column=None,
               label_vocabulary=None,
               optimizer="Adagrad",
               activation_fn=tf.nn.relu,
               dropout=None,
               config=None,
               warm_start_from=None,
               loss_reduction=head_base.SUM_OVER_BATCH_SIZE,
               batch_norm=False,
               class_weight=None):
    head = heads_lib.binary_or_multi_class_head(n_classes,
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
               hidden_units,
               feature_columns,
               model_dir=None,
               label_dimension=1,
               weight_column=None,
               optimizer="Adagrad",
               activation_fn=tf.nn.relu,
               dropout=None,
               config=None,
               warm_start_from=None,
               loss_reduction=head_base.SUM_OVER_BATCH_SIZE,
               batch_norm=False):
    head = heads_lib.RegressionHead(label_dimension=label_dimension,
                                    weight_column=weight_column,
                                    loss_reduction=loss_reduction)
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
