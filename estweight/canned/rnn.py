"""RNNClassifier and RNNEstimator (tf.estimator 2.15's experimental names).

A recurrent network over sequence feature columns:
`SequenceFeatures -> (context columns tiled over time) -> RNN -> Dense`.
Variable names are the checkpoint contract with tf.estimator 2.15:
`sequence_features/<col>_embedding/embedding_weights`,
`rnn_model/rnn/<cell>/{kernel,recurrent_kernel,bias}` (stacked cells under
`rnn_model/rnn/stacked_rnn_cells/<cell>[_i]/...`) and
`rnn_model/logits/{kernel,bias}`.

As in 2.15, `cell_type` defaults to 'simple_rnn', and an optimizer given by
name is built with learning rate 0.05 and per-variable gradient clipping at
norm 5 (`clipnorm=5.0`); optimizer instances, classes and callables are used
as they are.
"""
from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import tensorflow as tf
import tf_keras

from estweight.canned import builder
from estweight.canned import heads as heads_lib
from estweight.canned import networks
from estweight.canned import optimizers as optimizers_lib
from estweight.canned.heads import base as head_base
from estweight.estimator import Estimator
from estweight.export import outputs as outputs_lib
from estweight.mode_keys import ModeKeys
from estweight.spec import EstimatorSpec

if TYPE_CHECKING:
  from estweight.run_config import RunConfig

CELL_TYPES = {
    "simple_rnn": tf_keras.layers.SimpleRNNCell,
    "lstm": tf_keras.layers.LSTMCell,
    "gru": tf_keras.layers.GRUCell,
}
DEFAULT_CELL_TYPE = "simple_rnn"
DEFAULT_LEARNING_RATE = 0.05
DEFAULT_CLIP_NORM = 5.0
# `cell_type`'s default: 'simple_rnn' unless `rnn_cell_fn` is given.
USE_DEFAULT = object()

_fc = tf.__internal__.feature_column


# ------------------------------------------------------------ arguments
def check_rnn_args(
    rnn_cell_fn: Callable[..., Any] | None, units: Sequence[int] | None,
    cell_type: Any) -> tuple[Callable[..., Any] | None, list[int] | None, Any]:
  """Validates the cell arguments; returns (rnn_cell_fn, units, cell class).

  Exactly one way to make cells: `rnn_cell_fn`, or `units` with an optional
  `cell_type`.
  """
  if rnn_cell_fn is not None:
    if units is not None or cell_type is not USE_DEFAULT:
      raise ValueError(
          "`units` and `cell_type` must not be specified when using "
          f"`rnn_cell_fn`. Received: units={units!r}, cell_type="
          f"{_describe_default(cell_type)}, rnn_cell_fn={rnn_cell_fn!r}.")
    if not callable(rnn_cell_fn):
      raise TypeError("`rnn_cell_fn` must be a callable returning an RNN "
                      f"cell. Received: rnn_cell_fn={rnn_cell_fn!r}.")
    return rnn_cell_fn, None, None
  if units is None or isinstance(units, (str, int, float)):
    raise TypeError("`units` must be a list of positive integers, one per "
                    "stacked RNN cell (or pass `rnn_cell_fn`). Received: "
                    f"units={units!r}.")
  units = list(units)
  if not units or not all(
      isinstance(u, int) and not isinstance(u, bool) and u > 0 for u in units):
    raise ValueError("`units` must be a non-empty list of positive integers."
                     f" Received: units={units!r}.")
  if cell_type is USE_DEFAULT:
    cell_type = DEFAULT_CELL_TYPE
  if isinstance(cell_type, str) and cell_type in CELL_TYPES:
    cell_class = CELL_TYPES[cell_type]
  elif isinstance(cell_type, type):
    cell_class = _KERAS3_CELLS.get(
        cell_type.__name__, cell_type) if (_is_keras3(cell_type)) else cell_type
  else:
    raise ValueError(
        "`cell_type` must be a class producing an RNN cell or one of "
        f"{sorted(CELL_TYPES)}. Received: cell_type={cell_type!r}.")
  return None, units, cell_class


