"""LinearClassifier, LinearRegressor, LinearEstimator (2.15 signatures).

`linear_model_fn` builds them and the compat.v1 ones (v1.py), by flavour.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Sequence

from estweight.canned import builder
from estweight.canned import linear_sdca
from estweight.canned.flavour import V2
from estweight.canned.heads import base as head_base
from estweight.estimator import Estimator

if TYPE_CHECKING:
  from estweight.canned.flavour import Flavour
  from estweight.run_config import RunConfig

FTRL_LEARNING_RATE = 0.2


def linear_tower(flavour: Flavour,
                 *,
                 units: int,
                 feature_columns: Any,
                 sparse_combiner: str,
                 optimizer: Any,
                 default_learning_rate: float,
                 partitioner: Any = None,
                 optimizer_arg: str = "optimizer") -> Any:
  """The linear part of a canned model.

  `optimizer=None` means Ftrl with min(default, 1/sqrt(#columns)); a name
  uses `default_learning_rate`.
  """
  columns = flavour.check_linear_args(feature_columns, sparse_combiner,
                                      optimizer, optimizer_arg)
  learning_rate = default_learning_rate
  if optimizer is None:
    optimizer = "Ftrl"
    learning_rate = builder.linear_default_learning_rate(
        columns, cap=default_learning_rate)
  return flavour.tower(name="linear",
                       logits_fn=flavour.linear_logits_fn(
                           units=units,
                           feature_columns=columns,
                           sparse_combiner=sparse_combiner,
                           partitioner=partitioner),
                       optimizer=optimizer,
                       learning_rate=learning_rate)


def linear_model_fn(flavour: Flavour,
                    head: head_base.Head,
                    *,
                    feature_columns: Any,
                    optimizer: Any,
                    sparse_combiner: str,
                    partitioner: Any = None) -> Callable[..., Any]:
  """The model_fn of a linear estimator."""
  if flavour.sdca and isinstance(optimizer, linear_sdca.LinearSDCA):
    return linear_sdca.make_sdca_model_fn(head, feature_columns, optimizer,
                                          sparse_combiner)
  tower = linear_tower(flavour,
                       units=head.logits_dimension,
                       feature_columns=feature_columns,
                       sparse_combiner=sparse_combiner,
                       optimizer=optimizer,
                       default_learning_rate=FTRL_LEARNING_RATE,
                       partitioner=partitioner)
  return flavour.make_model_fn(head, [tower])


class LinearEstimator(Estimator):
  """A linear model with a user-given head."""

  def __init__(self,
               head: head_base.Head,
               feature_columns: Any,
               model_dir: str | os.PathLike | None = None,
               optimizer: Any = "Ftrl",
               config: RunConfig | None = None,
               sparse_combiner: str = "sum",
               warm_start_from: Any = None) -> None:
    if not isinstance(head, head_base.Head):
      raise ValueError("`head` must be an estweight head (e.g. "
                       f"RegressionHead()). Received: head={head!r}.")
    model_fn = linear_model_fn(V2,
                               head,
                               feature_columns=feature_columns,
                               optimizer=optimizer,
                               sparse_combiner=sparse_combiner)
    super().__init__(model_fn=model_fn,
                     model_dir=model_dir,
                     config=config,
                     warm_start_from=warm_start_from)


class LinearClassifier(LinearEstimator):
  """Linear (logistic / softmax) classifier; Ftrl at 0.2 by default."""

  def __init__(self,
               feature_columns: Any,
               model_dir: str | os.PathLike | None = None,
               n_classes: int = 2,
               weight_column: Any = None,
               label_vocabulary: Sequence[str] | None = None,
               optimizer: Any = "Ftrl",
               config: RunConfig | None = None,
               warm_start_from: Any = None,
               loss_reduction: str = head_base.SUM_OVER_BATCH_SIZE,
               sparse_combiner: str = "sum",
               class_weight: Any = None) -> None:
    head = V2.classifier_head(n_classes,
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
               feature_columns: Any,
               model_dir: str | os.PathLike | None = None,
               label_dimension: int = 1,
               weight_column: Any = None,
               optimizer: Any = "Ftrl",
               config: RunConfig | None = None,
               warm_start_from: Any = None,
               loss_reduction: str = head_base.SUM_OVER_BATCH_SIZE,
               sparse_combiner: str = "sum") -> None:
    head = V2.regression_head(label_dimension, weight_column, loss_reduction)
    super().__init__(head,
                     feature_columns,
                     model_dir=model_dir,
                     optimizer=optimizer,
                     config=config,
                     sparse_combiner=sparse_combiner,
                     warm_start_from=warm_start_from)
