"""`config.data` -> a Table: input_fns, feature columns and serving specs.

    table = data.load(config.data)        # DataError (one line) if unusable
    est = estweight.DNNClassifier([16], table.feature_columns("dnn"),
                                  n_classes=table.n_classes,
                                  label_vocabulary=table.label_vocabulary,
                                  weight_column=table.weight_column)
    est.train(table.input_fn("train", repeat=True), steps=100)

Fields of `config.data` (`default_data_config()`); other fields, such as the
CLI's own `class_weight`, are ignored here:

- `train=''` (required): a file (`.csv`, `.csv.gz`, `.tfrecord`,
  `.tfrecords`, `.npz`; see `estweight.cli.schema` for each format) or a
  built-in `'sklearn:<name>'`, name in breast_cancer, diabetes, iris, wine.
  Built-in columns are scikit-learn's feature names made identifiers
  ('mean radius' -> 'mean_radius') and the label `target`; for
  breast_cancer `target` is 1 = malignant (scikit-learn codes malignant 0).
- `eval=''`: the evaluation source; `''` splits it off `train`.
- `eval_fraction=0.2`, `split_seed=0`: the split when `eval=''`. Each class
  gives round(eval_fraction * its count) rows (half up) to eval, stratified, for
  classification; regression gives round(eval_fraction * rows). Both splits
  keep the source's row order.
- `format='auto'`: 'auto' (from the extension), 'csv', 'tfrecord', 'npz'.
- `label='target'`: the label column.
- `features=[]`: feature columns; `[]` = every column but label and weight.
- `schema={}`: column -> 'float' | 'int' | 'string', overriding inference.
  CSV inference: 'int' when every value is an integer and none is missing;
  'float' when every non-empty value parses as a float (empty and 'nan' are
  missing: NaN, filled with the training mean by the feature column);
  'string' otherwise. Numbers become numeric features, strings categorical
  features with the training data's values as vocabulary ('' and unseen
  values encode as all zeros). An int column to treat as categories needs
  `schema={'col': 'string'}`.
- `weight_column=''`: a numeric column of example weights (finite, >= 0),
  fed as `features[weight_column]` as canned estimators expect.
- `balance_weights_by=''`: a column whose groups should count equally:
  each row gets the weight n / (groups * group size) computed on the
  training rows (multiplying `weight_column`, if any), fed as the weight
  column 'balance_weight'.
- `task='auto'`: 'classification' | 'regression' | 'auto' (string labels,
  and int labels with at most 20 distinct values, are classification;
  other numbers regression).
- `label_vocabulary=[]`: class names in class-id order; `[]` = string labels
  sorted. Int labels 0..n-1 are class ids and need none; other int labels
  (e.g. 1..3, or -1/1) become the strings of their values, sorted
  numerically. Classes come from train and eval together.
- `minority_keep_fraction=1.0`: in (0, 1]; keeps only this fraction
  (rounded, at least 1 row) of the training rows of the least frequent
  class, drawn with `split_seed`, to make imbalanced demos. Eval untouched.
- `normalize=True`: numeric feature columns standardise with the training
  mean and std (`normalizer_fn`), for 'dnn' and 'linear' columns alike.
- `batch_size=32`, `eval_batch_size=256`: batch sizes of the train and eval
  input_fns.
- `shuffle_buffer=1000` (0 = never shuffle), `shuffle_seed=0`.

The sources are read into memory once (types, split, classes, statistics);
input_fns then stream the prepared rows from TFRecord files in the table's
`data_dir` (`estweight.cli.records`), so graphs never hold the data.
Numeric features must be finite: an infinite value is refused with its
source, row and column (a missing one is empty or 'nan').
"""
from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import ml_collections
import numpy as np

from estweight.cli import rows as rows_lib
from estweight.cli import schema as schema_lib
from estweight.cli.schema import DataError  # noqa: F401  (public here)

if TYPE_CHECKING:
  from estweight.cli.table import Table