def _describe_default(value):
  return "(default)" if value is USE_DEFAULT else repr(value)


def check_sequence_columns(columns: Any,
                           arg: str = "sequence_feature_columns") -> list[Any]:
  """Validates sequence dense columns; returns them as a list."""
  if columns is None or isinstance(columns, (str, dict)):
    raise TypeError(f"`{arg}` must be a list of sequence dense columns "
                    "(e.g. tf.feature_column.sequence_numeric_column). "
                    f"Received: {arg}={columns!r}.")
  if isinstance(columns, _fc.FeatureColumn):
    columns = [columns]
  columns = list(columns)
  if not columns:
    raise ValueError(f"`{arg}` must not be empty. Received: {arg}=[].")
  for column in columns:
    if not isinstance(column, _fc.SequenceDenseColumn):
      raise ValueError(
          f"Items of `{arg}` must be sequence dense columns: "
          "sequence_numeric_column, or a sequence_categorical_column_with_* "
          "wrapped in embedding_column or indicator_column. Received: "
          f"{column!r}.")
  return columns


def check_context_columns(columns: Any,
                          arg: str = "context_feature_columns"
                         ) -> list[Any] | None:
  """None, or validated non-sequence dense columns."""
  if columns is None:
    return None
  return list(networks.check_feature_columns(columns, arg=arg, dense_only=True))


def rnn_optimizer(optimizer: Any) -> Any:
  """An optimizer name becomes 2.15's RNN default: learning rate 0.05 and
  per-variable gradient clipping at norm 5; anything else is unchanged."""
  builder.check_optimizer(optimizer)
  if isinstance(optimizer, str):
    return functools.partial(optimizers_lib.OPTIMIZER_NAMES[optimizer],
                             learning_rate=DEFAULT_LEARNING_RATE,
                             clipnorm=DEFAULT_CLIP_NORM)
  return optimizer


# --------------------------------------------------------------- network
_KERAS3_CELLS = {
    "SimpleRNNCell": tf_keras.layers.SimpleRNNCell,
    "LSTMCell": tf_keras.layers.LSTMCell,
    "GRUCell": tf_keras.layers.GRUCell
}
# Keras 3 config keys with no tf_keras counterpart (the graph seed and
# Python's `random` seed tf_keras initializers instead).
_KERAS3_ONLY = ("dtype", "seed", "input_axes", "output_axes")


def _is_keras3(obj) -> bool:
  module = (obj if isinstance(obj, type) else type(obj)).__module__ or ""
  return module == "keras" or module.startswith("keras.")


def _keras2_config(value):
  """A Keras 3 layer config, without what tf_keras does not know."""
  if isinstance(value, dict):
    return {
        k: _keras2_config(v)
        for k, v in value.items()
        if k not in _KERAS3_ONLY and k not in ("module", "registered_name")
    }
  return value


def as_tf_keras_cell(cell: Any) -> Any:
  """`cell` with Keras 3 (TF 2.16+ `tf.keras`) cells replaced by their
  tf_keras twins: Keras 2 RNN layers cannot run Keras 3 cells, and 2.15
  code wrote `tf.keras.layers.LSTMCell(...)` meaning Keras 2."""
  if isinstance(cell, (list, tuple)):
    cells = [as_tf_keras_cell(c) for c in cell]
    return cell if all(a is b for a, b in zip(cells, cell)) else cells
  if not _is_keras3(cell):
    return cell
  name = type(cell).__name__
  if name == "StackedRNNCells":
    return tf_keras.layers.StackedRNNCells(
        [as_tf_keras_cell(c) for c in cell.cells])
  if name not in _KERAS3_CELLS:
    raise ValueError(
        f"`rnn_cell_fn` returned a Keras 3 {name}, which tf_keras RNN layers "
        f"cannot run; return a tf_keras cell (tf_keras.layers.{name}) or one "
        f"of the Keras 3 {sorted(_KERAS3_CELLS)}. Received: {cell!r}.")
  return _KERAS3_CELLS[name].from_config(_keras2_config(cell.get_config()))


