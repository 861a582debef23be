"""Run configuration: defaults, then a config file, then command-line overrides.

A config file is a Python file with `get_config()` returning a dict or an
`ml_collections.ConfigDict` holding only what differs from `default_config()`
(the absl/ml_collections convention). Command-line overrides
`--config.<section>.<field>=<value>` come last. Every key is checked against
the defaults (a typo gets the nearest valid key suggested) and every value
against the default's type; free-form sections (`model.args`,
`model.loss_options`, `data.schema`, `search.grid`, ...) take any keys.

The resolved config is saved to `model_dir/config.json` by the first run;
a rerun compares against it (see `check_against_saved`).
"""
from __future__ import annotations

import ast
import copy
import difflib
import importlib.util
import json
import os
from typing import Any, Iterable, Mapping

import ml_collections

from estweight.runtime import files

SAVED_CONFIG = "config.json"

# Sections whose keys are not fixed (their values are passed on as is).
FREE_FORM = ("data.schema", "data.class_weight", "model.args",
             "model.loss_options", "search.grid")
# Fields whose value may be of several types, checked by
# estweight.cli.checks: None, 'balanced' or {class: weight}.
_ANY_TYPE = {"data.class_weight"}
# Fields that accept None besides their default's type.
_OPTIONAL = {
    "driver.eval_steps", "run.save_checkpoints_steps", "run.tf_random_seed",
    "model.learning_rate"
}


class ConfigError(ValueError):
  """A config file or override that cannot be used (one-line message)."""


def default_config() -> ml_collections.ConfigDict:
  """Every field with its default. See README ("Command line")."""
  from estweight.cli import data as data_lib  # pylint: disable=g-import-not-at-top
  data = data_lib.default_data_config().to_dict()
  data["class_weight"] = None  # None, 'balanced' or {class: weight}
  return ml_collections.ConfigDict({
      "data": data,
      "model": {
          # A canned estimator name, or 'weighted_model_fn' (the factory).
          "name": "DNNClassifier",
          "hidden_units": [64, 32],  # DNN models and the factory's 'mlp'
          "optimizer": "",  # '' = the estimator's default
          "learning_rate": None,  # None = the optimizer's default
          "args": {},  # any other constructor arguments
          # weighted_model_fn only:
          "network": "mlp",  # 'mlp' (hidden_units, relu) or 'linear'
          "loss": "",  # '' = sigmoid/softmax CE or mse, from the task
          "loss_options": {},
          "reduction": "weighted_mean",
          "metrics": [],
      },
      "run": {
          "tf_random_seed": 0,
          "save_checkpoints_steps": None,  # None: at every iteration's end
          "keep_checkpoint_max": 5,
          "log_step_count_steps": 100,
          "save_summary_steps": 100,
      },
      "driver": {
          "steps_per_iteration": 200,
          "max_steps": 2000,
          "eval_steps": None,  # None: the whole evaluation split
          "early_stopping": {
              "metric": "",
              "mode": "min",
              "patience": 3,
              "min_delta": 0.0
          },  # metric '' = off
      },
      "search": {
          "grid": {},  # {'model.learning_rate': [0.01, 0.1], ...}
          "metric": "loss",
          "mode": "min",
          "workers": 1,
      },
      "export": {
          "receiver": "parsing",  # 'parsing' (tf.Example) or 'raw'
          "dir": "",  # '' = <model_dir>/export
      },
      "predict": {
          "split": "eval",
          # '' = <model_dir>/predictions.<format>; a path's extension
          # (.csv, .jsonl, .json) gives its format.
          "output": "",
          "format": "csv",  # of the default output: 'csv', 'jsonl', 'json'
      },
  })


def _keys(tree, prefix=""):
  out = []
  for key, value in tree.items():
    path = prefix + key
    out.append(path)
    if isinstance(value, dict) and path not in FREE_FORM:
      out.extend(_keys(value, path + "."))
  return out


