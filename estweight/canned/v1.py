"""The compat.v1 canned estimators (`tf.compat.v1.estimator.DNNClassifier`...).

Same models as the v2 classes, with the v1 defaults of tf.estimator 2.15:
loss summed over the batch (`loss_reduction='weighted_sum'`),
`tf.compat.v1.train` optimizers (Adagrad at 0.05 for DNNs, Ftrl at 0.2 for
linear models), variables built through variable scopes with partitioners
(so slots are named e.g. `dnn/hiddenlayer_0/kernel/t_0/Adagrad`), and eval
metrics from `tf.compat.v1.metrics`.
"""
from __future__ import annotations

import functools

import tensorflow as tf
import tf_keras.api._v1.keras as _keras_v1

from estweight.canned import builder
from estweight.canned import dnn as dnn_lib
from estweight.canned import heads as heads_lib
from estweight.canned import networks
from estweight.compat.v1 import layers as v1_layers
from estweight.estimator import Estimator
from estweight.mode_keys import ModeKeys

_v1 = tf.compat.v1
V1_SUM = "weighted_sum"
DNN_LEARNING_RATE = 0.05
LINEAR_LEARNING_RATE = 0.2
BASELINE_LEARNING_RATE = 0.3
COMBINED_DNN_LEARNING_RATE = 0.001
COMBINED_LINEAR_LEARNING_RATE = 0.005


def _default_partitioner(config, min_slice_size=None):
  kwargs = {"max_partitions": config.num_ps_replicas if config else 0}
  if min_slice_size:
    kwargs["min_slice_size"] = min_slice_size
  return _v1.min_max_variable_partitioner(**kwargs)


def _dnn_logits_v1(features, mode, config, *, units, hidden_units,
                   feature_columns, activation_fn, dropout, batch_norm,
                   input_layer_partitioner):
  with _v1.variable_scope("dnn", partitioner=_default_partitioner(config)):
    partitioner = input_layer_partitioner or _default_partitioner(
        config, min_slice_size=64 << 20)
    return dnn_layers(features,
                      mode,
                      units=units,
                      hidden_units=hidden_units,
                      feature_columns=feature_columns,
                      activation_fn=activation_fn,
                      dropout=dropout,
                      batch_norm=batch_norm,
                      input_layer_partitioner=partitioner)


def dnn_layers(features, mode, *, units, hidden_units, feature_columns,
               activation_fn, dropout, batch_norm, input_layer_partitioner):
  """The v1 DNN's layers in the current variable scope; its logits."""
  training = mode == ModeKeys.TRAIN
  with _v1.variable_scope("input_from_feature_columns",
                          partitioner=input_layer_partitioner):
    net = _keras_v1.layers.DenseFeatures(feature_columns,
                                         name="input_layer")(features,
                                                             training=training)
  for i, n in enumerate(hidden_units):
    with _v1.variable_scope(f"hiddenlayer_{i}") as scope:
      net = v1_layers.Dense(n,
                            activation=activation_fn,
                            kernel_initializer=_v1.glorot_uniform_initializer(),
                            name=scope,
                            _scope=scope)(net)
      if dropout is not None and training:
        net = v1_layers.Dropout(rate=dropout)(net, training=True)
      if batch_norm:
        net = v1_layers.BatchNormalization(momentum=0.999,
                                           trainable=True,
                                           name=f"batchnorm_{i}",
                                           _scope=f"batchnorm_{i}")(
                                               net, training=training)
    networks.add_layer_summary(net, scope.name)
  with _v1.variable_scope("logits") as scope:
    logits = v1_layers.Dense(
        units,
        kernel_initializer=_v1.glorot_uniform_initializer(),
        name=scope,
        _scope=scope)(net)
  networks.add_layer_summary(logits, scope.name)
  return logits


def _linear_logits_v1(features, config, *, units, feature_columns,
                      sparse_combiner, partitioner):
  partitioner = partitioner or _default_partitioner(config, 64 << 20)
  logits, _ = networks.linear_logits(features,
                                     units=units,
                                     feature_columns=feature_columns,
                                     sparse_combiner=sparse_combiner,
                                     partitioner=partitioner)
  return logits


