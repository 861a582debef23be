"""Pictures of a run: learning curve per run_iterations, grid summary.

Needs matplotlib (`pip install estweight[plots]`); without it nothing is
drawn and a log line says so.
"""
from __future__ import annotations

import os

from absl import logging

LEARNING_CURVE = "learning_curve.png"
GRID_SUMMARY = "grid_summary.png"


def _pyplot():
  try:
    import matplotlib  # pylint: disable=g-import-not-at-top
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
    return plt
  except ImportError:
    logging.info("matplotlib is not installed; no PNG written.")
    return None


def learning_curve(model_dir, history, metric):
  """Train loss, eval loss and eval `metric` over global steps ->
  model_dir/learning_curve.png."""
  plt = _pyplot()
  if plt is None or not history:
    return None
  steps = [h["global_step"] for h in history]
  train_losses = [(h["global_step"], h["train_loss"]) for h in history
                  if "train_loss" in h]
  fig, ax = plt.subplots(figsize=(6, 4))
  if train_losses:
    ax.plot(*zip(*train_losses), label="train loss", alpha=0.6)
  ax.plot(steps, [h["metrics"]["loss"] for h in history], "o-",
          label="eval loss")
  ax.set_xlabel("global step")
  ax.set_ylabel("loss")
  if metric != "loss":
    other = ax.twinx()
    other.plot(steps, [h["metrics"][metric] for h in history], "s--",
               color="tab:green", label=f"eval {metric}")
    other.set_ylabel(metric)
    other.legend(loc="upper right")
  ax.legend(loc="upper left")
  fig.tight_layout()
  path = os.path.join(model_dir, LEARNING_CURVE)
  fig.savefig(path, dpi=80)
  plt.close(fig)
  return path


def grid_summary(model_dir, trials, metric):
  """Best `metric` per trial, labelled by params -> model_dir/grid_summary.png."""
  plt = _pyplot()
  if plt is None or not trials:
    return None
  labels = [", ".join(f"{k}={v}" for k, v in t["params"].items())
            for t in trials]
  fig, ax = plt.subplots(figsize=(7, 0.4 * len(trials) + 1.5))
  ax.barh(range(len(trials)), [t["score"] for t in trials])
  ax.set_yticks(range(len(trials)))
  ax.set_yticklabels(labels, fontsize=8)
  ax.set_xlabel(f"best {metric}")
  fig.tight_layout()
  path = os.path.join(model_dir, GRID_SUMMARY)
  fig.savefig(path, dpi=80)
  plt.close(fig)
  return path
