"""LinearSDCA: stochastic dual coordinate ascent for linear estimators.

`LinearSDCA(...)` is passed as `optimizer=` to `LinearClassifier` (binary),
`LinearRegressor` (one label) or `LinearEstimator` (a `BinaryClassHead` or
`RegressionHead`). Training then runs TensorFlow's SDCA kernel
(`SdcaOptimizerV2`) instead of gradient steps. Checkpoints hold what
tf.estimator 2.15 wrote: the linear model's variables
(`linear/linear_model/<col>/weights`, `.../bias_weights`), their unshrunk
copies (`<name>_unshrunk`, the solver's primal weights before L1 shrinkage)
and the per-example dual state table
(`ShardedMutableHashTable-<i>-of-<n>-keys` / `-values`).

The kernel visits a batch's examples in random order, so batches of more
than one example do not train reproducibly (in tf.estimator 2.15 either).
"""
from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any, Callable

import tensorflow as tf

from estweight.canned import builder
from estweight.canned import networks
from estweight.canned.heads import classification
from estweight.canned.heads import regression
from estweight.mode_keys import ModeKeys
from estweight.spec import EstimatorSpec

if TYPE_CHECKING:
  from estweight.canned.heads import base as head_base

_v1 = tf.compat.v1
_fc = tf.__internal__.feature_column
_TABLE_NAME = "ShardedMutableHashTable"
# The dual state of an example: [dual, primal loss, dual loss, weight].
_STATE_SIZE = 4


class LinearSDCA:
  """SDCA settings for the linear canned estimators (pass as `optimizer=`).

  It is not a `tf.keras` or `tf.compat.v1.train` optimizer: only
  `LinearClassifier` (n_classes=2), `LinearRegressor` (label_dimension=1)
  and `LinearEstimator` with a binary or regression head accept it.

  Args:
    example_id_column: the feature key holding a unique string id per
      example (the solver keeps one dual variable per id).
    num_loss_partitions: number of workers training concurrently.
    num_table_shards: shards of the per-example state table (None: 1).
    symmetric_l1_regularization: L1 strength, >= 0.
    symmetric_l2_regularization: L2 strength, > 0 (typically >= 1).
    adaptive: sample examples adaptively by their duality gap.

  Raises:
    ValueError: a regularization strength, partition or shard count out of
      range.
  """

  def __init__(self,
               example_id_column: str,
               num_loss_partitions: int = 1,
               num_table_shards: int | None = None,
               symmetric_l1_regularization: float = 0.0,
               symmetric_l2_regularization: float = 1.0,
               adaptive: bool = False) -> None:
    _check_count("num_loss_partitions", num_loss_partitions)
    if num_table_shards is not None:
      _check_count("num_table_shards", num_table_shards)
    if not symmetric_l1_regularization >= 0.0:
      raise ValueError("`symmetric_l1_regularization` must be >= 0. Received: "
                       "symmetric_l1_regularization="
                       f"{symmetric_l1_regularization!r}.")
    if not symmetric_l2_regularization > 0.0:
      raise ValueError("`symmetric_l2_regularization` must be > 0. Received: "
                       "symmetric_l2_regularization="
                       f"{symmetric_l2_regularization!r}.")
    self._example_id_column = example_id_column
    self._num_loss_partitions = num_loss_partitions
    self._num_table_shards = num_table_shards
    self._symmetric_l1_regularization = symmetric_l1_regularization
    self._symmetric_l2_regularization = symmetric_l2_regularization
    self._adaptive = adaptive

  def __repr__(self):
    return (f"LinearSDCA(example_id_column={self._example_id_column!r}, "
            f"num_loss_partitions={self._num_loss_partitions}, "
            f"num_table_shards={self._num_table_shards}, "
            f"symmetric_l1_regularization="
            f"{self._symmetric_l1_regularization}, "
            f"symmetric_l2_regularization="
            f"{self._symmetric_l2_regularization}, "
            f"adaptive={self._adaptive})")


def _check_count(name, value):
  if (isinstance(value, bool) or not isinstance(value, numbers.Integral) or
      value < 1):
    raise ValueError(f"`{name}` must be a positive integer. Received: "
                     f"{name}={value!r}.")