def _cell_from_fn(rnn_cell_fn):
  """`rnn_cell_fn()` as tf_keras cells. Keras 3 cells are read for their
  config only; the seed-generator variables their constructors added to the
  graph are dropped, so checkpoints hold the variables 2.15's did."""
  variables = tf.compat.v1.get_default_graph().get_collection_ref(
      tf.compat.v1.GraphKeys.GLOBAL_VARIABLES)
  before = len(variables)
  cell = rnn_cell_fn()
  converted = as_tf_keras_cell(cell)
  if converted is not cell:
    variables[before:] = [
        v for v in variables[before:] if not v.name.startswith("seed_generator")
    ]
  return converted


def make_rnn_layer(rnn_cell_fn: Callable[..., Any] | None, units: Any,
                   cell_class: Any, return_sequences: bool) -> Any:
  """A Keras RNN layer over the cells `rnn_cell_fn()` or `units` make."""
  if rnn_cell_fn is not None:
    cell = _cell_from_fn(rnn_cell_fn)
  elif len(units) == 1:
    cell = cell_class(units=units[0])
  else:
    cell = tf_keras.layers.StackedRNNCells([cell_class(units=n) for n in units])
  return tf_keras.layers.RNN(cell=cell, return_sequences=return_sequences)


def tile_context(context_input: tf.Tensor,
                 sequence_input: tf.Tensor) -> tf.Tensor:
  """`context_input` [batch, d1] repeated at every step of `sequence_input`
  [batch, time, d0], appended to it: [batch, time, d0 + d1]."""
  steps = tf.shape(sequence_input)[1]
  tiled = tf.tile(tf.expand_dims(context_input, 1), tf.stack([1, steps, 1]))
  return tf.concat([sequence_input, tiled], 2)


class RNNModel(tf_keras.Model):
  """Sequence input layer, RNN layer and logits layer, named as in 2.15."""

  def __init__(self,
               rnn_layer: Any,
               units: int,
               sequence_feature_columns: Any,
               context_feature_columns: Any = None,
               name: str = "rnn_model") -> None:
    super().__init__(name=name)
    self._sequence_input = tf_keras.experimental.SequenceFeatures(
        sequence_feature_columns)
    self._context_input = (
        tf_keras.layers.DenseFeatures(context_feature_columns)
        if context_feature_columns else None)
    self._rnn = rnn_layer
    self._logits = tf_keras.layers.Dense(units, name="logits")

  @tf.autograph.experimental.do_not_convert
  def call(self,
           features: Mapping[str, Any],
           training: bool | None = None) -> tuple[tf.Tensor, tf.Tensor]:
    """Returns (logits, sequence mask [batch, time] of real steps)."""
    sequence_input, lengths = self._sequence_input(features, training=training)
    mask = tf.sequence_mask(lengths)
    if self._context_input is not None:
      context = self._context_input(features, training=training)
      sequence_input = tile_context(context, sequence_input)
    outputs = self._rnn(sequence_input, mask=mask, training=training)
    return self._logits(outputs), mask


def rnn_logits(features: Any, mode: str, *, units: int,
               sequence_feature_columns: Any, context_feature_columns: Any,
               cell_args: tuple[Any, Any, Any], return_sequences: bool,
               mask_key: str | None) -> tuple[tf.Tensor, list[Any], list[Any]]:
  """(logits, trainable variables, update ops) of an RNN.

  With `return_sequences`, the mask of real steps is added to `features`
  under `mask_key` (unless input_fn gave one) for the sequential head, as
  tf.estimator 2.15 did.
  """
  rnn_layer = make_rnn_layer(*cell_args, return_sequences=return_sequences)
  model = RNNModel(rnn_layer, units, sequence_feature_columns,
                   context_feature_columns)
  logits, mask = model(features, training=(mode == ModeKeys.TRAIN))
  if return_sequences and mask_key not in features:
    features[mask_key] = mask
  return logits, model.trainable_variables, model.updates


