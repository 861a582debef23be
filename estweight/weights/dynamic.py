"""DynamicClassWeights: class weights that follow the per-class training loss.

Seed 002's "trainable sample weights" (gradient descent on the weights of
the very loss they scale) drive every weight to its lower clip: the loss
falls fastest by ignoring examples. This scheme adapts instead by
re-weighting toward the classes the model currently fits worst:

- keep `ema_c`, an exponential moving average (momentum m) of the mean
  unweighted loss of class c over the training batches that contain c;
- weight of class c = clip((ema_c / mean_k ema_k) ** power,
  min_weight, max_weight), so weights average about 1;
- the averages are variables (`dynamic_class_weights/loss_ema`), saved in
  checkpoints, so a resumed job continues with the same weights.

Weights are fixed within a step (computed before the update) and are not
trained by gradients.
"""
from __future__ import annotations

from typing import Any

import tensorflow as tf

_v1 = tf.compat.v1


class DynamicClassWeights:
  """Loss-based online class re-weighting (see module docstring).

  Args:
    momentum: EMA momentum in [0, 1); higher adapts more slowly.
    power: exponent on the relative class loss; 0 disables re-weighting.
    min_weight, max_weight: clip range of a class weight.
  """

  def __init__(self,
               momentum: float = 0.9,
               power: float = 1.0,
               min_weight: float = 0.1,
               max_weight: float = 10.0):
    if not 0 <= momentum < 1:
      raise ValueError("`momentum` must be in [0, 1). Received: "
                       f"momentum={momentum!r}.")
    if power < 0:
      raise ValueError(f"`power` must be >= 0. Received: power={power!r}.")
    if not 0 < min_weight <= 1 <= max_weight:
      raise ValueError("Need 0 < min_weight <= 1 <= max_weight. Received: "
                       f"min_weight={min_weight!r}, max_weight={max_weight!r}.")
    self.momentum = momentum
    self.power = power
    self.min_weight = min_weight
    self.max_weight = max_weight

  def build(self, class_ids: Any, per_example_loss: Any,
            n_classes: int) -> tuple[tf.Tensor, Any]:
    """Returns (per-example weights [batch_size], EMA update op).

    Args:
      class_ids: int [batch_size] labels.
      per_example_loss: unweighted loss [batch_size].
      n_classes: number of classes.
    """
    with _v1.variable_scope("dynamic_class_weights", reuse=_v1.AUTO_REUSE):
      ema = _v1.get_variable("loss_ema", [n_classes],
                             trainable=False,
                             initializer=_v1.ones_initializer())
    class_weights = self.class_weights(ema)
    per_example = tf.gather(tf.stop_gradient(class_weights), class_ids)
    one_hot = tf.one_hot(class_ids, n_classes, dtype=tf.float32)
    counts = tf.reduce_sum(one_hot, axis=0)
    sums = tf.reduce_sum(one_hot * tf.stop_gradient(per_example_loss)[:, None],
                         axis=0)
    batch_mean = tf.math.divide_no_nan(sums, counts)
    present = counts > 0
    updated = tf.where(present,
                       self.momentum * ema + (1 - self.momentum) * batch_mean,
                       ema)
    with tf.control_dependencies([per_example]):
      update = _v1.assign(ema, updated)
    return per_example, update

  def class_weights(self, ema: Any) -> tf.Tensor:
    """[n_classes] weights from the classes' loss EMA `ema`: each class's
    loss relative to the mean, to the `power`, clipped to
    [min_weight, max_weight].

    Args:
      ema: the [n_classes] moving averages of each class's per-example loss.

    Returns:
      A [n_classes] Tensor of class weights.
    """
    relative = tf.math.divide_no_nan(ema, tf.reduce_mean(ema))
    return tf.clip_by_value(tf.pow(relative, self.power), self.min_weight,
                            self.max_weight)
