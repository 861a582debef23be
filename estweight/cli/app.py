"""`estweight <command> --config=configs/x.py --model_dir=runs/x [--config.a.b=v]`.

The only module that reads flags; everything else takes the resolved config.
Rerunning the same command resumes from --model_dir.
"""
from __future__ import annotations

import contextlib
import difflib
import logging as std_logging
import sys
import traceback
import warnings

from absl import flags
from absl import logging

from estweight.cli import commands
from estweight.cli import config as config_lib

FLAGS = flags.FlagValues()
flags.DEFINE_string("config", None, "Python config file with get_config() "
                    "(see configs/). Override any field with "
                    "--config.<section>.<field>=<value>.", flag_values=FLAGS)
flags.DEFINE_string("model_dir", None, "Run directory: checkpoints, "
                    "config.json, evaluations, exports.", flag_values=FLAGS)
flags.DEFINE_bool("force", False, "Continue although the config differs "
                  "from the one saved in --model_dir.", flag_values=FLAGS)
flags.DEFINE_string("checkpoint", None, "evaluate/predict/export: this "
                    "checkpoint instead of the latest (export: the best).",
                    flag_values=FLAGS)
flags.DEFINE_string("output", None, "predict: output file (.csv or .jsonl).",
                    flag_values=FLAGS)
flags.DEFINE_integer("verbosity", 0, "0: progress and errors; 1: also debug "
                     "logs, TensorFlow's warnings and error tracebacks.",
                     flag_values=FLAGS)

USAGE = """usage: estweight <command> --config=CONFIG --model_dir=DIR [flags]

commands:
  train     train with periodic evaluation (and early stopping); a rerun
            resumes from --model_dir
  evaluate  evaluate the latest (or --checkpoint) checkpoint
  predict   write predictions of the evaluation split to CSV or JSONL
  export    export a SavedModel for serving (the best checkpoint if kept)
  search    grid search over search.grid, one resumable trial per point

`estweight <command> --help` describes a command and its flags."""

HELP = {
    "train": "Trains config.model on config.data with the iteration driver "
             "(driver.steps_per_iteration, max_steps, early_stopping). The "
             "resolved config is saved to --model_dir/config.json; rerunning "
             "the same command resumes; a different config is refused "
             "unless --force.",
    "evaluate": "Evaluates on the evaluation split and prints the metrics. "
                "--config may be omitted: the run's saved config is used.",
    "predict": "Writes one row per example of predict.split (row, label, "
               "predictions) to --output or <model_dir>/predictions.csv.",
    "export": "Exports a SavedModel (export.receiver: 'parsing' or 'raw') "
              "under export.dir or <model_dir>/export and prints its path.",
    "search": "Runs every combination of search.grid (config keys -> lists "
              "of values) as a trial in <model_dir>/trial_<i>; writes "
              "results.json/csv; a rerun skips finished trials.",
}
_READS_SAVED = ("evaluate", "predict", "export")


class UsageError(Exception):
  pass


_TF_NOISE = ("Graph execution error", "Detected at node", "Node:", "[[",
             "File \"", "Additional GRPC error", "defined at")


def _first_meaningful_line(message) -> str:
  """The line that says what went wrong. TensorFlow's errors start with
  "Graph execution error:" and the Python stack of the failing op; the
  cause (a damaged file, a full disk, a bad value) comes after them."""
  text = str(getattr(message, "message", None) or message)
  lines = text.split("\n")
  if not type(message).__module__.startswith("tensorflow"):
    return lines[0]
  in_stack = False
  for line in lines:
    stripped = line.strip()
    if not stripped:
      continue
    if stripped.startswith("File \""):
      in_stack = True
      continue
    if in_stack and line.startswith("  "):
      continue  # the source line under a File line
    in_stack = False
    if not stripped.startswith(_TF_NOISE):
      return stripped
  return lines[0]


def _error(command, message, exit_code):
  prefix = f"estweight {command}: " if command else "estweight: "
  print(prefix + "error: " + " ".join(_first_meaningful_line(message).split()),
        file=sys.stderr)
  return exit_code


def _help(command):
  print(f"usage: estweight {command} --config=CONFIG --model_dir=DIR "
        "[--config.<key>=<value> ...] [flags]\n")
  print(HELP[command] + "\n")
  print(FLAGS.module_help(__name__))


def _resolve(command, overrides):
  model_dir = FLAGS.model_dir
  if not model_dir:
    raise config_lib.ConfigError("--model_dir is required.")
  if FLAGS.config is None and command in _READS_SAVED:
    saved = config_lib.read_saved(model_dir)
    if saved is None:
      raise config_lib.ConfigError(
          f"--model_dir={model_dir!r} has no saved config.json; pass "
          "--config.")
    return config_lib.resolve(None, overrides, base=saved), model_dir
  config = config_lib.resolve(FLAGS.config, overrides)
  if command in _READS_SAVED:
    config_lib.check_against_saved(config, model_dir, force=FLAGS.force)
  return config, model_dir


def _dispatch(command, config, model_dir):
  if command == "train":
    return commands.train(config, model_dir, force=FLAGS.force)
  if command == "search":
    return commands.search(config, model_dir, force=FLAGS.force)
  if command == "evaluate":
    return commands.evaluate(config, model_dir, checkpoint=FLAGS.checkpoint)
  if command == "predict":
    return commands.predict(config, model_dir, output=FLAGS.output,
                            checkpoint=FLAGS.checkpoint)
  return commands.export(config, model_dir, checkpoint=FLAGS.checkpoint)


def run(argv) -> int:
  """Runs `argv` (argv[0] is the program); returns the exit code."""
  args = list(argv[1:])
  if not args or args[0] in ("-h", "--help", "help"):
    print(USAGE)
    return 0 if args else 2
  command, rest = args[0], args[1:]
  if command not in HELP:
    near = difflib.get_close_matches(command, list(HELP), n=1)
    hint = f" Did you mean {near[0]!r}?" if near else ""
    return _error(None, f"unknown command {command!r}.{hint} Commands: "
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
  except flags.Error as e:
    return _error(command, e, 2)
  verbose = FLAGS.verbosity >= 1
  with _quiet_logs(verbose):
    try:
      overrides = [config_lib.parse_override(a) for a in overrides_args]
      config, model_dir = _resolve(command, overrides)
      _dispatch(command, config, model_dir)
    except KeyboardInterrupt:
      return _error(command, "interrupted; rerun the same command to "
                    "resume.", 130)
    except Exception as e:  # pylint: disable=broad-except
      if verbose:
        traceback.print_exc()
      return _error(command, e, 1)
  return 0


@contextlib.contextmanager
def _quiet_logs(verbose):
  """Terminal-friendly logging for one run; the caller's setup comes back
  afterwards (run() is also called in process, e.g. by tests)."""
  logging.use_absl_handler()
  handler = logging.get_absl_handler().python_handler
  tf_logger = std_logging.getLogger("tensorflow")
  saved = (handler.formatter, tf_logger.level, logging.get_verbosity())
  # Short lines for a terminal: "I 20:15:55 step 200 | loss 0.31 | ...".
  handler.setFormatter(std_logging.Formatter(
      "%(levelname).1s %(asctime)s %(message)s", datefmt="%H:%M:%S"))
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


def console_main():
  """The `estweight` console script."""
  sys.exit(run(sys.argv))
