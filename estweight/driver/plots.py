"""Pictures of a run: learning curve per run_iterations, grid summary.

Drawn on matplotlib's object API (`Figure` with an Agg canvas), never
through pyplot: no backend is switched and no global figure is left behind,
so a notebook's inline plots keep working. Needs matplotlib
(`pip install estweight[plots]`); without it nothing is drawn and a log
line says so.
"""
from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from estweight import _logging as logging

if TYPE_CHECKING:
  from matplotlib.figure import Figure

LEARNING_CURVE = "learning_curve.png"
GRID_SUMMARY = "grid_summary.png"

_BEST_COLOR = "tab:red"
_DPI = 100


def _figure(width, height):
  """A Figure with its own Agg canvas, or None without matplotlib."""
  try:
    # pylint: disable=g-import-not-at-top
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
  except ImportError:
    logging.info("matplotlib is not installed; no PNG written.")
    return None
  fig = Figure(figsize=(width, height), layout="constrained")
  FigureCanvasAgg(fig)
  return fig


def _save(fig, model_dir, name):
  path = os.path.join(model_dir, name)
  fig.savefig(path, dpi=_DPI)
  return path


def _log_scale_if_wide(ax, values):
  """Log y axis when positive values span more than two decades (a loss
  falling from 2.0 to 0.001 is a flat line at 0 on a linear axis)."""
  values = [v for v in values if v is not None and math.isfinite(v)]
  if values and min(values) > 0 and max(values) / min(values) > 100:
    ax.set_yscale("log")
    return True
  return False


def _mark_best(ax, step, value, what, *, left):
  """A dashed line at the best step; its point and value on this panel."""
  ax.axvline(step, color=_BEST_COLOR, linestyle="--", linewidth=1)
  if value is None:
    return
  ax.plot([step], [value], "*", color=_BEST_COLOR, markersize=13, zorder=5)
  # Text on the side of the line and of the point with more room.
  ax.autoscale_view()
  bottom, top = ax.get_ylim()
  if ax.get_yscale() == "log":
    upper = math.log(value) > (math.log(bottom) + math.log(top)) / 2
  else:
    upper = value > (bottom + top) / 2
  ax.annotate(f"{what} {value:.4g}\nat step {step}", (step, value),
              xytext=(-8 if left else 8, -12 if upper else 12),
              textcoords="offset points",
              ha="right" if left else "left",
              va="top" if upper else "bottom",
              fontsize=8,
              color=_BEST_COLOR,
              bbox={
                  "boxstyle": "round,pad=0.2",
                  "fc": "white",
                  "ec": "none",
                  "alpha": 0.85
              })


def learning_curve(model_dir: str | os.PathLike[str],
                   history: Sequence[Mapping[str, Any]],
                   metric: str,
                   *,
                   best_step: int | None = None) -> str | None:
  """Draws `learning_curve_figure` into model_dir/learning_curve.png.

  Returns:
    The PNG's path, or None when nothing was drawn.
  """
  fig = learning_curve_figure(
      history,
      metric,
      best_step=best_step,
      title=f"{os.path.basename(os.path.normpath(model_dir))}: learning curve")
  return None if fig is None else _save(fig, model_dir, LEARNING_CURVE)


def learning_curve_figure(history: Sequence[Mapping[str, Any]],
                          metric: str,
                          *,
                          best_step: int | None = None,
                          title: str = "learning curve") -> Figure | None:
  """Loss and the eval `metric` over global steps.

  One panel per quantity, sharing the step axis: training and evaluation
  loss on top, the evaluation `metric` below (when it is not the loss).
  The best evaluation is marked on every panel: a dashed line at its step,
  a star on its point and its value next to it. The legend sits above the
  panels, never over the data; a loss spanning more than two decades gets a
  log axis.

  Args:
    history: run_iterations' history: [{'global_step', 'metrics',
      'train_loss' (optional)}, ...].
    metric: the metric the run was judged by (EarlyStopping's).
    best_step: the global step of the best evaluation (IterationResult.best);
      None draws no best mark.
    title: the figure's title (the step of the best evaluation is added).

  Returns:
    A matplotlib `Figure` (show it in a notebook, or `savefig`), or None
    without history or without matplotlib.
  """
  if not history:
    return None
  panels = ["loss"] + ([metric] if metric != "loss" else [])
  fig = _figure(7, 1.0 + 2.6 * len(panels))
  if fig is None:
    return None
  axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
  steps = [h["global_step"] for h in history]
  best = next((h for h in history if h["global_step"] == best_step), None)

  ax = axes[0]
  train = [
      (h["global_step"], h["train_loss"]) for h in history if "train_loss" in h
  ]
  eval_loss = [h["metrics"].get("loss") for h in history]
  if train:
    ax.plot(*zip(*train),
            color="tab:gray",
            linewidth=1,
            label="train loss (last step of each iteration)")
  ax.plot(steps,
          eval_loss,
          "o-",
          color="tab:blue",
          markersize=4,
          label="eval loss")
  log = _log_scale_if_wide(ax, eval_loss + [loss for _, loss in train])
  ax.set_ylabel("loss (log scale)" if log else "loss")
  if len(panels) > 1:
    values = [h["metrics"].get(metric) for h in history]
    axes[1].plot(steps,
                 values,
                 "o-",
                 color="tab:green",
                 markersize=4,
                 label=f"eval {metric}")
    axes[1].set_ylabel(f"eval {metric}")
  if best is not None:
    for ax, name in zip(axes, panels):
      _mark_best(ax,
                 best_step,
                 best["metrics"].get(name),
                 f"best {name}" if name == metric else f"eval {name}",
                 left=best_step > (steps[0] + steps[-1]) / 2)
  # Above the panels, never over the data.
  handles = [h for ax in axes for h in ax.get_legend_handles_labels()[0]]
  axes[0].legend(handles=handles,
                 loc="lower left",
                 bbox_to_anchor=(0, 1),
                 ncols=len(handles),
                 fontsize=8,
                 frameon=False,
                 borderaxespad=0.2)
  for ax in axes:
    ax.grid(True, alpha=0.3)
  axes[-1].set_xlabel("global step")
  if best is not None:
    title += f" (best {metric} at step {best_step})"
  fig.suptitle(title, fontsize=10, x=0.02, ha="left")
  return fig


