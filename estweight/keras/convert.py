"""model_to_estimator: an Estimator that trains a compiled Keras model."""
from __future__ import annotations

import inspect
import os
import re
import tempfile
from typing import Any, Mapping

import numpy as np
import tensorflow as tf
from estweight import _logging as logging

from estweight import estimator as estimator_lib
from estweight import run_config as run_config_lib
from estweight import validation
from estweight import warm_start as warm_start_lib
from estweight.export import outputs as export_lib
from estweight.keras import checkpoint as checkpoint_lib
from estweight.keras import flavors as flavors_lib
from estweight.keras import model_fn as model_fn_lib
from estweight.runtime import graph as graph_lib

_v1 = tf.compat.v1


def model_to_estimator(
    keras_model: Any = None,
    keras_model_path: str | os.PathLike | None = None,
    custom_objects: dict | None = None,
    model_dir: str | os.PathLike | None = None,
    config: run_config_lib.RunConfig | None = None,
    checkpoint_format: str = "checkpoint",
    metric_names_map: dict[str, str] | None = None,
    export_outputs: dict | None = None) -> estimator_lib.Estimator:
  """Constructs an `Estimator` from a compiled Keras model.

  Same arguments as `tf.keras.estimator.model_to_estimator` (2.15); works
  for Keras 3 (`keras`, TensorFlow backend) and tf_keras models, Sequential
  and Functional (subclassed models need `get_config`/`from_config`).

  Each mode's graph rebuilds the model from its config on the input
  features, with the compiled loss (plus regularization losses), the compiled
  optimizer (Keras 3 and tf_keras optimizers run as their tf_keras legacy
  twin, its `iterations` being the global step) and the compiled metrics.
  The model's current weights are written to `model_dir/keras/
  keras_model.ckpt` and warm-start the estimator, so its first predictions
  equal `keras_model.predict`. Unlike 2.15, non-trainable weights (batch-norm
  statistics) are carried over too.

  Features: a dict keyed by the model's input names (extra keys are
  ignored), a list in input order, or a single tensor for a one-input
  model. Predictions: `{output name: tensor}`, the output layer's name (e.g.
  `{'dense_1': ...}`) or the key of a dict output; also the
  'serving_default' `PredictOutput`.

  Example weights, either as the third element of `(features, labels,
  weights)` or as 2.15's features dict `{'features': x, 'sample_weights':
  w}` (not both), weigh what Keras `fit(sample_weight=w)` weighs: the
  compiled loss (`sum(w * loss) / batch_size` for the default reduction) and
  the metrics compiled as `weighted_metrics`; metrics compiled as `metrics`
  and the `loss` metric of `evaluate` (the mean of the batch losses) are not
  weighted. tf.estimator 2.15 weighted the loss only.

  Args:
    keras_model: a compiled Keras model. Exactly one of `keras_model` and
      `keras_model_path`.
    keras_model_path: a saved compiled model: `.keras` (Keras 3), `.h5` or a
      SavedModel directory (tf_keras).
    custom_objects: custom layers, losses and metrics by name, used to
      rebuild the model and its compiled objects.
    model_dir: where checkpoints live; `None` uses `config.model_dir`, else a
      temporary directory. Must agree with `config.model_dir` if both set.
    config: a `RunConfig`.
    checkpoint_format: 'checkpoint' (2.15's default: object-based keys such
      as `layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE`, so model
      dirs written by 2.15 keep training) or 'saver' (graph names such as
      `dense/kernel`). See `estweight.keras.checkpoint`.
    metric_names_map: renames the compiled metrics in `evaluate` results;
      must map exactly the Keras metric names (as in `keras_model.evaluate(
      ..., return_dict=True)`, e.g. 'accuracy', 'weighted_accuracy').
    export_outputs: `{output name: ExportOutput class}`, extra signatures
      named after model outputs, e.g. `{'logits':
      estweight.export.RegressionOutput}`.

  Returns:
    An `estweight.Estimator`.

  Raises:
    ValueError: bad arguments (checked before anything is written), an
      uncompiled model, a subclassed model without `get_config`.
    TypeError: `keras_model` is not a Keras model.
  """
  if (keras_model is None) == (keras_model_path is None):
    raise ValueError(
        "Exactly one of `keras_model` and `keras_model_path` must be given. "
        f"Received: keras_model={_short(keras_model)}, keras_model_path="
        f"{keras_model_path!r}.")
  if checkpoint_format not in checkpoint_lib.FORMATS:
    raise ValueError(
        f"`checkpoint_format` must be one of {list(checkpoint_lib.FORMATS)}. "
        f"Received: checkpoint_format={checkpoint_format!r}.")
  if config is None:
    config = run_config_lib.RunConfig()
  if not isinstance(config, run_config_lib.RunConfig):
    raise ValueError("`config` must be an estweight.RunConfig. Received: "
                     f"config={config!r}.")
  _check_dicts(custom_objects, metric_names_map, export_outputs)
  model_dir = validation.model_dir(model_dir, config)

  if keras_model_path is not None:
    keras_model = load_keras_model(keras_model_path, custom_objects)
  flavor = flavors_lib.flavor_of(keras_model)
  if flavor is None:
    raise TypeError(
        "`keras_model` must be a Keras model (keras.Model or tf_keras.Model)."
        f" Received: keras_model={_short(keras_model)}.")
  if not flavor.is_compiled(keras_model):
    raise ValueError(
        "`keras_model` has not been compiled yet. To fix, call "
        "keras_model.compile(optimizer=..., loss=..., metrics=...) before "
        f"model_to_estimator. Received: keras_model={_short(keras_model)}.")
  if not flavor.is_graph_network(keras_model):
    _check_subclassed(flavor, keras_model, custom_objects)
  info = flavor.describe(keras_model, custom_objects)
  if export_outputs and info.output_names is not None:
    unknown = sorted(set(export_outputs) - set(info.output_names))
    if unknown:
      raise ValueError(f"`export_outputs` keys must be model output names "
                       f"{info.output_names}. Unknown: {unknown}. Received: "
                       f"export_outputs={export_outputs!r}.")

  probe = _probe(flavor, info, keras_model, custom_objects, checkpoint_format)
  if metric_names_map is not None and probe.metric_names is not None:
    model_fn_lib.check_metric_names_map(metric_names_map, probe.metric_names)

  # Validation is done; from here on files are written.
  if model_dir is None:
    model_dir = tempfile.mkdtemp()
    logging.warning("Using temporary folder as model directory: %s", model_dir)
  warm_start = None
  if probe.weights and config.is_chief:
    path = checkpoint_lib.write_first_checkpoint(model_dir, probe.weights)
    warm_start = warm_start_lib.WarmStartSettings(
        path,
        vars_to_warm_start=[
            re.escape(name) + ":" for name in probe.graph_names
        ],
        var_name_to_prev_var_name={
            name: key
            for name, key in zip(probe.graph_names, probe.weights)
            if name != key
        })
  model_fn = model_fn_lib.make_model_fn(flavor,
                                        info,
                                        custom_objects=custom_objects,
                                        checkpoint_format=checkpoint_format,
                                        metric_names_map=metric_names_map,
                                        export_outputs=export_outputs)
  logging.info("Using the Keras model provided (%s).", flavor.name)
  return estimator_lib.Estimator(model_fn,
                                 model_dir=model_dir,
                                 config=config,
                                 warm_start_from=warm_start)


