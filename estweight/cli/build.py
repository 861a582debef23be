"""Builds estimators, run configs and receivers from a resolved config."""
from __future__ import annotations

import difflib
import functools
import inspect
from typing import TYPE_CHECKING, Any

import estweight
from estweight.cli.checks import CLASSIFIERS
from estweight.cli.checks import FACTORY
from estweight.cli.checks import REGRESSORS
from estweight.cli.config import ConfigError

if TYPE_CHECKING:
  import ml_collections

  from estweight.cli.table import Table
  from estweight.driver.early_stopping import EarlyStopping

# Arguments the CLI fills itself (from data and model fields).
_FILLED = ("feature_columns", "linear_feature_columns", "dnn_feature_columns",
           "model_dir", "config", "n_classes", "label_vocabulary",
           "weight_column", "label_dimension", "class_weight", "hidden_units",
           "dnn_hidden_units", "optimizer", "dnn_optimizer")


def run_config(config: ml_collections.ConfigDict, model_dir: str | None,
               **overrides: Any) -> estweight.RunConfig:
  run = config.run
  steps = run.save_checkpoints_steps
  kwargs = dict(
      model_dir=model_dir,
      tf_random_seed=run.tf_random_seed,
      keep_checkpoint_max=run.keep_checkpoint_max,
      log_step_count_steps=run.log_step_count_steps or None,
      save_summary_steps=run.save_summary_steps,
      # The driver saves at every iteration's end; None keeps time-based
      # saves from adding checkpoints in between.
      save_checkpoints_steps=steps or 10**9)
  kwargs.update(overrides)
  return estweight.RunConfig(**kwargs)


def _optimizer(model):
  name = model.optimizer
  if not name:
    if model.learning_rate is not None:
      raise ConfigError("model.learning_rate needs model.optimizer (e.g. "
                        "'Adagrad'). Received: model.optimizer=''.")
    return None
  from estweight.canned import optimizers as optimizers_lib  # pylint: disable=g-import-not-at-top
  if name not in optimizers_lib.OPTIMIZER_NAMES:
    raise ConfigError(f"model.optimizer must be one of "
                      f"{sorted(optimizers_lib.OPTIMIZER_NAMES)}. Received: "
                      f"model.optimizer={name!r}.")
  if model.learning_rate is None:
    return name
  return functools.partial(optimizers_lib.get_optimizer_instance, name,
                           float(model.learning_rate))


def _check_args(cls, args):
  params = inspect.signature(cls.__init__).parameters
  allowed = sorted(set(params) - {"self"} - set(_FILLED))
  for key in args:
    if key in _FILLED:
      raise ConfigError(
          f"model.args.{key} is set by the CLI from the data and model "
          f"sections; remove it from model.args.")
    if key not in params:
      near = difflib.get_close_matches(key, list(params), n=1)
      hint = ""
      if near and near[0] in _FILLED:
        hint = (f" Did you mean {near[0]!r}? The CLI sets it (e.g. from "
                "model.hidden_units, model.optimizer or the data section).")
      elif near:
        hint = f" Did you mean {near[0]!r}?"
      raise ConfigError(f"{cls.__name__} has no argument model.args.{key}."
                        f"{hint} It takes: {allowed}.")


def check_task(config: ml_collections.ConfigDict, table: Table) -> None:
  """The model fits the label's task (model.name itself is checked by
  `estweight.cli.checks`)."""
  name = config.model.name
  if name in CLASSIFIERS and table.task != "classification":
    raise ConfigError(f"model.name={name!r} needs a classification label, but"
                      f" data.label={table.label!r} is {table.task}. Set "
                      "data.task or pick a regressor.")
  if name in REGRESSORS and table.task != "regression":
    raise ConfigError(f"model.name={name!r} needs a regression label, but "
                      f"data.label={table.label!r} is {table.task}.")
  if config.data.class_weight is not None and table.task != "classification":
    raise ConfigError(
        "data.class_weight needs a classification label. "
        f"Received: data.class_weight={config.data.class_weight!r}"
        f" with data.label={table.label!r} ({table.task}).")


def _class_weight(config, table):
  cw = config.data.class_weight
  if cw is None:
    return None
  if cw == "balanced":
    # The data are in memory: count here instead of a pass over the input.
    return estweight.weights.balanced_class_weight(
        list(table.class_counts.values()))
  if hasattr(cw, "items"):  # a dict, or the ConfigDict the config made of it
    cw = dict(cw.items())
    vocab = table.label_vocabulary
    # JSON and command lines give keys as strings: '1' means class id 1
    # unless the labels themselves are strings.
    if vocab is None:
      try:
        return {int(k): float(v) for k, v in cw.items()}
      except (TypeError, ValueError):
        pass
    return {str(k): float(v) for k, v in cw.items()}
  raise ConfigError("data.class_weight must be None, 'balanced' or a dict of "
                    f"class -> weight. Received: data.class_weight={cw!r}.")


