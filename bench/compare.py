"""Runs estweight's benchmarks and the anchors in one go; prints ratios.

    python bench/compare.py ORACLE_PYTHON ESTWEIGHT_PYTHON

Anchors (../shared/bench): tf.estimator 2.15 (oracle venv) on the training
workloads, its loop breakdown and 9-trial grid; Keras 3 fit (estweight's
venv, TF 2.21). Every ratio compares figures measured in this same run.
`first train(100)` includes graph build; steps/s are steady state (3000
steps after a first call). Peak RSS is each benchmark process's own.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ANCHORS = os.path.join(HERE, "..", "..", "shared", "bench")

# Runs a script as __main__, then prints the process's peak RSS and the
# RSS `import tensorflow` alone took (TF 2.21 imports Keras 3, and with it
# scikit-learn, pandas and matplotlib when installed: ~200 MiB more than
# TF 2.15 before any model exists).
_WRAP = ("import json, os, resource, runpy, sys; sys.argv = [sys.argv[1]]; "
         "os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3'); "
         "import tensorflow; "
         "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024; "
         "runpy.run_path(sys.argv[0], run_name='__main__'); "
         "print(json.dumps({'figure': 'peak_rss_mib', 'value': "
         "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "
         "'import_tensorflow_mib': base}))")


def run(python, script):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  out = subprocess.run([python, "-c", _WRAP, script], capture_output=True,
                       text=True, env=env, check=True).stdout
  return [json.loads(line) for line in out.splitlines()
          if line.startswith("{")]


def _by(records, key):
  return {r[key]: r for r in records if key in r}


def main(oracle_python, python):
  ours_w = run(python, os.path.join(HERE, "estweight_workloads.py"))
  ours_l = run(python, os.path.join(HERE, "estweight_loop.py"))
  est_w = run(oracle_python, os.path.join(ANCHORS, "anchor_tf_estimator.py"))
  est_l = run(oracle_python, os.path.join(ANCHORS, "anchor_loop_grid.py"))
  keras_fit = run(python, os.path.join(ANCHORS, "anchor_keras.py"))
  keras_loop = run(python, os.path.join(ANCHORS, "anchor_keras_loop.py"))
  ow, ew = _by(ours_w, "workload"), _by(est_w, "workload")
  ol, el = _by(ours_l, "figure"), _by(est_l, "figure")
  kfit = {r["impl"].rsplit("-", 1)[1]: r["steps_per_s"]
          for r in keras_fit if "steps_per_s" in r}
  kloop = _by(keras_loop, "figure")["loop_iter_s(train100+eval10)"]
  rows = []  # (figure, estweight, tf.estimator, keras, higher is better)
  for wl in ("dnn_classifier_weighted", "linear_regressor_weighted"):
    short = wl.split("_")[0]
    rows.append((f"{short} train steps/s", ow[wl]["steps_per_s"],
                 ew[wl]["steps_per_s"],
                 kfit.get("spe100") if short == "dnn" else None, True))
    rows.append((f"{short} first train(100) s", ow[wl]["first_train_100_s"],
                 ew[wl]["first_train_100_s"], None, False))
    rows.append((f"{short} seed-003 loop s/iter",
                 ow[wl]["loop_iter_s(train100+eval10)"],
                 ew[wl]["loop_iter_s(train100+eval10)"], None, False))
  floor = ow["input_pipeline_alone"]["batches_per_s"]
  rows.insert(0, ("input alone batches/s (ceiling)", floor,
                  ew["dnn_classifier_weighted"]["steps_per_s"], None, True))
  breakdown = el["iteration_breakdown"]
  rows.append(("run_iterations s/iter",
               ol["loop_iter_s(train100+eval10)"]["median_s"],
               breakdown["train100_s"] + breakdown["eval10_s"],
               kloop["median_s"], False))
  rows.append(("9-trial grid s",
               ol["grid_9_trials_x_5_iters_x_200_steps"]["wall_s"],
               el["grid_9_trials_x_5_iters_x_200_steps"]["wall_s"], None,
               False))
  rss = lambda recs: _by(recs, "figure")["peak_rss_mib"]["value"]  # noqa: E731
  net = lambda recs: rss(recs) - _by(recs, "figure")["peak_rss_mib"][  # noqa: E731
      "import_tensorflow_mib"]
  rows.append(("peak RSS MiB (workloads)", rss(ours_w), rss(est_w), None,
               False))
  rows.append(("  above import tf (workloads)", net(ours_w), net(est_w), None,
               False))
  rows.append(("peak RSS MiB (loop+grid)", rss(ours_l), rss(est_l), None,
               False))
  rows.append(("  above import tf (loop+grid)", net(ours_l), net(est_l), None,
               False))
  print(f"{'figure':<30}{'estweight':>11}{'tf.est 2.15':>12}{'keras 3':>9}"
        f"{'vs tf.est':>11}{'vs keras':>10}")
  summary = {}
  for name, ours, theirs, keras, _ in rows:
    vs_est = ours / theirs
    vs_keras = ours / keras if keras else float("nan")
    print(f"{name:<30}{ours:>11.3f}{theirs:>12.3f}"
          f"{(keras or float('nan')):>9.3f}{vs_est:>11.3f}{vs_keras:>10.3f}")
    summary[name] = {"vs_tf_estimator": round(vs_est, 3)}
    if keras:
      summary[name]["vs_keras"] = round(vs_keras, 3)
  print("(ratios are estweight / other: above 1 is better for steps/s, "
        "below 1 is better for seconds and MiB)")
  print(json.dumps(summary))


if __name__ == "__main__":
  main(sys.argv[1], sys.argv[2])