def grid_summary(model_dir: str | os.PathLike[str],
                 trials: Sequence[Mapping[str, Any]],
                 metric: str,
                 *,
                 mode: str = "min") -> str | None:
  """Draws `grid_summary_figure` into model_dir/grid_summary.png.

  Returns:
    The PNG's path, or None when nothing was drawn.
  """
  fig = grid_summary_figure(trials, metric, mode=mode)
  return None if fig is None else _save(fig, model_dir, GRID_SUMMARY)


def grid_summary_figure(trials: Sequence[Mapping[str, Any]],
                        metric: str,
                        *,
                        mode: str = "min") -> Figure | None:
  """Each trial's best `metric`, best first.

  A dot per trial, labelled by its directory and params in full; the axis
  spans the scores (not from 0, so 0.967 and 0.985 look different), every
  dot carries its value and the best one is marked in red.

  Args:
    trials: grid_search's trial summaries ({'trial', 'params', 'score'}).
    metric: what `score` is.
    mode: 'min' or 'max': which end is best.

  Returns:
    A matplotlib `Figure`, or None without trials or without matplotlib.
  """
  if not trials:
    return None
  ranked = sorted(trials, key=lambda t: t["score"], reverse=mode == "max")
  # Parameters equal in every trial go to the title, not every label.
  names = list(dict.fromkeys(k for t in ranked for k in t["params"]))
  fixed = {
      k: ranked[0]["params"].get(k) for k in names if len(ranked) > 1 and all(
          k in t["params"] and t["params"][k] == ranked[0]["params"][k]
          for t in ranked)
  }
  labels = [
      f"trial_{t['trial']}: " + ", ".join(f"{k}={v}"
                                          for k, v in t["params"].items()
                                          if k not in fixed)
      for t in ranked
  ]
  # Wide enough for the longest label and the plot next to it.
  width = min(4.5 + 0.065 * max(len(label) for label in labels), 16)
  fig = _figure(width, 1.5 + 0.34 * len(ranked))
  if fig is None:
    return None
  ax = fig.subplots()
  scores = [t["score"] for t in ranked]
  rows = list(range(len(ranked)))[::-1]  # best on top
  colors = [_BEST_COLOR] + ["tab:blue"] * (len(ranked) - 1)
  ax.scatter(scores, rows, c=colors, s=40, zorder=3)
  low, high = min(scores), max(scores)
  pad = (high - low) * 0.08 or abs(high) * 0.05 or 0.05
  ax.set_xlim(low - pad, high + pad)
  for score, row, color in zip(scores, rows, colors):  # above each dot
    ax.annotate(f"{score:.4g}", (score, row),
                xytext=(0, 5),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
                color=color)
  ax.set_yticks(rows, labels, fontsize=8)
  for tick in ax.get_yticklabels():
    if tick.get_text() == labels[0]:
      tick.set_color(_BEST_COLOR)
  ax.set_ylim(-0.6, len(ranked) - 0.3)
  ax.grid(True, alpha=0.3)
  better = "lower" if mode == "min" else "higher"
  ax.set_xlabel(f"best eval {metric} of the trial ({better} is better; "
                "axis not from 0)")
  title = (f"{len(ranked)} trials, best first: trial_{ranked[0]['trial']} "
           f"with {metric} {scores[0]:.4g}")
  if fixed:
    title += "\nin every trial: " + ", ".join(
        f"{k}={v}" for k, v in fixed.items())
  ax.set_title(title, fontsize=10)
  return fig
