"""Probes of KMeans (tf.compat.v1.estimator.experimental) and LinearSDCA.

SDCA trains on one example per batch here: the SDCA kernel visits a batch's
examples in random order, so only single-example batches train
reproducibly (in tf.estimator 2.15 too).
"""
import tempfile

import numpy as np
from probe_cases import probe

_POINTS = np.array([[0., 0.], [0., 1.], [1., 0.], [10., 10.], [10., 11.],
                    [11., 10.]], np.float32)


def _r(value, digits=4):
  return np.round(np.asarray(value, np.float64), digits).tolist()


def _points_input(tf):
  return lambda: tf.data.Dataset.from_tensors({"p": _POINTS}).repeat(4)


def _kmeans_outcome(tf, km, steps):
  input_fn = _points_input(tf)
  km.train(input_fn, steps=steps)
  metrics = km.evaluate(input_fn, steps=1)
  return {
      "variables": sorted(km.get_variable_names()),
      "centers": _r(km.cluster_centers()),
      "metrics": {k: _r(v) for k, v in sorted(metrics.items())},
      "cluster_index": [int(i) for i in km.predict_cluster_index(input_fn)],
      "transform": _r(list(km.transform(input_fn))[:2]),
  }


@probe("KMeans full batch, kmeans++ init: centers, score, predictions")
def _(tf):
  kmeans = tf.compat.v1.estimator.experimental.KMeans
  km = kmeans(2, model_dir=tempfile.mkdtemp(), seed=3, use_mini_batch=False,
              initial_clusters=kmeans.KMEANS_PLUS_PLUS_INIT)
  return _kmeans_outcome(tf, km, steps=3)


@probe("KMeans mini-batch from given centers, 2 steps per iteration")
def _(tf):
  km = tf.compat.v1.estimator.experimental.KMeans(
      2, model_dir=tempfile.mkdtemp(),
      initial_clusters=np.array([[0., 0.], [1., 1.]], np.float32),
      mini_batch_steps_per_iteration=2)
  return _kmeans_outcome(tf, km, steps=3)


@probe("KMeans class constants")
def _(tf):
  kmeans = tf.compat.v1.estimator.experimental.KMeans
  return {name: getattr(kmeans, name) for name in dir(kmeans)
          if name.isupper()}


@probe("KMeans(initial_clusters='kmc2')")
def _(tf):
  tf.compat.v1.estimator.experimental.KMeans(2, initial_clusters="kmc2")
  return {"ok": True}


@probe("KMeans(distance_metric='manhattan')")
def _(tf):
  tf.compat.v1.estimator.experimental.KMeans(2, distance_metric="manhattan")
  return {"ok": True}


def _sdca_input(tf, labels):
  features = {
      "example_id": np.array(["a", "b", "c", "d"]),
      "x": np.array([[1.], [2.], [3.], [4.]], np.float32),
      "c": np.array([["p"], ["q"], ["p"], ["r"]]),
      "w": np.array([[1.], [2.], [1.], [0.5]], np.float32),
  }
  return lambda: tf.data.Dataset.from_tensor_slices(
      (features, np.array(labels))).repeat().batch(1)


def _sdca_columns(tf):
  fc = tf.feature_column
  return [fc.numeric_column("x"),
          fc.categorical_column_with_vocabulary_list("c", ["p", "q", "r"])]


def _sdca_outcome(est, input_fn, steps):
  est.train(input_fn, steps=steps)
  names = est.get_variable_names()
  metrics = est.evaluate(input_fn, steps=4)
  return {
      "variables": {n: _r(est.get_variable_value(n)) for n in names
                    if "HashTable" not in n},
      "tables": sorted(n for n in names if "HashTable" in n),
      "metrics": {k: _r(v) for k, v in sorted(metrics.items())},
  }


@probe("LinearClassifier(optimizer=LinearSDCA): weights, slots, metrics")
def _(tf):
  sdca = tf.estimator.experimental.LinearSDCA(
      "example_id", symmetric_l2_regularization=0.5)
  est = tf.estimator.LinearClassifier(
      _sdca_columns(tf), model_dir=tempfile.mkdtemp(), optimizer=sdca)
  return _sdca_outcome(est, _sdca_input(tf, [[0], [0], [1], [1]]), steps=6)


@probe("LinearRegressor(optimizer=LinearSDCA): weighted, L1, 3 shards")
def _(tf):
  sdca = tf.compat.v1.estimator.experimental.LinearSDCA(
      "example_id", num_table_shards=3, symmetric_l1_regularization=0.1,
      symmetric_l2_regularization=2.0)
  est = tf.estimator.LinearRegressor(
      _sdca_columns(tf), model_dir=tempfile.mkdtemp(), weight_column="w",
      optimizer=sdca)
  return _sdca_outcome(est, _sdca_input(tf, [[1.], [2.], [3.5], [4.]]),
                       steps=5)


@probe("LinearClassifier(n_classes=3, optimizer=LinearSDCA)")
def _(tf):
  tf.estimator.LinearClassifier(
      _sdca_columns(tf), n_classes=3,
      optimizer=tf.estimator.experimental.LinearSDCA("example_id"))
  return {"ok": True}


@probe("LinearRegressor(label_dimension=2, optimizer=LinearSDCA)")
def _(tf):
  tf.estimator.LinearRegressor(
      _sdca_columns(tf), label_dimension=2,
      optimizer=tf.estimator.experimental.LinearSDCA("example_id"))
  return {"ok": True}


@probe("LinearClassifier(sparse_combiner='mean', optimizer=LinearSDCA)")
def _(tf):
  tf.estimator.LinearClassifier(
      _sdca_columns(tf), sparse_combiner="mean",
      optimizer=tf.estimator.experimental.LinearSDCA("example_id"))
  return {"ok": True}


@probe("LinearSDCA train without its example_id_column feature")
def _(tf):
  est = tf.estimator.LinearRegressor(
      _sdca_columns(tf), model_dir=tempfile.mkdtemp(),
      optimizer=tf.estimator.experimental.LinearSDCA("missing_id"))
  est.train(_sdca_input(tf, [[1.], [2.], [3.5], [4.]]), steps=1)
  return {"ok": True}