# ------------------------------------------------------- sequential head
class SequentialHeadWrapper(head_base.Head):
  """Makes a head score one prediction per step of a sequence.

  Logits are `[batch, time, d]`; labels (and the weights of the
  `feature_columns` keys) are `[batch, time]` or `[batch, time, 1]`. In
  TRAIN and EVAL, the steps where `features[sequence_length_mask]` is true
  are flattened into one batch for the wrapped head, so padding counts in
  neither loss nor metrics. PREDICT gives the wrapped head's predictions per
  step plus the mask.

  Args:
    static_head: the head scoring each step (e.g. BinaryClassHead()).
    sequence_length_mask: feature key of the `[batch, time]` step mask.
    feature_columns: key(s) of features with one value per step to flatten
      alongside (the wrapped head's weight_column).
  """

  def __init__(self,
               static_head: head_base.Head,
               sequence_length_mask: str = "sequence_mask",
               feature_columns: Any = None) -> None:
    if not isinstance(static_head, head_base.Head) or isinstance(
        static_head, SequentialHeadWrapper):
      raise ValueError("`static_head` must be an estweight head that is not "
                       "already sequential. Received: static_head="
                       f"{static_head!r}.")
    if not isinstance(sequence_length_mask, str):
      raise TypeError("`sequence_length_mask` must be a feature key (str). "
                      "Received: sequence_length_mask="
                      f"{sequence_length_mask!r}.")
    if feature_columns is None:
      keys = []
    elif isinstance(feature_columns, (list, tuple)):
      keys = list(feature_columns)
    else:
      keys = [feature_columns]
    keys = [getattr(k, "key", k) for k in keys]
    if not all(isinstance(k, str) for k in keys):
      raise TypeError("`feature_columns` must be feature keys or numeric "
                      "columns. Received: "
                      f"feature_columns={feature_columns!r}.")
    super().__init__(loss_reduction=static_head.loss_reduction,
                     name=static_head.name)
    self._static_head = static_head
    self._mask_key = sequence_length_mask
    self._flat_keys = keys

  @property
  def static_head(self) -> head_base.Head:
    return self._static_head

  @property
  def input_sequence_mask_key(self) -> str:
    return self._mask_key

  @property
  def logits_dimension(self) -> int:
    return self._static_head.logits_dimension

  def _mask(self, features):
    if not isinstance(features, dict) or self._mask_key not in features:
      keys = sorted(features) if isinstance(features, dict) else features
      raise ValueError(f"The sequence mask {self._mask_key!r} is not in "
                       f"features. Received features with keys {keys!r}.")
    return tf.cast(features[self._mask_key], tf.bool)

  def _flatten(self, features, logits, labels):
    """(features, logits, labels) of the real steps, as one flat batch."""
    mask = self._mask(features)
    logits = tf.convert_to_tensor(logits)
    if logits.shape.rank is not None and logits.shape.rank != 3:
      raise ValueError("Logits must be of shape [batch_size, time, "
                       f"{self.logits_dimension}]. Received: logits shape "
                       f"{logits.shape}.")
    flat_features = dict(features)
    for key in self._flat_keys:
      if key in features:
        flat_features[key] = _flat_per_step(features[key], mask)
    flat_labels = None
    if labels is not None:
      flat_labels = _flat_per_step(labels, mask)
    return flat_features, tf.boolean_mask(logits, mask), flat_labels

  # The abstract Head interface, answered by the wrapped head on flat steps.
  def _processed_labels(self, logits, labels):
    # pylint: disable-next=protected-access
    return self._static_head._processed_labels(logits, labels)

  def _default_unweighted_loss(self, labels, logits):
    # pylint: disable-next=protected-access
    return self._static_head._default_unweighted_loss(labels, logits)

  def loss(
      self,
      labels: Any,
      logits: tf.Tensor,
      features: Any = None,
      mode: str | None = None,
      regularization_losses: Sequence[tf.Tensor] | None = None) -> tf.Tensor:
    features, logits, labels = self._flatten(features, logits, labels)
    return self._static_head.loss(labels, logits, features, mode,
                                  regularization_losses)

  def predictions(self,
                  logits: tf.Tensor,
                  keys: Sequence[str] | None = None) -> dict[str, tf.Tensor]:
    return self._static_head.predictions(logits, keys)

  def export_outputs(self, predictions: Mapping[str, Any]) -> dict[str, Any]:
    output = outputs_lib.PredictOutput(predictions)
    return {
        tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY: output,
        "predict": output
    }

  def eval_metric_ops(
      self, features: Any, logits: tf.Tensor, labels: Any,
      regularization_losses: Sequence[tf.Tensor] | None) -> dict[str, Any]:
    features, logits, labels = self._flatten(features, logits, labels)
    return self._static_head.eval_metric_ops(features, logits, labels,
                                             regularization_losses)

  def create_estimator_spec(
      self,
      features: Any,
      mode: str,
      logits: tf.Tensor,
      labels: Any = None,
      optimizer: Any = None,
      trainable_variables: Sequence[tf.Variable] | None = None,
      train_op_fn: Callable[..., Any] | None = None,
      update_ops: Sequence[Any] | None = None,
      regularization_losses: Sequence[tf.Tensor] | None = None
  ) -> EstimatorSpec:
    if mode != ModeKeys.PREDICT:
      features, logits, labels = self._flatten(features, logits, labels)
      return self._static_head.create_estimator_spec(
          features,
          mode,
          logits,
          labels=labels,
          optimizer=optimizer,
          trainable_variables=trainable_variables,
          train_op_fn=train_op_fn,
          update_ops=update_ops,
          regularization_losses=regularization_losses)
    with tf.name_scope(self._name or "head"):
      predictions = dict(self.predictions(logits))
      predictions[self._mask_key] = self._mask(features)
      return EstimatorSpec(mode,
                           predictions=predictions,
                           export_outputs=self.export_outputs(predictions))


