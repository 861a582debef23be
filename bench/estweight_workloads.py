"""estweight on ../shared/bench/anchor_tf_estimator.py's workloads, as written.

Same data, models, RunConfig and calls as the tf.estimator 2.15 anchor:
first train(100) (graph build included), train(3000) steps/s (steady
state), full evaluate, and seed 003's plain loop (train(100) then
evaluate(10 batches), fresh input_fn lambdas every call) per iteration.
"""
import json
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import estweight  # noqa: E402

N, D, BATCH = 20000, 30, 256
rng = np.random.default_rng(0)
X = rng.normal(size=(N, D)).astype(np.float32)
logit = X @ rng.normal(size=(D,)).astype(np.float32) * 0.5 - 2.0
y_cls = (rng.random(N) < 1 / (1 + np.exp(-logit))).astype(np.int64)
w = np.where(y_cls == 1, 4.0, 1.0).astype(np.float32)
y_reg = (X @ rng.normal(size=(D,)).astype(np.float32)
         + rng.normal(size=N)).astype(np.float32)


def input_fn(labels, repeat=True):
  ds = tf.data.Dataset.from_tensor_slices(({"x": X, "w": w}, labels))
  if repeat:
    ds = ds.shuffle(4096, seed=1).repeat()
  return ds.batch(BATCH).prefetch(2)


cols = [tf.feature_column.numeric_column("x", shape=[D])]


def run(name, make, labels, steps=3000):
  cfg = estweight.RunConfig(model_dir=tempfile.mkdtemp(),
                            save_checkpoints_steps=1000,
                            log_step_count_steps=10**9, tf_random_seed=1)
  est = make(cfg)
  t = time.perf_counter()
  est.train(lambda: input_fn(labels), steps=100)
  t_first = time.perf_counter() - t
  t = time.perf_counter()
  est.train(lambda: input_fn(labels), steps=steps)
  t_train = time.perf_counter() - t
  t = time.perf_counter()
  m = est.evaluate(lambda: input_fn(labels, repeat=False))
  t_eval = time.perf_counter() - t
  t = time.perf_counter()
  for _ in range(5):
    est.train(lambda: input_fn(labels), steps=100)
    est.evaluate(lambda: input_fn(labels, repeat=False), steps=10)
  t_loop = (time.perf_counter() - t) / 5
  print(json.dumps({
      "impl": "estweight", "workload": name,
      "steps_per_s": round(steps / t_train, 1),
      "first_train_100_s": round(t_first, 2), "eval_full_s": round(t_eval, 2),
      "loop_iter_s(train100+eval10)": round(t_loop, 3),
      "metrics": {k: float(v) for k, v in m.items()
                  if k in ("loss", "average_loss", "accuracy", "auc")}}),
        flush=True)


def input_floor(batches=3000):
  """Batches/s of the anchors' training input alone (the same pipeline,
  in a bare v1 session): no trainer on this machine can step faster."""
  with tf.Graph().as_default():
    batch = tf.compat.v1.data.make_one_shot_iterator(
        input_fn(y_cls)).get_next()
    with tf.compat.v1.Session() as session:
      fetch = session.make_callable(batch[1])
      for _ in range(100):
        fetch()
      t = time.perf_counter()
      for _ in range(batches):
        fetch()
      rate = batches / (time.perf_counter() - t)
  print(json.dumps({"impl": "tf-2.21", "workload": "input_pipeline_alone",
                    "batches_per_s": round(rate, 1)}), flush=True)


if __name__ == "__main__":
  input_floor()
  run("dnn_classifier_weighted",
      lambda c: estweight.DNNClassifier(
          hidden_units=[64, 32], feature_columns=cols, n_classes=2,
          weight_column="w", config=c), y_cls)
  run("linear_regressor_weighted",
      lambda c: estweight.LinearRegressor(feature_columns=cols,
                                          weight_column="w", config=c), y_reg)

