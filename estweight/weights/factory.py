"""make_weighted_model_fn: a weighted model_fn from a network function."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import tensorflow as tf
import tf_keras

from estweight.canned import optimizers as optimizers_lib
from estweight.mode_keys import ModeKeys
from estweight.runtime import fn_args as fn_args_lib
from estweight.spec import EstimatorSpec
from estweight.weights import class_weights as class_weights_lib
from estweight.weights import dynamic as dynamic_lib
from estweight.weights import example_weights as example_weights_lib
from estweight.weights import losses as losses_lib
from estweight.weights import metrics as class_metrics_lib

_v1 = tf.compat.v1
_km = tf_keras.metrics
METRICS = ("accuracy", "auc", "precision", "recall", "per_class_recall",
           "balanced_accuracy", "average_loss")


def make_weighted_model_fn(
    network_fn: Callable[..., Any],
    *,
    loss: str | Callable[..., Any],
    class_weight: Any = None,
    weight_key: str | None = None,
    reduction: str = "weighted_mean",
    optimizer: Any = "Adam",
    learning_rate: float | None = None,
    metrics: Sequence[str] | None = None,
    loss_options: Mapping[str, Any] | None = None,
    n_classes: int | None = None) -> Callable[..., EstimatorSpec]:
  """Returns a model_fn for `estweight.Estimator` that trains `network_fn`
  with example and class weights.

  Args:
    network_fn: `(features, mode, params) -> logits` (any subset of those
      arguments, plus `config`); Keras 3 or v1 layers. Logits are
      [batch_size, 1] for binary sigmoid/focal losses and regression,
      [batch_size, n_classes] for softmax losses.
    loss: 'sigmoid_cross_entropy', 'softmax_cross_entropy',
      'sparse_softmax_cross_entropy', 'mse', 'huber', 'focal', or a callable
      `(labels, logits) -> [batch_size]`.
    class_weight: `{class_id: weight}`, 'balanced' (counted from the training
      input, cached in model_dir), or a `DynamicClassWeights`.
    weight_key: features key of per-example weights. Weights may instead
      come as the third element of (features, labels, weights); both is an
      error. Class weights multiply them.
    reduction: 'weighted_mean' (Σw·l/Σw), 'sum_over_batch_size'
      (Σw·l/batch_size) or 'sum'.
    optimizer: name, instance, class or callable (as canned estimators).
    learning_rate: for optimizer names; `None` = the optimizer's default.
    metrics: names from METRICS. Default: accuracy, average_loss (+ auc,
      precision, recall when binary; + per_class_recall, balanced_accuracy
      with class weights, unless class-weighted as below) for
      classification, average_loss for regression.
      `average_loss` (Σw·l/Σw) is weighted as the loss is; the others by
      the example weights only, unless `class_weight` is a
      `ClassWeight(..., class_weighted_eval_metrics=True)`.
    loss_options: keyword options of the loss, e.g. {'gamma': 2.0,
      'alpha': 0.25} for 'focal' or {'delta': 1.0} for 'huber'.
    n_classes: number of classes, if not the logits' last dimension (1
      means 2 for binary losses).
  """
  if not callable(network_fn):
    raise TypeError("`network_fn` must be callable (features, mode, params) "
                    f"-> logits. Received: network_fn={network_fn!r}.")
  loss_fn = losses_lib.get(loss, **(loss_options or {}))
  classification = callable(loss) or loss in losses_lib.CLASSIFICATION
  losses_lib.check_reduction(reduction)
  if isinstance(optimizer, str) and (optimizer
                                     not in optimizers_lib.OPTIMIZER_NAMES):
    raise ValueError(
        f"Unsupported optimizer name: {optimizer!r}. Supported "
        f"names are: {tuple(sorted(optimizers_lib.OPTIMIZER_NAMES))}"
        f". Received: optimizer={optimizer!r}.")
  for name in metrics or ():
    if name not in METRICS:
      raise ValueError(f"Unknown metric {name!r}; available: {list(METRICS)}."
                       f" Received: metrics={metrics!r}.")
  dynamic = (class_weight if isinstance(
      class_weight, dynamic_lib.DynamicClassWeights) else None)
  static = None if dynamic is not None else class_weight
  if static is not None and not classification:
    raise ValueError(f"`class_weight` needs a classification loss. Received: "
                     f"loss={loss!r}, class_weight={class_weight!r}.")
  state: dict[str, Any] = {"class_weight": None}
  if static is not None and n_classes is not None:
    state["class_weight"] = class_weights_lib.ClassWeight(static, n_classes)

  def resolve_class_weight(k):
    if static is None:
      return None
    if state["class_weight"] is None:
      state["class_weight"] = class_weights_lib.ClassWeight(static, k)
    return state["class_weight"]

  def model_fn(features, labels, mode, params, config, weights=None):
    logits = fn_args_lib.call_with_available(network_fn, {
        "features": features,
        "mode": mode,
        "params": params,
        "config": config
    })
    logits = tf.convert_to_tensor(logits)
    if logits.shape.rank == 1:
      logits = logits[:, None]
    k = n_classes or (max(2, logits.shape[-1]) if classification else None)
    predictions = _predictions(logits, classification)
    if mode == ModeKeys.PREDICT:
      return EstimatorSpec(mode, predictions=predictions)
    if labels is None:
      raise ValueError("make_weighted_model_fn needs labels in TRAIN and EVAL;"
                       " input_fn returned none.")
    per_example = loss_fn(labels, logits)
    sample_weight = _example_weights(features, weights, weight_key)
    ids = _class_ids(labels, loss) if classification else None
    cw = resolve_class_weight(k)
    metric_weight = sample_weight
    if cw is not None and cw.active:
      per_class = tf.gather(tf.constant(cw.require_vector()), ids)
      sample_weight = per_class if sample_weight is None else (per_class *
                                                               sample_weight)
      if cw.class_weighted_eval_metrics:
        metric_weight = sample_weight
    update = None
    if dynamic is not None and mode == ModeKeys.TRAIN:
      dyn, update = dynamic.build(ids, per_example, k)
      sample_weight = dyn if sample_weight is None else dyn * sample_weight
    total = losses_lib.reduce_loss(per_example, sample_weight, reduction)
    if mode == ModeKeys.EVAL:
      names = _metric_names(
          metrics, classification, k, cw is not None and
          (cw.active and not cw.class_weighted_eval_metrics))
      return EstimatorSpec(mode,
                           loss=total,
                           predictions=predictions,
                           eval_metric_ops=_metrics(names, classification, k,
                                                    ids, predictions,
                                                    per_example, sample_weight,
                                                    metric_weight))
    train_op = _train_op(optimizer, learning_rate, total)
    extra = _v1.get_collection(_v1.GraphKeys.UPDATE_OPS)
    if update is not None or extra:
      train_op = tf.group(train_op, *([update] if update is not None else []),
                          *extra)
    return EstimatorSpec(mode,
                         loss=total,
                         train_op=train_op,
                         predictions=predictions)

  return model_fn


def _predictions(logits, classification):
  if not classification:
    return {"predictions": logits}
  if logits.shape[-1] == 1:
    probability = tf.sigmoid(logits)
    return {
        "logits": logits,
        "probabilities": probability,
        "class_ids": tf.cast(probability > 0.5, tf.int64)
    }
  return {
      "logits": logits,
      "probabilities": tf.nn.softmax(logits),
      "class_ids": tf.argmax(logits, axis=-1)[:, None]
  }


def _class_ids(labels, loss):
  labels = tf.convert_to_tensor(labels)
  if loss == "softmax_cross_entropy":
    return tf.argmax(labels, axis=-1, output_type=tf.int32)
  return tf.cast(tf.reshape(labels, [-1]), tf.int32)


def _example_weights(features, weights, weight_key):
  """[batch_size] weights from the 3rd input element or weight_key, checked
  at run time to be finite and >= 0; None when there are none."""
  if weight_key is not None:
    if weights is not None:
      raise ValueError(
          f"Example weights were given twice: weight_key={weight_key!r} and "
          "the third element of (features, labels, weights). To fix, drop one.")
    if not isinstance(features, dict) or weight_key not in features:
      keys = sorted(features) if isinstance(features, dict) else []
      raise ValueError(f"weight_key {weight_key!r} not in features {keys}.")
    weights, source = features[weight_key], f"weight_key {weight_key!r}"
  elif weights is not None:
    source = "the third element of the input"
  else:
    return None
  return example_weights_lib.example_weights(weights,
                                             f"Example weights from {source}",
                                             flatten=True)


def _metric_names(names, classification, k, class_metrics):
  """`names`, or the default metrics (+ the per-class ones if asked)."""
  if names is not None:
    return names
  names = ["average_loss"]
  if classification:
    names.append("accuracy")
    if k == 2:
      names += ["auc", "precision", "recall"]
    if class_metrics:
      names += ["per_class_recall", "balanced_accuracy"]
  return names


def _metrics(names, classification, k, ids, predictions, per_example,
             loss_weight, w):
  """Eval metrics: average_loss weighted by `loss_weight` (as the loss), the
  others by `w`; None means unweighted."""
  loss_weight = (tf.ones_like(per_example)
                 if loss_weight is None else loss_weight)
  w = tf.ones_like(per_example) if w is None else w
  total_weight = tf.reduce_sum(w)
  out = {}
  if "average_loss" in names:
    out["average_loss"] = _updated(_km.Mean(name="average_loss"),
                                   values=per_example,
                                   sample_weight=loss_weight)
  if classification:
    class_ids = tf.cast(tf.reshape(predictions["class_ids"], [-1]), tf.int32)
    if "accuracy" in names:
      out["accuracy"] = _updated(_km.Accuracy(name="accuracy"),
                                 y_true=ids,
                                 y_pred=class_ids,
                                 sample_weight=w)
    # Two classes: one sigmoid logit, or two softmax logits (class 1's
    # probability is the score).
    binary = k == 2
    probabilities = predictions["probabilities"]
    score = None
    if binary:
      score = (tf.reshape(probabilities, [-1])
               if probabilities.shape[-1] == 1 else probabilities[:, 1])
    for name, cls in (("precision", _km.Precision), ("recall", _km.Recall)):
      if name in names:
        if not binary:
          raise ValueError(f"Metric {name!r} needs a binary model; use "
                           "'per_class_recall' for more classes.")
        out[name] = _updated(cls(name=name),
                             y_true=ids,
                             y_pred=class_ids,
                             sample_weight=w)
    if "auc" in names:
      if not binary:
        raise ValueError("Metric 'auc' needs a binary model.")
      out["auc"] = _updated(_km.AUC(name="auc"),
                            y_true=ids,
                            y_pred=score,
                            sample_weight=w)
    if "per_class_recall" in names or "balanced_accuracy" in names:
      recalls = class_metrics_lib.class_recall_metrics(ids, class_ids, w, k)
      balanced = recalls.pop(class_metrics_lib.BALANCED_ACCURACY)
      if "per_class_recall" in names:
        out.update(recalls)
      if "balanced_accuracy" in names:
        out[class_metrics_lib.BALANCED_ACCURACY] = balanced
  # All-zero eval weights make every weighted metric undefined: fail loudly.
  weight_sum = _km.Sum(name="weight_sum")
  update = weight_sum.update_state(total_weight)
  _local(weight_sum)
  check = _v1.debugging.assert_positive(
      weight_sum.result(),
      message="All example weights in the evaluation "
      "data are zero, so weighted metrics are undefined")
  for key, metric in list(out.items()):
    if isinstance(metric, tuple):  # balanced accuracy: read from the recalls
      value = metric[0]
      update_op = tf.group(*[_update_of(m, update) for m in recalls.values()])
    else:
      value = metric.result()
      update_op = _update_of(metric, update)  # not under the check below
    with tf.control_dependencies([check]):
      out[key] = (tf.identity(value), update_op)
  return out


def _updated(metric, **kwargs):
  metric.update_op = metric.update_state(**kwargs)
  return metric


def _local(metric):
  from estweight.runtime import metric_ops  # pylint: disable=g-import-not-at-top
  metric_ops.make_local(list(metric.variables), _v1.get_default_graph())


def _update_of(metric, extra):
  _local(metric)
  return tf.group(metric.update_op, extra)


def _train_op(optimizer, learning_rate, loss):
  graph = _v1.get_default_graph()
  with graph.name_scope(None), graph.name_scope("training"):
    opt = optimizers_lib.get_optimizer_instance(optimizer, learning_rate)
    optimizers_lib.tie_to_global_step(opt)
    variables = _v1.trainable_variables()
    if not variables:
      raise ValueError("network_fn created no trainable variables.")
    return optimizers_lib.minimize(opt, loss, variables)
