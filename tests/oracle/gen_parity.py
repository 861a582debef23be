"""Writes tests/golden/parity/<case>/ from tf.estimator 2.15 (`make oracle`).

Run in the oracle venv (Python 3.11, tensorflow-cpu 2.15.1,
tensorflow-estimator 2.15.0):

    python tests/oracle/gen_parity.py [--out DIR] [case ...]

For each case of parity_cases.CASES (default: all, and stale case dirs are
removed): train 3 steps from scratch in a fresh model_dir, then record
evaluate() and predict() on the evaluation data and every variable of
model.ckpt-3; train 4 more steps and record every variable of model.ckpt-7.
Kept per case: `checkpoint` (relative path), model.ckpt-3.index,
model.ckpt-3.data-00000-of-00001 and expected.json (compact JSON; float32
values as their shortest round-trip repr, i.e. exact).
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parity_cases  # noqa: E402  pylint: disable=g-import-not-at-top
import parity_check  # noqa: E402  pylint: disable=g-import-not-at-top

CHECKPOINT_FILE = ('model_checkpoint_path: "model.ckpt-3"\n'
                   'all_model_checkpoint_paths: "model.ckpt-3"\n')


def generate(name, out_root):
  """Runs case `name` on tf.estimator and writes out_root/<name>/."""
  model_dir = tempfile.mkdtemp(prefix="gen_parity_%s_" % name)
  try:
    estimator = parity_cases.CASES[name](model_dir,
                                         parity_cases.make_config())
    parity_cases.train_from_scratch(estimator, name)
    start = parity_check.latest_checkpoint(model_dir, 3)
    evaluate, predict = parity_check.evaluate_and_predict(estimator, name)
    vars_step3 = parity_check.read_variables(start)
    out = os.path.join(out_root, name)
    if os.path.exists(out):
      shutil.rmtree(out)
    os.makedirs(out)
    for f in parity_check.START_FILES:
      shutil.copyfile(os.path.join(model_dir, f), os.path.join(out, f))
    with open(os.path.join(out, "checkpoint"), "w") as f:
      f.write(CHECKPOINT_FILE)
    parity_cases.train_more(estimator, name)
    vars_step7 = parity_check.read_variables(
        parity_check.latest_checkpoint(model_dir, 7))
  finally:
    shutil.rmtree(model_dir, ignore_errors=True)
  expected = {
      "case": name,
      "labels": parity_cases.LABELS[name],
      "features": list(parity_cases.FEATURES[name]),
      "data_sha256": parity_cases.data_fingerprint(),
      "generated_by": {
          "tensorflow": tf.__version__,
          "tensorflow_estimator": _estimator_version(),
          "script": "tests/oracle/gen_parity.py"},
      "evaluate": evaluate,
      "predict": predict,
      "vars_step3": vars_step3,
      "vars_step7": vars_step7,
  }
  with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f, separators=(",", ":"), sort_keys=True)
    f.write("\n")
  return expected


def _estimator_version():
  try:
    from importlib import metadata  # pylint: disable=g-import-not-at-top
    return metadata.version("tensorflow-estimator")
  except Exception:  # pylint: disable=broad-except
    return "unknown"


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--out", default=parity_check.GOLDEN_ROOT)
  parser.add_argument("cases", nargs="*")
  args = parser.parse_args()
  unknown = sorted(set(args.cases) - set(parity_cases.CASES))
  if unknown:
    parser.error("unknown cases: %s" % ", ".join(unknown))
  names = args.cases or sorted(parity_cases.CASES)
  os.makedirs(args.out, exist_ok=True)
  if not args.cases:  # a full run drops golden dirs of removed cases
    for stale in sorted(set(parity_check.golden_cases(args.out))
                        - set(parity_cases.CASES)):
      shutil.rmtree(os.path.join(args.out, stale))
  tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
  for name in names:
    expected = generate(name, args.out)
    print("%-42s %2d eval keys, %2d predict keys, %2d variables" % (
        name, len(expected["evaluate"]), len(expected["predict"]),
        len(expected["vars_step7"])), flush=True)


if __name__ == "__main__":
  main()
