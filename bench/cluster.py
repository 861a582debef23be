"""Throughput of a loopback TF_CONFIG cluster: 1 and 2 training tasks.

    python bench/cluster.py [STEPS]

Starts examples/cluster/train.py as a ps task plus a chief (and one worker
for the second figure), without an evaluator, and reads the steady-state
`global_step/sec` the chief records (the whole cluster's rate on the shared
global step; the first record, which includes session start, is dropped).
All tasks share this machine's cores, so the figures say what the runtime
costs, not how a real cluster scales.
"""
import glob
import json
import os
import socket
import subprocess
import sys
import tempfile

import numpy as np
from tensorboard.backend.event_processing import event_accumulator

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAM = os.path.join(HERE, "..", "examples", "cluster", "train.py")


def _ports(n):
  socks = [socket.socket() for _ in range(n)]
  for s in socks:
    s.bind(("127.0.0.1", 0))
  ports = [s.getsockname()[1] for s in socks]
  for s in socks:
    s.close()
  return ports


def run(trainers, steps):
  ports = _ports(1 + trainers)
  cluster = {"ps": [f"127.0.0.1:{ports[0]}"],
             "chief": [f"127.0.0.1:{ports[1]}"]}
  if trainers > 1:
    cluster["worker"] = [f"127.0.0.1:{p}" for p in ports[2:]]
  model_dir = tempfile.mkdtemp(prefix="estweight_cluster_bench_")
  procs = []
  for job, addresses in cluster.items():
    for i in range(len(addresses)):
      env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_CONFIG=json.dumps(
          {"cluster": cluster, "task": {"type": job, "index": i}}))
      procs.append(subprocess.Popen(
          [sys.executable, PROGRAM, model_dir, str(steps)], env=env,
          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
  for proc in procs:
    if proc.wait(timeout=1200):
      raise RuntimeError(f"a task failed (exit {proc.returncode})")
  rates = []
  for path in glob.glob(os.path.join(model_dir, "events.out.tfevents.*")):
    acc = event_accumulator.EventAccumulator(path)
    acc.Reload()
    if "global_step/sec" in acc.Tags()["scalars"]:
      rates += [e.value for e in acc.Scalars("global_step/sec")]
  return float(np.median(rates[1:]))


def main(steps=3000):
  one = run(1, steps)
  two = run(2, steps)
  print(json.dumps({"trainers_1_steps_per_sec": round(one, 1),
                    "trainers_2_steps_per_sec": round(two, 1),
                    "ratio_2_over_1": round(two / one, 2)}))


if __name__ == "__main__":
  main(*map(int, sys.argv[1:]))
