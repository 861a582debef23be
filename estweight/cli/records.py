"""Prepared rows on disk: TFRecord files of tf.Examples, streamed by tf.data.

The CLI reads a data source once into memory (to infer types, split off the
evaluation rows, count classes and compute the normalisation statistics)
and then writes each split's rows, typed as the models take them, to
`<data_dir>/<split>-<fingerprint>.tfrecord`. Input functions stream those
files with `tf.data.TFRecordDataset` and `tf.io.parse_example`, so a graph
holds a file name and a parsing spec, never the data itself (arrays fed as
constants made a 4.5 MB CSV into a 19 MB graph.pbtxt).

The fingerprint is a hash of the rows, so a rerun over the same data reuses
the file and changed data get a new one. Files are written to a temporary
name and renamed, so a killed writer never leaves a half file under the
final name, and parallel grid-search workers may write the same file.
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
  import tensorflow as tf

# Column type -> (tf dtype name, tf.train.Feature list field).
_KINDS = {
    "float": ("float32", "float_list"),
    "int": ("int64", "int64_list"),
    "string": ("string", "bytes_list")
}
_FORMAT_VERSION = "1"  # part of the fingerprint: bump when the layout changes


def column_type(values: np.ndarray) -> str:
  """'float', 'int' or 'string' for an in-memory column."""
  kind = values.dtype.kind
  return "float" if kind == "f" else "int" if kind in "iub" else "string"


def fingerprint(columns: dict[str, np.ndarray]) -> str:
  """A short hash of the columns' names, types and values."""
  digest = hashlib.sha256(_FORMAT_VERSION.encode())
  for name in sorted(columns):
    values = columns[name]
    type_ = column_type(values)
    digest.update(json.dumps([name, type_, len(values)]).encode())
    if type_ == "string":
      digest.update(json.dumps(values.tolist()).encode())
    else:
      digest.update(_stored(values, type_).tobytes())
  return digest.hexdigest()[:16]


def _stored(values, type_):
  """The values as the tf.Example holds them (float32 or int64)."""
  return values.astype(np.float32 if type_ == "float" else np.int64)


def path_of(directory: str, name: str, columns: dict[str, np.ndarray]) -> str:
  """`<directory>/<name>-<fingerprint>.tfrecord`, where `write` puts
  `columns`."""
  return os.path.join(directory, f"{name}-{fingerprint(columns)}.tfrecord")


def write(directory: str, name: str, columns: dict[str, np.ndarray]) -> str:
  """Writes `columns` (1-D, equal length) as one tf.Example per row.

  Args:
    directory: where the file goes (created if needed; a tf.io.gfile path).
    name: the file's stem, e.g. 'train'; the fingerprint is appended.
    columns: column name -> float, int or str values.

  Returns:
    `path_of(directory, name, columns)`. An existing file of that name
    holds the same rows and is not rewritten.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  path = path_of(directory, name, columns)
  if tf.io.gfile.exists(path):
    return path
  tf.io.gfile.makedirs(directory)
  tmp = f"{path}.tmp-{os.getpid()}"
  list_types = {
      "float_list": tf.train.FloatList,
      "int64_list": tf.train.Int64List,
      "bytes_list": tf.train.BytesList
  }
  per_column = []
  for key, values in columns.items():
    type_ = column_type(values)
    if type_ == "string":
      items = [v.encode("utf-8") for v in values.tolist()]
    else:
      items = _stored(values, type_).tolist()
    field = _KINDS[type_][1]
    per_column.append((key, field, list_types[field], items))
  num_rows = len(per_column[0][3]) if per_column else 0
  try:
    with tf.io.TFRecordWriter(tmp) as writer:
      for i in range(num_rows):
        feature = {
            key: tf.train.Feature(**{field: list_type(value=[items[i]])})
            for key, field, list_type, items in per_column
        }
        writer.write(
            tf.train.Example(features=tf.train.Features(
                feature=feature)).SerializeToString())
    tf.io.gfile.rename(tmp, path, overwrite=True)
  except BaseException:
    if tf.io.gfile.exists(tmp):
      tf.io.gfile.remove(tmp)
    raise
  return path


def parse_spec(types: dict[str, str]) -> dict:
  """`{column: tf.io.FixedLenFeature([], dtype)}` for columns of `types`."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return {
      name: tf.io.FixedLenFeature([], tf.as_dtype(_KINDS[type_][0]))
      for name, type_ in types.items()
  }


def dataset(path: str,
            types: dict[str, str],
            *,
            batch_size: int,
            shuffle_buffer: int = 0,
            seed: int | None = None,
            repeat: bool = False) -> tf.data.Dataset:
  """A Dataset of `{column: [batch_size] tensor}` dicts read from `path`.

  Rows are shuffled (when `shuffle_buffer` > 0, reshuffled every pass from
  `seed`), repeated and batched as serialized records, then parsed a batch
  at a time; the order is the one `from_tensor_slices` of the same rows
  gives with the same calls.

  Args:
    path: a file written by `write`.
    types: the columns to parse, name -> 'float' | 'int' | 'string'.
    batch_size: rows per batch (the last one may be smaller).
    shuffle_buffer: 0 = file order.
    seed: the shuffle's seed.
    repeat: repeat forever.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  spec = parse_spec(types)
  data = tf.data.TFRecordDataset(path)
  if shuffle_buffer > 0:
    data = data.shuffle(shuffle_buffer,
                        seed=seed,
                        reshuffle_each_iteration=True)
  if repeat:
    data = data.repeat()
  return data.batch(batch_size).map(
      lambda rows: tf.io.parse_example(rows, spec))
