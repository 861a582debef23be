"""Runs estweight's benchmark and the anchors in one go; prints ratios.

    python bench/compare.py ORACLE_PYTHON ESTWEIGHT_PYTHON

Anchors (../shared/bench): tf.estimator 2.15's loop breakdown and 9-trial
grid (oracle venv) and Keras 3's fit(100)+evaluate(10) loop (estweight's
venv, TF 2.21). Ratios compare figures measured in this same run.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ANCHORS = os.path.join(HERE, "..", "..", "shared", "bench")


def run(python, script):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  out = subprocess.run([python, script], capture_output=True, text=True,
                       env=env, check=True).stdout
  return [json.loads(line) for line in out.splitlines()
          if line.startswith("{")]


def main(oracle_python, python):
  ours = {r["figure"]: r for r in run(python, os.path.join(
      HERE, "estweight_loop.py"))}
  est = {r["figure"]: r for r in run(oracle_python, os.path.join(
      ANCHORS, "anchor_loop_grid.py"))}
  keras = run(python, os.path.join(ANCHORS, "anchor_keras_loop.py"))[0]
  loop = ours["loop_iter_s(train100+eval10)"]["median_s"]
  breakdown = est["iteration_breakdown"]
  est_loop = breakdown["train100_s"] + breakdown["eval10_s"]
  grid = ours["grid_9_trials_x_5_iters_x_200_steps"]["wall_s"]
  est_grid = est["grid_9_trials_x_5_iters_x_200_steps"]["wall_s"]
  rows = [
      ("train(100)+evaluate(10) s", loop, est_loop, keras["median_s"]),
      ("9-trial grid s", grid, est_grid, None),
  ]
  print(f"{'figure':<28}{'estweight':>10}{'tf.est 2.15':>12}{'keras 3':>9}"
        f"{'vs tf.est':>11}{'vs keras':>10}")
  for name, a, b, c in rows:
    print(f"{name:<28}{a:>10.3f}{b:>12.3f}{(c or float('nan')):>9.3f}"
          f"{a / b:>11.3f}{(a / c if c else float('nan')):>10.3f}")
  print(json.dumps({"loop_ratio_vs_tf_estimator": round(loop / est_loop, 3),
                    "loop_ratio_vs_keras": round(loop / keras["median_s"], 3),
                    "grid_ratio_vs_tf_estimator": round(grid / est_grid, 3)}))


if __name__ == "__main__":
  main(sys.argv[1], sys.argv[2])
