"""Probes of tf.estimator.MultiHead: arguments, loss, keys, estimators."""
import tempfile

import numpy as np

from probe_cases import probe  # pylint: disable=g-bad-import-order

_LOGITS = {"cls": np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]], np.float32),
           "bin": np.array([[0.5], [-1.0]], np.float32)}
_LABELS = {"cls": np.array([[2], [0]], np.int64),
           "bin": np.array([[1], [0]], np.int64)}


def _heads(tf, **kwargs):
  return [tf.estimator.MultiClassHead(3, name="cls", **kwargs),
          tf.estimator.BinaryClassHead(name="bin", **kwargs)]


def _run(tf, make_tensor):
  with tf.Graph().as_default():
    value = make_tensor()
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.local_variables_initializer())
      return round(float(session.run(value)), 5)


@probe("MultiHead name, logits_dimension, loss_reduction, v1 alias")
def _(tf):
  head = tf.estimator.MultiHead(_heads(tf), head_weights=[1.0, 2.0])
  return {"name": head.name, "logits_dimension": head.logits_dimension,
          "loss_reduction": str(head.loss_reduction),
          "v1_is_v2": tf.compat.v1.estimator.MultiHead is
                      tf.estimator.MultiHead}


@probe("MultiHead(heads=[])")
def _(tf):
  tf.estimator.MultiHead([])
  return {"ok": True}


@probe("MultiHead(a head without name)")
def _(tf):
  tf.estimator.MultiHead([tf.estimator.RegressionHead()])
  return {"ok": True}


@probe("MultiHead(head_weights of wrong length)")
def _(tf):
  tf.estimator.MultiHead(_heads(tf), head_weights=[1.0])
  return {"ok": True}


@probe("MultiHead(mixed loss_reduction).loss_reduction")
def _(tf):
  head = tf.estimator.MultiHead([
      tf.estimator.RegressionHead(name="a"),
      tf.estimator.RegressionHead(name="b", loss_reduction="sum")])
  return {"loss_reduction": str(head.loss_reduction)}


@probe("MultiHead(duplicate names) used for a loss")
def _(tf):
  head = tf.estimator.MultiHead([
      tf.estimator.MultiClassHead(3, name="a"),
      tf.estimator.BinaryClassHead(name="a")])
  return {"loss": _run(tf, lambda: head.loss(
      {"a": _LABELS["cls"]}, {"a": _LOGITS["cls"]}, features={}))}


@probe("MultiHead.loss: dict logits, split logits, head_weights, sum")
def _(tf):
  out = {}
  weighted = tf.estimator.MultiHead(_heads(tf), head_weights=[1.0, 2.0])
  out["dict"] = _run(tf, lambda: weighted.loss(_LABELS, _LOGITS,
                                               features={}))
  joined = np.concatenate([_LOGITS["cls"], _LOGITS["bin"]], axis=1)
  out["split"] = _run(tf, lambda: weighted.loss(_LABELS, joined,
                                                features={}))
  summed = tf.estimator.MultiHead(_heads(tf, loss_reduction="sum"))
  out["sum_reg"] = _run(tf, lambda: summed.loss(
      _LABELS, _LOGITS, features={}, regularization_losses=[
          tf.constant(0.25)]))
  return out


@probe("MultiHead.loss bad inputs")
def _(tf):
  head = tf.estimator.MultiHead(_heads(tf))
  cases = {
      "labels missing a head": lambda: head.loss(
          {"cls": _LABELS["cls"]}, _LOGITS, features={}),
      "labels not a dict": lambda: head.loss(_LABELS["cls"], _LOGITS,
                                             features={}),
      "logits missing a head": lambda: head.loss(
          _LABELS, {"cls": _LOGITS["cls"]}, features={}),
      "logits of wrong width": lambda: head.loss(
          _LABELS, np.zeros([2, 5], np.float32), features={}),
  }
  out = {}
  for name, fn in cases.items():
    with tf.Graph().as_default():
      try:
        fn()
        out[name] = "ok"
      except Exception as e:  # pylint: disable=broad-except
        out[name] = type(e).__name__
  return out


@probe("MultiHead.predictions and metrics keys")
def _(tf):
  head = tf.estimator.MultiHead(_heads(tf))
  with tf.Graph().as_default():
    predictions = head.predictions(_LOGITS)
  return {"predictions": sorted(list(k) for k in predictions),
          "metrics": sorted(head.metrics()),
          "metrics_with_regularization": sorted(
              head.metrics(regularization_losses=[1.0]))}


