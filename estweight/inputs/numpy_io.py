"""numpy_input_fn: the 2.15 arguments, built on tf.data instead of queues."""
from __future__ import annotations

from typing import Any, Callable, Mapping

import collections
import numbers

import numpy as np
import tensorflow as tf

_TARGET_KEY = "__target_key__"


def check_shuffle(shuffle: Any) -> None:
  if not isinstance(shuffle, bool):
    raise ValueError("shuffle must be provided and explicitly set as boolean "
                     f"(it is recommended to set it as True for training). "
                     f"Received: shuffle={shuffle!r}.")


def _is_positive_int(value):
  return (isinstance(value, numbers.Integral) and
          not isinstance(value, bool) and value > 0)


def check_batching(batch_size: Any, num_epochs: Any,
                   queue_capacity: Any) -> None:
  if not _is_positive_int(batch_size):
    raise ValueError("`batch_size` must be a positive integer. Received: "
                     f"batch_size={batch_size!r}.")
  if num_epochs is not None and not _is_positive_int(num_epochs):
    raise ValueError("`num_epochs` must be a positive integer or None "
                     f"(repeat forever). Received: num_epochs={num_epochs!r}.")
  if not _is_positive_int(queue_capacity):
    raise ValueError("`queue_capacity` must be a positive integer. Received: "
                     f"queue_capacity={queue_capacity!r}.")


def make_dataset(columns: Mapping[str, Any], *, batch_size: int,
                 num_epochs: int | None, shuffle: bool | None,
                 queue_capacity: int, num_threads: int) -> tf.data.Dataset:
  """A batched Dataset over equal-length columns (dict of arrays)."""
  del num_threads  # tf.data parallelises by itself.
  dataset = tf.data.Dataset.from_tensor_slices(columns)
  if shuffle:
    dataset = dataset.shuffle(queue_capacity, reshuffle_each_iteration=True)
  dataset = dataset.repeat(num_epochs)
  return dataset.batch(batch_size).prefetch(1)


def numpy_input_fn(x: np.ndarray | dict[str, np.ndarray],
                   y: np.ndarray | dict[str, np.ndarray] | None = None,
                   batch_size: int = 128,
                   num_epochs: int | None = 1,
                   shuffle: bool | None = None,
                   queue_capacity: int = 1000,
                   num_threads: int = 1) -> Callable[[], Any]:
  """Returns an input_fn feeding dicts of numpy arrays to an Estimator.

  Args:
    x: a numpy array (a single feature) or a dict of arrays.
    y: a numpy array or dict of arrays, or None (prediction).
    batch_size: examples per batch; the last batch of the data may be short.
    num_epochs: passes over the data; `None` repeats forever.
    shuffle: required bool; shuffles within a buffer of `queue_capacity`.
    queue_capacity: shuffle buffer size.
    num_threads: accepted for compatibility; tf.data decides parallelism.

  Returns:
    An input_fn returning a Dataset of `(features, target)` (or features
    when `y` is None). The features keep the keys of `x`, or are the single
    tensor when `x` is an array.

  Raises:
    ValueError: `shuffle` is not a bool, a count is not a positive integer,
      or a key is in both `x` and `y`.
  """
  check_shuffle(shuffle)
  if isinstance(x, dict) and isinstance(y, dict):
    dupes = sorted(set(x) & set(y))
    if dupes:
      raise ValueError(f"{len(dupes)} duplicate keys are found in both x and "
                       f"y: {dupes}.")
  return make_input_fn(x,
                       y,
                       batch_size=batch_size,
                       num_epochs=num_epochs,
                       shuffle=shuffle,
                       queue_capacity=queue_capacity,
                       num_threads=num_threads)


def make_input_fn(x: Any, y: Any, *, batch_size: int, num_epochs: int | None,
                  shuffle: bool | None, queue_capacity: int,
                  num_threads: int) -> Callable[[], tf.data.Dataset]:
  """numpy_input_fn without the duplicate-key check: x and y are kept apart,
  so pandas_input_fn may give a target the name of a feature."""
  check_shuffle(shuffle)
  check_batching(batch_size, num_epochs, queue_capacity)
  if not isinstance(x, (dict, np.ndarray)):
    raise TypeError(f"x must be a dict or array; got {type(x).__name__}.")
  if not isinstance(y, (dict, np.ndarray, type(None))):
    raise TypeError(f"y must be a dict, array or None; got "
                    f"{type(y).__name__}.")
  if isinstance(x, dict) and not x:
    raise ValueError("`x` must be a non-empty dict or an array. Received: "
                     "x={}.")
  if isinstance(y, dict) and not y:
    raise ValueError("`y` must be a non-empty dict, an array or None (no "
                     "labels). Received: y={}.")
  x_dict = dict(x) if isinstance(x, dict) else {"__x__": x}
  y_dict = (dict(y) if isinstance(y, dict) else ({
      _TARGET_KEY: y
  } if y is not None else {}))
  lengths = {k: len(v) for k, v in {**x_dict, **y_dict}.items()}
  if len(set(lengths.values())) > 1:
    raise ValueError(
        "Length of tensors in x and y is mismatched. All elements in x and y "
        f"must have the same length.\nShapes in x: "
        f"{ {k: np.shape(v) for k, v in x_dict.items()} }\nShapes in y: "
        f"{ {k: np.shape(v) for k, v in y_dict.items()} }")
  # tf.data needs string keys; the user's keys (pandas may use ints) are
  # restored after batching.
  x_keys, y_keys = list(x_dict), list(y_dict)
  columns = collections.OrderedDict(
      [(f"x{i}", np.asarray(x_dict[k])) for i, k in enumerate(x_keys)] +
      [(f"y{i}", np.asarray(y_dict[k])) for i, k in enumerate(y_keys)])

  def input_fn():
    dataset = make_dataset(columns,
                           batch_size=batch_size,
                           num_epochs=num_epochs,
                           shuffle=shuffle,
                           queue_capacity=queue_capacity,
                           num_threads=num_threads)

    def split(batch):
      features = {k: batch[f"x{i}"] for i, k in enumerate(x_keys)}
      target = {k: batch[f"y{i}"] for i, k in enumerate(y_keys)}
      if not isinstance(x, dict):
        features = features["__x__"]
      if y is None:
        return features
      if not isinstance(y, dict):
        target = target[_TARGET_KEY]
      return features, target

    return dataset.map(split)

  return input_fn
