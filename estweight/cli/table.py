"""Table: loaded data as input_fns, feature columns and serving specs."""
from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Mapping
from typing import Any, Callable

import numpy as np
import tensorflow as tf

from estweight.cli import records
from estweight.cli.data import is_positive_int
from estweight.cli import schema as schema_lib
from estweight.cli.rows import SPLITS


class _Normalizer:
  """normalizer_fn: NaN -> `fill`, then (x - shift) / scale. A class, not a
  closure, so feature columns pickle (grid search workers)."""

  def __init__(self, fill, shift, scale):
    self.fill, self.shift, self.scale = float(fill), float(shift), float(scale)

  def __call__(self, x):
    x = tf.cast(x, tf.float32)
    x = tf.where(tf.math.is_nan(x), tf.fill(tf.shape(x), self.fill), x)
    return (x - self.shift) / self.scale

  def __repr__(self):
    return (f"_Normalizer(fill={self.fill:g}, shift={self.shift:g}, "
            f"scale={self.scale:g})")


class Table:
  """Loaded data: both splits in memory plus what models need to read them.

  Built by `load()`. Attributes:
    config: the resolved `config.data` fields (a plain dict).
    task: 'classification' or 'regression'.
    label: the label column.
    weight_column: the weight column, or None.
    feature_names: the feature columns, in order.
    schema: column -> 'float' | 'int' | 'string', every column.
    n_classes: number of classes (classification), else None.
    label_vocabulary: class names in class-id order when labels are fed as
      strings, else None (int class ids 0..n_classes-1, or regression).
    class_counts: training rows per class, keyed by class name (with a
      label_vocabulary) or class id, in class-id order; None for regression.
    vocabularies: categorical feature -> sorted training values.
    data_dir: where input_fns stream the prepared rows from (see
      `estweight.cli.records`); None = a temporary directory removed when
      the process exits.
  """

  def __init__(self,
               *,
               config: dict[str, Any],
               task: str,
               label: str,
               weight_column: str | None,
               feature_names: list[str],
               schema: dict[str, str],
               n_classes: int | None,
               label_vocabulary: list[str] | None,
               class_counts: dict[Any, int] | None,
               vocabularies: dict[str, list[str]],
               stats: dict[str, tuple[float, float]],
               columns: dict[str, dict[str, np.ndarray]],
               labels: dict[str, np.ndarray],
               notes: list[str],
               data_dir: str | None = None):
    self.config = config
    self.task = task
    self.label = label
    self.weight_column = weight_column
    self.feature_names = feature_names
    self.schema = schema
    self.n_classes = n_classes
    self.label_vocabulary = label_vocabulary
    self.class_counts = class_counts
    self.vocabularies = vocabularies
    self._stats = stats  # numeric feature -> (training mean, std)
    self._columns = columns  # split -> {column: array}, as loaded
    self._labels = labels  # split -> labels as fed to models
    self._notes = notes  # describe() lines about split and minority
    self.data_dir = data_dir
    # split -> (records file, written by this process)
    self._files: dict[str, tuple[str, bool]] = {}

  def num_rows(self, split: str) -> int:
    return len(self._labels[_check_split(split)])

  def rows(self, split: str) -> dict[str, np.ndarray]:
    """Every column of `split` (copies): float64 (NaN = missing), int64, or
    object arrays of str; the label as in the source (breast_cancer's
    already 1 = malignant)."""
    return {k: v.copy() for k, v in self._columns[_check_split(split)].items()}

  def input_fn(self,
               split: str,
               *,
               repeat: bool = False,
               shuffle: bool | None = None,
               batch_size: int | None = None,
               with_labels: bool = True,
               with_weights: bool = True,
               label_ids: bool = False,
               write: bool = True) -> Callable[..., tf.data.Dataset]:
    """An input_fn over `split`.

    Args:
      split: 'train' or 'eval'.
      repeat: repeat forever (for `train(steps=...)`); False = one pass.
      shuffle: None = shuffle when training (split 'train' with labels);
        the buffer is data.shuffle_buffer, and a buffer of 0 never
        shuffles. Order is reshuffled every pass, reproducibly from
        data.shuffle_seed (and the graph seed).
      batch_size: None = `params['batch_size']` for split 'train' when the
        Estimator passes params holding it (grid search), else
        data.batch_size ('train') or data.eval_batch_size ('eval').
      with_labels: False gives features only (prediction).
      with_weights: put the weight column in the features.
      label_ids: give class ids (int64) even when the labels are strings
        (for model_fns that take ids, such as the weighted factory's).
      write: write the records file when it is not there yet. False only
        names it: enough to build a graph (nothing is read until a session
        runs), e.g. to check a model before anything goes to disk.

    Returns:
      `input_fn(params=None)` returning a Dataset of `(features, labels)`
      (or features): features a dict of `[batch_size]` tensors (float32,
      int64 or string), labels `[batch_size]` int64 class ids, strings
      (with a label_vocabulary) or float32 (regression). The rows stream
      from a records file in `data_dir` (see `estweight.cli.records`).
    """
    split = _check_split(split)
    if batch_size is not None and not is_positive_int(batch_size):
      raise ValueError("`batch_size` must be a positive integer or None. "
                       f"Received: batch_size={batch_size!r}.")
    types = {n: self.schema[n] for n in self.feature_names}
    if with_weights and self.weight_column:
      types[self.weight_column] = "float"
    if with_labels:
      types[self.label] = ("int" if self.task == "classification" else "float")
    names = (self.label_vocabulary if with_labels and self.label_vocabulary and
             not label_ids else None)
    if shuffle is None:
      shuffle = split == "train" and with_labels
    return _InputFn(
        self._records(split, write=write),
        types,
        split=split,
        label=self.label if with_labels else None,
        label_names=names,
        batch_size=batch_size,
        default_batch_size=self.config["batch_size" if split ==
                                       "train" else "eval_batch_size"],
        shuffle_buffer=self.config["shuffle_buffer"] if shuffle else 0,
        seed=self.config["shuffle_seed"],
        repeat=repeat)

  def features_input_fn(
      self,
      columns: Mapping[str, np.ndarray],
      *,
      name: str,
      directory: str | None = None,
      batch_size: int | None = None) -> Callable[..., tf.data.Dataset]:
    """An input_fn over other rows of this table's features, one pass in
    order (prediction on new data).

    Args:
      columns: at least the features, typed as `rows()` gives them (see
        `estweight.cli.data.read_inputs`).
      name: the records file's stem.
      directory: where the records file goes; None = `data_dir`.
      batch_size: None = data.eval_batch_size.
    """
    types = {n: self.schema[n] for n in self.feature_names}
    path = records.write(
        directory or self._directory(), name,
        {n: _model_array(columns[n]) for n in self.feature_names})
    return _InputFn(path,
                    types,
                    split=name,
                    label=None,
                    label_names=None,
                    batch_size=batch_size,
                    default_batch_size=self.config["eval_batch_size"],
                    shuffle_buffer=0,
                    seed=None,
                    repeat=False)

  def _directory(self):
    if self.data_dir is None:
      self.data_dir = tempfile.mkdtemp(prefix="estweight-data-")
      atexit.register(shutil.rmtree, self.data_dir, ignore_errors=True)
    return self.data_dir

  def _records(self, split, *, write):
    """The records file of `split`: features, the weight column and the
    label (class ids, or float32 for regression); written on the first
    call with `write`."""
    if split not in self._files or (write and not self._files[split][1]):
      columns = self._columns[split]
      out = {n: _model_array(columns[n]) for n in self.feature_names}
      if self.weight_column:
        out[self.weight_column] = columns[self.weight_column].astype(np.float32)
      labels = self._labels[split]
      if self.label_vocabulary:
        index = {name: i for i, name in enumerate(self.label_vocabulary)}
        labels = np.asarray([index[v] for v in labels], np.int64)
      out[self.label] = labels
      if write:
        self._files[split] = (records.write(self._directory(), split,
                                            out), True)
      else:
        self._files[split] = (records.path_of(self._directory(), split,
                                              out), False)
    return self._files[split][0]

  def feature_columns(self,
                      kind: str = "dnn",
                      *,
                      normalize: bool | None = None) -> list:
    """tf.feature_column columns for every feature (never label or weight).

    Args:
      kind: 'dnn' (categorical features as indicator_column) or 'linear'
        (the categorical columns themselves).
      normalize: None = data.normalize. True standardises numeric features
        with the training mean and std; missing floats (NaN) become the
        training mean either way.

    Returns:
      numeric_column (float32 or int64) per number,
      categorical_column_with_vocabulary_list per string feature.
    """
    if kind not in ("dnn", "linear"):
      raise ValueError("`kind` must be 'dnn' or 'linear'. Received: "
                       f"kind={kind!r}.")
    normalize = self.config["normalize"] if normalize is None else normalize
    out = []
    for name in self.feature_names:
      type_ = self.schema[name]
      if type_ == "string":
        column = tf.feature_column.categorical_column_with_vocabulary_list(
            name, self.vocabularies[name], dtype=tf.string, default_value=-1)
        if kind == "dnn":
          column = tf.feature_column.indicator_column(column)
      else:
        mean, std = self._stats[name]
        normalizer = (_Normalizer(mean, mean, std) if normalize else
                      _Normalizer(mean, 0.0, 1.0) if type_ == "float" else None)
        column = tf.feature_column.numeric_column(
            name,
            dtype=tf.float32 if type_ == "float" else tf.int64,
            normalizer_fn=normalizer)
      out.append(column)
    return out

  def parse_spec(self) -> dict:
    """The tf.Example parsing spec of the features (serving).

    Float features may be left out of an Example: they parse as NaN, which
    the feature columns fill with the training mean, as in training. Int
    features are required; string features may be left out (no category,
    as '' in training).
    """
    spec = tf.feature_column.make_parse_example_spec(
        self.feature_columns("linear"))
    for name in self.feature_names:
      if self.schema[name] == "float":
        spec[name] = tf.io.FixedLenFeature((1,),
                                           tf.float32,
                                           default_value=[np.nan])
    return spec

  def fill_values(self) -> dict[str, float]:
    """{float feature: training mean}: what a missing (NaN) value becomes,
    in training and at serving."""
    return {
        n: self._stats[n][0]
        for n in self.feature_names
        if self.schema[n] == "float"
    }

  def raw_serving_features(self) -> dict[str, tf.TensorSpec]:
    """`{feature: tf.TensorSpec([None], dtype)}`, as input_fn feeds them."""
    dtypes = {"float": tf.float32, "int": tf.int64, "string": tf.string}
    return {
        n: tf.TensorSpec([None], dtypes[self.schema[n]], name=n)
        for n in self.feature_names
    }

  def describe(self) -> str:
    """A multi-line summary: rows, label and classes, weights, features."""
    lines = [
        f"rows: train {self.num_rows('train')}, eval "
        f"{self.num_rows('eval')}"
    ] + self._notes
    if self.task == "classification":
      lines.append(f"label: {self.label!r}, classification, {self.n_classes}"
                   " classes (train rows per class):")
      # class_counts is None only for regression.
      for i, (name, count) in enumerate(
          self.class_counts.items()):  # type: ignore[union-attr]
        shown = f"{name!r} (id {i})" if self.label_vocabulary else f"{name}"
        lines.append(f"  {shown}: {count}")
    else:
      values = self._labels["train"]
      lines.append(f"label: {self.label!r}, regression (train mean "
                   f"{values.mean():.4g}, std {values.std():.4g})")
    if self.weight_column:
      w = self._columns["train"][self.weight_column]
      lines.append(f"weight column: {self.weight_column!r} (train sum "
                   f"{w.sum():.4g}, mean {w.mean():.4g}, min {w.min():.4g}, "
                   f"max {w.max():.4g})")
    else:
      lines.append("weight column: none")
    by_type = {
        t: [n for n in self.feature_names if self.schema[n] == t]
        for t in schema_lib.TYPES
    }
    lines.append(f"features: {len(self.feature_names)} (" +
                 ", ".join(f"{len(v)} {t}" for t, v in by_type.items() if v) +
                 ")")
    for type_, names in by_type.items():
      if not names:
        continue
      if type_ == "string":
        shown = ", ".join(
            f"{n} [{len(self.vocabularies[n])} values]" for n in names)
      else:
        shown = ", ".join(names)
      lines.append(f"  {type_:<7} {shown}")
    return "\n".join(lines)


