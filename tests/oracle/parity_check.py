"""Records and compares canned-estimator runs; importable on both sides.

The golden runs (tests/golden/parity/<case>/, written by gen_parity.py on
tf.estimator 2.15) hold the start checkpoint model.ckpt-3 and expected.json:
`evaluate` and `predict` from that checkpoint, `vars_step3` and
`vars_step7` (every variable, optimizer slots included, after 3 steps from
scratch and after 4 more). `check_case(name, workdir)` replays a golden run
on whatever `tf.estimator` currently is (estweight after
`estweight.install()`, or tf.estimator 2.15 itself) and raises
AssertionError listing every mismatch.

    python tests/oracle/parity_check.py [--estweight] [--golden DIR]
        [--parts start,train] [case ...]

runs check_case for the given (default: all golden) cases and prints a
table; without --estweight it checks the goldens against tf.estimator 2.15
(run it in the oracle venv).
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parity_cases  # noqa: E402  pylint: disable=g-import-not-at-top

GOLDEN_ROOT = os.path.normpath(os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "golden", "parity"))
RTOL = 1e-5
ATOL = 1e-6
START_FILES = ("model.ckpt-3.index", "model.ckpt-3.data-00000-of-00001")


# ------------------------------------------------------------ to JSON

def _json_array(value):
  """(dtype name, nested lists). float32 as its shortest repr (exact)."""
  a = np.asarray(value)
  if a.dtype == object or a.dtype.kind == "S":
    flat = [v.decode("utf-8") if isinstance(v, bytes) else str(v)
            for v in a.ravel()]
    return str(a.dtype), np.array(flat, dtype=object).reshape(a.shape).tolist()
  if a.dtype == np.float32:
    flat = [float(str(v)) for v in a.ravel()]
    return "float32", np.array(flat, np.float64).reshape(a.shape).tolist()
  return str(a.dtype), a.tolist()


def eval_to_json(result):
  """{key: {"dtype", "value"}} for an evaluate() result."""
  out = {}
  for key in sorted(result):
    dtype, value = _json_array(result[key])
    out[key] = {"dtype": dtype, "value": value}
  return out


def predictions_to_json(predictions):
  """{key: {"dtype", "values": one entry per example}} for predict()."""
  predictions = list(predictions)
  keys = sorted(predictions[0]) if predictions else []
  out = {}
  for key in keys:
    dtypes = {_json_array(p[key])[0] for p in predictions}
    out[key] = {"dtype": ",".join(sorted(dtypes)),
                "values": [_json_array(p[key])[1] for p in predictions]}
  return out


def read_variables(checkpoint_prefix):
  """{name: {"dtype", "value"}} for every variable in a checkpoint."""
  reader = tf.train.load_checkpoint(checkpoint_prefix)
  out = {}
  for name, dtype in sorted(reader.get_variable_to_dtype_map().items()):
    _, value = _json_array(reader.get_tensor(name))
    out[name] = {"dtype": tf.as_dtype(dtype).name, "value": value}
  return out


def evaluate_and_predict(estimator, name):
  """Runs evaluate() then predict() on the case's evaluation data."""
  result = estimator.evaluate(parity_cases.eval_input_fn(name))
  predictions = estimator.predict(parity_cases.predict_input_fn(name))
  return eval_to_json(result), predictions_to_json(predictions)


def latest_checkpoint(model_dir, step):
  """The latest checkpoint prefix, which must be model.ckpt-<step>."""
  path = tf.train.latest_checkpoint(model_dir)
  want = "model.ckpt-%d" % step
  if path is None or os.path.basename(path) != want:
    raise AssertionError("latest checkpoint in %s is %r, want %s"
                         % (model_dir, path, want))
  return path


# ------------------------------------------------------------ comparing

class Report:
  """Collects mismatches and the worst relative error seen."""

  def __init__(self, rtol=RTOL, atol=ATOL):
    self.rtol, self.atol = rtol, atol
    self.errors = []
    self.worst = 0.0  # max |got - want| / max(|want|, atol)
    self.worst_at = ""

  def fail(self, where, message):
    self.errors.append("%s: %s" % (where, message))

  def values(self, where, got, want, dtype):
    """Compares nested lists of one dtype: floats within tolerance."""
    if dtype.startswith("float"):
      try:
        g = np.asarray(got, np.float64)
        w = np.asarray(want, np.float64)
      except (TypeError, ValueError) as e:
        return self.fail(where, "not numbers: %s" % e)
      if g.shape != w.shape:
        return self.fail(where, "shape %s, want %s" % (g.shape, w.shape))
      if not np.array_equal(np.isnan(g), np.isnan(w)):
        i = np.unravel_index(np.argmax(np.isnan(g) != np.isnan(w)), g.shape)
        return self.fail(where, "NaN at other places, e.g. at %s: %r, want %r"
                         % (tuple(int(j) for j in i), g[i].item(),
                            w[i].item()))
      g, w = np.nan_to_num(g), np.nan_to_num(w)
      diff = np.abs(g - w)
      if diff.size:
        rel = float(np.max(diff / np.maximum(np.abs(w), self.atol)))
        if rel > self.worst:
          self.worst, self.worst_at = rel, where
      bad = diff > self.atol + self.rtol * np.abs(w)
      if np.any(bad):
        i = np.unravel_index(np.argmax(diff - self.rtol * np.abs(w)), g.shape)
        self.fail(where, "%d of %d values differ, e.g. at %s: %r, want %r"
                  % (int(bad.sum()), bad.size, tuple(int(j) for j in i),
                     g[i].item(), w[i].item()))
    elif got != want:
      self.fail(where, "%s, want %s" % (_short(got), _short(want)))

  def keyed(self, where, got, want, value_key, check_dtype=True):
    """Compares {key: {"dtype", value_key}} dicts: keys, dtypes, values."""
    self.names(where, got, want)
    for key in sorted(set(got) & set(want)):
      g, w = got[key], want[key]
      if check_dtype and g["dtype"] != w["dtype"]:
        self.fail("%s[%s]" % (where, key),
                  "dtype %s, want %s" % (g["dtype"], w["dtype"]))
      self.values("%s[%s]" % (where, key), g[value_key], w[value_key],
                  w["dtype"])

  def names(self, where, got, want):
    """Fails unless the collections `got` and `want` hold the same names."""
    if sorted(got) != sorted(want):
      self.fail(where, "names differ: missing %s, unexpected %s"
                % (sorted(set(want) - set(got)), sorted(set(got) - set(want))))

  def raise_if_failed(self, title):
    if self.errors:
      raise AssertionError("%s: %d mismatch(es)\n  %s" % (
          title, len(self.errors), "\n  ".join(self.errors)))


