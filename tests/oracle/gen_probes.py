"""Writes tests/golden/probes.json from tf.estimator 2.15 (`make oracle`).

Run in the oracle venv: python tests/oracle/gen_probes.py [--out FILE]
"""
import argparse
import json
import os
import sys

import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import probe_cases  # noqa: E402  pylint: disable=g-import-not-at-top


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--out", default=os.path.join(HERE, "..", "golden",
                                                    "probes.json"))
  args = parser.parse_args()
  tf.get_logger().setLevel("ERROR")
  golden = {"tensorflow": tf.__version__,
            "outcomes": probe_cases.run_all(tf),
            "public_names": probe_cases.public_names(tf)}
  path = args.out
  with open(path, "w") as f:
    json.dump(golden, f, indent=1, sort_keys=True, default=str)
    f.write("\n")
  print(f"{len(golden['outcomes'])} probes written to {path}")


if __name__ == "__main__":
  main()