def _unknown_key(path, defaults):
  known = _keys(defaults)
  nearest = difflib.get_close_matches(path, known, n=1, cutoff=0.6)
  hint = f" Did you mean {nearest[0]!r}?" if nearest else ""
  raise ConfigError(f"Unknown config key {path!r}.{hint}")


def _type_name(value):
  return "list" if isinstance(value, (list, tuple)) else type(value).__name__


def _coerce(path, value, default):
  """`value` checked against the default's type (ints are valid floats)."""
  if path in _ANY_TYPE:
    return value
  if value is None and (default is None or path in _OPTIONAL):
    return None
  if default is None:
    return value
  if isinstance(default, bool):
    ok = isinstance(value, bool)
  elif isinstance(default, float):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    value = float(value) if ok else value
  elif isinstance(default, int):
    ok = isinstance(value, int) and not isinstance(value, bool)
  elif isinstance(default, (list, tuple)):
    ok = isinstance(value, (list, tuple))
    value = list(value) if ok else value
  elif isinstance(default, dict):
    ok = isinstance(value, dict)
  else:
    ok = isinstance(value, type(default))
  if not ok:
    raise ConfigError(f"Config key {path!r} must be a {_type_name(default)}."
                      f" Received: {path}={value!r}.")
  return value


def _merge(base, update, prefix="", defaults=None):
  defaults = base if defaults is None else defaults
  for key, value in update.items():
    path = prefix + key
    if key not in base:
      _unknown_key(path, defaults)
    if isinstance(base[key], dict) and path not in FREE_FORM:
      if not isinstance(value, dict):
        raise ConfigError(f"Config key {path!r} is a section; set its fields "
                          f"instead. Received: {path}={value!r}.")
      _merge(base[key], value, path + ".", defaults)
    else:
      base[key] = _coerce(path, _plain(value), base[key])


def _plain(value):
  if isinstance(value, ml_collections.ConfigDict):
    return value.to_dict()
  if isinstance(value, tuple):
    return list(value)
  return value


def load_config_file(path: str) -> dict:
  """`get_config()` of the Python file at `path`, as a plain dict."""
  if not path:
    raise ConfigError("--config is required: the path of a config file with "
                      "get_config() (see configs/).")
  if not os.path.isfile(path):
    raise ConfigError(f"Config file --config={path!r} does not exist.")
  spec = importlib.util.spec_from_file_location("_estweight_config", path)
  if spec is None or spec.loader is None:
    raise ConfigError(f"Config file {path!r} is not a Python file.")
  module = importlib.util.module_from_spec(spec)
  try:
    spec.loader.exec_module(module)
  except Exception as e:  # pylint: disable=broad-except
    raise ConfigError(f"Config file {path!r} failed to load: "
                      f"{type(e).__name__}: {e}") from e
  if not callable(getattr(module, "get_config", None)):
    raise ConfigError(f"Config file {path!r} must define get_config().")
  config = module.get_config()
  if isinstance(config, ml_collections.ConfigDict):
    config = config.to_dict()
  if not isinstance(config, dict):
    raise ConfigError(f"get_config() of {path!r} must return a dict or "
                      f"ConfigDict. Received: {type(config).__name__}.")
  return config


def example_dirs() -> list[str]:
  """Where example configs are looked for: `estweight/configs/` when an
  install ships them, then the repository's `configs/`."""
  package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  return [
      os.path.join(package, "configs"),
      os.path.join(os.path.dirname(package), "configs")
  ]


def example_names() -> list[str]:
  names: set[str] = set()
  for directory in example_dirs():
    if os.path.isdir(directory):
      names.update(f[:-3]
                   for f in os.listdir(directory)
                   if f.endswith(".py") and not f.startswith("_"))
  return sorted(names)


def example_text(name: str) -> str:
  """The text of the example config `name` (with or without '.py')."""
  stem = name[:-3] if name.endswith(".py") else name
  for directory in example_dirs():
    path = os.path.join(directory, stem + ".py")
    if stem and os.path.isfile(path):
      with open(path, encoding="utf-8") as f:
        return f.read()
  names = example_names()
  if not names:
    raise ConfigError(f"--example={name!r}: this installation has no example"
                      " configs (they are in the repository's configs/).")
  near = difflib.get_close_matches(stem, names, n=1)
  hint = f" Did you mean {near[0]!r}?" if near else ""
  raise ConfigError(f"--example={name!r} is not an example config.{hint} "
                    f"Examples: {names}.")


