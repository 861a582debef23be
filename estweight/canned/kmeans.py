"""KMeans: k-means clustering (tf.compat.v1.estimator.experimental.KMeans).

The graph is TensorFlow's own `clustering_ops.KMeans` (the one tf.estimator
2.15 used), so checkpoints hold the same variables: `clusters`,
`initialized`, `global_step` and, with mini-batches, the per-cluster counts
(`Variable`) and the working copy of the centers.
"""
from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any, Callable, Iterator

import numpy as np
import tensorflow as tf
from estweight import _logging as logging

from estweight._tf_private import clustering_ops
from estweight.estimator import Estimator
from estweight.export.outputs import PredictOutput
from estweight.mode_keys import ModeKeys
from estweight.spec import EstimatorSpec

if TYPE_CHECKING:
  from estweight.run_config import RunConfig

_v1 = tf.compat.v1


class _LossRelativeChangeHook(_v1.train.SessionRunHook):
  """Stops training once the loss changes by less than `tolerance`
  (relative to 1 + |previous loss|) from one step to the next."""

  def __init__(self, loss, tolerance):
    self._loss = loss
    self._tolerance = tolerance
    self._previous = None

  def before_run(self, run_context):
    del run_context
    return _v1.train.SessionRunArgs(self._loss)

  def after_run(self, run_context, run_values):
    loss = run_values.results
    if self._previous:
      change = abs(loss - self._previous) / (1 + abs(self._previous))
      if change < self._tolerance:
        run_context.request_stop()
    self._previous = loss


class _InitializeClustersHook(_v1.train.SessionRunHook):
  """Runs the center-choosing op until every center is chosen (chief), or
  waits for the chief to finish doing so (other workers)."""

  def __init__(self, init_op, is_initialized, is_chief):
    self._init_op = init_op
    self._is_initialized = is_initialized
    self._is_chief = is_chief

  def after_create_session(self, session, coord):
    del coord
    while not session.run(self._is_initialized):
      try:
        if self._is_chief:
          session.run(self._init_op)
        else:
          time.sleep(1)
      except RuntimeError as e:  # e.g. a closed session: retry, as 2.15 did
        logging.info(e)


def _input_points(features, feature_columns):
  """The points to cluster: a non-dict `features` as is; a dict through
  `feature_columns` (an input layer), else its values concatenated along
  axis 1 in sorted key order."""
  if not isinstance(features, dict):
    return features
  if feature_columns:
    return _v1.feature_column.input_layer(features, list(feature_columns))
  keys = sorted(features)
  if not keys:
    raise ValueError("KMeans got an empty features dict: there is nothing "
                     "to cluster. Received: features={}.")
  with _v1.colocate_with(features[keys[0]]):
    return tf.concat([features[k] for k in keys], axis=1)


