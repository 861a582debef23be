"""KMeans and LinearSDCA: real graphs, real training, tf.estimator 2.15
numbers.

Literals marked "tf.estimator 2.15" were printed by the same program run in
the oracle venv (TF 2.15.1); the others are worked out in comments. SDCA
trains on one example per batch: its kernel visits a batch's examples in
random order, so larger batches are not reproducible (in 2.15 either).
"""
import numpy as np
import pytest
import tensorflow as tf

import estweight
from estweight.canned.kmeans import KMeans
from estweight.canned.linear_sdca import LinearSDCA

# Two pairs of points, one pair per cluster.
_POINTS = np.array([[0., 0.], [0., 2.], [10., 10.], [10., 12.]], np.float32)
_CENTERS0 = np.array([[0., 0.], [10., 10.]], np.float32)


def _points_input(points=_POINTS):
  return lambda: tf.data.Dataset.from_tensors({"p": points}).repeat(20)


def test_kmeans_full_batch_lloyd_step_by_hand(tmp_path):
  km = KMeans(2, model_dir=str(tmp_path), initial_clusters=_CENTERS0,
              use_mini_batch=False)
  km.train(_points_input(), steps=1)
  # One Lloyd step: each center moves to the mean of its pair (up to the
  # kernel's epsilon in the division by the count).
  np.testing.assert_allclose(km.cluster_centers(), [[0., 1.], [10., 11.]],
                             rtol=1e-5, atol=1e-5)
  assert sorted(km.get_variable_names()) == ["clusters", "global_step",
                                             "initialized"]
  # Every point is now at squared distance 1 from its center: sum 4.
  metrics = km.evaluate(_points_input(), steps=1)
  assert metrics["score"] == pytest.approx(4.0, rel=1e-5)
  assert metrics["loss"] == pytest.approx(4.0, rel=1e-5)
  assert metrics["global_step"] == 1
  assert km.score(_points_input()) == pytest.approx(4.0, rel=1e-5)
  assert list(km.predict_cluster_index(_points_input()))[:4] == [0, 0, 1, 1]
  # transform: Euclidean (not squared) distances; (0,0) to (10,11) is
  # sqrt(100 + 121).
  first = next(km.transform(_points_input()))
  np.testing.assert_allclose(first, [1.0, np.sqrt(221.0)], rtol=1e-5)
  prediction = next(km.predict(_points_input()))
  np.testing.assert_allclose(prediction["all_distances"], [1.0, 221.0],
                             rtol=1e-5)


def test_kmeans_relative_tolerance_stops_when_loss_settles(tmp_path):
  km = KMeans(2, model_dir=str(tmp_path), initial_clusters=_CENTERS0,
              use_mini_batch=False, relative_tolerance=0.1)
  km.train(_points_input(), steps=10)
  # Losses per step: 8 (initial centers), 4, 4; |4 - 4| / (1 + 4) < 0.1
  # stops after the third step (|4 - 8| / 9 did not).
  assert km.get_variable_value("global_step") == 3


_SIX = np.array([[0., 0.], [0., 1.], [1., 0.], [10., 10.], [10., 11.],
                 [11., 10.]], np.float32)


def test_kmeans_mini_batch_matches_tf_estimator(tmp_path):
  # One inter-op thread: TensorFlow's mini-batch update ops race otherwise
  # (under load this gave centers 0.333/10.333 instead of 0.222/7.222).
  km = KMeans(2, model_dir=str(tmp_path),
              initial_clusters=np.array([[0., 0.], [1., 1.]], np.float32),
              mini_batch_steps_per_iteration=2,
              config=estweight.RunConfig(
                  session_config=tf.compat.v1.ConfigProto(
                      inter_op_parallelism_threads=1)))
  km.train(_points_input(_SIX), steps=3)
  # tf.estimator 2.15.
  np.testing.assert_allclose(km.cluster_centers(),
                             [[0.22222222, 0.22222222],
                              [7.2222223, 7.2222223]], rtol=1e-6)
  np.testing.assert_allclose(km.get_variable_value("clusters_updated"),
                             [[0.2777778, 0.2777778],
                              [8.777778, 8.777778]], rtol=1e-6)
  assert km.get_variable_value("Variable").tolist() == [3, 3]
  assert km.get_variable_value("update_in_steps") == 1
  assert km.score(_points_input(_SIX)) == pytest.approx(60.81485, rel=1e-6)