def _flat_per_step(values, mask):
  """[batch, time] or [batch, time, 1] values -> [n_real_steps, 1]."""
  values = tf.convert_to_tensor(values)
  if values.shape.rank == 2:
    values = tf.expand_dims(values, -1)
  return tf.boolean_mask(values, mask)


# ------------------------------------------------------------ estimators
class RNNEstimator(Estimator):
  """A recurrent network over sequence features with a user-given head.

  Args:
    head: an estweight head; a `SequentialHeadWrapper` when
      `return_sequences=True`.
    sequence_feature_columns: sequence dense columns
      (`tf.feature_column.sequence_numeric_column`, or
      `sequence_categorical_column_with_*` wrapped in `embedding_column` or
      `indicator_column`).
    context_feature_columns: optional dense columns with one value per
      example, repeated at every step.
    units: sizes of the stacked RNN cells, e.g. `[32, 16]`.
    cell_type: 'simple_rnn' (default), 'lstm', 'gru' or a cell class.
    rnn_cell_fn: instead of `units`/`cell_type`, a callable returning a
      Keras RNN cell (or a list of cells).
    return_sequences: one prediction per step instead of per sequence.
    model_dir: where checkpoints go.
    optimizer: a name ('Adagrad'), instance, class or callable.
    config: a RunConfig.

  Raises:
    ValueError, TypeError: for an invalid argument, naming it.
  """

  def __init__(self,
               head: head_base.Head,
               sequence_feature_columns: Any,
               context_feature_columns: Any = None,
               units: Sequence[int] | None = None,
               cell_type: Any = USE_DEFAULT,
               rnn_cell_fn: Callable[..., Any] | None = None,
               return_sequences: bool = False,
               model_dir: str | os.PathLike | None = None,
               optimizer: Any = "Adagrad",
               config: RunConfig | None = None) -> None:
    if not isinstance(head, head_base.Head):
      raise ValueError("`head` must be an estweight head (e.g. "
                       f"BinaryClassHead()). Received: head={head!r}.")
    if return_sequences and not isinstance(head, SequentialHeadWrapper):
      raise ValueError(
          "`head` must be a SequentialHeadWrapper when `return_sequences` is "
          f"True. Received: head={head!r}.")
    cell_args = check_rnn_args(rnn_cell_fn, units, cell_type)
    sequence_columns = check_sequence_columns(sequence_feature_columns)
    context_columns = check_context_columns(context_feature_columns)
    tower = builder.Tower(name="rnn",
                          logits_fn=functools.partial(
                              rnn_logits,
                              units=head.logits_dimension,
                              sequence_feature_columns=sequence_columns,
                              context_feature_columns=context_columns,
                              cell_args=cell_args,
                              return_sequences=bool(return_sequences),
                              mask_key=getattr(head, "input_sequence_mask_key",
                                               None)),
                          optimizer=rnn_optimizer(optimizer))
    super().__init__(model_fn=builder.make_model_fn(head, [tower]),
                     model_dir=model_dir,
                     config=config)


