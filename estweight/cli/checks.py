"""Checks of a resolved config that need neither data nor TensorFlow.

`estweight.cli.app` runs them before anything heavy is imported, so a bad
value is refused in a fraction of a second, with the config key and the
value. Checks that need the data (a label column) or TensorFlow (an
estimator's arguments, an optimizer name) run later, still before any step.
"""
from __future__ import annotations

import difflib
import math
import numbers
import os
from typing import TYPE_CHECKING

from estweight.cli import data as data_lib
from estweight.cli import extras
from estweight.cli import schema as schema_lib
from estweight.cli.config import ConfigError

if TYPE_CHECKING:
  import ml_collections

CLASSIFIERS = ("DNNClassifier", "LinearClassifier",
               "DNNLinearCombinedClassifier", "BaselineClassifier")
REGRESSORS = ("DNNRegressor", "LinearRegressor", "DNNLinearCombinedRegressor",
              "BaselineRegressor")
FACTORY = "weighted_model_fn"
MODEL_NAMES = CLASSIFIERS + REGRESSORS + (FACTORY,)
NETWORKS = ("mlp", "linear")
RECEIVERS = ("parsing", "raw")
PREDICT_FORMATS = ("csv", "jsonl", "json")  # also the output extensions
PREDICT_SPLITS = ("train", "eval")


def _is_int(value):
  return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _positive(key, value):
  if not _is_int(value) or value <= 0:
    raise ConfigError(f"{key} must be a positive integer. Received: "
                      f"{key}={value!r}.")


def _non_negative(key, value):
  if not _is_int(value) or value < 0:
    raise ConfigError(f"{key} must be an integer >= 0. Received: "
                      f"{key}={value!r}.")


