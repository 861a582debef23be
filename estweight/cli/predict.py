"""`estweight predict`: predictions of a split, or of a new file, to a file.

One record per example: `row` (its position in the data predicted on,
from 0), `label` (when the data have the label column) and every
prediction key (`class_ids`, `probabilities`, `predictions`, ...). The
extension of the output gives its format:

- `.csv`: a header, then one line per record; list values spread over
  columns `<key>_0`, `<key>_1`, ...
- `.jsonl`: one JSON object per line.
- `.json`: one JSON array of the objects.
"""
from __future__ import annotations

import csv
import json
import os
import tempfile
from typing import TYPE_CHECKING

import numpy as np

from estweight.cli import checkpoint as checkpoint_lib
from estweight.cli import checks
from estweight.cli import commands
from estweight.cli import data as data_lib

if TYPE_CHECKING:
  import ml_collections


def predict(config: ml_collections.ConfigDict,
            model_dir: str,
            *,
            output: str | None = None,
            checkpoint: str | None = None,
            input_path: str | None = None) -> str:
  """Writes the predictions of predict.split, or of the file `input_path`
  (features needed, label optional), with the checkpoint
  `estweight.cli.checkpoint` chooses. Returns the output path."""
  checks.check(config, "predict")
  checks.check_predict_flags(config, input_path=input_path, output=output)
  output = output or config.predict.output or os.path.join(
      model_dir, f"predictions.{config.predict.format}")
  fmt = checks.output_format(output)
  choice = checkpoint_lib.choose(model_dir, checkpoint)
  print(choice.describe().capitalize())
  table, est = commands.prepare(config, model_dir)
  with tempfile.TemporaryDirectory(prefix="estweight-input-") as tmp:
    if input_path is None:
      source = f"predict.split={config.predict.split!r}"
      labels = table.rows(config.predict.split).get(table.label)
      input_fn = table.input_fn(config.predict.split,
                                with_labels=False,
                                with_weights=False)
    else:
      source = f"--input={input_path!r}"
      columns = data_lib.read_inputs(table, input_path, field="--input")
      labels = columns.get(table.label)
      input_fn = table.features_input_fn(columns, name="input", directory=tmp)
    records = []
    for i, pred in enumerate(est.predict(input_fn,
                                         checkpoint_path=choice.path)):
      record = {"row": i}
      if labels is not None:
        record["label"] = _plain(labels[i])
      for key, value in sorted(pred.items()):
        record[key] = _plain(value)
      records.append(record)
  write(records, output, fmt)
  print(f"Wrote {len(records)} predictions of {source} to {output}")
  return output


def _plain(value):
  """A JSON-ready value: str for bytes, a number, or a list of them."""
  value = np.asarray(value)
  if value.dtype.kind in "SO":
    value = np.vectorize(lambda v: v.decode() if isinstance(v, bytes) else v,
                         otypes=[object])(value)
  out = value.tolist()
  if isinstance(out, list) and len(out) == 1:
    out = out[0]
  if isinstance(out, float) and not np.isfinite(out):
    return None  # a missing label (NaN): null in JSON, empty in CSV
  return out


def write(records: list[dict], output: str, fmt: str) -> None:
  """Writes `records` to `output` ('csv', 'jsonl' or 'json'), atomically."""
  os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
  tmp = output + ".tmp"
  with open(tmp, "w", newline="", encoding="utf-8") as f:
    if fmt == "jsonl":
      for record in records:
        f.write(json.dumps(record) + "\n")
    elif fmt == "json":
      json.dump(records, f, indent=1)
      f.write("\n")
    else:
      flat = [_flatten(r) for r in records]
      fields = list(flat[0]) if flat else ["row"]
      writer = csv.DictWriter(f, fieldnames=fields)
      writer.writeheader()
      writer.writerows(flat)
  os.replace(tmp, output)


def _flatten(record):
  out = {}
  for key, value in record.items():
    if isinstance(value, list):
      for i, v in enumerate(value):
        out[f"{key}_{i}"] = v
    else:
      out[key] = value
  return out