def _short(obj):
  return "None" if obj is None else f"<{type(obj).__name__}>"


def _check_dicts(custom_objects, metric_names_map, export_outputs):
  for name, value in (("custom_objects", custom_objects),
                      ("metric_names_map", metric_names_map), ("export_outputs",
                                                               export_outputs)):
    if value is not None and not isinstance(value, dict):
      raise ValueError(f"`{name}` must be a dict or None. Received: "
                       f"{name}={value!r}.")
  for key, value in (metric_names_map or {}).items():
    if not isinstance(value, str) or not value:
      raise ValueError(
          "`metric_names_map` values must be non-empty strings. Received: "
          f"metric_names_map={metric_names_map!r}.")
  for key, value in (export_outputs or {}).items():
    if not (inspect.isclass(value) and
            issubclass(value, export_lib.ExportOutput)):
      raise ValueError(
          "`export_outputs` values must be ExportOutput classes, e.g. "
          f"estweight.export.RegressionOutput. Received: export_outputs["
          f"{key!r}]={value!r}.")


def load_keras_model(path: str | os.PathLike,
                     custom_objects: Mapping[str, Any] | None = None) -> Any:
  """A compiled model from `.keras` (Keras 3), `.h5` or a SavedModel
  directory (tf_keras, as tf.keras 2.15 saved them).

  Args:
    path: a local file or directory; a name ending in `.keras` is loaded
      with Keras 3, anything else with tf_keras.
    custom_objects: names to classes or functions the saved model refers
      to, as for `load_model`.

  Returns:
    The loaded model.

  Raises:
    ValueError: if `path` is on Google Cloud Storage or does not exist.
  """
  path = os.fspath(path)
  if path.startswith("gs://") or "storage.googleapis.com" in path:
    raise ValueError(
        "`keras_model_path` must be a local path; estweight does not download "
        "from Google Cloud Storage. To fix, copy the file locally first. "
        f"Received: keras_model_path={path!r}.")
  if not os.path.exists(path):
    raise ValueError(f"`keras_model_path` does not exist. Received: "
                     f"keras_model_path={path!r}.")
  logging.info("Loading models from %s", path)
  if path.endswith(".keras"):
    import keras  # pylint: disable=g-import-not-at-top
    return keras.models.load_model(path, custom_objects=custom_objects)
  import tf_keras  # pylint: disable=g-import-not-at-top
  return tf_keras.models.load_model(path, custom_objects=custom_objects)


