"""BaselineClassifier, BaselineRegressor, BaselineEstimator: learn only a bias.

Useful as the floor a real model must beat: the classifier learns the
(weighted) class prior, the regressor the (weighted) label mean.
"""
from __future__ import annotations

import functools

from estweight.canned import builder
from estweight.canned import heads as heads_lib
from estweight.canned import networks
from estweight.canned.heads import base as head_base
from estweight.estimator import Estimator

FTRL_LEARNING_RATE = 0.3


def _weight_key(weight_column):
  if weight_column is None or isinstance(weight_column, str):
    return weight_column
  return getattr(weight_column, "key", None)


def _baseline_logits(features, mode, *, units, weight_key):
  del mode
  logits, variables = networks.baseline_logits(features,
                                               units=units,
                                               weight_key=weight_key)
  return logits, variables, []


class BaselineEstimator(Estimator):
  """A bias-only model with a user-given head."""

  def __init__(self, head, model_dir=None, optimizer="Ftrl", config=None):
    if not isinstance(head, head_base.Head):
      raise ValueError("`head` must be an estweight head. Received: "
                       f"head={head!r}.")
    builder.check_optimizer(optimizer)
    tower = builder.Tower(
        name="baseline",
        logits_fn=functools.partial(_baseline_logits,
                                    units=head.logits_dimension,
                                    weight_key=_weight_key(
                                        head._weight_column)),  # pylint: disable=protected-access
        optimizer=optimizer,
        learning_rate=FTRL_LEARNING_RATE)
    super().__init__(model_fn=builder.make_model_fn(head, [tower]),
                     model_dir=model_dir,
                     config=config)


class BaselineClassifier(BaselineEstimator):
  """Predicts the (weighted) class distribution of the training labels."""

  def __init__(self,
               model_dir=None,
               n_classes=2,
               weight_column=None,
               label_vocabulary=None,
               optimizer="Ftrl",
               config=None,
               loss_reduction=head_base.SUM_OVER_BATCH_SIZE,
               class_weight=None):
    head = heads_lib.binary_or_multi_class_head(n_classes,
                                                weight_column,
                                                label_vocabulary,
                                                loss_reduction,
                                                class_weight=class_weight)
    super().__init__(head,
                     model_dir=model_dir,
                     optimizer=optimizer,
                     config=config)


class BaselineRegressor(BaselineEstimator):
  """Predicts the (weighted) mean of the training labels."""

  def __init__(self,
               model_dir=None,
               label_dimension=1,
               weight_column=None,
               optimizer="Ftrl",
               config=None,
               loss_reduction=head_base.SUM_OVER_BATCH_SIZE):
    head = heads_lib.RegressionHead(label_dimension=label_dimension,
                                    weight_column=weight_column,
                                    loss_reduction=loss_reduction)
    super().__init__(head,
                     model_dir=model_dir,
                     optimizer=optimizer,
                     config=config)