def loss_type_of(head: head_base.Head) -> str:
  """The SDCA loss for `head`: logistic (binary) or squared (regression).

  Raises:
    ValueError: any other head, or a regression head of several labels.
  """
  if isinstance(head, classification.BinaryClassHead):
    return "logistic_loss"
  if isinstance(head, regression.RegressionHead):
    if head.logits_dimension != 1:
      raise ValueError("LinearSDCA can only be used with one-dimensional "
                       f"labels. Received: label_dimension="
                       f"{head.logits_dimension}.")
    return "squared_loss"
  if isinstance(head, classification.MultiClassHead):
    raise ValueError("LinearSDCA cannot be used in a multi-class setting; "
                     "use n_classes=2 or another optimizer. Received: "
                     f"n_classes={head.logits_dimension}.")
  raise ValueError("LinearSDCA needs a BinaryClassHead or a RegressionHead. "
                   f"Received: head={head!r}.")


def make_sdca_model_fn(head: head_base.Head, feature_columns: Any,
                       optimizer: LinearSDCA,
                       sparse_combiner: str) -> Callable[..., Any]:
  """The model_fn of a linear estimator trained by `optimizer` (LinearSDCA).

  Raises:
    ValueError: an unsupported head, or `sparse_combiner` other than 'sum'.
  """
  if sparse_combiner != "sum":
    raise ValueError("`sparse_combiner` must be 'sum' when the optimizer is a "
                     f"LinearSDCA. Received: sparse_combiner="
                     f"{sparse_combiner!r}.")
  loss_type = loss_type_of(head)
  columns = networks.check_feature_columns(feature_columns)

  def model_fn(features, labels, mode, config, weights=None):
    del config
    networks.check_features(features)
    features = builder.with_input_weights(features, weights)
    logits, variables = networks.linear_logits(features,
                                               units=1,
                                               feature_columns=columns,
                                               sparse_combiner="sum")
    if mode != ModeKeys.TRAIN:
      return head.create_estimator_spec(features=features,
                                        mode=mode,
                                        logits=logits,
                                        labels=labels)
    by_name = {v.op.name: v for v in variables}
    train_op, update_op = _SdcaGraph(
        optimizer, loss_type, columns, by_name).build(
            features, labels,
            tf.reshape(head.weights(features, logits), [-1]) *
            tf.ones_like(logits[:, 0]))
    spec = head.create_estimator_spec(features=features,
                                      mode=mode,
                                      logits=logits,
                                      labels=labels,
                                      train_op_fn=lambda _: train_op)
    hooks = tuple(spec.training_chief_hooks or
                  ()) + (_UpdateWeightsHook(update_op),)
    return EstimatorSpec(**dict(spec._asdict(), training_chief_hooks=hooks))

  return model_fn


class _UpdateWeightsHook(_v1.train.SessionRunHook):
  """Copies the solver's weights (shrunk by L1) into the model's weights
  in every training step, after the SDCA step."""

  def __init__(self, update_op):
    self._update_op = update_op

  def before_run(self, run_context):
    del run_context
    return _v1.train.SessionRunArgs(self._update_op)


class _ShardedTable:
  """Dense hash tables of per-example state, sharded by the first key
  column (`|key[0]| mod num_shards`); saved as `<name>-<i>-of-<n>-...`."""

  def __init__(self, num_shards):
    self._num_shards = num_shards
    with tf.name_scope(_TABLE_NAME):
      self._shards = [
          tf.lookup.experimental.DenseHashTable(
              key_dtype=tf.int64,
              value_dtype=tf.float32,
              default_value=[0.0] * _STATE_SIZE,
              empty_key=[0, 0],
              deleted_key=[1, 1],
              name=f"{_TABLE_NAME}-{i + 1}-of-{num_shards}")
          for i in range(num_shards)
      ]

  def _shard_of(self, keys):
    return tf.cast(tf.math.floormod(tf.abs(keys[:, 0]), self._num_shards),
                   tf.int32)

  def lookup(self, keys):
    if self._num_shards == 1:
      return self._shards[0].lookup(keys)
    shard = self._shard_of(keys)
    parts = tf.dynamic_partition(keys, shard, self._num_shards)
    positions = tf.dynamic_partition(tf.range(tf.shape(keys)[0]), shard,
                                     self._num_shards)
    found = [t.lookup(p) for t, p in zip(self._shards, parts)]
    return tf.dynamic_stitch(positions, found)

  def insert(self, keys, values):
    if self._num_shards == 1:
      return self._shards[0].insert(keys, values)
    shard = self._shard_of(keys)
    key_parts = tf.dynamic_partition(keys, shard, self._num_shards)
    value_parts = tf.dynamic_partition(values, shard, self._num_shards)
    return tf.group(*[
        t.insert(k, v) for t, k, v in zip(self._shards, key_parts, value_parts)
    ])

  def size(self):
    return tf.add_n([t.size() for t in self._shards])

  def exported_values(self):
    return [t.export()[1] for t in self._shards]


