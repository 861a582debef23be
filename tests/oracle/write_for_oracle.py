"""Trains every parity case with estweight, for check_written.py (check d).

Run in estweight's venv:

    python tests/oracle/write_for_oracle.py OUTDIR [case ...]

For each case (default: all of parity_cases.CASES): train 3 steps from
scratch with estweight into OUTDIR/<case>, then evaluate() and predict() on
the evaluation data. Writes OUTDIR/results.json: per case `evaluate`,
`predict` (as in expected.json) and `vars_step3` (every variable of
model.ckpt-3), or `error` if estweight failed. Exits 1 if any case failed
(results.json is written anyway). Then, in the oracle venv:

    python tests/oracle/check_written.py OUTDIR

`--native` skips estweight.install() and trains with whatever tf.estimator
is (a self-test of check (d) in the oracle venv).
"""
import argparse
import json
import os
import shutil
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parity_cases  # noqa: E402  pylint: disable=g-import-not-at-top
import parity_check  # noqa: E402  pylint: disable=g-import-not-at-top


def write_case(name, out):
  """Trains case `name` into out/<name>; returns its results entry."""
  model_dir = os.path.join(out, name)
  if os.path.exists(model_dir):
    shutil.rmtree(model_dir)
  estimator = parity_cases.CASES[name](model_dir, parity_cases.make_config())
  parity_cases.train_from_scratch(estimator, name)
  start = parity_check.latest_checkpoint(model_dir, parity_cases.START_STEPS)
  evaluate, predict = parity_check.evaluate_and_predict(estimator, name)
  return {"evaluate": evaluate, "predict": predict,
          "vars_step3": parity_check.read_variables(start)}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--native", action="store_true",
                      help="use tf.estimator as is, without estweight")
  parser.add_argument("outdir")
  parser.add_argument("cases", nargs="*")
  args = parser.parse_args()
  unknown = sorted(set(args.cases) - set(parity_cases.CASES))
  if unknown:
    parser.error("unknown cases: %s" % ", ".join(unknown))
  version = "not used (--native)"
  if not args.native:
    import estweight  # pylint: disable=g-import-not-at-top
    estweight.install()
    version = estweight.__version__
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
  os.makedirs(args.outdir, exist_ok=True)
  results = {"written_by": {"estweight": version,
                            "tensorflow": tf.__version__,
                            "script": "tests/oracle/write_for_oracle.py"},
             "data_sha256": parity_cases.data_fingerprint(),
             "cases": {}}
  failed = 0
  for name in args.cases or sorted(parity_cases.CASES):
    try:
      results["cases"][name] = write_case(name, args.outdir)
      print("%-42s written" % name, flush=True)
    except Exception as e:  # pylint: disable=broad-except
      failed += 1
      results["cases"][name] = {"error": "%s: %s" % (type(e).__name__, e)}
      print("%-42s FAILED in estweight: %s: %s"
            % (name, type(e).__name__, str(e).splitlines()[0] if str(e)
               else ""), flush=True)
      traceback.print_exc(limit=-3)
  with open(os.path.join(args.outdir, "results.json"), "w") as f:
    json.dump(results, f, separators=(",", ":"), sort_keys=True)
  print("%d of %d cases failed in estweight; results in %s"
        % (failed, len(results["cases"]),
           os.path.join(args.outdir, "results.json")))
  return 1 if failed else 0


if __name__ == "__main__":
  sys.exit(main())