class RNNClassifier(RNNEstimator):
  """A recurrent classifier over sequence features.

  Args:
    sequence_feature_columns: sequence dense columns
      (`tf.feature_column.sequence_numeric_column`, or
      `sequence_categorical_column_with_*` wrapped in `embedding_column` or
      `indicator_column`).
    context_feature_columns: optional dense columns with one value per
      example, repeated at every step.
    units: sizes of the stacked RNN cells, e.g. `[32, 16]`; not with
      `rnn_cell_fn`.
    cell_type: 'simple_rnn' (the default), 'lstm', 'gru' or an RNN cell class;
      not with `rnn_cell_fn`.
    rnn_cell_fn: instead of `units` and `cell_type`, a callable returning a
      Keras RNN cell (or a list of cells).
    return_sequences: predict at every step instead of once per sequence;
      labels (and weights) are then `[batch, time]` and padded steps count in
      neither loss nor metrics.
    model_dir: where checkpoints and summaries live; `None` uses
      `config.model_dir`, else a temporary directory.
    n_classes: number of classes, at least 2 (2: a sigmoid head, more: a
      softmax head).
    weight_column: a feature key or `numeric_column` holding example weights;
      `None` weighs examples by the input's third element, if any, else 1.
      With `return_sequences`, the key of a per-step weight feature.
    label_vocabulary: the class names, when labels are strings (`n_classes`
      unique strings); `None` expects integer class ids in `[0, n_classes)`.
    optimizer: 'Adagrad', 'Adam', 'Ftrl', 'RMSProp' or 'SGD' (learning rate
      0.05, gradients clipped at norm 5); a tf_keras legacy, Keras 3 or
      `tf.compat.v1.train` optimizer instance or class; or a zero-argument
      callable returning one.
    loss_reduction: how weighted per-example losses become the loss:
      'sum_over_batch_size' (the default), 'sum', 'auto' or a
      `tf.compat.v1.losses.Reduction` other than NONE.
    sequence_mask: feature key of the `[batch, time]` mask of real (not
      padded) steps; used with `return_sequences=True`.
    config: a `RunConfig`; `None` means `RunConfig()`.

  Raises:
    ValueError, TypeError: for an invalid argument, naming it.
  """

  def __init__(self,
               sequence_feature_columns: Any,
               context_feature_columns: Any = None,
               units: Sequence[int] | None = None,
               cell_type: Any = USE_DEFAULT,
               rnn_cell_fn: Callable[..., Any] | None = None,
               return_sequences: bool = False,
               model_dir: str | os.PathLike | None = None,
               n_classes: int = 2,
               weight_column: Any = None,
               label_vocabulary: Sequence[str] | None = None,
               optimizer: Any = "Adagrad",
               loss_reduction: str = head_base.SUM_OVER_BATCH_SIZE,
               sequence_mask: str = "sequence_mask",
               config: RunConfig | None = None) -> None:
    head = heads_lib.binary_or_multi_class_head(n_classes, weight_column,
                                                label_vocabulary,
                                                loss_reduction)
    if return_sequences:
      head = SequentialHeadWrapper(head,
                                   sequence_length_mask=sequence_mask,
                                   feature_columns=weight_column)
    super().__init__(head,
                     sequence_feature_columns,
                     context_feature_columns=context_feature_columns,
                     units=units,
                     cell_type=cell_type,
                     rnn_cell_fn=rnn_cell_fn,
                     return_sequences=return_sequences,
                     model_dir=model_dir,
                     optimizer=optimizer,
                     config=config)
