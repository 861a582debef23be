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
  """A linear model with a user-given head.

  Args:
    head: the estweight head (e.g. `MultiLabelHead`) giving loss, predictions
      and metrics.
    feature_columns: the input's `tf.feature_column` (v2) columns, dense or
      categorical.
    model_dir: where checkpoints and summaries live; `None` uses
      `config.model_dir`, else a temporary directory.
    optimizer: 'Adagrad', 'Adam', 'Ftrl', 'RMSProp' or 'SGD' (learning rate
      0.2); `None`: Ftrl at min(0.2, 1/sqrt(number of columns)); a
      `LinearSDCA` (binary classifier or one-target regressor only); a
      tf_keras legacy, Keras 3 or `tf.compat.v1.train` optimizer instance or
      class; or a zero-argument callable returning one.
    config: a `RunConfig`; `None` means `RunConfig()`.
    sparse_combiner: how the weights of a categorical column with several
      values per example combine: 'sum', 'mean' or 'sqrtn'.
    warm_start_from: a checkpoint path or directory, a SavedModel directory or
      a `WarmStartSettings` to start from; used only while `model_dir` has no
      checkpoint.

  Raises:
    ValueError: `head` is not an estweight head, or another argument is
      invalid (e.g. an unknown optimizer name).
  """

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
  """Linear (logistic / softmax) classifier; Ftrl at 0.2 by default.

  Args:
    feature_columns: the input's `tf.feature_column` (v2) columns, dense or
      categorical.
    model_dir: where checkpoints and summaries live; `None` uses
      `config.model_dir`, else a temporary directory.
    n_classes: number of classes, at least 2 (2: a sigmoid head, more: a
      softmax head).
    weight_column: a feature key or `numeric_column` holding example weights;
      `None` weighs examples by the input's third element, if any, else 1.
    label_vocabulary: the class names, when labels are strings (`n_classes`
      unique strings); `None` expects integer class ids in `[0, n_classes)`.
    optimizer: 'Adagrad', 'Adam', 'Ftrl', 'RMSProp' or 'SGD' (learning rate
      0.2); `None`: Ftrl at min(0.2, 1/sqrt(number of columns)); a
      `LinearSDCA` (binary classifier or one-target regressor only); a
      tf_keras legacy, Keras 3 or `tf.compat.v1.train` optimizer instance or
      class; or a zero-argument callable returning one.
    config: a `RunConfig`; `None` means `RunConfig()`.
    warm_start_from: a checkpoint path or directory, a SavedModel directory or
      a `WarmStartSettings` to start from; used only while `model_dir` has no
      checkpoint.
    loss_reduction: how weighted per-example losses become the loss:
      'sum_over_batch_size' (the default), 'sum', 'auto' or a
      `tf.compat.v1.losses.Reduction` other than NONE.
    sparse_combiner: how the weights of a categorical column with several
      values per example combine: 'sum', 'mean' or 'sqrtn'.
    class_weight: `None`, 'balanced' (counted in one pass over the training
      input), a dict from class id (or name, with `label_vocabulary`) to
      weight (missing classes weigh 1), or an `estweight.weights.ClassWeight`.

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
  """Linear regressor of `label_dimension` targets; Ftrl at 0.2 by default.

  Args:
    feature_columns: the input's `tf.feature_column` (v2) columns, dense or
      categorical.
    model_dir: where checkpoints and summaries live; `None` uses
      `config.model_dir`, else a temporary directory.
    label_dimension: number of regression targets per example.
    weight_column: a feature key or `numeric_column` holding example weights;
      `None` weighs examples by the input's third element, if any, else 1.
    optimizer: 'Adagrad', 'Adam', 'Ftrl', 'RMSProp' or 'SGD' (learning rate
      0.2); `None`: Ftrl at min(0.2, 1/sqrt(number of columns)); a
      `LinearSDCA` (binary classifier or one-target regressor only); a
      tf_keras legacy, Keras 3 or `tf.compat.v1.train` optimizer instance or
      class; or a zero-argument callable returning one.
    config: a `RunConfig`; `None` means `RunConfig()`.
    warm_start_from: a checkpoint path or directory, a SavedModel directory or
      a `WarmStartSettings` to start from; used only while `model_dir` has no
      checkpoint.
    loss_reduction: how weighted per-example losses become the loss:
      'sum_over_batch_size' (the default), 'sum', 'auto' or a
      `tf.compat.v1.losses.Reduction` other than NONE.
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