def build_estimator(config: ml_collections.ConfigDict, table: Table,
                    run_cfg: estweight.RunConfig) -> estweight.Estimator:
  """The estimator config.model describes, over `table`'s features."""
  check_task(config, table)
  model = config.model
  name = model.name
  if name == FACTORY:
    return _factory_estimator(config, table, run_cfg)
  cls = getattr(estweight, name)
  args = dict(model.args)
  _check_args(cls, args)
  optimizer = _optimizer(model)
  kwargs: dict[str, Any] = {"config": run_cfg}
  if table.weight_column:
    kwargs["weight_column"] = table.weight_column
  if name in CLASSIFIERS:
    kwargs["n_classes"] = table.n_classes
    if table.label_vocabulary:
      kwargs["label_vocabulary"] = list(table.label_vocabulary)
    if config.data.class_weight is not None:
      kwargs["class_weight"] = _class_weight(config, table)
  if name.startswith("DNNLinearCombined"):
    kwargs["linear_feature_columns"] = table.feature_columns("linear")
    kwargs["dnn_feature_columns"] = table.feature_columns("dnn")
    kwargs["dnn_hidden_units"] = list(model.hidden_units)
    if optimizer is not None:
      kwargs["dnn_optimizer"] = optimizer
  elif name.startswith("DNN"):
    kwargs["feature_columns"] = table.feature_columns("dnn")
    kwargs["hidden_units"] = list(model.hidden_units)
  elif name.startswith("Linear"):
    kwargs["feature_columns"] = table.feature_columns("linear")
  if optimizer is not None and not name.startswith("DNNLinearCombined"):
    kwargs["optimizer"] = optimizer
  kwargs.update(args)
  return cls(**kwargs)


def _network_fn(network, hidden_units, columns, units):
  """logits from the named network over the feature columns."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import tf_keras  # pylint: disable=g-import-not-at-top

  def network_fn(features, mode):
    del mode
    net = tf.compat.v1.feature_column.input_layer(features, columns)
    if network == "mlp":
      for i, width in enumerate(hidden_units):
        net = tf_keras.layers.Dense(width,
                                    activation="relu",
                                    name=f"hiddenlayer_{i}")(net)
    return tf_keras.layers.Dense(units, name="logits")(net)

  return network_fn


def _factory_estimator(config, table, run_cfg):
  model = config.model
  if model.args:
    raise ConfigError("model.args is for canned estimators; "
                      "weighted_model_fn takes model.network, hidden_units, "
                      "optimizer, learning_rate, loss, loss_options, "
                      "reduction and metrics.")
  classification = table.task == "classification"
  k = table.n_classes if classification else 1
  loss = model.loss or (
      ("sigmoid_cross_entropy" if k == 2 else "sparse_softmax_cross_entropy")
      if classification else "mse")
  units = 1 if (not classification or
                k == 2) and loss != ("sparse_softmax_cross_entropy") else k
  class_weight = _class_weight(config, table)
  if isinstance(class_weight, dict) and table.label_vocabulary:
    # The factory is fed class ids (see commands._InputFn): name -> id.
    index = {name: i for i, name in enumerate(table.label_vocabulary)}
    unknown = sorted(set(class_weight) - set(index))
    if unknown:
      raise ConfigError(f"data.class_weight names classes {unknown} that the "
                        f"labels lack; classes: {table.label_vocabulary}.")
    class_weight = {index[k]: w for k, w in class_weight.items()}
  model_fn = estweight.weights.make_weighted_model_fn(
      _network_fn(model.network, list(model.hidden_units),
                  table.feature_columns("dnn"), units),
      loss=loss,
      class_weight=class_weight,
      weight_key=table.weight_column or None,
      reduction=model.reduction,
      optimizer=model.optimizer or "Adam",
      learning_rate=model.learning_rate,
      metrics=list(model.metrics) or None,
      loss_options=dict(model.loss_options) or None,
      n_classes=k if classification else None)
  return estweight.Estimator(model_fn, config=run_cfg, params={})


def early_stopping(config: ml_collections.ConfigDict) -> EarlyStopping | None:
  es = config.driver.early_stopping
  if not es.metric:
    return None
  return estweight.driver.EarlyStopping(metric=es.metric,
                                        mode=es.mode,
                                        patience=es.patience,
                                        min_delta=es.min_delta)
