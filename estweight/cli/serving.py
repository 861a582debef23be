"""`estweight export`: a SavedModel for serving, and its input contract.

The export holds `assets.extra/serving_schema.json` next to
`saved_model.pb`: what a client sends for each feature (dtype, the
tf.Example list it goes in, whether it may be left out and what a missing
value becomes), written with the export (so a server never sees one without
the other) and printed.

The contract follows training:

- float features: float32, `float_list`; may be left out of a tf.Example
  (or sent as NaN to a raw export): the feature column fills in the
  training mean, as it did for missing values in training.
- int features: int64, `int64_list` (a `float_list` is refused by the
  parser even for whole numbers); required, as int columns never had
  missing values in training.
- string features: `bytes_list`; may be left out: no category, as an empty
  or unseen value in training.

`export.receiver='parsing'` takes serialized tf.Examples under the input
`examples` (TF Serving's Classify, Regress and Predict APIs);
`export.receiver='raw'` takes one `[batch_size]` tensor per feature and
serves the `predict` signature as `serving_default`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import json
import os
import tempfile

import estweight
from estweight.cli import checkpoint as checkpoint_lib
from estweight.cli import checks
from estweight.cli import commands

if TYPE_CHECKING:
  import ml_collections

  from estweight.cli.table import Table

SCHEMA_FILE = "serving_schema.json"
_DTYPES = {"float": "float32", "int": "int64", "string": "string"}
_EXAMPLE_LISTS = {
    "float": "float_list",
    "int": "int64_list",
    "string": "bytes_list"
}


def serving_schema(config: ml_collections.ConfigDict, table: Table) -> dict:
  """The input contract of an export of `table`'s model (see the module
  docstring), as written to serving_schema.json."""
  receiver = config.export.receiver
  fills = table.fill_values()
  features = {}
  for name in table.feature_names:
    type_ = table.schema[name]
    entry: dict[str, Any] = {"dtype": _DTYPES[type_], "shape": [None]}
    if receiver == "parsing":
      entry["example_list"] = _EXAMPLE_LISTS[type_]
    if type_ == "float":
      entry["required"] = False
      entry["if_missing"] = "training mean"
      entry["fill_value"] = fills[name]
      entry["missing_is"] = ("left out of the tf.Example, or NaN"
                             if receiver == "parsing" else "NaN")
    elif type_ == "int":
      entry["required"] = True
    else:
      entry["required"] = False
      entry["if_missing"] = "no category"
      entry["vocabulary_size"] = len(table.vocabularies[name])
    features[name] = entry
  if receiver == "parsing":
    inputs = {
        "examples": {
            "dtype": "string",
            "shape": [None],
            "holds": "serialized tf.train.Example protos, one per row"
        }
    }
  else:
    inputs = {
        name: {
            "dtype": entry["dtype"],
            "shape": [None]
        } for name, entry in features.items()
    }
  label: dict[str, Any] = {"name": table.label, "task": table.task}
  if table.task == "classification":
    label["classes"] = (
        list(table.label_vocabulary) if table.label_vocabulary else list(
            range(table.n_classes))  # type: ignore[arg-type]
    )
  return {
      "receiver": receiver,
      "inputs": inputs,
      "features": features,
      "label": label
  }


def describe(schema: dict, signatures: list[str]) -> str:
  """The schema as printed by `estweight export`."""
  parsing = schema["receiver"] == "parsing"
  lines = [f"Serving signatures: {', '.join(signatures)}"]
  if parsing:
    lines.append("Input 'examples': a [batch_size] string tensor of "
                 "serialized tf.train.Example, one per row, with features:")
  else:
    lines.append("Inputs: one [batch_size] tensor per feature:")
  rows = []
  for name, entry in schema["features"].items():
    if entry["dtype"] == "float32":
      missing = (f"{entry['missing_is']} -> training mean "
                 f"{entry['fill_value']:.6g}")
    elif entry["dtype"] == "int64":
      missing = "required" + (" (int64_list; a float_list is refused)"
                              if parsing else "")
    else:
      missing = "optional: no category"
    rows.append([name, entry["dtype"]] +
                ([entry["example_list"]] if parsing else []) + [missing])
  headers = ["feature", "dtype"
            ] + (["tf.Example list"] if parsing else []) + ["when missing"]
  lines.append(commands.format_table(rows, headers))
  return "\n".join(lines)


def _signatures(export_dir):
  """The signature names of the export's serving MetaGraph."""
  from estweight import _tf_private  # pylint: disable=g-import-not-at-top
  proto = _tf_private.saved_model_pb2.SavedModel()
  with open(os.path.join(export_dir, "saved_model.pb"), "rb") as f:
    proto.ParseFromString(f.read())
  for meta_graph in proto.meta_graphs:
    if "serve" in meta_graph.meta_info_def.tags:
      names = sorted(meta_graph.signature_def)
      return ([n for n in names if n == "serving_default"] +
              [n for n in names if n != "serving_default"])
  return []


def serving_receiver_fn(config: ml_collections.ConfigDict,
                        table: Table) -> Callable[[], Any]:
  """The receiver fn of export.receiver: 'parsing' (tf.Examples parsed with
  `table.parse_spec()`) or 'raw' (one tensor per feature, `predict` served
  as serving_default)."""
  if config.export.receiver == "parsing":
    return estweight.export.build_parsing_serving_input_receiver_fn(
        table.parse_spec())
  return estweight.export.build_raw_serving_input_receiver_fn(
      table.raw_serving_features(), default_signature="predict")


def export(config: ml_collections.ConfigDict,
           model_dir: str,
           *,
           checkpoint: str | None = None) -> str:
  """Exports the checkpoint `estweight.cli.checkpoint` chooses with its
  serving schema; prints the choice, the schema and (last) the path."""
  checks.check(config, "export")
  choice = checkpoint_lib.choose(model_dir, checkpoint)
  print(choice.describe().capitalize())
  table, est = commands.prepare(config, model_dir)
  base = config.export.dir or os.path.join(model_dir, "export")
  schema = serving_schema(config, table)
  with tempfile.TemporaryDirectory(prefix="estweight-export-") as tmp:
    schema_path = os.path.join(tmp, SCHEMA_FILE)
    with open(schema_path, "w", encoding="utf-8") as f:
      json.dump(schema, f, indent=2)
      f.write("\n")
    path = est.export_saved_model(base,
                                  serving_receiver_fn(config, table),
                                  assets_extra={
                                      SCHEMA_FILE: schema_path
                                  },
                                  checkpoint_path=choice.path).decode()
  print(describe(schema, _signatures(path)))
  print(f"Schema: {os.path.join(path, 'assets.extra', SCHEMA_FILE)}")
  print(path)
  return path
