"""BaselineClassifier, BaselineRegressor, BaselineEstimator: learn only a bias.

Useful as the floor a real model must beat: the classifier learns the
(weighted) class prior, the regressor the (weighted) label mean.
`baseline_model_fn` builds them and the compat.v1 ones (v1.py).
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Sequence

from estweight.canned.flavour import V2
from estweight.canned.heads import base as head_base
from estweight.estimator import Estimator

if TYPE_CHECKING:
  from estweight.canned.flavour import Flavour
  from estweight.run_config import RunConfig

FTRL_LEARNING_RATE = 0.3


def _weight_key(weight_column):
  if weight_column is None or isinstance(weight_column, str):
    return weight_column
  return getattr(weight_column, "key", None)


def baseline_model_fn(flavour: Flavour, head: head_base.Head, *,
                      optimizer: Any) -> Callable[..., Any]:
  """The model_fn of a baseline estimator."""
  flavour.check_optimizer(optimizer)
  tower = flavour.tower(
      name="baseline",
      logits_fn=flavour.baseline_logits_fn(units=head.logits_dimension,
                                           weight_key=_weight_key(
                                               head._weight_column)),  # pylint: disable=protected-access
      optimizer=optimizer,
      learning_rate=FTRL_LEARNING_RATE)
  return flavour.make_model_fn(head, [tower])


class BaselineEstimator(Estimator):
  """A bias-only model with a user-given head."""

  def __init__(self,
               head: head_base.Head,
               model_dir: str | os.PathLike | None = None,
               optimizer: Any = "Ftrl",
               config: RunConfig | None = None) -> None:
    if not isinstance(head, head_base.Head):
      raise ValueError("`head` must be an estweight head. Received: "
                       f"head={head!r}.")
    super().__init__(model_fn=baseline_model_fn(V2, head, optimizer=optimizer),
                     model_dir=model_dir,
                     config=config)


class BaselineClassifier(BaselineEstimator):
  """Predicts the (weighted) class distribution of the training labels."""

  def __init__(self,
               model_dir: str | os.PathLike | None = None,
               n_classes: int = 2,
               weight_column: Any = None,
               label_vocabulary: Sequence[str] | None = None,
               optimizer: Any = "Ftrl",
               config: RunConfig | None = None,
               loss_reduction: str = head_base.SUM_OVER_BATCH_SIZE,
               class_weight: Any = None) -> None:
    head = V2.classifier_head(n_classes,
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
               model_dir: str | os.PathLike | None = None,
               label_dimension: int = 1,
               weight_column: Any = None,
               optimizer: Any = "Ftrl",
               config: RunConfig | None = None,
               loss_reduction: str = head_base.SUM_OVER_BATCH_SIZE) -> None:
    head = V2.regression_head(label_dimension, weight_column, loss_reduction)
    super().__init__(head,
                     model_dir=model_dir,
                     optimizer=optimizer,
                     config=config)