def test_kmeans_kmeans_plus_plus_matches_tf_estimator(tmp_path):
  km = KMeans(2, model_dir=str(tmp_path), seed=3, use_mini_batch=False,
              initial_clusters=KMeans.KMEANS_PLUS_PLUS_INIT)
  km.train(_points_input(_SIX), steps=3)
  # tf.estimator 2.15 (the centers are the two triples' means).
  np.testing.assert_allclose(km.cluster_centers(),
                             [[0.33333322, 0.33333322],
                              [10.33333, 10.33333]], rtol=1e-5)
  assert km.score(_points_input(_SIX)) == pytest.approx(2.6666465, rel=1e-5)


@pytest.mark.parametrize("kwargs, arg", [
    ({"initial_clusters": "kmc2"}, "initial_clusters"),
    ({"distance_metric": "manhattan"}, "distance_metric"),
])
def test_kmeans_rejects_unknown_names(kwargs, arg):
  with pytest.raises(ValueError, match=arg):
    KMeans(2, **kwargs)


def test_kmeans_constants_are_tf_estimators():
  assert (KMeans.RANDOM_INIT, KMeans.KMEANS_PLUS_PLUS_INIT) == (
      "random", "kmeans_plus_plus")
  assert (KMeans.SQUARED_EUCLIDEAN_DISTANCE, KMeans.COSINE_DISTANCE) == (
      "squared_euclidean", "cosine")
  assert (KMeans.SCORE, KMeans.CLUSTER_INDEX, KMeans.ALL_DISTANCES,
          KMeans.CLUSTER_CENTERS_VAR_NAME) == (
              "score", "cluster_index", "all_distances", "clusters")


# ------------------------------------------------------------ LinearSDCA
def _columns():
  fc = tf.feature_column
  return [fc.numeric_column("x"),
          fc.categorical_column_with_vocabulary_list("c", ["p", "q", "r"])]


def _sdca_input(labels):
  features = {
      "example_id": np.array(["a", "b", "c", "d"]),
      "x": np.array([[1.], [2.], [3.], [4.]], np.float32),
      "c": np.array([["p"], ["q"], ["p"], ["r"]]),
      "w": np.array([[1.], [2.], [1.], [0.5]], np.float32),
  }
  return lambda: tf.data.Dataset.from_tensor_slices(
      (features, np.array(labels))).repeat().batch(1)


def _values(est):
  return {n: est.get_variable_value(n) for n in est.get_variable_names()
          if "HashTable" not in n}


def test_sdca_classifier_matches_tf_estimator(tmp_path):
  est = estweight.LinearClassifier(
      _columns(), model_dir=str(tmp_path),
      optimizer=LinearSDCA("example_id", symmetric_l2_regularization=0.5))
  input_fn = _sdca_input([[0], [0], [1], [1]])
  est.train(input_fn, steps=6)
  values = _values(est)
  # tf.estimator 2.15.
  expected = {"bias_weights": [-0.7257609],
              "c/weights": [[-0.3737391], [-0.42976344], [0.07774164]],
              "x/weights": [[-0.07011119]]}
  for name, value in expected.items():
    for suffix in ("", "_unshrunk"):  # no L1: the two copies agree
      np.testing.assert_allclose(values[f"linear/linear_model/{name}{suffix}"],
                                 value, rtol=1e-5, atol=1e-6)
  assert sorted(values) == sorted(
      ["global_step"] + [f"linear/linear_model/{n}{s}" for n in expected
                         for s in ("", "_unshrunk")])
  assert sorted(n for n in est.get_variable_names() if "HashTable" in n) == [
      "ShardedMutableHashTable-1-of-1-keys",
      "ShardedMutableHashTable-1-of-1-values"]
  metrics = est.evaluate(input_fn, steps=4)
  # tf.estimator 2.15.
  assert metrics["loss"] == pytest.approx(0.83063436, rel=1e-5)
  assert metrics["auc"] == pytest.approx(0.625)
  assert metrics["prediction/mean"] == pytest.approx(0.23688953, rel=1e-5)