class KMeans(Estimator):
  """An Estimator for k-means clustering (mini-batch or full-batch Lloyd).

  Each `train` step runs one mini-batch update (`use_mini_batch=True`,
  committed every `mini_batch_steps_per_iteration` steps) or one full Lloyd
  iteration over the batch (`use_mini_batch=False`: the batch must be the
  whole data set). Centers are chosen on the first step from the input
  batches by `initial_clusters`.

  Args:
    num_clusters: the number of clusters; ignored when `initial_clusters` is
      an array of centers.
    model_dir: where checkpoints and summaries live.
    initial_clusters: `RANDOM_INIT`, `KMEANS_PLUS_PLUS_INIT`, an array or
      tensor of initial centers, or a callable `f(inputs, k)` returning up to
      `k` centers from a batch.
    distance_metric: `SQUARED_EUCLIDEAN_DISTANCE` or `COSINE_DISTANCE`.
    seed: seed of the random center choice (None: from the graph seed).
    use_mini_batch: mini-batch k-means (True) or full-batch (False).
    mini_batch_steps_per_iteration: steps between syncs of the updated
      centers back to `clusters` (mini-batch only).
    kmeans_plus_plus_num_retries: extra candidate points drawn per kmeans++
      sample (negative: O(log k) of them).
    relative_tolerance: stop training once the loss changes by less than
      this (relative) from one step to the next; None never stops early.
    config: a `RunConfig`.
    feature_columns: columns for an input layer over a features dict; None
      concatenates all features in key order.

  Raises:
    ValueError: an unknown `initial_clusters` name or `distance_metric`.
  """

  SQUARED_EUCLIDEAN_DISTANCE = clustering_ops.SQUARED_EUCLIDEAN_DISTANCE
  COSINE_DISTANCE = clustering_ops.COSINE_DISTANCE
  RANDOM_INIT = clustering_ops.RANDOM_INIT
  KMEANS_PLUS_PLUS_INIT = clustering_ops.KMEANS_PLUS_PLUS_INIT
  SCORE = "score"
  CLUSTER_INDEX = "cluster_index"
  ALL_DISTANCES = "all_distances"
  CLUSTER_CENTERS_VAR_NAME = clustering_ops.CLUSTERS_VAR_NAME

  def __init__(self,
               num_clusters: int | tf.Tensor,
               model_dir: str | os.PathLike | None = None,
               initial_clusters: Any = RANDOM_INIT,
               distance_metric: str = SQUARED_EUCLIDEAN_DISTANCE,
               seed: int | None = None,
               use_mini_batch: bool = True,
               mini_batch_steps_per_iteration: int = 1,
               kmeans_plus_plus_num_retries: int = 2,
               relative_tolerance: float | None = None,
               config: RunConfig | None = None,
               feature_columns: Any = None) -> None:
    inits = (self.RANDOM_INIT, self.KMEANS_PLUS_PLUS_INIT)
    if isinstance(initial_clusters, str) and initial_clusters not in inits:
      raise ValueError(f"Unsupported initialization algorithm "
                       f"{initial_clusters!r}; use one of {inits}, an array "
                       "of centers or a callable. Received: initial_clusters="
                       f"{initial_clusters!r}.")
    metrics = (self.SQUARED_EUCLIDEAN_DISTANCE, self.COSINE_DISTANCE)
    if distance_metric not in metrics:
      raise ValueError(f"Unsupported distance metric {distance_metric!r}; use "
                       f"one of {metrics}. Received: distance_metric="
                       f"{distance_metric!r}.")
    self._distance_metric = distance_metric
    self._kmeans_args = dict(
        num_clusters=num_clusters,
        initial_clusters=initial_clusters,
        distance_metric=distance_metric,
        use_mini_batch=use_mini_batch,
        mini_batch_steps_per_iteration=mini_batch_steps_per_iteration,
        random_seed=seed,
        kmeans_plus_plus_num_retries=kmeans_plus_plus_num_retries)
    self._relative_tolerance = relative_tolerance
    self._feature_columns = feature_columns
    super().__init__(model_fn=self._kmeans_model_fn,
                     model_dir=model_dir,
                     config=config)

  def _kmeans_model_fn(self, features, mode, config):
    """Lloyd step (TRAIN), mean summed distance `score` (EVAL), nearest
    center and all distances (PREDICT). `loss` is the sum over the batch of
    each point's distance to its nearest center."""
    points = _input_points(features, self._feature_columns)
    (all_distances, cluster_index, distances, is_initialized, init_op,
     kmeans_op) = clustering_ops.KMeans(inputs=points,
                                        **self._kmeans_args).training_graph()
    loss = tf.reduce_sum(distances)
    _v1.summary.scalar("loss/raw", loss)
    all_distances, cluster_index = all_distances[0], cluster_index[0]
    predictions = {
        self.ALL_DISTANCES: all_distances,
        self.CLUSTER_INDEX: cluster_index
    }
    train_op, hooks = None, []
    if mode == ModeKeys.TRAIN:
      step = _v1.assign_add(_v1.train.get_global_step(), 1)
      with tf.control_dependencies([kmeans_op, step]):
        train_op = tf.identity(loss)
      hooks.append(
          _InitializeClustersHook(init_op, is_initialized, config.is_chief))
      if self._relative_tolerance is not None:
        hooks.append(_LossRelativeChangeHook(loss, self._relative_tolerance))
    export_outputs = {
        self.ALL_DISTANCES:
            PredictOutput(all_distances),
        self.CLUSTER_INDEX:
            PredictOutput(cluster_index),
        tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY:
            PredictOutput(cluster_index),
    }
    return EstimatorSpec(mode=mode,
                         predictions=predictions,
                         loss=loss,
                         train_op=train_op,
                         eval_metric_ops={self.SCORE: _v1.metrics.mean(loss)},
                         training_hooks=hooks,
                         export_outputs=export_outputs)

  def _predict_one_key(self, input_fn, key):
    for result in self.predict(input_fn=input_fn, predict_keys=[key]):
      yield result[key]

  def predict_cluster_index(self, input_fn: Callable) -> Iterator[Any]:
    """Yields the index of the nearest center of each input point.

    Args:
      input_fn: an input_fn giving the points to assign: a features tensor
        or dict, as in training.

    Yields:
      The index of the nearest cluster center of each point, in input order.
    """
    yield from self._predict_one_key(input_fn, self.CLUSTER_INDEX)

  def score(self, input_fn: Callable) -> Any:
    """The sum of the distances of the first batch's points to their
    nearest centers (squared Euclidean: not negated, unlike sklearn).

    Args:
      input_fn: an input_fn giving the points to score; only its first
        batch is read.

    Returns:
      The summed distance, a float.
    """
    return self.evaluate(input_fn=input_fn, steps=1)[self.SCORE]

  def transform(self, input_fn: Callable) -> Iterator[np.ndarray]:
    """Yields each point's distances to all centers: Euclidean (the square
    root of the squared distances) or cosine, per `distance_metric`.

    Args:
      input_fn: an input_fn giving the points to transform.

    Yields:
      A `[num_clusters]` array of distances per point, in input order.
    """
    for distances in self._predict_one_key(input_fn, self.ALL_DISTANCES):
      if self._distance_metric == self.SQUARED_EUCLIDEAN_DISTANCE:
        yield np.sqrt(distances)
      else:
        yield distances

  def cluster_centers(self) -> np.ndarray:
    """The centers from the latest checkpoint, `[num_clusters, dim]`."""
    return self.get_variable_value(self.CLUSTER_CENTERS_VAR_NAME)