SPLITS = rows_lib.SPLITS
TASKS = ("auto", "classification", "regression")
MAX_AUTO_CLASSES = 20  # int labels with more distinct values: regression
_DEFAULTS = {
    "train": "",
    "eval": "",
    "format": "auto",
    "label": "target",
    "features": [],
    "schema": {},
    "weight_column": "",
    "task": "auto",
    "label_vocabulary": [],
    "eval_fraction": 0.2,
    "split_seed": 0,
    "minority_keep_fraction": 1.0,
    "normalize": True,
    "batch_size": 32,
    "eval_batch_size": 256,
    "shuffle_buffer": 1000,
    "shuffle_seed": 0,
    "balance_weights_by": "",
}
BALANCE_WEIGHT = "balance_weight"  # the weight column balance_weights_by adds
# Feature names become placeholder names in raw serving exports.
_TF_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\-]*$")


def default_data_config() -> ml_collections.ConfigDict:
  """`config.data` with every field at its default (see module docstring)."""
  return ml_collections.ConfigDict(copy.deepcopy(_DEFAULTS))


# ----------------------------------------------------------------- config
def check_config(data_config: Any) -> dict:
  """The config as a plain dict over the defaults, field types checked.

  Reads no file (the CLI runs it before TensorFlow is imported).

  Raises:
    DataError: a field has the wrong type or value.
  """
  if isinstance(data_config, ml_collections.ConfigDict):
    given = data_config.to_dict()
  elif isinstance(data_config, Mapping):
    given = dict(data_config)
  else:
    raise DataError("`config.data` must be a ConfigDict or dict. Received: "
                    f"config.data={data_config!r}.")
  cfg = {k: given.get(k, v) for k, v in _DEFAULTS.items()}
  for key in ("train", "eval", "format", "label", "weight_column", "task",
              "balance_weights_by"):
    if cfg[key] is None and key in ("eval", "weight_column",
                                    "balance_weights_by"):
      cfg[key] = ""
    if not isinstance(cfg[key], str):
      _bad(key, cfg[key], "a string")
  for key in ("features", "label_vocabulary"):
    value = cfg[key]
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(v, str) for v in value):
      _bad(key, value, "a list of strings")
    cfg[key] = list(value)
  if not isinstance(cfg["schema"], Mapping):
    _bad("schema", cfg["schema"], "a dict of column -> 'float'|'int'|'string'")
  cfg["schema"] = dict(cfg["schema"])
  for column, type_ in cfg["schema"].items():
    if type_ not in schema_lib.TYPES:
      raise DataError(f"`data.schema[{column!r}]` must be one of "
                      f"{list(schema_lib.TYPES)}. Received: "
                      f"data.schema[{column!r}]={type_!r}.")
  if cfg["task"] not in TASKS:
    _bad("task", cfg["task"], f"one of {list(TASKS)}")
  for key in ("split_seed", "shuffle_seed"):
    if isinstance(cfg[key], bool) or not isinstance(cfg[key], int):
      _bad(key, cfg[key], "an integer")
  for key in ("batch_size", "eval_batch_size"):
    if not is_positive_int(cfg[key]):
      _bad(key, cfg[key], "a positive integer")
  if not is_positive_int(cfg["shuffle_buffer"]) and cfg["shuffle_buffer"] != 0:
    _bad("shuffle_buffer", cfg["shuffle_buffer"],
         "an integer >= 0 (0 = no shuffling)")
  if not isinstance(cfg["normalize"], bool):
    _bad("normalize", cfg["normalize"], "True or False")
  if not _is_fraction(cfg["minority_keep_fraction"], upper_ok=True):
    _bad("minority_keep_fraction", cfg["minority_keep_fraction"],
         "a number in (0, 1] (1 = keep every row)")
  if not cfg["train"]:
    raise DataError("`data.train` is required: a .csv, .csv.gz, .tfrecord or "
                    ".npz file, or 'sklearn:<name>'. Received: data.train=''.")
  if not cfg["eval"] and not _is_fraction(cfg["eval_fraction"]):
    _bad("eval_fraction", cfg["eval_fraction"],
         "a number in (0, 1) when data.eval is ''")
  return cfg


def is_positive_int(value: Any) -> bool:
  return bool(
      isinstance(value, (int, np.integer)) and not isinstance(value, bool) and
      value > 0)


def _is_fraction(value, upper_ok=False):
  return (isinstance(value, (int, float)) and not isinstance(value, bool) and
          0 < value and (value <= 1 if upper_ok else value < 1))


def _bad(key, value, expectation):
  raise DataError(f"`data.{key}` must be {expectation}. Received: "
                  f"data.{key}={value!r}.")


