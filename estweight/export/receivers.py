"""Serving input receivers: what a SavedModel is fed, and how it becomes features.

A `serving_input_receiver_fn` takes no arguments and, called inside the
export graph, returns one of the receivers below: the placeholders a client
feeds (`receiver_tensors`, named by their dict keys in the signatures) and
the `features` (and, for TRAIN/EVAL exports, `labels`) handed to model_fn.
"""
from __future__ import annotations

import collections
from typing import Any, Callable, Mapping

import numpy as np
import tensorflow as tf

# The dict keys a single tensor is wrapped under (tf.estimator's names).
SINGLE_FEATURE_KEY = "feature"
SINGLE_LABEL_KEY = "label"
SINGLE_RECEIVER_KEY = "input"
_DEFAULT_KEYS = {
    "features": SINGLE_FEATURE_KEY,
    "labels": SINGLE_LABEL_KEY,
    "receiver_tensors": SINGLE_RECEIVER_KEY,
    "receiver_tensors_alternatives": SINGLE_RECEIVER_KEY,
}
_TENSOR_TYPES = (tf.Tensor, tf.SparseTensor, tf.RaggedTensor)


def _check_tensor(value, arg, key=None):
  if isinstance(value, _TENSOR_TYPES):
    return
  where = f"{arg}[{key!r}]" if key is not None else arg
  raise ValueError(
      f"`{where}` must be a Tensor, SparseTensor or RaggedTensor built in the "
      f"export graph. Received: {where}={value!r}.")


def wrap_and_check_input_tensors(
    tensors: Any,
    arg: str,
    *,
    allow_int_keys: bool = False) -> dict[str | int, Any]:
  """`tensors` as a dict of name -> tensor; a single tensor gets a default key.

  Args:
    tensors: a tensor, or a dict of str (or int, when allowed) to tensors.
    arg: the receiver field being checked, used for the default key and in
      errors: 'features', 'labels', 'receiver_tensors' or
      'receiver_tensors_alternatives'.
    allow_int_keys: whether int keys are accepted (features and labels).

  Raises:
    ValueError: `tensors` is None, has a key that is not a string (or int),
      or a value that is not a tensor.
  """
  if tensors is None:
    raise ValueError(f"`{arg}` must be defined. Received: {arg}=None.")
  if not isinstance(tensors, Mapping):
    tensors = {_DEFAULT_KEYS[arg]: tensors}
  for key, value in tensors.items():
    key_ok = isinstance(key,
                        str) or (allow_int_keys and isinstance(key, int) and
                                 not isinstance(key, bool))
    if not key_ok:
      kinds = "strings or ints" if allow_int_keys else "strings"
      raise ValueError(f"The keys of `{arg}` must be {kinds}. Received: key "
                       f"{key!r} in {arg}={dict(tensors)!r}.")
    _check_tensor(value, arg, key)
  return dict(tensors)


def _check_alternatives(alternatives):
  if alternatives is None:
    return None
  if not isinstance(alternatives, Mapping):
    raise ValueError(
        "`receiver_tensors_alternatives` must be a dict of "
        "signature-name prefixes to tensors or dicts of tensors. "
        f"Received: receiver_tensors_alternatives={alternatives!r}.")
  return {
      name:
          wrap_and_check_input_tensors(tensors, "receiver_tensors_alternatives")
      for name, tensors in alternatives.items()
  }


class ServingInputReceiver(
    collections.namedtuple(
        "ServingInputReceiver",
        ["features", "receiver_tensors", "receiver_tensors_alternatives"])):
  """What a serving_input_receiver_fn returns for a model taking a feature dict.

  Attributes:
    features: a tensor or a dict of str (or int) to tensors given to model_fn.
      A single tensor is wrapped as `{'feature': tensor}`; use
      `TensorServingInputReceiver` to pass it bare.
    receiver_tensors: a tensor or dict of str to tensors: the inputs a client
      feeds, typically one string placeholder of serialized tf.Examples. A
      single tensor is named 'input'.
    receiver_tensors_alternatives: optional dict of name to tensor(s), each
      giving extra signatures (named `<name>:<output>`) fed at another point
      of the receiver graph, e.g. after parsing.
  """

  def __new__(cls,
              features,
              receiver_tensors,
              receiver_tensors_alternatives=None):
    return super().__new__(
        cls,
        features=wrap_and_check_input_tensors(features,
                                              "features",
                                              allow_int_keys=True),
        receiver_tensors=wrap_and_check_input_tensors(receiver_tensors,
                                                      "receiver_tensors"),
        receiver_tensors_alternatives=_check_alternatives(
            receiver_tensors_alternatives))