def _finite(value):
  return isinstance(
      value,
      numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _one_of(key, value, allowed):
  if value not in allowed:
    near = difflib.get_close_matches(str(value), allowed, n=1)
    hint = f" Did you mean {near[0]!r}?" if near else ""
    raise ConfigError(f"{key} must be one of {list(allowed)}. Received: "
                      f"{key}={value!r}.{hint}")


def check_model(config: ml_collections.ConfigDict) -> None:
  """model.name, model.network and model.learning_rate."""
  model = config.model
  if model.name not in MODEL_NAMES:
    near = difflib.get_close_matches(model.name, MODEL_NAMES, n=1)
    hint = f" Did you mean {near[0]!r}?" if near else ""
    raise ConfigError(f"model.name={model.name!r} is not a model.{hint} Known:"
                      f" {list(MODEL_NAMES)}.")
  if model.name == FACTORY:
    _one_of("model.network", model.network, NETWORKS)
  rate = model.learning_rate
  if rate is not None and not (_finite(rate) and rate > 0):
    raise ConfigError("model.learning_rate must be a finite number > 0 (or "
                      "None for the optimizer's default). Received: "
                      f"model.learning_rate={rate!r}.")


def check_data(config: ml_collections.ConfigDict) -> None:
  """config.data field types and values (no file is read)."""
  data_lib.check_config(config.data)
  for field in ("train", "eval"):
    source = config.data[field] or ""
    if source.startswith(schema_lib.SKLEARN_PREFIX):
      extras.require("sklearn", f"data.{field}={source!r}")
  class_weight = config.data.class_weight
  if class_weight is None or class_weight == "balanced":
    return
  if not hasattr(class_weight, "items"):
    raise ConfigError("data.class_weight must be None, 'balanced' or a dict "
                      "of class -> weight. Received: data.class_weight="
                      f"{class_weight!r}.")
  for name, weight in class_weight.items():
    if not (_finite(weight) and weight >= 0):
      raise ConfigError(f"data.class_weight[{name!r}] must be a finite "
                        f"number >= 0. Received: data.class_weight[{name!r}]"
                        f"={weight!r}.")


def check_run(config: ml_collections.ConfigDict) -> None:
  run = config.run
  if run.tf_random_seed is not None and not _is_int(run.tf_random_seed):
    raise ConfigError("run.tf_random_seed must be an integer or None. "
                      f"Received: run.tf_random_seed={run.tf_random_seed!r}.")
  if run.save_checkpoints_steps is not None:
    _positive("run.save_checkpoints_steps", run.save_checkpoints_steps)
  _non_negative("run.keep_checkpoint_max", run.keep_checkpoint_max)
  _non_negative("run.log_step_count_steps", run.log_step_count_steps)
  _non_negative("run.save_summary_steps", run.save_summary_steps)


def check_driver(config: ml_collections.ConfigDict) -> None:
  driver = config.driver
  _positive("driver.steps_per_iteration", driver.steps_per_iteration)
  _positive("driver.max_steps", driver.max_steps)
  if driver.eval_steps is not None:
    _positive("driver.eval_steps", driver.eval_steps)
  early = driver.early_stopping
  if early.metric:
    _one_of("driver.early_stopping.mode", early.mode, ("min", "max"))
    _positive("driver.early_stopping.patience", early.patience)
    if not (_finite(early.min_delta) and early.min_delta >= 0):
      raise ConfigError("driver.early_stopping.min_delta must be a finite "
                        "number >= 0. Received: driver.early_stopping."
                        f"min_delta={early.min_delta!r}.")


def check_search(config: ml_collections.ConfigDict) -> dict:
  """Returns search.grid as a dict after checking it and search.*."""
  from estweight.cli import config as config_lib  # pylint: disable=g-import-not-at-top
  grid = dict(config.search.grid)
  if not grid:
    raise ConfigError("search.grid is empty; give {config key: [values]}, "
                      "e.g. {'model.learning_rate': [0.01, 0.1]}.")
  for key, values in grid.items():
    if key.startswith("data.") and key != "data.batch_size":
      raise ConfigError(f"search.grid may vary data.batch_size but not {key}"
                        " (one dataset serves every trial).")
    if not isinstance(values, (list, tuple)) or not values:
      raise ConfigError(f"search.grid[{key!r}] must be a non-empty list. "
                        f"Received: {values!r}.")
    for value in values:  # each value must be valid for its key
      trial = config_lib.resolve(None, [(key, value)], base=config.to_dict())
      try:
        check_model(trial)
        check_data(trial)
        check_run(trial)
        check_driver(trial)
      except ConfigError as e:
        raise ConfigError(f"search.grid[{key!r}] value {value!r}: {e}") from e
  _one_of("search.mode", config.search.mode, ("min", "max"))
  _positive("search.workers", config.search.workers)
  return grid


def check_export(config: ml_collections.ConfigDict) -> None:
  _one_of("export.receiver", config.export.receiver, RECEIVERS)


def check_predict(config: ml_collections.ConfigDict) -> None:
  _one_of("predict.split", config.predict.split, PREDICT_SPLITS)
  _one_of("predict.format", config.predict.format, PREDICT_FORMATS)


def output_format(path: str, flag: str = "--output") -> str:
  """'csv', 'jsonl' or 'json' from the extension of a predictions file."""
  extension = os.path.splitext(path)[1].lower().lstrip(".")
  if extension not in PREDICT_FORMATS:
    raise ConfigError(f"{flag}={path!r}: the format comes from the "
                      "extension, which must be .csv, .jsonl or .json.")
  return extension


def check_predict_flags(config: ml_collections.ConfigDict, *,
                        input_path: str | None, output: str | None) -> None:
  """--input names a readable data file; the output's extension is known."""
  if output or config.predict.output:
    output_format(output or config.predict.output,
                  "--output" if output else "predict.output")
  if input_path is not None:
    if not input_path:
      raise ConfigError("--input must name a data file. Received: "
                        "--input=''.")
    if input_path.startswith(schema_lib.SKLEARN_PREFIX):
      raise ConfigError(f"--input={input_path!r}: give a data file; the "
                        "built-in sets are predicted with predict.split.")
    try:
      schema_lib.format_of(input_path, config.data.format, "--input")
    except schema_lib.DataError as e:
      raise ConfigError(str(e)) from e
    if not os.path.isfile(input_path):
      raise ConfigError(f"--input={input_path!r} does not exist.")


def check(config: ml_collections.ConfigDict, command: str) -> None:
  """Every check `command` needs ('train', 'evaluate', 'predict', 'export',
  'search').

  Raises:
    ConfigError: (a ValueError; DataError for config.data fields) naming
      the config key and the value.
  """
  check_model(config)
  check_data(config)
  check_run(config)
  if command in ("train", "search"):
    check_driver(config)
  if command == "search":
    check_search(config)
  if command == "export":
    check_export(config)
  if command == "predict":
    check_predict(config)
