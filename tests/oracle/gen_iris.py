"""Writes tests/golden/iris_custom.json from tf.estimator 2.15.

Run in the oracle venv (Python 3.11, tensorflow-cpu 2.15.1,
tensorflow-estimator 2.15.0): `make oracle`.
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import iris_custom  # noqa: E402
import tensorflow as tf  # noqa: E402

out = iris_custom.run(tempfile.mkdtemp())
out["generated_by"] = {"tensorflow": tf.__version__,
                       "script": "tests/oracle/gen_iris.py"}
path = os.path.join(os.path.dirname(__file__), "..", "golden",
                    "iris_custom.json")
with open(path, "w") as f:
  json.dump(out, f, indent=1)
print(json.dumps(out))