class _InputFn:
  """`input_fn(params=None)` over a records file (a class, so that grid
  search workers can pickle it)."""

  def __init__(self, path, types, *, split, label, label_names, batch_size,
               default_batch_size, shuffle_buffer, seed, repeat):
    self._path, self._types = path, types
    self._split, self._label, self._label_names = split, label, label_names
    self._batch_size, self._default_batch_size = batch_size, default_batch_size
    self._shuffle_buffer, self._seed, self._repeat = (shuffle_buffer, seed,
                                                      repeat)
    self.__name__ = f"{split}_input_fn"

  def __call__(self, params=None):
    size = self._batch_size
    if (size is None and self._split == "train" and
        isinstance(params, Mapping) and params.get("batch_size")):
      size = int(params["batch_size"])
    data = records.dataset(self._path,
                           self._types,
                           batch_size=size or self._default_batch_size,
                           shuffle_buffer=self._shuffle_buffer,
                           seed=self._seed,
                           repeat=self._repeat)
    if self._label is None:
      return data
    return data.map(self._split_label)

  def _split_label(self, row):
    features = dict(row)
    labels = features.pop(self._label)
    if self._label_names:
      labels = tf.gather(tf.constant(self._label_names), labels)
    return features, labels


def _check_split(split):
  if split not in SPLITS:
    raise ValueError(f"`split` must be 'train' or 'eval'. Received: "
                     f"split={split!r}.")
  return split


def _model_array(values):
  """A column as fed to models: float32, int64 or str."""
  return values.astype(np.float32) if values.dtype.kind == "f" else values
