"""add_metrics: extend an Estimator's evaluation with more metrics."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from estweight.estimator import Estimator
from estweight.mode_keys import ModeKeys
from estweight.runtime import fn_args as fn_args_lib

_METRIC_FN_ARGS = ("predictions", "features", "labels", "config")


def add_metrics(estimator: Estimator,
                metric_fn: Callable[..., Mapping[str, Any]]) -> Estimator:
  """Returns a new Estimator whose evaluation also reports `metric_fn`'s metrics.

  Args:
    estimator: the Estimator to extend (its model_dir, config and warm start
      are kept).
    metric_fn: takes any of `predictions`, `features`, `labels`, `config` by
      name and returns a dict of metric name to `(value, update_op)` or Keras
      metric. On a name clash the new metric wins.
  """
  if not isinstance(estimator, Estimator):
    raise TypeError("`estimator` must be an estweight.Estimator. Received: "
                    f"estimator={estimator!r}.")
  args = fn_args_lib.fn_args(metric_fn)
  unknown = [a for a in args if a not in _METRIC_FN_ARGS and a != "**"]
  if unknown:
    raise ValueError(f"`metric_fn` has following not expected args: "
                     f"{unknown}. It may take only {list(_METRIC_FN_ARGS)}. "
                     f"Received: metric_fn={fn_args_lib.describe(metric_fn)}.")

  def new_model_fn(features, labels, mode, config, weights=None):
    spec = estimator.model_fn(features, labels, mode, config, weights)
    if mode != ModeKeys.EVAL:
      return spec
    extra = fn_args_lib.call_with_available(
        metric_fn, {
            "predictions": spec.predictions,
            "features": features,
            "labels": labels,
            "config": config
        })
    if not isinstance(extra, dict):
      raise TypeError("`metric_fn` must return a dict of metrics. Received: "
                      f"{extra!r}.")
    merged = dict(spec.eval_metric_ops)
    merged.update(extra)
    return spec._replace(eval_metric_ops=merged)

  # pylint: disable=protected-access
  return Estimator(model_fn=new_model_fn,
                   model_dir=estimator.model_dir,
                   config=estimator.config,
                   warm_start_from=estimator._warm_start_settings)