class TensorServingInputReceiver(
    collections.namedtuple(
        "TensorServingInputReceiver",
        ["features", "receiver_tensors", "receiver_tensors_alternatives"])):
  """Like ServingInputReceiver, for a model_fn taking one bare feature tensor.

  Attributes:
    features: a single tensor, passed to model_fn as is (not in a dict).
    receiver_tensors: as in ServingInputReceiver.
    receiver_tensors_alternatives: as in ServingInputReceiver.
  """

  def __new__(cls,
              features,
              receiver_tensors,
              receiver_tensors_alternatives=None):
    if features is None:
      raise ValueError("`features` must be defined. Received: features=None.")
    _check_tensor(features, "features")
    return super().__new__(cls,
                           features=features,
                           receiver_tensors=wrap_and_check_input_tensors(
                               receiver_tensors, "receiver_tensors"),
                           receiver_tensors_alternatives=_check_alternatives(
                               receiver_tensors_alternatives))


class SupervisedInputReceiver(
    collections.namedtuple("SupervisedInputReceiver",
                           ["features", "labels", "receiver_tensors"])):
  """What a TRAIN or EVAL receiver fn returns: features, labels and inputs.

  Attributes:
    features: a tensor or dict of tensors, passed to model_fn as is.
    labels: a tensor or dict of tensors, passed to model_fn as is.
    receiver_tensors: the inputs a client feeds (tensor or dict of tensors).
  """

  def __new__(cls, features, labels, receiver_tensors):
    wrap_and_check_input_tensors(features, "features", allow_int_keys=True)
    wrap_and_check_input_tensors(labels, "labels", allow_int_keys=True)
    return super().__new__(cls,
                           features=features,
                           labels=labels,
                           receiver_tensors=wrap_and_check_input_tensors(
                               receiver_tensors, "receiver_tensors"))


class UnsupervisedInputReceiver(ServingInputReceiver):
  """A TRAIN or EVAL receiver without labels."""

  def __new__(cls, features, receiver_tensors):
    return super().__new__(cls, features, receiver_tensors, None)


class _DefaultingServingInputReceiver(ServingInputReceiver):
  """A ServingInputReceiver that names the signature to serve as
  `serving_default` when the model's own default cannot be built for its
  inputs (see `build_raw_serving_input_receiver_fn(default_signature=)`)."""

  def __new__(cls, features, receiver_tensors, *, default_signature):
    receiver = super().__new__(cls, features, receiver_tensors)
    receiver.default_signature = default_signature
    return receiver


SERVING_RECEIVERS = (ServingInputReceiver, TensorServingInputReceiver)
ALL_RECEIVERS = SERVING_RECEIVERS + (SupervisedInputReceiver,)


def build_parsing_serving_input_receiver_fn(
    feature_spec: Mapping[str, Any],
    default_batch_size: int | None = None
) -> Callable[[], ServingInputReceiver]:
  """A receiver fn fed serialized tf.Examples, parsed with `feature_spec`.

  Args:
    feature_spec: dict of feature name to `tf.io.FixedLenFeature`,
      `VarLenFeature`, ... (e.g. `tf.feature_column.make_parse_example_spec`).
    default_batch_size: the batch size clients must send; None (recommended)
      accepts any.

  Returns:
    A serving_input_receiver_fn whose single input is `examples`, a [batch]
    string tensor (the TF Serving Classify/Regress convention).
  """
  if not isinstance(feature_spec, Mapping) or not feature_spec:
    raise ValueError("`feature_spec` must be a non-empty dict of feature name "
                     "to tf.io.FixedLenFeature/VarLenFeature/... Received: "
                     f"feature_spec={feature_spec!r}.")
  _check_batch_size(default_batch_size)

  def serving_input_receiver_fn():
    serialized = tf.compat.v1.placeholder(tf.string,
                                          shape=[default_batch_size],
                                          name="input_example_tensor")
    features = tf.io.parse_example(serialized, dict(feature_spec))
    return ServingInputReceiver(features, {"examples": serialized})

  return serving_input_receiver_fn


def _check_batch_size(default_batch_size):
  if default_batch_size is None:
    return
  if (isinstance(default_batch_size, bool) or
      not isinstance(default_batch_size,
                     (int, np.integer)) or default_batch_size <= 0):
    raise ValueError("`default_batch_size` must be a positive integer or None."
                     f" Received: default_batch_size={default_batch_size!r}.")


