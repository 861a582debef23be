"""Writes tests/golden/export/*.json from tf.estimator 2.15 (`make oracle`).

Run in the oracle venv (Python 3.11, tensorflow-cpu 2.15.1,
tensorflow-estimator 2.15.0):

    python tests/oracle/gen_export.py [--out DIR] [case ...]

Cases are names of parity_cases.CASES (default: DEFAULT_CASES) and
`custom_model_fn` (export_custom_model.py); with no case given, all of
them plus `all_modes` are written.

Canned cases: the golden start checkpoint (tests/golden/parity/<case>/,
model.ckpt-3) is copied into a fresh model_dir and the case's estimator,
built with parity_cases.make_config(model_dir), is exported (no training)
twice with export_saved_model():

  parsing: build_parsing_serving_input_receiver_fn(
               make_parse_example_spec(columns)), where columns are the
           case's serving features (FEATURES[case] without the weights
           `w`, `cw`, `cww`; baseline cases always use `x`):
             x:   numeric_column('x', shape=(3,))
                  -> FixedLenFeature(shape=(3,), dtype=float32)
             cat: categorical_column_with_vocabulary_list('cat', ['a', 'b',
                  'c']) -> VarLenFeature(dtype=string)
  raw:     build_raw_serving_input_receiver_fn(features) with placeholders
           x float32 [None, 3] and cat string [None] (the same features).

Each export is recorded as `files` (relative paths of the files under the
export dir, sorted), `dirs` (likewise, directories), `meta_graphs` (per
MetaGraph of saved_model.pb in file order: `tags`, and `signatures`
{name: {method_name, inputs, outputs}} with {key: {dtype: "DT_FLOAT"...,
shape: [-1, 3] (-1 unknown; null for unknown rank)}}), `variables` (sorted
names in variables/) and `served`: {signature: {output key: {dtype,
value}}} from calling every signature of tf.saved_model.load(export_dir)
on the 20 evaluation examples (dtype: numpy's name, "object" for strings,
as in tests/golden/parity/*/expected.json; value: nested lists over the
batch, float32 as the shortest repr that round-trips, i.e. exact, strings
decoded as utf-8). Each export's `predict` signature is checked against the
case's golden predict() (expected.json) before anything is written.

Serving inputs. raw: every signature input key k is fed
parity_cases.EVAL_X[k] (x: float32 [20, 3]; cat: bytes [20]). parsing:
the single input (`examples` or `inputs`) is fed a string tensor [20] of,
for i in range(20):

    tf.train.Example(features=tf.train.Features(feature={
        "x": tf.train.Feature(float_list=tf.train.FloatList(
            value=EVAL_X["x"][i].tolist())),
        "cat": tf.train.Feature(bytes_list=tf.train.BytesList(
            value=[EVAL_X["cat"][i]])),
    })).SerializeToString()

(both features in every case, so the baseline cases' examples carry an
unparsed `cat`; no weight feature).

custom_model_fn: export_custom_model.build() trained TRAIN_STEPS step from
scratch (make_config's tf_random_seed), then exported as above with
features {x} only; `kernel` holds the trained variable so the other side
can restore it exactly.

all_modes (dnn_classifier_binary_weighted only): the restored estimator is
exported with experimental_export_all_saved_models for TRAIN and EVAL
(build_raw_supervised_input_receiver_fn with features x float32 [None, 3],
cat string [None] and the weight w float32 [None], which the weighted head
needs outside PREDICT, and labels int64 [None, 1]) and PREDICT (the raw
serving receiver), with assets_extra={"some/file.txt": <a temp file>}.
Recorded: files, dirs, meta_graphs, variables, and the timestamped
export dir's name pattern.

Cases dropped: none; every default case exports and serves on 2.15.

What 2.15 gives (see the JSON for shapes and dtypes): one MetaGraph
tagged ["serve"]; files saved_model.pb and variables/variables.{index,
data-00000-of-00001} only (no assets dir); variables without optimizer
slots. parsing exports of classifiers: serving_default and classification
(tensorflow/serving/classify, input `inputs`, outputs classes + scores),
predict (tensorflow/serving/predict, input `examples`), and for binary
heads also regression (tensorflow/serving/regress, outputs = logistic).
Regressors: serving_default and regression (regress, `outputs`) and
predict. raw exports keep only the predict signatures: classify and
regress need a single string input, so those signatures (serving_default
included) are left out and the SavedModel has no default signature.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import saved_model_pb2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_custom_model  # noqa: E402  pylint: disable=g-import-not-at-top
import parity_cases  # noqa: E402  pylint: disable=g-import-not-at-top
import parity_check  # noqa: E402  pylint: disable=g-import-not-at-top

GOLDEN_ROOT = os.path.normpath(os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "golden", "export"))
SCRIPT = "tests/oracle/gen_export.py"
CHECKPOINT_FILES = parity_check.START_FILES + ("checkpoint",)
DEFAULT_CASES = (
    "linear_classifier_binary",
    "linear_classifier_3class_weighted",
    "linear_classifier_vocab",
    "linear_regressor_weighted",
    "linear_regressor_dim2",
    "dnn_classifier_binary_weighted",
    "dnn_classifier_3class",
    "dnn_classifier_vocab3",
    "dnn_regressor_weighted",
    "dnn_linear_combined_classifier_weighted",
    "dnn_linear_combined_regressor_weighted",
    "baseline_classifier_binary_weighted",
    "baseline_classifier_3class",
    "baseline_regressor_weighted",
    "v1_dnn_classifier_binary_weighted",
    "dnn_estimator_multiclass_head",
)
CUSTOM = "custom_model_fn"
ALL_MODES = "all_modes"
ALL_MODES_CASE = "dnn_classifier_binary_weighted"
WEIGHTS = ("w", "cw", "cww")
ASSET_EXTRA = "some/file.txt"


# ------------------------------------------------------------ inputs

def _as_str(path):
  return path.decode() if isinstance(path, bytes) else path


def serving_features(name):
  """Serving feature keys: the case's features minus weights; baseline: x."""
  if name.startswith("baseline_"):
    return ("x",)
  if name == CUSTOM:
    return ("x",)
  return tuple(k for k in parity_cases.FEATURES[name] if k not in WEIGHTS)


