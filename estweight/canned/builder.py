"""Assembles canned model_fns from logit builders, optimizers and a head."""
from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sized

import tensorflow as tf

from estweight.canned import networks
from estweight.canned import optimizers as optimizers_lib
from estweight.mode_keys import ModeKeys

if TYPE_CHECKING:
  from estweight.canned.heads import base as head_base


@dataclasses.dataclass
class Tower:
  """One part of a canned model: its logits and its optimizer.

  Attributes:
    name: 'dnn', 'linear' or 'baseline'.
    logits_fn: `(features, mode) -> (logits, variables, update_ops)`.
    optimizer: a name, instance, class or callable (see optimizers.py).
    learning_rate: learning rate for optimizer names (None: the class
      default).
  """
  name: str
  logits_fn: Callable[..., Any]
  optimizer: Any
  learning_rate: float | None = None

  def __post_init__(self):
    self.optimizer = optimizers_lib.eager_prepare(self.optimizer)


def linear_default_learning_rate(feature_columns: Sized,
                                 cap: float = 0.2) -> float:
  """tf.estimator's Ftrl default for `optimizer=None`: min(cap, 1/sqrt(n))."""
  return min(cap, 1.0 / math.sqrt(len(feature_columns)))


def check_optimizer(optimizer: Any,
                    *,
                    arg: str = "optimizer",
                    v1: bool = False) -> None:
  """Fails early (at construction) on an unknown optimizer name."""
  names = (optimizers_lib.V1_OPTIMIZER_NAMES
           if v1 else optimizers_lib.OPTIMIZER_NAMES)
  if isinstance(optimizer, str) and optimizer not in names:
    raise ValueError(f"Unsupported optimizer name for `{arg}`: {optimizer!r}."
                     f" Supported names are: {tuple(sorted(names))}. "
                     f"Received: {arg}={optimizer!r}.")


def make_model_fn(head: head_base.Head,
                  towers: Iterable[Tower],
                  *,
                  v1: bool = False) -> Callable[..., Any]:
  """A model_fn summing the towers' logits and training each tower's
  variables with its own optimizer (the first one counts global steps)."""
  towers = list(towers)

  def model_fn(features, labels, mode, config, weights=None):
    del config
    networks.check_features(features)
    features = with_input_weights(features, weights)
    logits, variables, updates = [], [], []
    for tower in towers:
      tower_logits, tower_vars, tower_updates = tower.logits_fn(features, mode)
      logits.append(tower_logits)
      variables.append(tower_vars)
      updates.extend(tower_updates or [])
    total = logits[0] if len(logits) == 1 else tf.add_n(logits)

    train_op_fn = None
    if mode == ModeKeys.TRAIN:
      optimizers = [
          optimizers_lib.get_optimizer_instance(t.optimizer,
                                                t.learning_rate,
                                                v1=v1) for t in towers
      ]
      optimizers_lib.tie_to_global_step(optimizers[0])

      def train_op_fn(loss):
        ops = []
        for i, (opt, var_list) in enumerate(zip(optimizers, variables)):
          ops.append(
              optimizers_lib.minimize(opt, loss, var_list,
                                      count_steps=(i == 0)))
        return tf.group(*ops)

    return head.create_estimator_spec(features=features,
                                      mode=mode,
                                      logits=total,
                                      labels=labels,
                                      train_op_fn=train_op_fn,
                                      update_ops=updates)

  return model_fn


def with_input_weights(features: Mapping[str, Any],
                       weights: Any) -> Mapping[str, Any]:
  """Features with the weights of a (features, labels, weights) input added
  under the key the heads read when they have no weight_column."""
  if weights is None:
    return features
  from estweight.canned.heads.base import SAMPLE_WEIGHT_KEY  # pylint: disable=g-import-not-at-top
  return dict(features, **{SAMPLE_WEIGHT_KEY: weights})
