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
  """A bias-only model with a user-given head.

  Args:
    head: the estweight head (e.g. `MultiLabelHead`) giving loss, predictions
      and metrics.
    model_dir: where checkpoints and summaries live; `None` uses
      `config.model_dir`, else a temporary directory.
    optimizer: 'Adagrad', 'Adam', 'Ftrl', 'RMSProp' or 'SGD' (learning rate
      0.3); a tf_keras legacy, Keras 3 or `tf.compat.v1.train` optimizer
      instance or class; or a zero-argument callable returning one.
    config: a `RunConfig`; `None` means `RunConfig()`.

  Raises:
    ValueError: `head` is not an estweight head, or another argument is
      invalid (e.g. an unknown optimizer name).
  """

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
  """Predicts the (weighted) class distribution of the training labels.

  Args:
    model_dir: where checkpoints and summaries live; `None` uses
      `config.model_dir`, else a temporary directory.
    n_classes: number of classes, at least 2 (2: a sigmoid head, more: a
      softmax head).
    weight_column: a feature key or `numeric_column` holding example weights;
      `None` weighs examples by the input's third element, if any, else 1.
    label_vocabulary: the class names, when labels are strings (`n_classes`
      unique strings); `None` expects integer class ids in `[0, n_classes)`.
    optimizer: 'Adagrad', 'Adam', 'Ftrl', 'RMSProp' or 'SGD' (learning rate
      0.3); a tf_keras legacy, Keras 3 or `tf.compat.v1.train` optimizer
      instance or class; or a zero-argument callable returning one.
    config: a `RunConfig`; `None` means `RunConfig()`.
    loss_reduction: how weighted per-example losses become the loss:
      'sum_over_batch_size' (the default), 'sum', 'auto' or a
      `tf.compat.v1.losses.Reduction` other than NONE.
    class_weight: `None`, 'balanced' (counted in one pass over the training
      input), a dict from class id (or name, with `label_vocabulary`) to
      weight (missing classes weigh 1), or an `estweight.weights.ClassWeight`.

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
  """Predicts the (weighted) mean of the training labels.

  Args:
    model_dir: where checkpoints and summaries live; `None` uses
      `config.model_dir`, else a temporary directory.
    label_dimension: number of regression targets per example.
    weight_column: a feature key or `numeric_column` holding example weights;
      `None` weighs examples by the input's third element, if any, else 1.
    optimizer: 'Adagrad', 'Adam', 'Ftrl', 'RMSProp' or 'SGD' (learning rate
      0.3); a tf_keras legacy, Keras 3 or `tf.compat.v1.train` optimizer
      instance or class; or a zero-argument callable returning one.
    config: a `RunConfig`; `None` means `RunConfig()`.
    loss_reduction: how weighted per-example losses become the loss:
      'sum_over_batch_size' (the default), 'sum', 'auto' or a
      `tf.compat.v1.losses.Reduction` other than NONE.

  Raises:
    ValueError: an invalid argument (e.g. an unknown optimizer name).
  """

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
