"""Reading data sources into named columns, and the columns' types.

The readers behind `estweight.cli.data`. A source is read whole into memory
as named 1-D numpy columns of equal length:

- CSV (`.csv`, `.csv.gz`): a header row, then one row per example, UTF-8.
  Every value is text until `infer_type` decides the column's type.
- TFRecord (`.tfrecord`, `.tfrecords`, optionally `.gz`-compressed):
  `tf.train.Example`s, exactly one value per feature and the same features
  in every record. Columns come in alphabetical order (Examples are maps).
- NPZ (`.npz`): one 1-D array per column, all the same length, no object
  arrays (strings as `np.str_` arrays).
- `'sklearn:<name>'`: a data set shipped inside scikit-learn (no download).

Column types are `'float'` (float64 in memory, NaN where a value is
missing), `'int'` (int64) and `'string'` (object arrays of `str`):
`infer_type` guesses one per column, `column_types` joins train and eval and
applies `data.schema`, `typed_columns` converts.
"""
from __future__ import annotations

from typing import Any, NoReturn

import csv
import dataclasses
import difflib
import gzip
import math
import os
import re

import numpy as np

TYPES = ("float", "int", "string")
FORMATS = ("auto", "csv", "tfrecord", "npz")
SKLEARN_PREFIX = "sklearn:"
SKLEARN_SOURCES = ("breast_cancer", "diabetes", "iris", "wine")

_INT_TEXT = re.compile(r"^\s*[+-]?\d+\s*$")


class DataError(ValueError):
  """Unusable data or `config.data` field; the message is one line."""


@dataclasses.dataclass
class Source:
  """The columns of one source, as read.

  Attributes:
    where: the config field and its value, for messages
      (`"data.train='x.csv'"`).
    columns: column name -> 1-D array, in the source's column order.
    text: True when the values are still text (CSV), so their types must be
      inferred; False when the source stores typed values.
  """
  where: str
  columns: dict
  text: bool

  @property
  def num_rows(self) -> int:
    return len(next(iter(self.columns.values())))


def sanitize(name: str) -> str:
  """An identifier: 'sepal length (cm)' -> 'sepal_length_cm'."""
  return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")


def format_of(path: str, fmt: str, field: str) -> str:
  """The format of `path`: `fmt` unless it is 'auto', else the extension's."""
  if fmt not in FORMATS:
    raise DataError(f"`data.format` must be one of {list(FORMATS)}. "
                    f"Received: data.format={fmt!r}.")
  if fmt != "auto":
    return fmt
  name = path.lower()
  if name.endswith(".gz"):
    name = name[:-3]
  for ext, kind in ((".csv", "csv"), (".tfrecord", "tfrecord"),
                    (".tfrecords", "tfrecord"), (".npz", "npz")):
    if name.endswith(ext):
      return kind
  raise DataError(f"{field}={path!r}: cannot tell the format from the file "
                  "name (.csv, .csv.gz, .tfrecord, .tfrecords, .npz); set "
                  "data.format to 'csv', 'tfrecord' or 'npz'.")


def read(field: str, spec: str, fmt: str) -> Source:
  """Reads the source `spec` named by config field `field` ('data.train').

  Raises:
    DataError: the file is missing, unreadable, malformed or has no rows.
  """
  where = f"{field}={spec!r}"
  if spec.startswith(SKLEARN_PREFIX):
    source = _read_sklearn(spec[len(SKLEARN_PREFIX):], where)
  else:
    kind = format_of(spec, fmt, field)
    if not os.path.exists(spec):
      raise DataError(f"{where} does not exist.")
    if os.path.isdir(spec):
      raise DataError(f"{where} is a directory; give a file.")
    reader = {
        "csv": _read_csv,
        "tfrecord": _read_tfrecord,
        "npz": _read_npz
    }[kind]
    try:
      source = reader(spec, where)
    except DataError:
      raise
    except Exception as e:  # pylint: disable=broad-except
      # OSError, bad gzip/zip/protobuf, invalid UTF-8, TF's DataLossError...
      message = " ".join(str(e).split())
      raise DataError(f"{where} cannot be read as {kind}: "
                      f"{type(e).__name__}: {message}") from e
  if not source.columns:
    raise DataError(f"{where} has no columns.")
  if source.num_rows == 0:
    raise DataError(f"{where} has no rows.")
  return source