def _column(key):
  """The feature column parity_cases builds for `key` (x or cat)."""
  if key == "x":
    return tf.feature_column.numeric_column("x", shape=(3,))
  assert key == "cat", key
  return tf.feature_column.categorical_column_with_vocabulary_list(
      "cat", ["a", "b", "c"])


def parse_spec(keys):
  """make_parse_example_spec of the columns for `keys`."""
  return tf.feature_column.make_parse_example_spec([_column(k) for k in keys])


def _spec_to_json(spec):
  """{key: {type, dtype[, shape]}} for a parse spec."""
  out = {}
  for key, feature in sorted(spec.items()):
    entry = {"type": type(feature).__name__, "dtype": feature.dtype.name}
    if hasattr(feature, "shape"):
      entry["shape"] = list(feature.shape)
    out[key] = entry
  return out


def _placeholders(keys):
  """Graph placeholders named after the keys (the raw receivers copy them)."""
  shapes = {"x": (tf.float32, [None, 3]), "cat": (tf.string, [None]),
            "w": (tf.float32, [None])}
  with tf.Graph().as_default():
    return {k: tf.compat.v1.placeholder(shapes[k][0], shapes[k][1], name=k)
            for k in keys}


def parsing_receiver_fn(keys):
  """Parses serialized tf.Examples (`examples`) with parse_spec(keys)."""
  return tf.estimator.export.build_parsing_serving_input_receiver_fn(
      parse_spec(keys))


def raw_receiver_fn(keys):
  """Feeds the features for `keys` directly (see _placeholders)."""
  return tf.estimator.export.build_raw_serving_input_receiver_fn(
      _placeholders(keys))


def serialized_examples():
  """One serialized tf.train.Example per evaluation example (x and cat)."""
  x, cat = parity_cases.EVAL_X["x"], parity_cases.EVAL_X["cat"]
  out = []
  for i in range(len(x)):
    example = tf.train.Example(features=tf.train.Features(feature={
        "x": tf.train.Feature(float_list=tf.train.FloatList(
            value=x[i].tolist())),
        "cat": tf.train.Feature(bytes_list=tf.train.BytesList(
            value=[bytes(cat[i])])),
    }))
    out.append(example.SerializeToString())
  return np.array(out, dtype=object)


# ------------------------------------------------------------ recording

def _dtype(array):
  """As parity_check's JSON: numpy's name ("object" for strings)."""
  return parity_check._json_array(array)[0]  # pylint: disable=protected-access


def _values(array):
  """Nested lists; float32 as its shortest round-trip repr (exact)."""
  return parity_check._json_array(array)[1]  # pylint: disable=protected-access


def _tensor_info(info):
  """{dtype: "DT_...", shape: dims with -1 unknown, or None}."""
  shape = info.tensor_shape
  return {"dtype": types_pb2.DataType.Name(info.dtype),
          "shape": (None if shape.unknown_rank
                    else [int(d.size) for d in shape.dim])}