def parse_override(arg: str) -> tuple[str, Any]:
  """'--config.a.b=v' -> ('a.b', v); v is a Python literal or a string."""
  body = arg[len("--config."):]
  if "=" not in body:
    raise ConfigError(f"Override {arg!r} must look like "
                      "--config.<section>.<field>=<value>.")
  path, text = body.split("=", 1)
  try:
    value = ast.literal_eval(text)
  except (ValueError, SyntaxError):
    value = text  # a bare string, e.g. --config.model.name=DNNRegressor
  return path, value


def _nest(path, value):
  out = {}
  node = out
  parts = path.split(".")
  for part in parts[:-1]:
    node = node.setdefault(part, {})
  node[parts[-1]] = value
  return out


def resolve(path: str | None,
            overrides: Iterable[tuple[str, Any]] = (),
            *,
            base: dict | None = None) -> ml_collections.ConfigDict:
  """defaults <- config file (or `base`) <- overrides, validated."""
  config = default_config().to_dict()
  defaults = copy.deepcopy(config)
  if base is not None:
    _merge(config, base, defaults=defaults)
  else:
    _merge(config, load_config_file(path or ""), defaults=defaults)
  for key, value in overrides:
    if key.split(".")[0] not in config:
      _unknown_key(key, defaults)
    _merge(config, _nest(key, value), defaults=defaults)
  return ml_collections.ConfigDict(config, allow_dotted_keys=True)


# ------------------------------------------------------ saved config


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
  """{'a.b': value} for every leaf (free-form sections stay whole)."""
  out = {}
  for key, value in tree.items():
    path = prefix + key
    if isinstance(value, dict) and value and path not in FREE_FORM:
      out.update(flatten(value, path + "."))
    else:
      out[path] = value
  return out


def to_json(config: ml_collections.ConfigDict) -> str:
  return json.dumps(config.to_dict(), indent=2, sort_keys=True) + "\n"


def diff(old: dict, new: dict) -> list[str]:
  """Lines 'key: old -> new' for every leaf that differs."""
  a, b = flatten(old), flatten(new)
  lines = []
  for key in sorted(set(a) | set(b)):
    if a.get(key, "<unset>") != b.get(key, "<unset>"):
      lines.append(f"{key}: {a.get(key, '<unset>')!r} -> "
                   f"{b.get(key, '<unset>')!r}")
  return lines


# Changing these does not change what a run trains.
_NOT_RUN_DEFINING = ("export.", "predict.", "run.log_step_count_steps")


def read_saved(model_dir: str) -> dict | None:
  return files.read_json(os.path.join(model_dir, SAVED_CONFIG), expect=dict)


def check_against_saved(config: ml_collections.ConfigDict, model_dir: str, *,
                        force: bool) -> list[str]:
  """Refuses (ConfigError) a config that differs from model_dir's saved one.

  Returns the differing lines (empty when equal or nothing was saved).
  Differences only in export/predict settings are allowed.
  """
  saved = read_saved(model_dir)
  if saved is None:
    return []
  lines = diff(saved, config.to_dict())
  blocking = [line for line in lines if not line.startswith(_NOT_RUN_DEFINING)]
  if blocking and not force:
    raise ConfigError(
        f"The config differs from the one saved in {model_dir}/"
        f"{SAVED_CONFIG} by the first run: " + "; ".join(blocking) +
        ". Rerun with the same config to resume, or pass --force to "
        "continue with the new one.")
  return lines


def save(config: ml_collections.ConfigDict, model_dir: str) -> None:
  """Writes config.json atomically."""
  files.write_atomic(os.path.join(model_dir, SAVED_CONFIG), to_json(config))