def test_sdca_regressor_l1_weights_and_shards_match_tf_estimator(tmp_path):
  est = estweight.LinearRegressor(
      _columns(), model_dir=str(tmp_path), weight_column="w",
      optimizer=LinearSDCA("example_id", num_table_shards=3,
                           symmetric_l1_regularization=0.1,
                           symmetric_l2_regularization=2.0))
  input_fn = _sdca_input([[1.], [2.], [3.5], [4.]])
  est.train(input_fn, steps=5)  # the 5th step reads example a's stored dual
  values = _values(est)
  prefix = "linear/linear_model/"
  # tf.estimator 2.15.
  unshrunk = {"bias_weights": [0.3185714],
              "c/weights": [[0.09454547], [0.22142857], [0.0025974]],
              "x/weights": [[0.7324076]]}
  for name, value in unshrunk.items():
    got = values[f"{prefix}{name}_unshrunk"]
    np.testing.assert_allclose(got, value, rtol=1e-5, atol=1e-6)
    # The model weights are the unshrunk ones shrunk by l1 / l2 = 0.05.
    np.testing.assert_allclose(
        values[prefix + name],
        np.sign(got) * np.maximum(0.0, np.abs(got) - 0.05), atol=1e-6)
  assert values[prefix + "c/weights"][2, 0] == 0.0
  assert sorted(n for n in est.get_variable_names() if "HashTable" in n) == [
      f"ShardedMutableHashTable-{i}-of-3-{part}" for i in (1, 2, 3)
      for part in ("keys", "values")]
  metrics = est.evaluate(input_fn, steps=4)
  # tf.estimator 2.15.
  assert metrics["loss"] == pytest.approx(0.46920997, rel=1e-5)
  assert metrics["average_loss"] == pytest.approx(0.4170755, rel=1e-5)


@pytest.mark.parametrize("make, match", [
    (lambda o: estweight.LinearClassifier(_columns(), n_classes=3,
                                          optimizer=o), "multi-class"),
    (lambda o: estweight.LinearRegressor(_columns(), label_dimension=2,
                                         optimizer=o), "label_dimension=2"),
    (lambda o: estweight.LinearClassifier(_columns(), sparse_combiner="mean",
                                          optimizer=o), "sparse_combiner"),
    (lambda o: estweight.LinearEstimator(estweight.MultiClassHead(3),
                                         _columns(), optimizer=o),
     "multi-class"),
    (lambda o: estweight.LinearEstimator(estweight.MultiLabelHead(2),
                                         _columns(), optimizer=o),
     "BinaryClassHead or a RegressionHead"),
])
def test_sdca_refuses_unsupported_setups(make, match):
  with pytest.raises(ValueError, match=match):
    make(LinearSDCA("example_id"))


@pytest.mark.parametrize("kwargs, arg", [
    ({"symmetric_l2_regularization": 0.0}, "symmetric_l2_regularization"),
    ({"symmetric_l1_regularization": -1.0}, "symmetric_l1_regularization"),
    ({"num_table_shards": 0}, "num_table_shards"),
    ({"num_loss_partitions": 1.5}, "num_loss_partitions"),
])
def test_sdca_settings_are_validated(kwargs, arg):
  with pytest.raises(ValueError, match=arg):
    LinearSDCA("example_id", **kwargs)


def test_sdca_without_example_ids_is_a_key_error(tmp_path):
  est = estweight.LinearRegressor(_columns(), model_dir=str(tmp_path),
                                  optimizer=LinearSDCA("missing_id"))
  with pytest.raises(KeyError, match="missing_id"):
    est.train(_sdca_input([[1.], [2.], [3.], [4.]]), steps=1)


def test_public_names_are_lazy_and_listed():
  from estweight import experimental  # pylint: disable=g-import-not-at-top
  from estweight.compat.v1 import (  # pylint: disable=g-import-not-at-top
      experimental as v1_experimental)
  assert "LinearSDCA" in dir(experimental)
  assert experimental.LinearSDCA is LinearSDCA
  assert {"KMeans", "LinearSDCA"} <= set(dir(v1_experimental))
  assert v1_experimental.KMeans is KMeans
  assert v1_experimental.LinearSDCA is LinearSDCA
  with pytest.raises(AttributeError):
    experimental.KMeans  # pylint: disable=pointless-statement