def _read_csv(path, where):
  opener = gzip.open if path.lower().endswith(".gz") else open
  with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
    reader = csv.reader(f)
    header = next(reader, None)
    if header is None:
      raise DataError(f"{where} is empty (no header row).")
    header = [h.strip() for h in header]
    if "" in header:
      raise DataError(f"{where} has an unnamed column (header position "
                      f"{header.index('') + 1}).")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
      raise DataError(f"{where} repeats the column names {dupes}.")
    rows = []
    for row in reader:
      if not row:
        continue  # blank line
      if len(row) != len(header):
        raise DataError(f"{where} line {reader.line_num} has {len(row)} "
                        f"fields; the header has {len(header)}.")
      rows.append(row)
  columns = {}
  for j, name in enumerate(header):
    values = np.empty(len(rows), dtype=object)
    values[:] = [row[j] for row in rows]
    columns[name] = values
  return Source(where, columns, text=True)


def _read_tfrecord(path, where):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  compression = "GZIP" if path.lower().endswith(".gz") else ""
  options = tf.io.TFRecordOptions(compression_type=compression)
  kinds = None
  values = None
  for i, record in enumerate(
      tf.compat.v1.io.tf_record_iterator(path, options=options)):
    feature_map = tf.train.Example.FromString(record).features.feature
    if kinds is None:
      kinds = {k: feature_map[k].WhichOneof("kind") for k in sorted(feature_map)}
      values = {k: [] for k in kinds}
    if set(feature_map) != set(kinds):
      missing = sorted(set(kinds) - set(feature_map))
      extra = sorted(set(feature_map) - set(kinds))
      raise DataError(f"{where} record {i + 1} has other features than "
                      f"record 1 (missing {missing}, extra {extra}); every "
                      "record must have the same features.")
    for key, kind in kinds.items():
      feature = feature_map[key]
      which = feature.WhichOneof("kind")
      if which != kind:
        raise DataError(f"{where} feature {key!r} is a {which} in record "
                        f"{i + 1} but a {kind} in record 1.")
      items = getattr(feature, which).value if which else []
      if len(items) != 1:
        raise DataError(f"{where} feature {key!r} has {len(items)} values in"
                        f" record {i + 1}; only one value per feature is "
                        "supported.")
      values[key].append(items[0])
  if kinds is None:
    raise DataError(f"{where} has no rows.")
  columns = {}
  for key, kind in kinds.items():
    if kind == "float_list":  # float32 on disk; keep exactly those values
      columns[key] = np.asarray(values[key], np.float32).astype(np.float64)
    elif kind == "int64_list":
      columns[key] = np.asarray(values[key], np.int64)
    else:
      columns[key] = _strings([v.decode("utf-8") for v in values[key]])
  return Source(where, columns, text=False)


def _read_npz(path, where):
  columns = {}
  with np.load(path, allow_pickle=False) as npz:
    for key in npz.files:
      try:
        array = npz[key]
      except ValueError as e:
        raise DataError(f"{where} array {key!r} holds Python objects, which "
                        "are not loaded (pickle); save strings as a str "
                        "array, e.g. np.asarray(values, dtype=str).") from e
      if array.ndim != 1:
        raise DataError(f"{where} array {key!r} has shape {array.shape}; "
                        "every column must be 1-D.")
      if array.dtype.kind == "S":
        array = _strings([v.decode("utf-8") for v in array])
      elif array.dtype.kind == "U":
        array = _strings(array.tolist())
      elif array.dtype.kind not in "fiub":
        raise DataError(f"{where} array {key!r} has dtype {array.dtype}; "
                        "use float, int, bool or str arrays.")
      columns[key] = array
  lengths = {k: len(v) for k, v in columns.items()}
  if len(set(lengths.values())) > 1:
    raise DataError(f"{where} arrays differ in length: {lengths}.")
  return Source(where, columns, text=False)


def _read_sklearn(name, where):
  if name not in SKLEARN_SOURCES:
    known = [SKLEARN_PREFIX + s for s in SKLEARN_SOURCES]
    raise DataError(f"{where} is not a built-in source; known: {known}.")
  from estweight.cli import extras  # pylint: disable=g-import-not-at-top
  extras.require("sklearn", where)
  from sklearn import datasets  # pylint: disable=g-import-not-at-top
  # diabetes in its original units (age in years, sex 1/2, ...), not
  # scikit-learn's pre-scaled copy: the feature columns normalise anyway.
  kwargs = {"scaled": False} if name == "diabetes" else {}
  bunch = getattr(datasets, f"load_{name}")(**kwargs)
  columns = {
      sanitize(n): bunch.data[:, j].astype(np.float64)
      for j, n in enumerate(bunch.feature_names)
  }
  target = bunch.target
  if name == "breast_cancer":
    # scikit-learn codes 0 = malignant; the disease is the positive class.
    target = (target == 0).astype(np.int64)
  columns["target"] = target
  return Source(where, columns, text=False)


def _strings(values):
  out = np.empty(len(values), dtype=object)
  out[:] = [str(v) for v in values]
  return out


