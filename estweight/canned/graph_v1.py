"""The graph of the compat.v1 canned estimators, as tf.estimator 2.15 built it.

Variables come from variable scopes with partitioners (so slots are named
e.g. `dnn/hiddenlayer_0/kernel/t_0/Adagrad`), the layers are the TF1 ones
tf_keras still ships, and each optimizer finds its variables in the
TRAINABLE_VARIABLES collection under its tower's scope.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import tensorflow as tf
import tf_keras.api._v1.keras as _keras_v1

from estweight.canned import builder
from estweight.canned import networks
from estweight.canned import optimizers as optimizers_lib
from estweight.mode_keys import ModeKeys

if TYPE_CHECKING:
  from estweight.canned.heads import base as head_base

_v1 = tf.compat.v1
# The TF1 layers (`tf.compat.v1.layers`), as tf_keras ships them.
_layers = _keras_v1.__internal__.legacy.layers
# The towers whose update tf.estimator 2.15 built at the root scope.
_ROOT_SCOPE_UPDATES = ("baseline",)


@dataclasses.dataclass
class Tower(builder.Tower):
  """A v1 tower: `logits_fn(features, mode, config) -> logits`; its
  variables are the trainable ones under the scope `name`."""

  def __post_init__(self):
    pass  # the optimizer is taken as given, as tf.estimator 2.15 did


def _default_partitioner(config, min_slice_size=None):
  kwargs = {"max_partitions": config.num_ps_replicas if config else 0}
  if min_slice_size:
    kwargs["min_slice_size"] = min_slice_size
  return _v1.min_max_variable_partitioner(**kwargs)


def dnn_logits_fn(*, input_layer_partitioner: Any,
                  **kwargs: Any) -> Callable[..., Any]:
  """`logits_fn` of a v1 DNN tower (see `dnn_layers` for the arguments)."""
  return functools.partial(_dnn_logits,
                           input_layer_partitioner=input_layer_partitioner,
                           **kwargs)


def _dnn_logits(features, mode, config, *, input_layer_partitioner, **kwargs):
  with _v1.variable_scope("dnn", partitioner=_default_partitioner(config)):
    partitioner = input_layer_partitioner or _default_partitioner(
        config, min_slice_size=64 << 20)
    return dnn_layers(features,
                      mode,
                      input_layer_partitioner=partitioner,
                      **kwargs)


def dnn_layers(features: Mapping[str, Any], mode: str, *, units: int,
               hidden_units: Sequence[int], feature_columns: Any,
               activation_fn: Any, dropout: float | None, batch_norm: bool,
               input_layer_partitioner: Any) -> tf.Tensor:
  """The v1 DNN's layers in the current variable scope; its logits."""
  training = mode == ModeKeys.TRAIN
  with _v1.variable_scope("input_from_feature_columns",
                          partitioner=input_layer_partitioner):
    net = _keras_v1.layers.DenseFeatures(feature_columns,
                                         name="input_layer")(features,
                                                             training=training)
  for i, n in enumerate(hidden_units):
    with _v1.variable_scope(f"hiddenlayer_{i}") as scope:
      net = _layers.Dense(n,
                          activation=activation_fn,
                          kernel_initializer=_v1.glorot_uniform_initializer(),
                          name=scope,
                          _scope=scope)(net)
      if dropout is not None and training:
        net = _layers.Dropout(rate=dropout)(net, training=True)
      if batch_norm:
        net = _layers.BatchNormalization(momentum=0.999,
                                         trainable=True,
                                         name=f"batchnorm_{i}",
                                         _scope=f"batchnorm_{i}")(
                                             net, training=training)
    networks.add_layer_summary(net, scope.name)
  with _v1.variable_scope("logits") as scope:
    logits = _layers.Dense(units,
                           kernel_initializer=_v1.glorot_uniform_initializer(),
                           name=scope,
                           _scope=scope)(net)
  networks.add_layer_summary(logits, scope.name)
  return logits


def linear_logits_fn(*, units: int, feature_columns: Any, sparse_combiner: str,
                     partitioner: Any) -> Callable[..., Any]:
  """`logits_fn` of a v1 linear tower."""
  return functools.partial(_linear_logits,
                           units=units,
                           feature_columns=feature_columns,
                           sparse_combiner=sparse_combiner,
                           partitioner=partitioner)


def _linear_logits(features, mode, config, *, units, feature_columns,
                   sparse_combiner, partitioner):
  del mode
  partitioner = partitioner or _default_partitioner(config, 64 << 20)
  logits, _ = networks.linear_logits(features,
                                     units=units,
                                     feature_columns=feature_columns,
                                     sparse_combiner=sparse_combiner,
                                     partitioner=partitioner)
  return logits


def baseline_logits_fn(*, units: int,
                       weight_key: str | None) -> Callable[..., Any]:
  """`logits_fn` of a v1 baseline: a bias from `baseline/bias`."""
  return functools.partial(_baseline_logits, units=units, weight_key=weight_key)


def _baseline_logits(features, mode, config, *, units, weight_key):
  del mode, config
  batch_size = networks.batch_size_of(features, weight_key)
  with _v1.variable_scope("baseline"):
    bias = _v1.get_variable("bias",
                            shape=[units],
                            initializer=_v1.zeros_initializer())
  return tf.math.multiply(bias, tf.ones(tf.stack([batch_size, units])))


def make_model_fn(head: head_base.Head,
                  towers: Iterable[builder.Tower],
                  *,
                  combined: bool = False) -> Callable[..., Any]:
  """A model_fn over v1 towers.

  Single models build their update inside the model's variable scope, as
  tf.estimator 2.15 did: that is where its slot names come from
  (dnn/.../kernel/t_0/Adagrad, linear/.../weights/part_0/Ftrl); the
  baseline builds it at the root. Combined models minimize at the root and
  count the step once, after both updates.
  """
  towers = list(towers)

  def model_fn(features, labels, mode, config, weights=None):
    networks.check_features(features)
    features = builder.with_input_weights(features, weights)
    logits = [tower.logits_fn(features, mode, config) for tower in towers]
    total = logits[0] if len(logits) == 1 else tf.add_n(logits)
    train_op_fn = None
    if mode == ModeKeys.TRAIN:

      def train_op_fn(loss):
        ops = []
        for tower in towers:
          optimizer = optimizers_lib.get_optimizer_instance(tower.optimizer,
                                                            tower.learning_rate,
                                                            v1=True)
          var_list = _v1.get_collection(_v1.GraphKeys.TRAINABLE_VARIABLES,
                                        scope=tower.name)
          in_scope = not combined and tower.name not in _ROOT_SCOPE_UPDATES
          with _v1.variable_scope(
              tower.name if in_scope else _v1.get_variable_scope()):
            ops.append(
                optimizers_lib.minimize(optimizer,
                                        loss,
                                        var_list,
                                        count_steps=not combined))
        if not combined:
          return ops[0]
        with tf.control_dependencies([tf.group(*ops)]):
          return _v1.assign_add(_v1.train.get_global_step(), 1).op

    update_ops = _v1.get_collection(_v1.GraphKeys.UPDATE_OPS)
    return head.create_estimator_spec(features=features,
                                      mode=mode,
                                      logits=total,
                                      labels=labels,
                                      train_op_fn=train_op_fn,
                                      update_ops=update_ops)

  return model_fn
