"""grid_search results as a TensorBoard HParams summary.

    model_dir/hparams/            the experiment: each grid parameter with its
                                  values, each evaluation metric
    model_dir/hparams/trial_<i>/  one session per trial: its parameters and
                                  its best evaluation's metrics (at that
                                  evaluation's step)

`tensorboard --logdir=model_dir` then shows the grid in the HParams tab
(table, parallel coordinates, scatter plots) next to every trial's training
and evaluation curves. Written from results.json's rows, so it agrees with
results.csv and grid_summary.png; rewritten whole after a search. Needs
TensorBoard (`pip install estweight[tensorboard]`); without it nothing is
written and a log line says so.
"""
from __future__ import annotations

import numbers
import os
import shutil
import time
from typing import Any, Mapping, Sequence

import tensorflow as tf

from estweight import _logging as logging

HPARAMS_DIR = "hparams"


def _plain(value):
  """A value TensorBoard's HParams accept: bool, int, float or str."""
  if hasattr(value, "item") and callable(value.item):  # numpy scalars
    try:
      value = value.item()
    except (TypeError, ValueError):
      pass
  if isinstance(value, (bool, str)):
    return value
  if isinstance(value, numbers.Integral):
    return int(value)
  if isinstance(value, numbers.Real):
    return float(value)
  return str(value)  # lists (hidden_units), None, objects


def _converter(values):
  """How one parameter's values become one type (HParams' Discrete domain
  needs that): ints become floats next to floats, anything mixed str."""
  kinds = {type(_plain(v)) for v in values}
  if len(kinds) == 1:
    return _plain
  if kinds <= {int, float}:
    return lambda v: float(_plain(v))
  return lambda v: str(_plain(v))


def _write(logdir, summaries):
  """Writes (summary, step) pairs into one new event file under logdir."""
  # The v1 writer works in graph and eager programs alike when made in a
  # graph (a ported program may have disabled eager execution).
  with tf.Graph().as_default():
    writer = tf.compat.v1.summary.FileWriter(logdir)
  try:
    for summary, step in summaries:
      writer.add_summary(summary.SerializeToString(), step)
  finally:
    writer.close()


def write_hparams(model_dir: str | os.PathLike[str],
                  trials: Sequence[Mapping[str, Any]],
                  param_grid: Mapping[str, Sequence[Any]],
                  metric: str) -> str | None:
  """Writes the HParams summary of `trials` under model_dir/hparams/.

  Args:
    model_dir: the grid's root directory.
    trials: grid_search's trial summaries ({'trial', 'params', 'best_step',
      'best_metrics', 'stopped_early'}).
    param_grid: the grid ({name: [values]}), for the parameters' domains.
    metric: the metric trials were ranked by (listed first).

  Returns:
    The summary's directory, or None when nothing was written.
  """
  try:
    # pylint: disable=g-import-not-at-top
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.plugins.hparams import api as hp
    from tensorboard.plugins.hparams import api_pb2
    from tensorboard.plugins.hparams import summary as hp_summary
  except ImportError:
    logging.info("tensorboard is not installed; no HParams summary written.")
    return None
  if not trials:
    return None
  names = list(param_grid)
  convert = {name: _converter(param_grid[name]) for name in names}
  hparams = {
      name:
          hp.HParam(
              name,
              hp.Discrete(sorted({convert[name](v) for v in param_grid[name]})))
      for name in names
  }
  metric_names = sorted({m for t in trials for m in t["best_metrics"]} -
                        {"global_step"})
  metric_names.sort(key=lambda m: m != metric)  # the ranking metric first
  metrics = [
      hp.Metric(m,
                display_name=f"best eval {m}"
                if m == metric else f"eval {m} (at best {metric})")
      for m in metric_names
  ]
  root = os.path.join(model_dir, HPARAMS_DIR)
  tmp = root + ".tmp"
  shutil.rmtree(tmp, ignore_errors=True)
  now = time.time()
  _write(tmp, [(hp.hparams_config_pb(
      list(hparams.values()), metrics, time_created_secs=now), 0)])
  for t in trials:
    values = {
        hparams[name]: convert[name](t["params"][name])
        for name in names
        if name in t["params"]
    }
    scalars = summary_pb2.Summary(value=[
        summary_pb2.Summary.Value(tag=m,
                                  simple_value=float(t["best_metrics"][m]))
        for m in metric_names
        if m in t["best_metrics"]
    ])
    _write(os.path.join(tmp, f"trial_{t['trial']}"), [
        (hp.hparams_pb(
            values, trial_id=f"trial_{t['trial']}", start_time_secs=now), 0),
        (scalars, t["best_step"]),
        (hp_summary.session_end_pb(api_pb2.STATUS_SUCCESS, now), t["best_step"])
    ])
  shutil.rmtree(root, ignore_errors=True)
  os.replace(tmp, root)
  return root