# ------------------------------------------------------------------- load
def load(data_config: Any, *, data_dir: str | None = None) -> Table:
  """Reads, types, splits and checks the data `data_config` describes.

  Args:
    data_config: `config.data`, a ConfigDict or dict (missing fields take
      their defaults).
    data_dir: where the Table's input_fns write the prepared rows to stream
      them (`Table.data_dir`); None = a temporary directory.

  Returns:
    An `estweight.cli.table.Table`.

  Raises:
    DataError: (a ValueError) with a one-line message naming the config
      field and its value; raised before any graph is built.
  """
  from estweight.cli.table import Table  # pylint: disable=g-import-not-at-top
  cfg = check_config(data_config)
  train, evals, features, types, columns = _read(cfg)
  label, weight = cfg["label"], cfg["weight_column"] or None
  task, vocab, ids, n_classes = _classes(cfg, types[label], columns,
                                         train.where)
  notes = [f"train: {train.where}"]
  if evals is not None:
    notes.append(f"eval: {evals.where}")
  rng = np.random.RandomState(cfg["split_seed"])
  if evals is None:
    columns, ids, note = rows_lib.split(cfg, columns["train"], ids, n_classes,
                                        rng, train.where)
    notes.append(note)
  if cfg["minority_keep_fraction"] != 1:
    if task != "classification":
      raise DataError("`data.minority_keep_fraction` needs a classification "
                      f"label; data.label={label!r} is regression. Received:"
                      f" data.minority_keep_fraction="
                      f"{cfg['minority_keep_fraction']!r}.")
    keep, note = rows_lib.minority_rows(ids["train"], n_classes,
                                        cfg["minority_keep_fraction"], rng,
                                        vocab or list(range(n_classes)))
    columns["train"] = rows_lib.take(columns["train"], keep)
    ids["train"] = ids["train"][keep]
    notes.append(note)

  group = cfg["balance_weights_by"]
  if group:
    if group not in columns["train"]:
      schema_lib.not_a_column(f"data.balance_weights_by={group!r}", group,
                              train)
    if BALANCE_WEIGHT in columns["train"]:
      raise DataError(f"data.balance_weights_by adds the weight column "
                      f"{BALANCE_WEIGHT!r}, but {train.where} already has "
                      "a column of that name.")
    weights, note = rows_lib.balance_weights(columns, group, train.where,
                                             weight)
    for split, w in weights.items():
      columns[split][BALANCE_WEIGHT] = w
    weight = BALANCE_WEIGHT
    types = dict(types, **{BALANCE_WEIGHT: "float"})
    notes.append(note)
  stats, vocabularies = _feature_stats(features, types, columns["train"],
                                       train.where)
  if task == "classification":
    labels = {
        s: (np.asarray(vocab, dtype=object)[i] if vocab else i)
        for s, i in ids.items()
    }
    counts = np.bincount(ids["train"], minlength=n_classes)
    class_counts = {
        (vocab[i] if vocab else i): int(c) for i, c in enumerate(counts)
    }
  else:
    labels = {s: c[label].astype(np.float32) for s, c in columns.items()}
    class_counts = None
  return Table(config=cfg,
               task=task,
               label=label,
               weight_column=weight,
               feature_names=features,
               schema=types,
               n_classes=n_classes,
               label_vocabulary=vocab,
               class_counts=class_counts,
               vocabularies=vocabularies,
               stats=stats,
               columns=columns,
               labels=labels,
               notes=notes,
               data_dir=data_dir)


def read_inputs(table: Table, path: str, *, field: str = "--input") -> dict:
  """The rows of a new file to predict on, typed as `table` was trained.

  Args:
    table: the Table of the training data.
    path: a .csv, .tfrecord or .npz file (data.format applies) holding at
      least the table's feature columns; other columns are ignored, the
      label column may be missing.
    field: the flag or config key naming `path`, for messages.

  Returns:
    {column: 1-D array} for the features, plus the label column when the
    file has one (converted to the label's type when it can be, else as
    read).

  Raises:
    DataError: a feature column is missing, a value does not fit the
      feature's type, or a float feature holds an infinite value.
  """
  source = schema_lib.read(field, path, table.config["format"])
  missing = [n for n in table.feature_names if n not in source.columns]
  if missing:
    raise DataError(f"{source.where} lacks the feature columns {missing} the"
                    f" model was trained on. Columns: {list(source.columns)}.")
  columns = {
      name:
          schema_lib.convert(source.columns[name],
                             table.schema[name],
                             where=source.where,
                             column=name,
                             reason="the feature's type in training")
      for name in table.feature_names
  }
  check_finite(columns, table.feature_names, table.schema, source.where)
  if table.label in source.columns:
    values = source.columns[table.label]
    try:
      values = schema_lib.convert(values,
                                  table.schema[table.label],
                                  where=source.where,
                                  column=table.label,
                                  reason="the label's type in training")
    except DataError:
      pass  # e.g. a partly empty int label: echoed as read
    columns[table.label] = values
  return columns


