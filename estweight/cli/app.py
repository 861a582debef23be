"""`estweight <command> --config=configs/x.py --model_dir=runs/x [--config.a.b=v]`.

The only module that reads flags; everything else takes the resolved config.
Rerunning the same command resumes from --model_dir.

Commands, flags and the config are checked before TensorFlow is imported
(`--help`, a mistyped command or config key answer at once); the module of
the command runs only after that.
"""
from __future__ import annotations

import contextlib
import difflib
import importlib
import logging as std_logging
import os
import sys
import tempfile
import traceback
import warnings
from typing import Sequence

from absl import flags
from absl import logging

from estweight.cli import checkpoint as checkpoint_lib
from estweight.cli import config as config_lib
from estweight.cli import extras

FLAGS = flags.FlagValues()
flags.DEFINE_string("config",
                    None, "Python config file with get_config() "
                    "(see configs/, or `estweight config --example=NAME`). "
                    "Override any field with --config.<section>.<field>="
                    "<value>.",
                    flag_values=FLAGS)
flags.DEFINE_string("model_dir",
                    None, "Run directory: checkpoints, "
                    "config.json, evaluations, exports.",
                    flag_values=FLAGS)
flags.DEFINE_bool("force",
                  False, "Continue although the config differs "
                  "from the one saved in --model_dir.",
                  flag_values=FLAGS)
flags.DEFINE_string("checkpoint",
                    None, "evaluate/predict/export: 'best' "
                    "(the default when train kept one, else the latest), "
                    "'latest', or a checkpoint path.",
                    flag_values=FLAGS)
flags.DEFINE_string("input",
                    None, "predict: a data file (.csv, .tfrecord, "
                    ".npz) with the model's feature columns; the label column"
                    " may be missing. Default: predict.split of the config's "
                    "data.",
                    flag_values=FLAGS)
flags.DEFINE_string("output",
                    None, "predict: output file; its extension "
                    "(.csv, .jsonl, .json) gives the format.",
                    flag_values=FLAGS)
flags.DEFINE_bool("show",
                  False, "config: print the resolved config, every "
                  "field with its value (the default action).",
                  flag_values=FLAGS)
flags.DEFINE_string("example",
                    None, "config: print the example config NAME"
                    " (e.g. breast_cancer_weighted_dnn) to start from.",
                    flag_values=FLAGS)
flags.DEFINE_integer("verbosity",
                     0, "0: progress and errors; 1: also debug "
                     "logs, TensorFlow's warnings and error tracebacks.",
                     flag_values=FLAGS)

USAGE = """usage: estweight <command> --config=CONFIG --model_dir=DIR [flags]

commands:
  train     train with periodic evaluation (and early stopping); a rerun
            resumes from --model_dir
  evaluate  evaluate the best checkpoint (or --checkpoint)
  predict   write predictions of the evaluation split, or of --input, to
            --output (.csv, .jsonl or .json)
  export    export a SavedModel for serving and print its input schema
  search    grid search over search.grid, one resumable trial per point
  config    print the resolved config (defaults <- --config <- overrides),
            or an example config with --example=NAME

`estweight <command> --help` describes a command and its flags.
evaluate, predict and export use the best checkpoint train kept
(<model_dir>/best/), else the latest; --checkpoint=latest|best|PATH chooses."""

HELP = {
    "train": "Trains config.model on config.data with the iteration driver "
             "(driver.steps_per_iteration, max_steps, early_stopping). The "
             "resolved config is saved to --model_dir/config.json; rerunning "
             "the same command resumes; a different config is refused "
             "unless --force. Ends with the evaluation of the best "
             "checkpoint, the one evaluate, predict and export use.",
    "evaluate": "Evaluates on the evaluation split and prints the metrics. "
                "--config may be omitted: the run's saved config is used. "
                "Evaluations of the best or another older checkpoint are "
                "recorded in <model_dir>/eval_<name>/, the latest's in eval/.",
    "predict": "Writes one row per example (row, label when the data have "
               "one, predictions) of predict.split, or of the file --input "
               "(which needs the feature columns only), to --output or "
               "<model_dir>/predictions.<predict.format>.",
    "export": "Exports a SavedModel (export.receiver: 'parsing' or 'raw') "
              "under export.dir or <model_dir>/export, writes its input "
              "schema to assets.extra/serving_schema.json, and prints the "
              "schema and the path.",
    "search": "Runs every combination of search.grid (config keys -> lists "
              "of values) as a trial in <model_dir>/trial_<i>; writes "
              "results.json/csv; a rerun skips finished trials.",
    "config": "Prints the resolved config as JSON: the defaults, then "
              "--config (or the config saved in --model_dir), then "
              "--config.<key>=<value> overrides. --example=NAME prints an "
              "example config file instead.",
}
_READS_SAVED = ("evaluate", "predict", "export", "config")
# The module and function running each command (imported after the checks).
_RUNNERS = {
    "train": ("commands", "train"),
    "search": ("commands", "search"),
    "evaluate": ("commands", "evaluate"),
    "predict": ("predict", "predict"),
    "export": ("serving", "export")
}