def _unique_sparse_ids(id_weight_pair):
  """(example indices, feature ids, values) of a categorical column, with
  out-of-vocabulary ids (< 0) dropped and repeated ids of one example merged
  (their values summed)."""
  ids = id_weight_pair.id_tensor
  if id_weight_pair.weight_tensor is not None:
    values = id_weight_pair.weight_tensor.values
  else:
    values = tf.ones([tf.shape(ids.indices)[0]], tf.float32)
  examples = ids.indices[:, 0]
  feature_ids = tf.cast(tf.reshape(ids.values, [-1]), tf.int64)
  valid = feature_ids >= 0
  examples = tf.boolean_mask(examples, valid)
  feature_ids = tf.boolean_mask(feature_ids, valid)
  values = tf.boolean_mask(values, valid)
  # One key per (example, id) pair; tf.unique keeps first-seen order.
  width = tf.reduce_max(feature_ids) + 1
  keys, slot = tf.unique(examples * width + feature_ids)
  count = tf.shape(keys)[0]
  examples = tf.math.unsorted_segment_min(examples, slot, count)
  return (examples, keys - width * examples,
          tf.math.unsorted_segment_sum(values, slot, count))


class _SdcaGraph:
  """Builds one SDCA step over a batch, and the op that copies its result
  into the model's variables."""

  def __init__(self, optimizer, loss_type, columns, variables_by_name):
    self._opt = optimizer
    self._loss_type = loss_type
    self._columns = columns
    self._vars = variables_by_name

  def _variable(self, name):
    full = f"linear/linear_model/{name}"
    if full not in self._vars:
      raise ValueError(f"LinearSDCA found no variable {full!r} in the linear "
                       f"model (it has {sorted(self._vars)}).")
    return self._vars[full]

  def _inputs(self, features):
    """(sparse columns, sparse weights, dense tensors, dense weights)."""
    cache = _fc.FeatureTransformationCache(features)
    state = _LinearModelState(self._variable)
    sparse, sparse_vars, dense, dense_vars = [], [], [], []
    for column in sorted(self._columns, key=lambda c: c.name):
      if hasattr(column, "get_sparse_tensors"):  # categorical (first)
        sparse.append(
            _unique_sparse_ids(column.get_sparse_tensors(cache, state)))
        sparse_vars.append(self._variable(f"{column.name}/weights"))
      elif isinstance(column, _fc.DenseColumn):
        if column.variable_shape.ndims != 1:
          raise ValueError(
              f"LinearSDCA needs dense columns of rank 1. Received: column "
              f"{column.name!r} of shape {column.variable_shape}.")
        dense.append(column.get_dense_tensor(cache, state))
        dense_vars.append(self._variable(f"{column.name}/weights"))
      else:
        raise ValueError("LinearSDCA does not support column type "
                         f"{type(column).__name__} ({column.name!r}).")
    return sparse, sparse_vars, dense, dense_vars

  def build(self, features, labels, example_weights):
    """(train op, weight update op) of one SDCA step."""
    opt = vars(self._opt)  # its settings, by attribute name
    key = opt["_example_id_column"]
    if key not in features:
      raise KeyError(f"LinearSDCA's example_id_column {key!r} is not a "
                     f"feature. Received features: {sorted(features)}.")
    sparse, sparse_vars, dense, dense_vars = self._inputs(features)
    batch_size = tf.shape(example_weights)[0]
    dense.append(tf.ones([batch_size, 1]))
    dense_vars.append(self._variable("bias_weights"))
    graph = _v1.get_default_graph()
    with graph.name_scope(None):  # checkpoint names: <variable>_unshrunk
      sparse_slots = [_unshrunk(v) for v in sparse_vars]
      dense_slots = [_unshrunk(v) for v in dense_vars]
      table = _ShardedTable(opt["_num_table_shards"] or 1)
    model_vars = sparse_vars + dense_vars
    l1 = float(opt["_symmetric_l1_regularization"])
    l2 = float(opt["_symmetric_l2_regularization"])
    _v1.summary.scalar("approximate_duality_gap",
                       _duality_gap(table, model_vars, l1, l2))
    _v1.summary.scalar("examples_seen", table.size())

    with tf.name_scope("sdca/minimize"):
      ids = _v1.train.sdca_fprint(tf.reshape(features[key], [-1]))
      unique_ids = [
          tf.cast(tf.unique(tf.cast(f, tf.int32))[0], tf.int64)
          for _, f, _ in sparse
      ]
      state, sparse_deltas, dense_deltas = tf.raw_ops.SdcaOptimizerV2(
          sparse_example_indices=[e for e, _, _ in sparse],
          sparse_feature_indices=[f for _, f, _ in sparse],
          sparse_feature_values=[v for _, _, v in sparse],
          dense_features=dense,
          example_weights=example_weights,
          example_labels=tf.cast(tf.reshape(labels, [-1]), tf.float32),
          sparse_indices=unique_ids,
          sparse_weights=[
              tf.gather(s, i) for s, i in zip(sparse_slots, unique_ids)
          ],
          dense_weights=[s.read_value() for s in dense_slots],
          example_state_data=table.lookup(ids),
          loss_type=self._loss_type,
          l1=l1,
          l2=l2,
          num_loss_partitions=opt["_num_loss_partitions"],
          num_inner_iterations=1,
          adaptive=bool(opt["_adaptive"]))
      with tf.control_dependencies([state]):
        updates = [table.insert(ids, state)]
        updates += [
            _v1.scatter_add(s, i, d)
            for s, i, d in zip(sparse_slots, unique_ids, sparse_deltas)
        ]
        updates += [
            _v1.assign_add(s, d) for s, d in zip(dense_slots, dense_deltas)
        ]
      with tf.control_dependencies(updates):
        train_op = _v1.assign_add(_v1.train.get_global_step(), 1).op

    with tf.control_dependencies([train_op]):
      copies = [
          v.assign(s) for v, s in zip(model_vars, sparse_slots + dense_slots)
      ]
    if l1 > 0:
      shrinkage = l1 / l2
      with tf.control_dependencies(copies):
        copies = [
            v.assign(tf.sign(v) * tf.maximum(0.0,
                                             tf.abs(v) - shrinkage))
            for v in model_vars
        ]
    return train_op, tf.group(*copies)