# ------------------------------------------------------------------ types
def is_missing(text: str) -> bool:
  """An empty or 'nan' text value (a missing number)."""
  return text.strip().lower() in ("", "nan")


def infer_type(values: np.ndarray, *, text: bool) -> str:
  """'int', 'float' or 'string' for a column.

  Text: 'int' when every value is an integer literal and none is missing;
  'float' when every non-missing value parses as a float (missing values,
  '' or 'nan', become NaN); 'string' otherwise, and for a column with no
  value at all. Typed columns keep their dtype's type (bool counts as int).
  """
  if not text:
    kind = values.dtype.kind
    return "float" if kind == "f" else "int" if kind in "iub" else "string"
  present = [v for v in values if not is_missing(v)]
  if not present:
    return "string"
  if len(present) == len(values) and all(_INT_TEXT.match(v) for v in present):
    return "int"
  try:
    for v in present:
      float(v)
  except ValueError:
    return "string"
  return "float"


def join_types(a: str, b: str) -> str:
  """The type holding both: int+float -> float; anything else + string."""
  if a == b:
    return a
  return "float" if {a, b} == {"int", "float"} else "string"


def convert(values: np.ndarray, type_: str, *, where: str, column: str,
            reason: str) -> np.ndarray:
  """`values` as a column of `type_`.

  Args:
    values: a column as read (text or typed).
    type_: 'float', 'int' or 'string'.
    where, column: name the source and the column in messages.
    reason: why this type was chosen, for messages
      ("data.schema['age']='int'").

  Raises:
    DataError: a value does not convert (the first one is named).
  """
  if type_ == "string":
    if values.dtype == object:
      return values
    if values.dtype.kind == "f":  # 2.0 -> '2', as it would read in a CSV
      return _strings(["%.17g" % v for v in values])
    return _strings(values.tolist())
  if values.dtype != object:  # typed numbers
    if type_ == "float":
      return values.astype(np.float64)
    bad: Any = np.flatnonzero(~np.isfinite(values) | (
        np.round(values) != values)) if values.dtype.kind == "f" else []
    if len(bad):
      _bad_value(where, column, bad[0], values[bad[0]].item(), type_, reason)
    return values.astype(np.int64)
  out = np.empty(len(values), np.float64 if type_ == "float" else np.int64)
  for i, v in enumerate(values):
    if is_missing(v):
      if type_ == "int":
        raise DataError(f"{where} column {column!r} has no value in row "
                        f"{i + 1}, which an int column cannot hold "
                        f"({reason}); use 'float' (missing = NaN).")
      out[i] = math.nan
      continue
    try:
      out[i] = float(v) if type_ == "float" else _parse_int(v)
    except ValueError:
      _bad_value(where, column, i, v, type_, reason)
  return out


def _parse_int(text):
  if _INT_TEXT.match(text):
    return int(text)
  value = float(text)
  if not value.is_integer():
    raise ValueError(text)
  return int(value)


def _bad_value(where, column, row, value, type_, reason):
  raise DataError(f"{where} column {column!r} value {value!r} (row {row + 1})"
                  f" is not {'an' if type_ == 'int' else 'a'} {type_} "
                  f"({reason}).")


# ------------------------------------------------------- columns by name
def not_a_column(what: str, name: str, source: Source) -> NoReturn:
  """Raises: `what` (a config entry, "data.label='y'") is not a column of
  `source`; suggests the nearest column."""
  columns = list(source.columns)
  near = difflib.get_close_matches(name, columns, n=1)
  hint = f" Did you mean {near[0]!r}?" if near else ""
  raise DataError(f"{what} is not a column of {source.where}.{hint} "
                  f"Columns: {columns}.")


def column_types(overrides: dict, train: Source,
                 evals: Source | None) -> dict[str, str]:
  """Column -> type over train and eval (types joined), `overrides` last."""
  for column in overrides:
    if column not in train.columns:
      not_a_column(f"data.schema key {column!r}", column, train)
  types = {}
  for name, values in train.columns.items():
    type_ = infer_type(values, text=train.text)
    if evals is not None and name in evals.columns:
      type_ = join_types(type_, infer_type(evals.columns[name],
                                           text=evals.text))
    types[name] = overrides.get(name, type_)
  if evals is not None:
    for name, values in evals.columns.items():
      types.setdefault(name, infer_type(values, text=evals.text))
  return types


def typed_columns(source: Source, types: dict, overrides: dict) -> dict:
  """The columns of `source` converted to `types`."""
  out = {}
  for name, values in source.columns.items():
    reason = (f"data.schema[{name!r}]={overrides[name]!r}"
              if name in overrides else "its type across train and eval")
    out[name] = convert(values,
                        types[name],
                        where=source.where,
                        column=name,
                        reason=reason)
  return out
