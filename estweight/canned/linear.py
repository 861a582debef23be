"""LinearClassifier, LinearRegressor, LinearEstimator (2.15 signatures)."""
from __future__ import annotations

import functools

from estweight.canned import builder
from estweight.canned import heads as heads_lib
from estweight.canned import linear_sdca
from estweight.canned import networks
from estweight.canned.heads import base as head_base
from estweight.estimator import Estimator

FTRL_LEARNING_RATE = 0.2


def linear_tower(*, units, feature_columns, sparse_combiner, optimizer,
                 default_learning_rate):
  """The linear part of a canned model.

  `optimizer=None` means Ftrl with min(default, 1/sqrt(#columns)); a name
  uses `default_learning_rate`.
  """
  columns = networks.check_feature_columns(feature_columns)
  if sparse_combiner not in ("sum", "mean", "sqrtn"):
    raise ValueError("`sparse_combiner` must be 'sum', 'mean' or 'sqrtn'. "
                     f"Received: sparse_combiner={sparse_combiner!r}.")
  learning_rate = default_learning_rate
  if optimizer is None:
    optimizer = "Ftrl"
    learning_rate = builder.linear_default_learning_rate(
        columns, cap=default_learning_rate)
  return builder.Tower(name="linear",
                       logits_fn=functools.partial(
                           _linear_logits,
                           units=units,
                           feature_columns=columns,
                           sparse_combiner=sparse_combiner),
                       optimizer=optimizer,
                       learning_rate=learning_rate)


def _linear_logits(features, mode, **kwargs):
  del mode
  logits, variables = networks.linear_logits(features, **kwargs)
  return logits, variables, []


class LinearEstimator(Estimator):
  """A linear model with a user-given head."""

  def __init__(self,
               head,
               feature_columns,
               model_dir=None,
               optimizer="Ftrl",
               config=None,
               sparse_combiner="sum",
               warm_start_from=None):
    if not isinstance(head, head_base.Head):
      raise ValueError("`head` must be an estweight head (e.g. "
                       f"RegressionHead()). Received: head={head!r}.")
    builder.check_optimizer(optimizer)
    if isinstance(optimizer, linear_sdca.LinearSDCA):
      model_fn = linear_sdca.make_sdca_model_fn(head, feature_columns,
                                                optimizer, sparse_combiner)
    else:
      model_fn = builder.make_model_fn(head, [
          linear_tower(units=head.logits_dimension,
                       feature_columns=feature_columns,
                       sparse_combiner=sparse_combiner,
                       optimizer=optimizer,
                       default_learning_rate=FTRL_LEARNING_RATE)
      ])
    super().__init__(model_fn=model_fn,
                     model_dir=model_dir,
                     config=config,
                     warm_start_from=warm_start_from)


class LinearClassifier(LinearEstimator):
  """Linear (logistic / softmax) classifier; Ftrl at 0.2 by default."""

  def __init__(self,
               feature_columns,
               model_dir=None,
               n_classes=2,
               weight_column=None,
               label_vocabulary=None,
               optimizer="Ftrl",
               config=None,
               warm_start_from=None,
               loss_reduction=head_base.SUM_OVER_BATCH_SIZE,
               sparse_combiner="sum",
               class_weight=None):
    head = heads_lib.binary_or_multi_class_head(n_classes,
                                                weight_column,
                                                label_vocabulary,
                                                loss_reduction,
                                                class_weight=class_weight)
    super().__init__(head,
                     feature_columns,
                     model_dir=model_dir,
                     optimizer=optimizer,
                     config=config,
                     sparse_combiner=sparse_combiner,
                     warm_start_from=warm_start_from)


class LinearRegressor(LinearEstimator):
  """Linear regressor of `label_dimension` targets; Ftrl at 0.2 by default."""

  def __init__(self,
               feature_columns,
               model_dir=None,
               label_dimension=1,
               weight_column=None,
               optimizer="Ftrl",
               config=None,
               warm_start_from=None,
               loss_reduction=head_base.SUM_OVER_BATCH_SIZE,
               sparse_combiner="sum"):
    head = heads_lib.RegressionHead(label_dimension=label_dimension,
                                    weight_column=weight_column,
                                    loss_reduction=loss_reduction)
    super().__init__(head,
                     feature_columns,
                     model_dir=model_dir,
                     optimizer=optimizer,
                     config=config,
                     sparse_combiner=sparse_combiner,
                     warm_start_from=warm_start_from)