def _tree(export_dir):
  """(files, dirs) under export_dir: sorted relative paths, "/"-separated."""
  files, dirs = [], []
  for root, subdirs, names in os.walk(export_dir):
    rel = os.path.relpath(root, export_dir)
    prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
    dirs.extend(prefix + d for d in subdirs)
    files.extend(prefix + f for f in names)
  return sorted(files), sorted(dirs)


def describe_export(export_dir):
  """files, dirs, meta_graphs (tags, signatures) and variables."""
  saved_model = saved_model_pb2.SavedModel()
  with open(os.path.join(export_dir, "saved_model.pb"), "rb") as f:
    saved_model.ParseFromString(f.read())
  meta_graphs = []
  for meta_graph in saved_model.meta_graphs:
    signatures = {}
    for key, sig in sorted(meta_graph.signature_def.items()):
      signatures[key] = {
          "method_name": sig.method_name,
          "inputs": {k: _tensor_info(v) for k, v in sig.inputs.items()},
          "outputs": {k: _tensor_info(v) for k, v in sig.outputs.items()},
      }
    meta_graphs.append({"tags": list(meta_graph.meta_info_def.tags),
                        "signatures": signatures})
  files, dirs = _tree(export_dir)
  variables = sorted(name for name, _ in tf.train.list_variables(
      os.path.join(export_dir, "variables", "variables")))
  return {"files": files, "dirs": dirs, "meta_graphs": meta_graphs,
          "variables": variables}


def serve(export_dir, kind):
  """{signature: {output: {dtype, value}}} on the evaluation examples."""
  loaded = tf.saved_model.load(export_dir)
  served = {}
  for key in sorted(loaded.signatures):
    fn = loaded.signatures[key]
    _, kwargs = fn.structured_input_signature
    if kind == "parsing":
      (input_key,) = kwargs
      feed = {input_key: tf.constant(serialized_examples(), tf.string)}
    else:
      feed = {k: tf.constant(parity_cases.EVAL_X[k]) for k in kwargs}
    outputs = fn(**feed)
    served[key] = {}
    for out_key in sorted(outputs):
      value = outputs[out_key].numpy()
      served[key][out_key] = {"dtype": _dtype(value), "value": _values(value)}
  return served


def export_and_record(estimator, keys, workdir):
  """{parsing: ..., raw: ...}: describe_export + served, per receiver."""
  out = {}
  for kind, receiver_fn in (("parsing", parsing_receiver_fn(keys)),
                            ("raw", raw_receiver_fn(keys))):
    base = os.path.join(workdir, "export_" + kind)
    export_dir = _as_str(estimator.export_saved_model(base, receiver_fn))
    record = describe_export(export_dir)
    record["served"] = serve(export_dir, kind)
    out[kind] = record
  return out


def _header(name, keys):
  """Fields every golden file has."""
  return {
      "case": name,
      "data_sha256": parity_cases.data_fingerprint(),
      "generated_by": {
          "tensorflow": tf.__version__,
          "tensorflow_estimator": _estimator_version(),
          "script": SCRIPT},
      "serving_features": list(keys),
      "parse_spec": _spec_to_json(parse_spec(keys)),
  }


def _estimator_version():
  try:
    from importlib import metadata  # pylint: disable=g-import-not-at-top
    return metadata.version("tensorflow-estimator")
  except Exception:  # pylint: disable=broad-except
    return "unknown"


def _restored(name, workdir):
  """The case's estimator over a copy of its golden start checkpoint."""
  model_dir = os.path.join(workdir, "model")
  os.makedirs(model_dir)
  golden = os.path.join(parity_check.GOLDEN_ROOT, name)
  for f in CHECKPOINT_FILES:
    shutil.copyfile(os.path.join(golden, f), os.path.join(model_dir, f))
  return parity_cases.CASES[name](model_dir,
                                  parity_cases.make_config(model_dir))


# ------------------------------------------------------------ cases

def check_against_golden(name, exports):
  """Each export's `predict` signature must serve the golden predict()."""
  want = parity_check.load_expected(name)["predict"]
  report = parity_check.Report()
  for kind, record in sorted(exports.items()):
    got = {key: {"dtype": v["dtype"], "values": v["value"]}
           for key, v in record["served"]["predict"].items()}
    report.keyed("%s/predict" % kind, got, want, "values")
  report.raise_if_failed("%s: served vs golden predict()" % name)