def _read(cfg):
  """(train source, eval source or None, features, types, typed columns by
  split), with label and weights checked."""
  train = schema_lib.read("data.train", cfg["train"], cfg["format"])
  evals = (schema_lib.read("data.eval", cfg["eval"], cfg["format"])
           if cfg["eval"] else None)
  label, weight = cfg["label"], cfg["weight_column"] or None
  if label not in train.columns:
    schema_lib.not_a_column(f"data.label={label!r}", label, train)
  if weight and weight not in train.columns:
    schema_lib.not_a_column(f"data.weight_column={weight!r}", weight, train)
  features = _feature_names(cfg, train, label, weight)
  if evals is not None:
    for name in [label] + ([weight] if weight else []) + features:
      if name not in evals.columns:
        raise DataError(f"{evals.where} has no column {name!r}, which "
                        f"{train.where} has. Columns: {list(evals.columns)}.")
  types = schema_lib.column_types(cfg["schema"], train, evals)
  columns = {"train": schema_lib.typed_columns(train, types, cfg["schema"])}
  if evals is not None:
    columns["eval"] = schema_lib.typed_columns(evals, types, cfg["schema"])
  for split, cols in columns.items():
    _check_label(cols[label], label, types[label], split, cfg)
    if weight:
      _check_weights(cols[weight], weight, types[weight], split, cfg)
    check_finite(cols, features, types, _where(cfg, split))
  return train, evals, features, types, columns


def check_finite(columns: Mapping[str, np.ndarray], features: Iterable[str],
                 types: Mapping[str, str], where: str) -> None:
  """Raises DataError naming the source, row and column of the first
  infinite value of a float feature (NaN is a missing value; ints and
  strings cannot be infinite)."""
  for name in features:
    if types[name] != "float":
      continue
    bad = np.flatnonzero(np.isinf(columns[name]))
    if len(bad):
      raise DataError(f"{where} column {name!r} has the value "
                      f"{columns[name][bad[0]].item()!r} in row {bad[0] + 1};"
                      " features must be finite (leave a missing value empty"
                      " or write 'nan').")


def _feature_names(cfg, train, label, weight):
  names = cfg["features"] or [
      c for c in train.columns if c not in (label, weight)
  ]
  for name in names:
    if name not in train.columns:
      schema_lib.not_a_column(f"data.features entry {name!r}", name, train)
    if name in (label, weight):
      field = "data.label" if name == label else "data.weight_column"
      raise DataError(f"data.features lists {name!r}, which is {field}; "
                      "remove it from data.features.")
    if not _TF_NAME.match(name):
      raise DataError(f"Feature {name!r} of {train.where} cannot name a "
                      "TensorFlow input (letters, digits, '_', '.', '-'; not "
                      f"starting with '_'); rename the column, e.g. to "
                      f"{schema_lib.sanitize(name)!r}, or leave it out of "
                      "data.features.")
  dupes = sorted({n for n in names if names.count(n) > 1})
  if dupes:
    raise DataError(f"data.features repeats {dupes}.")
  if not names:
    raise DataError(f"{train.where} has no feature columns besides the label"
                    " and weight column.")
  return names


def _where(cfg, split):
  return f"data.{split}={cfg[split]!r}"


def _check_label(values, label, type_, split, cfg):
  missing = (np.flatnonzero(values == "") if type_ == "string" else
             np.flatnonzero(np.isnan(values)) if type_ == "float" else [])
  if len(missing):
    raise DataError(f"data.label={label!r} has no value in row "
                    f"{missing[0] + 1} of {_where(cfg, split)}; every row "
                    "needs a label.")
  infinite = np.flatnonzero(np.isinf(values)) if type_ == "float" else []
  if len(infinite):
    row = infinite[0]
    raise DataError(f"data.label={label!r} has the value "
                    f"{values[row].item()!r} in row {row + 1} of "
                    f"{_where(cfg, split)}; labels must be finite.")