class UsageError(Exception):
  pass


def _error(command, message, exit_code):
  prefix = f"estweight {command}: " if command else "estweight: "
  from estweight.runtime import messages  # pylint: disable=g-import-not-at-top
  print(prefix + "error: " + " ".join(messages.cause(message).split()),
        file=sys.stderr)
  return exit_code


# Flags beyond --config, --model_dir and --verbosity, by command.
_COMMAND_FLAGS = {
    "train": ("force",),
    "search": ("force",),
    "evaluate": ("force", "checkpoint"),
    "predict": ("force", "checkpoint", "input", "output"),
    "export": ("force", "checkpoint"),
    "config": ("show", "example"),
}


def _help(command):
  print(f"usage: estweight {command} --config=CONFIG --model_dir=DIR "
        "[--config.<key>=<value> ...] [flags]\n")
  print(HELP[command] + "\n")
  print(FLAGS.module_help(__name__))


def _check_flags(command):
  for name in ("checkpoint", "input", "output", "show", "example", "force"):
    if FLAGS[name].present and name not in _COMMAND_FLAGS[command]:
      users = [c for c, names in _COMMAND_FLAGS.items() if name in names]
      raise config_lib.ConfigError(
          f"--{name} is not a flag of `estweight {command}`; it is for "
          f"{' and '.join(users)}.")


def _resolve(command, overrides):
  model_dir = FLAGS.model_dir
  if not model_dir and command != "config":
    raise config_lib.ConfigError("--model_dir is required.")
  if FLAGS.config is None and command in _READS_SAVED:
    saved = config_lib.read_saved(model_dir) if model_dir else None
    if saved is not None:
      return config_lib.resolve(None, overrides, base=saved), model_dir
    if command == "config":  # the defaults and the overrides
      return config_lib.resolve(None, overrides, base={}), model_dir
    raise config_lib.ConfigError(
        f"--model_dir={model_dir!r} has no saved config.json; pass "
        "--config.")
  config = config_lib.resolve(FLAGS.config, overrides)
  if command in _READS_SAVED and model_dir:
    config_lib.check_against_saved(config, model_dir, force=FLAGS.force)
  return config, model_dir


def _check_command(command, config, model_dir):
  """Every check of `command`'s config and flags that needs neither the
  data nor TensorFlow."""
  # Not at the top: it loads numpy, which --help and a typo do not need.
  from estweight.cli import checks  # pylint: disable=g-import-not-at-top
  checks.check(config, command)
  if command in ("evaluate", "predict", "export"):
    checkpoint_lib.check_flag(model_dir, FLAGS.checkpoint)
  if command == "predict":
    checks.check_predict_flags(config,
                               input_path=FLAGS.input,
                               output=FLAGS.output)


def _config_command(overrides):
  if FLAGS.example is not None:
    print(config_lib.example_text(FLAGS.example), end="")
    return
  config, _ = _resolve("config", overrides)
  print(config_lib.to_json(config), end="")


def _dispatch(command, config, model_dir):
  module, function = _RUNNERS[command]
  # The command's module imports TensorFlow: only now, after every check.
  with _startup_notices_hidden():
    run_command = getattr(importlib.import_module(f"estweight.cli.{module}"),
                          function)
  kwargs = {
      "force": FLAGS.force
  } if command in ("train", "search") else {
      "checkpoint": FLAGS.checkpoint
  }
  if command == "predict":
    kwargs.update(output=FLAGS.output, input_path=FLAGS.input)
  return run_command(config, model_dir, **kwargs)