def generate_canned(name, workdir):
  """Exports a parity case restored from its golden model.ckpt-3."""
  keys = serving_features(name)
  estimator = _restored(name, workdir)
  out = _header(name, keys)
  out["exports"] = export_and_record(estimator, keys, workdir)
  check_against_golden(name, out["exports"])
  return out


def generate_custom(workdir):
  """Trains export_custom_model one step from scratch, then exports it."""
  keys = serving_features(CUSTOM)
  model_dir = os.path.join(workdir, "model")
  estimator = export_custom_model.build(model_dir,
                                        parity_cases.make_config(model_dir))
  estimator.train(export_custom_model.train_input_fn,
                  steps=export_custom_model.TRAIN_STEPS)
  out = _header(CUSTOM, keys)
  out["kernel_init"] = _values(export_custom_model.KERNEL_INIT)
  out["kernel"] = _values(estimator.get_variable_value("kernel"))
  out["global_step"] = int(estimator.get_variable_value("global_step"))
  out["exports"] = export_and_record(estimator, keys, workdir)
  return out


def generate_all_modes(workdir):
  """experimental_export_all_saved_models for TRAIN, EVAL and PREDICT."""
  name = ALL_MODES_CASE
  keys = serving_features(name)
  estimator = _restored(name, workdir)
  modes = tf.estimator.ModeKeys
  with tf.Graph().as_default():
    labels = tf.compat.v1.placeholder(tf.int64, [None, 1], name="labels")
  supervised = tf.estimator.experimental.build_raw_supervised_input_receiver_fn(
      _placeholders(keys + ("w",)), labels)
  asset = os.path.join(workdir, "asset.txt")
  with open(asset, "w") as f:
    f.write("extra\n")
  base = os.path.join(workdir, "export_all")
  export_dir = _as_str(estimator.experimental_export_all_saved_models(
      base, {modes.TRAIN: supervised, modes.EVAL: supervised,
             modes.PREDICT: raw_receiver_fn(keys)},
      assets_extra={ASSET_EXTRA: asset}))
  stamp = os.path.basename(export_dir)
  out = _header(ALL_MODES, keys)
  out["from_case"] = name
  out["supervised_features"] = list(keys + ("w",))
  out["supervised_labels"] = {"dtype": "int64", "shape": [None, 1]}
  out["assets_extra"] = {ASSET_EXTRA: "<a temp file>"}
  out["export_dir_name"] = {"all_digits": stamp.isdigit(),
                            "length": len(stamp)}
  out["export"] = describe_export(export_dir)
  return out


def generate(name, out_root):
  """Writes out_root/<name>.json; returns its content."""
  workdir = tempfile.mkdtemp(prefix="gen_export_%s_" % name)
  try:
    if name == CUSTOM:
      out = generate_custom(workdir)
    elif name == ALL_MODES:
      out = generate_all_modes(workdir)
    else:
      out = generate_canned(name, workdir)
  finally:
    shutil.rmtree(workdir, ignore_errors=True)
  with open(os.path.join(out_root, name + ".json"), "w") as f:
    json.dump(out, f, separators=(",", ":"), sort_keys=True)
    f.write("\n")
  return out


def _summary(out):
  """One line: signature names per export."""
  exports = out.get("exports") or {"all": out["export"]}
  parts = []
  for kind, record in sorted(exports.items()):
    sigs = ",".join(
        "%s%s" % ("/".join(mg["tags"]) + ":" if kind == "all" else "", s)
        for mg in record["meta_graphs"] for s in sorted(mg["signatures"]))
    parts.append("%s[%s]" % (kind, sigs))
  return " ".join(parts)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--out", default=GOLDEN_ROOT)
  parser.add_argument("cases", nargs="*")
  args = parser.parse_args()
  known = set(parity_cases.CASES) | {CUSTOM, ALL_MODES}
  unknown = sorted(set(args.cases) - known)
  if unknown:
    parser.error("unknown cases: %s" % ", ".join(unknown))
  names = args.cases or list(DEFAULT_CASES) + [CUSTOM, ALL_MODES]
  os.makedirs(args.out, exist_ok=True)
  if not args.cases:  # a full run drops golden files of removed cases
    for stale in sorted(set(os.listdir(args.out))
                        - {n + ".json" for n in names}):
      if stale.endswith(".json"):
        os.remove(os.path.join(args.out, stale))
  tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
  for name in names:
    out = generate(name, args.out)
    print("%-42s %s" % (name, _summary(out)), flush=True)


if __name__ == "__main__":
  main()