def _check_subclassed(flavor, model, custom_objects):
  try:
    with flavor.custom_object_scope(custom_objects):
      type(model).from_config(model.get_config())
  except NotImplementedError as e:
    raise ValueError(
        "Subclassed `Model`s passed to `model_to_estimator` must implement "
        "`get_config` and `from_config`, so that each graph can rebuild them."
        f" Received: keras_model={_short(model)}.") from e


class _Probe:
  weights: dict | None = None  # {checkpoint key: array}, in weight order
  graph_names: list | None = None  # graph variable names, same order
  metric_names: list | None = None


def _probe(flavor, info, keras_model, custom_objects, checkpoint_format):
  """Rebuilds the model once in a scratch graph: the checkpoint keys of its
  weights and the compiled metric names."""
  probe = _Probe()
  if not info.is_graph_network:
    if info.built:
      logging.warning(
          "The weights of a subclassed Keras model are not carried over: "
          "the estimator starts from freshly initialized weights, as "
          "tf.estimator 2.15 did.")
    return probe
  values = keras_model.get_weights()  # eagerly, before the scratch graph
  inputs = [(t.dtype, tuple(t.shape)) for t in keras_model.inputs]
  with tf.Graph().as_default(), graph_lib.fresh_keras_names(), (
      flavor.graph_scope()):
    clone = flavor.rebuild(info, custom_objects)
    variables = flavor.weights(clone)
    if [tuple(v.shape) for v in variables] != [np.shape(v) for v in values]:
      logging.warning("The rebuilt Keras model's weights differ from the "
                      "original's; its weights are not carried over.")
    else:
      keys = checkpoint_lib.variable_keys(checkpoint_format, clone)
      probe.graph_names = [v.op.name for v in variables]
      probe.weights = {
          keys.get(n, n): v for n, v in zip(probe.graph_names, values)
      }
    probe.metric_names = _metric_names(flavor, info, inputs, clone,
                                       custom_objects)
  return probe


def _metric_names(flavor, info, inputs, clone, custom_objects):
  """Compiled metric names, or None if they can only be known from real
  labels (checked again in the model_fn)."""
  try:
    placeholders = {
        name: _v1.placeholder(dtype, shape)
        for name, (dtype, shape) in zip(info.input_names, inputs)
    }
    outputs = clone(model_fn_lib.model_inputs(info, placeholders),
                    training=False)
    names, _ = model_fn_lib.flat_outputs(info, outputs)
    y_true = tf.nest.map_structure(lambda t: _v1.placeholder(t.dtype, t.shape),
                                   outputs)
    container = flavor.make_metrics(info, custom_objects, names)
    if container is None:
      return []
    container.update_state(y_true, outputs, None)
    return list(container.results())
  except Exception as e:  # pylint: disable=broad-except
    logging.info("Compiled metric names not known before training: %s", e)
    return None