def _check_weights(values, weight, type_, split, cfg):
  where = _where(cfg, split)
  if type_ == "string":
    raise DataError(f"data.weight_column={weight!r} must be numeric, but it "
                    f"holds strings in {where} (e.g. {values[0]!r}).")
  bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
  if len(bad):
    row = bad[0]
    raise DataError(f"data.weight_column={weight!r} has the weight "
                    f"{values[row].item()!r} in row {row + 1} of {where}; "
                    "weights must be finite and >= 0.")


def _classes(cfg, label_type, columns, where):
  """(task, label_vocabulary, {split: class ids}, n_classes); the last three
  None for regression."""
  task = _task(cfg, label_type, columns, cfg["label"])
  if task == "regression":
    return task, None, None, None
  vocab, ids = _class_ids(cfg, columns, cfg["label"], label_type)
  n_classes = len(vocab) if vocab else int(max(
      i.max() for i in ids.values())) + 1
  if n_classes < 2:
    raise DataError(f"data.label={cfg['label']!r} has a single class in "
                    f"{where}; classification needs at least 2 (or set "
                    "data.task='regression').")
  return task, vocab, ids, n_classes


def _task(cfg, label_type, columns, label):
  task = cfg["task"]
  values = np.concatenate([c[label] for c in columns.values()])
  if task == "auto":
    if label_type == "string":
      return "classification"
    if label_type == "int" and len(np.unique(values)) <= MAX_AUTO_CLASSES:
      return "classification"
    return "regression"
  if task == "regression" and label_type == "string":
    raise DataError(f"data.task='regression' needs a numeric label, but "
                    f"data.label={label!r} holds strings (e.g. "
                    f"{values[0]!r}).")
  if task == "classification" and label_type == "float" and np.any(
      np.round(values) != values):
    bad = values[np.round(values) != values][0].item()
    raise DataError(f"data.task='classification' needs integer or string "
                    f"labels, but data.label={label!r} has {bad!r}.")
  return task


def _class_ids(cfg, columns, label, label_type):
  """(label_vocabulary or None, {split: int64 class ids})."""
  raw = {s: c[label] for s, c in columns.items()}
  if label_type != "string":
    raw = {s: v.astype(np.int64) for s, v in raw.items()}
  distinct = np.unique(np.concatenate(list(raw.values())))
  vocab = list(cfg["label_vocabulary"])
  if not vocab:
    if label_type != "string" and np.array_equal(distinct,
                                                 np.arange(len(distinct))):
      return None, raw  # already ids 0..n-1
    vocab = [str(v) for v in distinct]  # np.unique sorts numbers numerically
  if len(set(vocab)) != len(vocab):
    _bad("label_vocabulary", vocab, "a list of distinct class names")
  index = {name: i for i, name in enumerate(vocab)}
  unknown = sorted({str(v) for v in distinct} - set(index))
  if unknown:
    raise DataError(f"data.label={label!r} has values {unknown[:10]} missing "
                    f"from data.label_vocabulary={vocab!r}.")
  return vocab, {
      s: np.asarray([index[str(v)] for v in values], np.int64)
      for s, values in raw.items()
  }


def _feature_stats(features, types, train_columns, where):
  """({numeric feature: (mean, std)}, {string feature: vocabulary})."""
  stats, vocabularies = {}, {}
  for name in features:
    values = train_columns[name]
    if types[name] == "string":
      vocabularies[name] = sorted(set(values.tolist()) - {""})
      if not vocabularies[name]:
        raise DataError(f"Feature {name!r} has no value in the training rows"
                        f" of {where}; leave it out of data.features.")
      continue
    values = values.astype(np.float64)
    if np.all(np.isnan(values)):
      raise DataError(f"Feature {name!r} has no value in the training rows of"
                      f" {where}; leave it out of data.features.")
    mean, std = float(np.nanmean(values)), float(np.nanstd(values))
    stats[name] = (mean, std if std > 0 and np.isfinite(std) else 1.0)
  return stats, vocabularies
