"""Check (d): tf.estimator 2.15 reads estweight's model_dirs, same numbers.

Run in the oracle venv on the output of write_for_oracle.py:

    python tests/oracle/check_written.py OUTDIR [case ...]

For each case in OUTDIR/results.json, builds the same case on tf.estimator
2.15 with model_dir OUTDIR/<case> (estweight's 3-step checkpoint), runs
evaluate() and predict(), and compares keys, dtypes and values with
estweight's (rtol 1e-5, atol 1e-6). Also requires estweight's checkpoint to
hold exactly the variables of the golden start checkpoint (names and
dtypes). How close its values are to the golden ones (training from scratch
on both sides) is shown in the `vs golden` column, for information only.
Prints a table with the worst relative error per case; exits 1 on any
mismatch or failure.
"""
import argparse
import json
import os
import sys

import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parity_cases  # noqa: E402  pylint: disable=g-import-not-at-top
import parity_check  # noqa: E402  pylint: disable=g-import-not-at-top


def check(name, outdir, written):
  """Returns (Report for eval/predict/names, Report vs golden or None)."""
  if "error" in written:
    raise RuntimeError("estweight failed: %s" % written["error"])
  model_dir = os.path.join(outdir, name)
  report = parity_check.Report()
  golden = None
  if os.path.isfile(os.path.join(parity_check.GOLDEN_ROOT, name,
                                 "expected.json")):
    want = parity_check.load_expected(name)["vars_step3"]
    got = written["vars_step3"]
    where = "variables in estweight's checkpoint"
    report.names(where, got, want)
    for key in sorted(set(got) & set(want)):
      if got[key]["dtype"] != want[key]["dtype"]:
        report.fail("%s[%s]" % (where, key), "dtype %s, want %s"
                    % (got[key]["dtype"], want[key]["dtype"]))
    golden = parity_check.Report()
    parity_check.compare_variables(golden, "vars_step3", got, want)
  estimator = parity_cases.CASES[name](model_dir, parity_cases.make_config())
  oracle_eval, oracle_predict = parity_check.evaluate_and_predict(
      estimator, name)
  # estweight's numbers against the oracle's, on the same checkpoint.
  parity_check.compare_eval_predict(
      report, written["evaluate"], written["predict"],
      {"evaluate": oracle_eval, "predict": oracle_predict})
  return report, golden


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("outdir")
  parser.add_argument("cases", nargs="*")
  args = parser.parse_args()
  tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
  with open(os.path.join(args.outdir, "results.json")) as f:
    results = json.load(f)
  if results.get("data_sha256") != parity_cases.data_fingerprint():
    print("results.json was written from other data than parity_cases "
          "makes here (numpy differs?); cannot compare")
    return 1
  cases = results["cases"]
  names = args.cases or sorted(cases)
  missing = sorted(set(parity_cases.CASES) - set(cases))
  rows, failures = [], []
  for name in names:
    try:
      report, golden = check(name, args.outdir, cases[name])
      status = "FAIL" if report.errors else "ok"
      if report.errors:
        failures.append("%s:\n  %s" % (name, "\n  ".join(report.errors)))
      vs_golden = "-" if golden is None else "%.1e%s" % (
          golden.worst, "" if not golden.errors else " (differs)")
      rows.append((name, status, "%.2e" % report.worst, report.worst_at,
                   vs_golden))
    except Exception as e:  # pylint: disable=broad-except
      msg = "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e)
                        else "")
      failures.append("%s: %s" % (name, msg))
      rows.append((name, "FAIL", "-", msg[:60], "-"))
  header = ("case", "status", "worst rel", "where", "vs golden")
  widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(5)]
  for row in [header] + rows:
    print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
  if missing:
    print("not written by estweight (not checked): %s" % ", ".join(missing))
  for failure in failures:
    print(failure)
  print("check (d): %d of %d cases failed" % (len(failures), len(names)))
  return 1 if failures else 0


if __name__ == "__main__":
  sys.exit(main())