class _LinearModelState:
  """Hands feature columns the variables the linear model already made
  (an embedding column's `embedding_weights`, say) instead of new ones."""

  def __init__(self, variable_by_suffix):
    self._variable = variable_by_suffix
    self._resources = {}

  def get_variable(self, feature_column, name):
    return self._variable(f"{feature_column.name}/{name}")

  def add_resource(self, feature_column, name, resource):
    self._resources[(feature_column, name)] = resource

  def has_resource(self, feature_column, name):
    return (feature_column, name) in self._resources

  def get_resource(self, feature_column, name):
    return self._resources[(feature_column, name)]


def _unshrunk(variable):
  return tf.Variable(tf.zeros(variable.shape, tf.float32),
                     name=variable.op.name + "_unshrunk")


def _duality_gap(table, model_vars, l1, l2):
  """(primal loss + dual loss + L1 + L2 penalties) / total example weight,
  over every example the table has seen (float64)."""
  with tf.name_scope("sdca/approximate_duality_gap"):
    sums = tf.add_n([
        tf.reduce_sum(tf.cast(v, tf.float64), 0)
        for v in table.exported_values()
    ])
    weights = [tf.cast(v, tf.float64) for v in model_vars]
    l1_loss = l1 * tf.add_n([tf.reduce_sum(tf.abs(w)) for w in weights])
    l2_loss = l2 * tf.add_n([tf.reduce_sum(tf.square(w)) for w in weights])
    return (sums[1] + sums[2] + l1_loss + l2_loss) / sums[3]
