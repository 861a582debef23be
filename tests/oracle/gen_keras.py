"""model_to_estimator cases, and the script writing their 2.15 goldens.

Importable on both sides: `build(case, keras_module)` builds and compiles the
case's model with `tf.keras` (oracle venv: Python 3.11, tensorflow-cpu
2.15.1, tensorflow-estimator 2.15.0), Keras 3 or tf_keras (estweight), with
the same fixed initial weights; `input_fn(case, ...)` gives the same data.

Run in the oracle venv to write tests/golden/keras_<case>.json and, for the
'checkpoint'-format case, the model_dir 2.15 left after START_STEPS steps
(tests/golden/keras_<case>_start/):

    TF_CPP_MIN_LOG_LEVEL=3 .oracle-venv/bin/python tests/oracle/gen_keras.py
"""
import json
import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "golden")
N, BATCH = 64, 16
START_STEPS, MORE_STEPS = 3, 4
CASES = ("sequential_sgd", "functional_adam_weighted")
FORMAT = {"sequential_sgd": "saver", "functional_adam_weighted": "checkpoint"}


def data():
  rs = np.random.RandomState(0)
  a = rs.randn(N, 3).astype(np.float32)
  b = rs.randn(N, 2).astype(np.float32)
  y_class = (a[:, :1] + 0.5 * a[:, 1:2] - b[:, :1] > 0).astype(np.float32)
  y_reg = (a @ np.float32([[1.0], [-2.0], [0.5]]) + b[:, 1:] +
           0.1 * rs.randn(N, 1)).astype(np.float32)
  w = rs.uniform(0.5, 3.0, N).astype(np.float32)
  return {"a": a, "b": b, "y_class": y_class, "y_reg": y_reg, "w": w}


def _initial_weights(model):
  out = []
  for i, weight in enumerate(model.weights):
    short = weight.name.split("/")[-1].split(":")[0]
    rs = np.random.RandomState(100 + i)
    shape = tuple(weight.shape)
    if short in ("gamma", "moving_variance"):
      out.append(rs.uniform(0.5, 1.5, shape).astype(np.float32))
    else:
      out.append(rs.uniform(-0.5, 0.5, shape).astype(np.float32))
  return out


def build(case, keras):
  """The case's compiled model, built with the `keras` module given."""
  layers = keras.layers
  if case == "sequential_sgd":
    # The names Keras gives in a fresh process, fixed for the test process.
    model = keras.Sequential([
        layers.Dense(4, activation="relu", input_shape=(3,), name="dense"),
        layers.Dense(1, name="dense_1")])
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=["accuracy"])
  elif case == "functional_adam_weighted":
    a = keras.Input((3,), name="a")
    b = keras.Input((2,), name="b")
    h = layers.Concatenate()([a, b])
    h = layers.Dense(4, activation="relu",
                     kernel_regularizer=keras.regularizers.l2(0.01))(h)
    h = layers.BatchNormalization()(h)
    out = layers.Dense(1, name="score")(h)
    model = keras.Model([a, b], out)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse",
                  metrics=["mae"])
  else:
    raise ValueError(case)
  model.set_weights(_initial_weights(model))
  return model


def input_fn(case, *, train, weights_in_features=True):
  """Train: repeats, batches of 16. Eval/predict: one epoch, batches of 16."""
  d = data()

  def fn():
    if case == "sequential_sgd":
      ds = tf.data.Dataset.from_tensor_slices((d["a"], d["y_class"]))
    else:
      features = {"a": d["a"], "b": d["b"]}
      if weights_in_features:
        features = {"features": features, "sample_weights": d["w"]}
        ds = tf.data.Dataset.from_tensor_slices((features, d["y_reg"]))
      else:
        ds = tf.data.Dataset.from_tensor_slices((features, d["y_reg"],
                                                 d["w"]))
    if train:
      ds = ds.repeat()
    return ds.batch(BATCH)
  return fn


def predict_input_fn(case):
  d = data()
  features = d["a"] if case == "sequential_sgd" else {"a": d["a"],
                                                      "b": d["b"]}
  return lambda: tf.data.Dataset.from_tensor_slices(features).batch(BATCH)


def _floats(mapping):
  return {k: float(v) for k, v in mapping.items()}


def _generate(case):
  from tensorflow_estimator.python.estimator import keras_lib  # pylint: disable=g-import-not-at-top
  model_dir = tempfile.mkdtemp()
  model = build(case, tf.keras)
  expected_predictions = model.predict(predict_input_fn(case)()).tolist()
  est = keras_lib.model_to_estimator(
      keras_model=model, model_dir=model_dir,
      checkpoint_format=FORMAT[case])
  first = [p for p in est.predict(predict_input_fn(case))]
  (key,) = first[0].keys()
  out = {"format": FORMAT[case], "prediction_key": key,
         "keras_predict": expected_predictions,
         "initial_predictions": [p[key].tolist() for p in first]}
  est.train(input_fn(case, train=True), steps=START_STEPS)
  out["start_eval"] = _floats(est.evaluate(input_fn(case, train=False)))
  start_dir = os.path.join(GOLDEN, f"keras_{case}_start")
  if FORMAT[case] == "checkpoint":
    shutil.rmtree(start_dir, ignore_errors=True)
    os.makedirs(start_dir)
    prefix = f"model.ckpt-{START_STEPS}"
    for name in os.listdir(model_dir):
      if name.startswith(prefix + ".") and not name.endswith(".meta"):
        shutil.copy(os.path.join(model_dir, name), start_dir)
    with open(os.path.join(start_dir, "checkpoint"), "w") as f:
      f.write(f'model_checkpoint_path: "{prefix}"\n'
              f'all_model_checkpoint_paths: "{prefix}"\n')
  est.train(input_fn(case, train=True), steps=MORE_STEPS)
  out["final_eval"] = _floats(est.evaluate(input_fn(case, train=False)))
  ckpt = est.latest_checkpoint()
  out["final_variables"] = {
      name: tf.train.load_variable(ckpt, name).tolist()
      for name, _ in tf.train.list_variables(ckpt)
      if name != "_CHECKPOINTABLE_OBJECT_GRAPH"}
  out["final_predictions"] = [
      p[key].tolist() for p in est.predict(predict_input_fn(case))]
  out["generated_by"] = {"tensorflow": tf.__version__,
                         "script": "tests/oracle/gen_keras.py"}
  with open(os.path.join(GOLDEN, f"keras_{case}.json"), "w") as f:
    json.dump(out, f, indent=1)
  print(case, out["final_eval"])


if __name__ == "__main__":
  for name in CASES:
    _generate(name)
