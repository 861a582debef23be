"""Which checkpoint `evaluate`, `predict` and `export` use: one rule.

`--checkpoint`:

- unset: the best checkpoint, which `estweight train` keeps in
  `<model_dir>/best/` (the best evaluation by driver.early_stopping.metric,
  else by loss), when there is one; else the latest.
- `best`: the best checkpoint; an error when none was kept.
- `latest`: the newest checkpoint in model_dir.
- a path: that checkpoint, a prefix (`<model_dir>/model.ckpt-200`) or a
  directory holding a `checkpoint` file (such as another run's `best/`).

`train` always continues from the latest checkpoint and ends by printing
the best one's evaluation, the model the other commands then use. Each
command prints its choice: `using checkpoint <path> (best, step 100; the
latest is step 500)`. An evaluation of any checkpoint but the latest is
recorded under `<model_dir>/eval_<name>/` (`best`, or the checkpoint's
directory or file name), so `eval/` only moves forward in steps.
"""
from __future__ import annotations

import dataclasses
import glob
import os
import re

from estweight.cli.config import ConfigError

BEST = "best"
LATEST = "latest"
BEST_DIR = "best"  # the driver's copy of the best checkpoint
_STEP = re.compile(r"-(\d+)$")


def _is_local(path):
  return "://" not in path


def _has_checkpoint(directory):
  return os.path.isfile(os.path.join(directory, "checkpoint")) or bool(
      glob.glob(os.path.join(glob.escape(directory), "*.index")))


def check_flag(model_dir: str, value: str | None) -> None:
  """Refuses, before TensorFlow is imported, a model_dir without checkpoint
  and a --checkpoint that names nothing (local paths only)."""
  if not _is_local(model_dir):
    return
  if not _has_checkpoint(model_dir):
    raise ConfigError(f"--model_dir={model_dir!r} has no checkpoint; run "
                      "`estweight train` first.")
  if value in (None, LATEST):
    return
  if value == BEST:
    if not _has_checkpoint(os.path.join(model_dir, BEST_DIR)):
      raise ConfigError(
          f"--checkpoint=best: {model_dir} has no best checkpoint (the "
          f"{BEST_DIR}/ directory `estweight train` keeps). Use "
          "--checkpoint=latest or a checkpoint path.")
    return
  if not _is_local(value):
    return
  if os.path.isdir(value):
    if not _has_checkpoint(value):
      raise ConfigError(f"--checkpoint={value!r} is a directory without a "
                        "checkpoint.")
  elif not os.path.isfile(value + ".index"):
    raise ConfigError(
        f"--checkpoint={value!r} is not a checkpoint: give 'best', 'latest',"
        " a checkpoint prefix such as "
        f"{os.path.join(model_dir, 'model.ckpt-100')!r} (its .index file must"
        " exist) or a directory holding a checkpoint.")


@dataclasses.dataclass(frozen=True)
class Choice:
  """The checkpoint a command uses.

  Attributes:
    path: the checkpoint prefix.
    step: its global step.
    kind: 'best', 'latest' or 'given' (a --checkpoint path).
    latest_step: the global step of model_dir's latest checkpoint.
    eval_name: None for the latest checkpoint (its evaluation goes to
      eval/), else the name of its evaluation directory (eval_<name>/).
    note: why this one, when the rule had to fall back.
  """
  path: str
  step: int
  kind: str
  latest_step: int
  eval_name: str | None
  note: str = ""

  def describe(self) -> str:
    """'using checkpoint <path> (best, step 100; the latest is step 500)'."""
    what = {
        "best": "best",
        "latest": "latest",
        "given": "--checkpoint"
    }[self.kind]
    extra = ""
    if self.kind != "latest" and self.step != self.latest_step:
      extra = f"; the latest is step {self.latest_step}"
    elif self.kind != "latest":
      extra = "; also the latest"
    note = f"; {self.note}" if self.note else ""
    return f"using checkpoint {self.path} ({what}, step {self.step}{extra}{note})"


def _step(path):
  match = _STEP.search(path)
  if match:
    return int(match.group(1))
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return int(tf.train.load_variable(path, "global_step"))


def choose(model_dir: str, value: str | None) -> Choice:
  """Applies the rule above to `--checkpoint=value`.

  Raises:
    ConfigError: no checkpoint matches.
  """
  from estweight.runtime import checkpoints  # pylint: disable=g-import-not-at-top
  latest = checkpoints.latest_checkpoint(model_dir)
  if not latest:
    raise ConfigError(f"--model_dir={model_dir!r} has no checkpoint; run "
                      "`estweight train` first.")
  latest_step = _step(latest)
  if value == LATEST:
    return Choice(latest, latest_step, "latest", latest_step, None)
  if value in (None, BEST):
    best_dir = os.path.join(model_dir, BEST_DIR)
    try:
      best = checkpoints.latest_checkpoint(best_dir)
    except checkpoints.CheckpointError as e:
      if value == BEST:
        raise ConfigError(f"--checkpoint=best: {e}") from e
      return Choice(latest,
                    latest_step,
                    "latest",
                    latest_step,
                    None,
                    note=f"the best checkpoint is unusable ({e})")
    if best:
      return Choice(best, _step(best), "best", latest_step, BEST)
    if value == BEST:
      raise ConfigError(f"--checkpoint=best: {model_dir} has no best "
                        "checkpoint; use --checkpoint=latest.")
    return Choice(latest,
                  latest_step,
                  "latest",
                  latest_step,
                  None,
                  note=f"no {BEST_DIR}/ kept")
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  path = value
  if tf.io.gfile.isdir(value):
    path = checkpoints.latest_checkpoint(value) or ""
    if not path:
      raise ConfigError(f"--checkpoint={value!r} holds no checkpoint.")
  if os.path.abspath(path) == os.path.abspath(latest):
    return Choice(latest, latest_step, "latest", latest_step, None)
  return Choice(path, _step(path), "given", latest_step,
                _eval_name(path, model_dir))


def _eval_name(path, model_dir):
  """eval_<name>/ for a checkpoint other than the latest: the checkpoint's
  directory name, or its file name when it lies in model_dir itself."""
  directory = os.path.dirname(os.path.abspath(path))
  if directory == os.path.abspath(model_dir):
    return os.path.basename(path)
  return os.path.basename(directory)