def _placeholder_like(value, name, default_batch_size):
  """A placeholder for a batch of `value`'s rows (its first dim is the batch).

  `value` may be a tensor (eager or graph), a `tf.TensorSpec`, a
  `tf.SparseTensorSpec` or a numpy array.
  """
  if isinstance(value, tf.SparseTensorSpec):
    shape = tf.TensorShape([default_batch_size]).concatenate(value.shape[1:])
    return tf.compat.v1.sparse_placeholder(value.dtype, shape=shape, name=name)
  if isinstance(value, (np.ndarray, np.generic)):
    value = tf.TensorSpec(np.shape(value), tf.as_dtype(value.dtype))
  if not isinstance(value, (tf.Tensor, tf.TensorSpec, tf.Variable)):
    raise ValueError(
        f"`features[{name!r}]` must be a Tensor, tf.TensorSpec, "
        f"tf.SparseTensorSpec or numpy array giving dtype and shape "
        f"(first dimension = batch). Received: {value!r}.")
  # A scalar example stands for one value per example: [batch_size], as
  # tf.estimator made it (the SavedModel migration guide passes one).
  shape = tf.TensorShape([
      default_batch_size
  ]).concatenate(value.shape[1:] if value.shape.rank else [])
  return tf.compat.v1.placeholder(value.dtype, shape=shape, name=name)


def _placeholders(values, default_key, default_batch_size):
  if isinstance(values, Mapping):
    return {
        key: _placeholder_like(v, key, default_batch_size)
        for key, v in values.items()
    }
  return _placeholder_like(values, default_key, default_batch_size)


def build_raw_serving_input_receiver_fn(
    features: Mapping[str, Any],
    default_batch_size: int | None = None,
    *,
    default_signature: str | None = None) -> Callable[[], Any]:
  """A receiver fn fed the feature tensors directly.

  Args:
    features: dict of feature name to a tensor, `tf.TensorSpec`,
      `tf.SparseTensorSpec` or numpy array describing one batch: the dtype
      and the shape after the batch dimension are kept.
    default_batch_size: as in `build_parsing_serving_input_receiver_fn`.
    default_signature: (estweight only) None, as tf.estimator: a canned
      classifier or regressor then has no `serving_default`, since its
      default Classify/Regress signature needs serialized tf.Examples.
      A signature name such as 'predict': that signature is also exported
      as `serving_default` when the model's own default is not exported.

  Returns:
    A serving_input_receiver_fn whose inputs are named by the feature keys.
  """
  if not isinstance(features, Mapping) or not features:
    raise ValueError("`features` must be a non-empty dict of feature name to "
                     "tensor or tf.TensorSpec. Received: "
                     f"features={features!r}.")
  _check_batch_size(default_batch_size)
  if default_signature is not None and (not isinstance(default_signature, str)
                                        or not default_signature):
    raise ValueError("`default_signature` must be a signature name such as "
                     "'predict', or None. Received: "
                     f"default_signature={default_signature!r}.")

  def serving_input_receiver_fn():
    placeholders = _placeholders(features, SINGLE_FEATURE_KEY,
                                 default_batch_size)
    if default_signature is None:
      return ServingInputReceiver(placeholders, placeholders)
    return _DefaultingServingInputReceiver(placeholders,
                                           placeholders,
                                           default_signature=default_signature)

  return serving_input_receiver_fn


def build_raw_supervised_input_receiver_fn(
    features: Any,
    labels: Any,
    default_batch_size: int | None = None) -> Callable[[], Any]:
  """A TRAIN/EVAL receiver fn fed features and labels directly.

  Args:
    features: a tensor/spec, or a dict of them, shaped like one batch; the
      model_fn receives placeholders of the same structure.
    labels: likewise for the labels.
    default_batch_size: as in `build_parsing_serving_input_receiver_fn`.

  Returns:
    A receiver fn for `experimental_export_all_saved_models`. The inputs are
    named by the dict keys ('input' and 'label' for bare tensors).

  Raises:
    ValueError: features and labels share a key.
  """
  feature_keys = (set(features)
                  if isinstance(features, Mapping) else {SINGLE_RECEIVER_KEY})
  label_keys = set(labels) if isinstance(labels,
                                         Mapping) else {SINGLE_LABEL_KEY}
  overlap = feature_keys & label_keys
  if overlap:
    raise ValueError("Features and labels must have distinct keys. Found "
                     f"overlapping keys: {sorted(overlap)}.")
  _check_batch_size(default_batch_size)

  def supervised_input_receiver_fn():
    feats = _placeholders(features, SINGLE_RECEIVER_KEY, default_batch_size)
    labs = _placeholders(labels, SINGLE_LABEL_KEY, default_batch_size)
    receiver_tensors = {}
    receiver_tensors.update(
        feats if isinstance(feats, dict) else {SINGLE_RECEIVER_KEY: feats})
    receiver_tensors.update(
        labs if isinstance(labs, dict) else {SINGLE_LABEL_KEY: labs})
    return SupervisedInputReceiver(feats, labs, receiver_tensors)

  return supervised_input_receiver_fn