def _v1_model_fn(head, parts, *, combined=False, in_scope=True):
  """A model_fn over parts `(logits_fn(features, mode, config),
  (optimizer, learning_rate), variable scope)`.

  Single models build their update inside the model's variable scope, as
  tf.estimator 2.15 did: that is where its slot names come from
  (dnn/.../kernel/t_0/Adagrad, linear/.../weights/part_0/Ftrl). Combined
  models minimize at the root and count the step once, after both updates.
  """

  def model_fn(features, labels, mode, config, weights=None):
    networks.check_features(features)
    features = builder.with_input_weights(features, weights)
    logits = [fn(features, mode, config) for fn, _, _ in parts]
    total = logits[0] if len(logits) == 1 else tf.add_n(logits)
    train_op_fn = None
    if mode == ModeKeys.TRAIN:

      def train_op_fn(loss):
        ops = []
        for _, (opt, rate), scope in parts:
          optimizer = builder.optimizers_lib.get_optimizer_instance(opt,
                                                                    rate,
                                                                    v1=True)
          var_list = _v1.get_collection(_v1.GraphKeys.TRAINABLE_VARIABLES,
                                        scope=scope)
          with _v1.variable_scope(
              scope if in_scope and not combined else _v1.get_variable_scope()):
            ops.append(
                builder.optimizers_lib.minimize(optimizer,
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


def _baseline_logits_v1(features, mode, config, *, units, weight_key):
  del mode, config
  batch_size = networks.batch_size_of(features, weight_key)
  with _v1.variable_scope("baseline"):
    bias = _v1.get_variable("bias",
                            shape=[units],
                            initializer=_v1.zeros_initializer())
  return tf.math.multiply(bias, tf.ones(tf.stack([batch_size, units])))


def _dnn_part(units, hidden_units, feature_columns, activation_fn, dropout,
              batch_norm, input_layer_partitioner, optimizer):
  builder.check_optimizer(optimizer, v1=True)
  dnn_lib.check_dropout(dropout)
  fn = functools.partial(_dnn_logits_v1,
                         units=units,
                         hidden_units=dnn_lib.check_hidden_units(hidden_units),
                         feature_columns=networks.check_feature_columns(
                             feature_columns, dense_only=True),
                         activation_fn=activation_fn,
                         dropout=dropout,
                         batch_norm=batch_norm,
                         input_layer_partitioner=input_layer_partitioner)
  return fn, (optimizer, DNN_LEARNING_RATE), "dnn"


def _linear_part(units,
                 feature_columns,
                 sparse_combiner,
                 partitioner,
                 optimizer,
                 cap=LINEAR_LEARNING_RATE):
  columns = networks.check_feature_columns(feature_columns)
  rate = cap
  if optimizer is None:
    optimizer = "Ftrl"
    rate = builder.linear_default_learning_rate(columns, cap=cap)
  builder.check_optimizer(optimizer, v1=True)
  fn = functools.partial(
      _no_mode,
      functools.partial(_linear_logits_v1,
                        units=units,
                        feature_columns=columns,
                        sparse_combiner=sparse_combiner,
                        partitioner=partitioner))
  return fn, (optimizer, rate), "linear"


def _no_mode(fn, features, mode, config):
  del mode
  return fn(features, config)


def _classifier_head(n_classes, weight_column, label_vocabulary,
                     loss_reduction):
  return heads_lib.binary_or_multi_class_head(n_classes, weight_column,
                                              label_vocabulary,
                                              loss_reduction).use_v1_metrics()


def _regression_head(label_dimension, weight_column, loss_reduction):
  return heads_lib.RegressionHead(
      label_dimension=label_dimension,
      weight_column=weight_column,
      loss_reduction=loss_reduction).use_v1_metrics()


class _V1Canned(Estimator):

  def __init__(self,
               head,
               parts,
               model_dir,
               config,
               warm_start_from,
               combined=False,
               in_scope=True):
    super().__init__(model_fn=_v1_model_fn(head,
                                           parts,
                                           combined=combined,
                                           in_scope=in_scope),
                     model_dir=model_dir,
                     config=config,
                     warm_start_from=warm_start_from)


class DNNClassifier(_V1Canned):
  """v1 DNNClassifier: summed loss, AdagradOptimizer(0.05)."""

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
               input_layer_partitioner=None,
               config=None,
               warm_start_from=None,
               loss_reduction=V1_SUM,
               batch_norm=False):
    head = _classifier_head(n_classes, weight_column, label_vocabulary,
                            loss_reduction)
    parts = [
        _dnn_part(head.logits_dimension, hidden_units, feature_columns,
                  activation_fn, dropout, batch_norm, input_layer_partitioner,
                  optimizer)
    ]
    super().__init__(head, parts, model_dir, config, warm_start_from)


class DNNRegressor(_V1Canned):
  """v1 DNNRegressor: summed loss, AdagradOptimizer(0.05)."""

  def __init__(self,
               hidden_units,
               feature_columns,
               model_dir=None,
               label_dimension=1,
               weight_column=None,
               optimizer="Adagrad",
               activation_fn=tf.nn.relu,
               dropout=None,
               input_layer_partitioner=None,
               config=None,
               warm_start_from=None,
               loss_reduction=V1_SUM,
               batch_norm=False):
    head = _regression_head(label_dimension, weight_column, loss_reduction)
    parts = [
        _dnn_part(head.logits_dimension, hidden_units, feature_columns,
                  activation_fn, dropout, batch_norm, input_layer_partitioner,
                  optimizer)
    ]
    super().__init__(head, parts, model_dir, config, warm_start_from)


class LinearClassifier(_V1Canned):
  """v1 LinearClassifier: summed loss, FtrlOptimizer(0.2)."""

  def __init__(self,
               feature_columns,
               model_dir=None,
               n_classes=2,
               weight_column=None,
               label_vocabulary=None,
               optimizer="Ftrl",
               config=None,
               partitioner=None,
               warm_start_from=None,
               loss_reduction=V1_SUM,
               sparse_combiner="sum"):
    head = _classifier_head(n_classes, weight_column, label_vocabulary,
                            loss_reduction)
    parts = [
        _linear_part(head.logits_dimension, feature_columns, sparse_combiner,
                     partitioner, optimizer)
    ]
    super().__init__(head, parts, model_dir, config, warm_start_from)


class LinearRegressor(_V1Canned):
  """v1 LinearRegressor: summed loss, FtrlOptimizer(0.2)."""

  def __init__(self,
               feature_columns,
               model_dir=None,
               label_dimension=1,
               weight_column=None,
               optimizer="Ftrl",
               config=None,
               partitioner=None,
               warm_start_from=None,
               loss_reduction=V1_SUM,
               sparse_combiner="sum"):
    head = _regression_head(label_dimension, weight_column, loss_reduction)
    parts = [
        _linear_part(head.logits_dimension, feature_columns, sparse_combiner,
                     partitioner, optimizer)
    ]
    super().__init__(head, parts, model_dir, config, warm_start_from)


def _baseline_part(head, optimizer):
  builder.check_optimizer(optimizer, v1=True)
  column = head._weight_column  # pylint: disable=protected-access
  key = column if isinstance(column, str) or column is None else column.key
  fn = functools.partial(_baseline_logits_v1,
                         units=head.logits_dimension,
                         weight_key=key)
  return fn, (optimizer, BASELINE_LEARNING_RATE), "baseline"


class BaselineClassifier(_V1Canned):
  """v1 BaselineClassifier: summed loss, FtrlOptimizer(0.3)."""

  def __init__(self,
               model_dir=None,
               n_classes=2,
               weight_column=None,
               label_vocabulary=None,
               optimizer="Ftrl",
               config=None,
               loss_reduction=V1_SUM):
    head = _classifier_head(n_classes, weight_column, label_vocabulary,
                            loss_reduction)
    super().__init__(head, [_baseline_part(head, optimizer)],
                     model_dir,
                     config,
                     None,
                     in_scope=False)


class BaselineRegressor(_V1Canned):
  """v1 BaselineRegressor: summed loss, FtrlOptimizer(0.3)."""

  def __init__(self,
               model_dir=None,
               label_dimension=1,
               weight_column=None,
               optimizer="Ftrl",
               config=None,
               loss_reduction=V1_SUM):
    head = _regression_head(label_dimension, weight_column, loss_reduction)
    super().__init__(head, [_baseline_part(head, optimizer)],
                     model_dir,
                     config,
                     None,
                     in_scope=False)


def _combined_parts(head, linear_feature_columns, linear_optimizer,
                    dnn_feature_columns, dnn_optimizer, dnn_hidden_units,
                    dnn_activation_fn, dnn_dropout, input_layer_partitioner,
                    batch_norm, linear_sparse_combiner):
  linear_feature_columns = list(linear_feature_columns or [])
  dnn_feature_columns = list(dnn_feature_columns or [])
  if not linear_feature_columns and not dnn_feature_columns:
    raise ValueError("Either linear_feature_columns or dnn_feature_columns "
                     "must be defined. Received: both empty.")
  parts = []
  if dnn_feature_columns:
    if not dnn_hidden_units:
      raise ValueError("dnn_hidden_units must be defined when "
                       "dnn_feature_columns is specified. Received: "
                       f"dnn_hidden_units={dnn_hidden_units!r}.")
    fn, (opt, _), scope = _dnn_part(head.logits_dimension, dnn_hidden_units,
                                    dnn_feature_columns, dnn_activation_fn,
                                    dnn_dropout, batch_norm,
                                    input_layer_partitioner, dnn_optimizer)
    parts.append((fn, (opt, COMBINED_DNN_LEARNING_RATE), scope))
  if linear_feature_columns:
    cap = builder.linear_default_learning_rate(
        linear_feature_columns, cap=COMBINED_LINEAR_LEARNING_RATE)
    parts.append(
        _linear_part(head.logits_dimension,
                     linear_feature_columns,
                     linear_sparse_combiner,
                     input_layer_partitioner,
                     linear_optimizer or "Ftrl",
                     cap=cap))
  return parts


class DNNLinearCombinedClassifier(_V1Canned):
  """v1 wide & deep classifier: summed loss, v1 Adagrad and Ftrl."""

  def __init__(self,
               model_dir=None,
               linear_feature_columns=None,
               linear_optimizer="Ftrl",
               dnn_feature_columns=None,
               dnn_optimizer="Adagrad",
               dnn_hidden_units=None,
               dnn_activation_fn=tf.nn.relu,
               dnn_dropout=None,
               n_classes=2,
               weight_column=None,
               label_vocabulary=None,
               input_layer_partitioner=None,
               config=None,
               warm_start_from=None,
               loss_reduction=V1_SUM,
               batch_norm=False,
               linear_sparse_combiner="sum"):
    head = _classifier_head(n_classes, weight_column, label_vocabulary,
                            loss_reduction)
    parts = _combined_parts(head, linear_feature_columns, linear_optimizer,
                            dnn_feature_columns, dnn_optimizer,
                            dnn_hidden_units, dnn_activation_fn, dnn_dropout,
                            input_layer_partitioner, batch_norm,
                            linear_sparse_combiner)
    super().__init__(head,
                     parts,
                     model_dir,
                     config,
                     warm_start_from,
                     combined=True)


class DNNLinearCombinedRegressor(_V1Canned):
  """v1 wide & deep regressor: summed loss, v1 Adagrad and Ftrl."""

  def __init__(self,
               model_dir=None,
               linear_feature_columns=None,
               linear_optimizer="Ftrl",
               dnn_feature_columns=None,
               dnn_optimizer="Adagrad",
               dnn_hidden_units=None,
               dnn_activation_fn=tf.nn.relu,
               dnn_dropout=None,
               label_dimension=1,
               weight_column=None,
               input_layer_partitioner=None,
               config=None,
               warm_start_from=None,
               loss_reduction=V1_SUM,
               batch_norm=False,
               linear_sparse_combiner="sum"):
    head = _regression_head(label_dimension, weight_column, loss_reduction)
    parts = _combined_parts(head, linear_feature_columns, linear_optimizer,
                            dnn_feature_columns, dnn_optimizer,
                            dnn_hidden_units, dnn_activation_fn, dnn_dropout,
                            input_layer_partitioner, batch_norm,
                            linear_sparse_combiner)
    super().__init__(head,
                     parts,
                     model_dir,
                     config,
                     warm_start_from,
                     combined=True)