@probe("MultiHead.predictions(keys=['logits'])")
def _(tf):
  head = tf.estimator.MultiHead(_heads(tf))
  with tf.Graph().as_default():
    return sorted(list(k) for k in head.predictions(_LOGITS,
                                                    keys=["logits"]))


@probe("MultiHead PREDICT spec export_outputs")
def _(tf):
  head = tf.estimator.MultiHead(
      [tf.estimator.RegressionHead(name="reg"),
       tf.estimator.MultiLabelHead(2, name="ml")])
  with tf.Graph().as_default():
    spec = head.create_estimator_spec(
        features={}, mode=tf.estimator.ModeKeys.PREDICT,
        logits=np.zeros([2, 3], np.float32))
    outputs = spec.export_outputs
    return {"outputs": {k: type(v).__name__ for k, v in outputs.items()},
            "predict": sorted(outputs["predict"].outputs),
            "default_is_first_head": outputs["serving_default"] is
                                     outputs["reg"]}


@probe("MultiHead.create_estimator_spec in a model_fn: train, evaluate, predict")
def _(tf):
  v1 = tf.compat.v1
  x = np.array([[0.5], [-1.0], [2.0], [0.1]], np.float32)
  w = np.array([[1.0], [2.0], [0.5], [1.0]], np.float32)
  labels = {"cls": np.array([[2], [0], [1], [0]], np.int64),
            "reg": np.array([[1.0], [0.0], [2.0], [0.5]], np.float32)}

  def model_fn(features, labels, mode):
    head = tf.estimator.MultiHead(
        [tf.estimator.MultiClassHead(3, name="cls", weight_column="w"),
         tf.estimator.RegressionHead(name="reg")], head_weights=[0.5, 2.0])
    kernel = v1.get_variable("k", [1, 4], initializer=(
        v1.constant_initializer(0.7)))
    reg = [0.01 * tf.reduce_sum(tf.square(kernel))]

    def train_op_fn(loss):
      return v1.train.GradientDescentOptimizer(0.1).minimize(
          loss, global_step=v1.train.get_global_step())
    return head.create_estimator_spec(
        features=features, mode=mode, labels=labels,
        logits=tf.matmul(features["x"], kernel), train_op_fn=train_op_fn,
        regularization_losses=reg)

  def input_fn():
    return tf.data.Dataset.from_tensor_slices(
        ({"x": x, "w": w}, labels)).batch(2)
  est = tf.estimator.Estimator(model_fn, model_dir=tempfile.mkdtemp())
  est.train(input_fn, steps=1)
  prediction = next(iter(est.predict(
      lambda: tf.data.Dataset.from_tensor_slices({"x": x}).batch(2),
      predict_keys=[("reg", "predictions")])))
  return {"metrics": {k: round(float(v), 5)
                      for k, v in est.evaluate(input_fn).items()},
          "kernel": np.round(est.get_variable_value("k"), 5).tolist(),
          "prediction": {"/".join(k): np.round(v, 5).tolist()
                         for k, v in prediction.items()}}


@probe("DNNEstimator(head=MultiHead) seeded train/evaluate/predict")
def _(tf):
  fc = tf.feature_column
  rng = np.random.RandomState(0)
  x = rng.randn(16, 2).astype(np.float32)
  labels = {"bin": (x[:, :1] > 0).astype(np.int64),
            "reg": (x[:, 1:] * 2 + 0.5).astype(np.float32)}

  def input_fn():
    return tf.data.Dataset.from_tensor_slices(({"x": x}, labels)).batch(4)
  head = tf.estimator.MultiHead(
      [tf.estimator.BinaryClassHead(name="bin"),
       tf.estimator.RegressionHead(name="reg")], head_weights=[1.0, 0.5])
  est = tf.estimator.DNNEstimator(
      head=head, hidden_units=[3],
      feature_columns=[fc.numeric_column("x", shape=[2])],
      model_dir=tempfile.mkdtemp(),
      config=tf.estimator.RunConfig(tf_random_seed=7))
  est.train(input_fn, steps=8)
  prediction = next(iter(est.predict(
      lambda: tf.data.Dataset.from_tensor_slices({"x": x}).batch(4))))
  return {"metrics": {k: round(float(v), 5)
                      for k, v in est.evaluate(input_fn).items()},
          "prediction": sorted("/".join(k) for k in prediction),
          "variables": sorted(n for n in est.get_variable_names()
                              if "Adagrad" in n)}
