"""MultiLabelHead parity: tf.estimator 2.15 vs estweight on one model_dir.

    # oracle venv: train 3 steps from scratch, then evaluate/predict/train 2
    /work/oracle-venv/bin/python tests/oracle/multi_label_check.py oracle WORK
    # estweight venv: evaluate/predict/train 2 from the oracle's step 3
    .venv/bin/python tests/oracle/multi_label_check.py estweight WORK
    .venv/bin/python tests/oracle/multi_label_check.py compare WORK

Each side writes WORK/<case>/<side>.json with evaluate(), predict() and all
checkpoint variables after 2 more training steps; `compare` reports the worst
relative error per case.
"""
import json
import os
import shutil
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
SIDE, WORK = sys.argv[1], sys.argv[2]
if SIDE == "estweight":
  import estweight
  estweight.install()
import tensorflow as tf  # noqa: E402  pylint: disable=g-import-not-at-top

X = np.array([[0.1, 1.0], [0.5, -1.0], [1.5, 0.3], [-0.7, 0.2],
              [2.0, -0.5], [0.0, 0.0], [-1.2, 1.1], [0.9, 0.9]], np.float32)
W = np.array([1.0, 2.0, 0.5, 1.0, 3.0, 1.0, 0.0, 1.5], np.float32)
MULTI_HOT = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 1], [0, 0, 0],
                      [0, 0, 1], [1, 0, 0], [0, 1, 1], [1, 1, 0]], np.int64)
VOCAB = ["red", "green", "blue"]


def _sparse_labels(names=True):
  indices, values = [], []
  for i, row in enumerate(MULTI_HOT):
    for j, c in enumerate(np.nonzero(row)[0]):
      indices.append([i, j])
      values.append(VOCAB[c] if names else c)
  return tf.SparseTensor(np.array(indices, np.int64), values,
                         [len(MULTI_HOT), 3])


def _input_fn(case, batches):
  def input_fn():
    features = {"x": X, "w": W}
    if case == "dense":
      ds = tf.data.Dataset.from_tensor_slices((features, MULTI_HOT)).batch(4)
      return ds.repeat() if batches is None else ds
    ds = tf.data.Dataset.from_tensors(
        (features, _sparse_labels(names=case == "sparse_vocab")))
    return ds.repeat(batches)
  return input_fn


def _estimator(case, model_dir):
  columns = [tf.feature_column.numeric_column("x", shape=(2,))]
  if case == "dense":
    head = tf.estimator.MultiLabelHead(
        3, weight_column="w", thresholds=[0.3, 0.5],
        classes_for_class_based_metrics=[0, 2])
  elif case == "sparse_ids":
    head = tf.estimator.MultiLabelHead(3, name="tags")
  else:
    head = tf.estimator.MultiLabelHead(
        3, weight_column=tf.feature_column.numeric_column("w"),
        label_vocabulary=VOCAB, loss_reduction="sum",
        classes_for_class_based_metrics=["blue"], thresholds=[0.6])
  config = tf.estimator.RunConfig(tf_random_seed=7)
  return tf.estimator.DNNEstimator(head, [4, 3], columns, model_dir=model_dir,
                                   optimizer="Adam" if case == "dense" else
                                   "Adagrad", config=config)


def _jsonable(value):
  a = np.asarray(value)
  if a.dtype == object or a.dtype.kind == "S":
    return {"dtype": "string", "value": np.vectorize(
        lambda v: v.decode() if isinstance(v, bytes) else str(v),
        otypes=[object])(a).tolist()}
  return {"dtype": str(a.dtype), "value": a.astype(np.float64).tolist()}


def run(case):
  case_dir = os.path.join(WORK, case)
  start = os.path.join(case_dir, "start")
  if SIDE == "oracle":
    shutil.rmtree(case_dir, ignore_errors=True)
    _estimator(case, start).train(_input_fn(case, None), steps=3)
  model_dir = os.path.join(case_dir, f"run_{SIDE}")
  shutil.rmtree(model_dir, ignore_errors=True)
  shutil.copytree(start, model_dir)
  est = _estimator(case, model_dir)
  result = {"evaluate": {k: _jsonable(v) for k, v in est.evaluate(
      _input_fn(case, 2)).items()}}
  preds = list(est.predict(_input_fn(case, 1)))
  result["predict"] = {k: [_jsonable(p[k]) for p in preds]
                       for k in sorted(preds[0])}
  est.train(_input_fn(case, None), steps=2)
  reader = tf.train.load_checkpoint(model_dir)
  result["variables"] = {n: _jsonable(reader.get_tensor(n))
                         for n in sorted(reader.get_variable_to_shape_map())}
  with open(os.path.join(case_dir, f"{SIDE}.json"), "w") as f:
    json.dump(result, f, indent=1)


def _flatten(tree, prefix=""):
  if isinstance(tree, dict) and "dtype" in tree and "value" in tree:
    return {prefix: tree}
  items = tree.items() if isinstance(tree, dict) else enumerate(tree)
  out = {}
  for k, v in items:
    out.update(_flatten(v, f"{prefix}/{k}" if prefix else str(k)))
  return out


def compare(case):
  case_dir = os.path.join(WORK, case)
  with open(os.path.join(case_dir, "oracle.json")) as f:
    want = _flatten(json.load(f))
  with open(os.path.join(case_dir, "estweight.json")) as f:
    got = _flatten(json.load(f))
  problems = [f"missing in estweight: {k}"
              for k in sorted(set(want) - set(got))]
  problems += [f"extra in estweight: {k}" for k in sorted(set(got) - set(want))]
  worst, worst_key = 0.0, None
  for key in sorted(set(want) & set(got)):
    a, b = want[key], got[key]
    if a["dtype"] != b["dtype"]:
      problems.append(f"{key}: dtype {b['dtype']} != {a['dtype']}")
    if a["dtype"] == "string":
      if a["value"] != b["value"]:
        problems.append(f"{key}: {b['value']} != {a['value']}")
      continue
    x, y = np.asarray(a["value"]), np.asarray(b["value"])
    if x.shape != y.shape:
      problems.append(f"{key}: shape {y.shape} != {x.shape}")
      continue
    rel = np.max(np.abs(x - y) / np.maximum(np.abs(x), 1e-6), initial=0.0)
    if rel > worst:
      worst, worst_key = rel, key
    if not np.allclose(y, x, rtol=1e-5, atol=1e-6):
      problems.append(f"{key}: {y.tolist()} != {x.tolist()}")
  print(f"{case}: {len(want)} values compared, worst relative error "
        f"{worst:.3g} ({worst_key})")
  for p in problems:
    print("  MISMATCH", p)
  return not problems


if __name__ == "__main__":
  cases = sys.argv[3:] or ["dense", "sparse_vocab", "sparse_ids"]
  if SIDE == "compare":
    sys.exit(0 if all([compare(c) for c in cases]) else 1)
  for c in cases:
    run(c)