def run(argv: Sequence[str]) -> int:
  """Runs `argv` (argv[0] is the program); returns the exit code."""
  args = list(argv[1:])
  if not args or args[0] in ("-h", "--help", "help"):
    print(USAGE)
    return 0 if args else 2
  command, rest = args[0], args[1:]
  if command not in HELP:
    near = difflib.get_close_matches(command, list(HELP), n=1)
    hint = f" Did you mean {near[0]!r}?" if near else ""
    return _error(
        None, f"unknown command {command!r}.{hint} Commands: "
        f"{', '.join(HELP)}.", 2)
  if any(a in ("-h", "--help", "--helpshort", "--helpfull") for a in rest):
    _help(command)
    return 0
  overrides_args = [a for a in rest if a.startswith("--config.")]
  others = [a for a in rest if not a.startswith("--config.")]
  if not flags.FLAGS.is_parsed():  # absl logging checks the global flags
    flags.FLAGS.mark_as_parsed()
  FLAGS.unparse_flags()
  try:
    FLAGS(["estweight"] + others)
    _check_flags(command)
  except (flags.Error, config_lib.ConfigError) as e:
    return _error(command, e, 2)
  verbose = FLAGS.verbosity >= 1
  with _quiet_logs(verbose):
    try:
      overrides = [config_lib.parse_override(a) for a in overrides_args]
      if command == "config":
        _config_command(overrides)
        return 0
      config, model_dir = _resolve(command, overrides)
      _check_command(command, config, model_dir)
      _dispatch(command, config, model_dir)
    except KeyboardInterrupt:
      return _error(command, "interrupted; rerun the same command to "
                    "resume.", 130)
    except Exception as e:  # pylint: disable=broad-except
      if verbose:
        traceback.print_exc()
      return _error(command, extras.explain(e), 1)
  return 0


# TensorFlow's C++ start-up lines, printed before its logging is set up, so
# TF_CPP_MIN_LOG_LEVEL does not hide them (TF 2.21: the oneDNN notice on CPUs
# with AVX-512 VNNI, the CPU-instructions notice).
_STARTUP_NOTICE_PREFIXES = ("I0000 ", "WARNING: All log messages before "
                            "absl::InitializeLog()", "To enable the following "
                            "instructions")


@contextlib.contextmanager
def _startup_notices_hidden():
  """Drops TensorFlow's INFO start-up lines from stderr while it is imported,
  unless TF_CPP_MIN_LOG_LEVEL=0 asks for them; every other line, and all of
  them if the import fails, still reach stderr."""
  if ("tensorflow" in sys.modules or
      os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") in ("", "0")):
    yield
    return
  sys.stderr.flush()
  saved = os.dup(2)
  failed = True
  with tempfile.TemporaryFile() as captured:
    os.dup2(captured.fileno(), 2)
    try:
      yield
      failed = False
    finally:
      sys.stderr.flush()
      os.dup2(saved, 2)
      os.close(saved)
      captured.seek(0)
      lines = captured.read().decode(errors="replace").splitlines(True)
      for line in lines:
        if failed or not line.startswith(_STARTUP_NOTICE_PREFIXES):
          sys.stderr.write(line)
      sys.stderr.flush()


@contextlib.contextmanager
def _quiet_logs(verbose):
  """Terminal-friendly logging for one run; the caller's setup comes back
  afterwards (run() is also called in process, e.g. by tests)."""
  logging.use_absl_handler()
  handler = logging.get_absl_handler().python_handler
  tf_logger = std_logging.getLogger("tensorflow")
  saved = (handler.formatter, tf_logger.level, logging.get_verbosity())
  # Short lines for a terminal: "I 20:15:55 step 200 | loss 0.31 | ...".
  handler.setFormatter(
      std_logging.Formatter("%(levelname).1s %(asctime)s %(message)s",
                            datefmt="%H:%M:%S"))
  logging.set_verbosity(logging.DEBUG if verbose else logging.INFO)
  tf_logger.setLevel(std_logging.WARNING if verbose else std_logging.ERROR)
  try:
    with warnings.catch_warnings():
      if not verbose:  # TensorFlow's and Keras's deprecation notices
        warnings.filterwarnings("ignore", category=UserWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
      yield
  finally:
    handler.setFormatter(saved[0])
    tf_logger.setLevel(saved[1])
    logging.set_verbosity(saved[2])


def console_main() -> None:
  """The `estweight` console script (and `python -m estweight`)."""
  # Quiets TensorFlow's C++ start-up lines, which it prints when imported,
  # i.e. later (`--verbosity=1` does not bring them back; set
  # TF_CPP_MIN_LOG_LEVEL=0 for that).
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  sys.exit(run(sys.argv))