def _short(value):
  text = json.dumps(value)
  return text if len(text) < 200 else text[:200] + "..."


def compare_eval_predict(report, evaluate, predict, expected):
  """evaluate()/predict() JSON (see eval_to_json) against an expected dict."""
  report.keyed("evaluate", evaluate, expected["evaluate"], "value")
  report.keyed("predict", predict, expected["predict"], "values")


def compare_variables(report, where, got, want):
  report.keyed(where, got, want, "value")


# ------------------------------------------------------------ the check

def load_expected(name, golden_root=GOLDEN_ROOT):
  with open(os.path.join(golden_root, name, "expected.json")) as f:
    return json.load(f)


def golden_cases(golden_root=GOLDEN_ROOT):
  """Case names with a golden dir (expected.json), sorted."""
  if not os.path.isdir(golden_root):
    return []
  return sorted(d for d in os.listdir(golden_root) if os.path.isfile(
      os.path.join(golden_root, d, "expected.json")))


PARTS = ("start", "train")


def check_case(name, workdir, golden_root=GOLDEN_ROOT, parts=PARTS):
  """Replays golden run `name` on the current tf.estimator, in workdir.

  "start" (a): from a copy of the golden start checkpoint (step 3),
  evaluate() and predict() give the golden keys, dtypes and values, and
  get_variable_names() gives the golden step-3 names.
  "train" (b, c): 4 more train() steps from there write model.ckpt-7
  holding exactly the golden variables (optimizer slots included), each
  with the golden value. With both parts, evaluate/predict run first, in
  the order gen_parity.py used.
  Returns the Report; raises AssertionError listing every mismatch.
  """
  unknown = set(parts) - set(PARTS)
  if unknown:
    raise ValueError("unknown parts %s" % sorted(unknown))
  expected = load_expected(name, golden_root)
  if expected["data_sha256"] != parity_cases.data_fingerprint():
    raise AssertionError("%s: parity_cases makes other data than the golden "
                         "run saw (numpy changed?); regenerate or fix" % name)
  model_dir = os.path.join(workdir, name)
  if os.path.exists(model_dir):
    shutil.rmtree(model_dir)
  shutil.copytree(os.path.join(golden_root, name), model_dir)
  os.remove(os.path.join(model_dir, "expected.json"))
  report = Report()
  estimator = parity_cases.CASES[name](model_dir, parity_cases.make_config())
  if "start" in parts:
    evaluate, predict = evaluate_and_predict(estimator, name)
    compare_eval_predict(report, evaluate, predict, expected)
    report.names("get_variable_names() at step 3",
                 estimator.get_variable_names(), expected["vars_step3"])
  if "train" in parts:
    parity_cases.train_more(estimator, name)
    step7 = read_variables(latest_checkpoint(model_dir, 7))
    compare_variables(report, "vars_step7", step7, expected["vars_step7"])
  report.raise_if_failed(name)
  return report


def main(argv):
  """Runs check_case over cases in a temp dir; prints a table."""
  parser = argparse.ArgumentParser(description="Replays golden parity runs.")
  parser.add_argument("--estweight", action="store_true",
                      help="check estweight (after estweight.install())")
  parser.add_argument("--golden", default=GOLDEN_ROOT)
  parser.add_argument("--parts", default=",".join(PARTS),
                      help="comma-separated subset of %s" % ",".join(PARTS))
  parser.add_argument("cases", nargs="*")
  args = parser.parse_args(argv)
  if args.estweight:
    import estweight  # pylint: disable=g-import-not-at-top
    estweight.install()
  tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
  names = args.cases or golden_cases(args.golden)
  workdir = tempfile.mkdtemp(prefix="parity_check_")
  failed = 0
  for name in names:
    try:
      report = check_case(name, workdir, args.golden,
                          tuple(args.parts.split(",")))
      print("%-42s ok    worst rel err %.2e  %s"
            % (name, report.worst, report.worst_at), flush=True)
    except Exception as e:  # pylint: disable=broad-except
      failed += 1
      print("%-42s FAIL  %s: %s" % (name, type(e).__name__, e), flush=True)
  shutil.rmtree(workdir, ignore_errors=True)
  print("%d of %d cases failed" % (failed, len(names)))
  return 1 if failed else 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
