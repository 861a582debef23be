"""Exporters: SavedModel exports made after evaluations.

`train_and_evaluate` (EvalSpec.exporters) and `estweight.driver.
run_iterations(exporters=...)` call `exporter.export(estimator, export_path,
checkpoint_path, eval_result, is_the_final_export)` after each evaluation,
with `export_path = model_dir/export/<exporter.name>`.
"""
from __future__ import annotations

import abc
import os
from typing import Any, Callable, Mapping, Sequence

import tensorflow as tf
from estweight import _logging as logging

from estweight.runtime import best as best_lib
from estweight.runtime import evaluate as evaluate_lib
from estweight.runtime import fn_args as fn_args_lib

_v1 = tf.compat.v1


class Exporter(abc.ABC):
  """Exports a model after an evaluation; subclasses decide when."""

  @property
  @abc.abstractmethod
  def name(self) -> str:
    """Directory name under model_dir/export/."""

  @abc.abstractmethod
  def export(self, estimator: Any, export_path: str | os.PathLike[str],
             checkpoint_path: str | None, eval_result: Mapping[str, Any],
             is_the_final_export: bool) -> Any:
    """Exports (or not); returns the export directory or None.

    Args:
      estimator: the Estimator that was evaluated.
      export_path: the exporter's directory, model_dir/export/<name>.
      checkpoint_path: the checkpoint that was evaluated, or None for the
        latest one.
      eval_result: that evaluation's result, metric name to value.
      is_the_final_export: whether this is the last export of training.

    Returns:
      The new export's directory, or None if nothing was exported.
    """


def _check_exports_to_keep(exports_to_keep):
  if exports_to_keep is None:
    return
  if (isinstance(exports_to_keep, bool) or
      not isinstance(exports_to_keep, int) or exports_to_keep <= 0):
    raise ValueError("`exports_to_keep` must be a positive integer or None. "
                     f"Received: exports_to_keep={exports_to_keep!r}.")


class _SavedModelExporter(Exporter):
  """Exports every time it is called."""

  def __init__(self,
               name,
               serving_input_receiver_fn,
               assets_extra=None,
               as_text=False):
    if not isinstance(name, str) or not name:
      raise ValueError("`name` must be a non-empty string. Received: "
                       f"name={name!r}.")
    if not callable(serving_input_receiver_fn):
      raise TypeError("`serving_input_receiver_fn` must be callable. "
                      "Received: serving_input_receiver_fn="
                      f"{serving_input_receiver_fn!r}.")
    self._name = name
    self._serving_input_receiver_fn = serving_input_receiver_fn
    self._assets_extra = assets_extra
    self._as_text = as_text

  @property
  def name(self):
    return self._name

  def export(self, estimator, export_path, checkpoint_path, eval_result,
             is_the_final_export):
    del eval_result, is_the_final_export
    return estimator.export_saved_model(export_path,
                                        self._serving_input_receiver_fn,
                                        assets_extra=self._assets_extra,
                                        as_text=self._as_text,
                                        checkpoint_path=checkpoint_path)


def run_exporters(estimator: Any, exporters: Sequence[Exporter],
                  checkpoint_path: str | None, eval_result: Mapping[str, Any],
                  is_the_final_export: bool) -> list[Any]:
  """Runs each exporter into `model_dir/export/<name>`; their results."""
  return [
      exporter.export(
          estimator, os.path.join(estimator.model_dir, "export", exporter.name),
          checkpoint_path, eval_result, is_the_final_export)
      for exporter in exporters
  ]


def export_versions(export_path: str | os.PathLike[str]) -> list[int]:
  """The 10-digit timestamp export directories under `export_path`, sorted."""
  if not tf.io.gfile.isdir(export_path):
    return []
  return sorted(
      int(name.rstrip("/"))
      for name in tf.io.gfile.listdir(export_path)
      if len(name.rstrip("/")) == 10 and name.rstrip("/").isdigit())


def garbage_collect_exports(export_path: str | os.PathLike[str],
                            exports_to_keep: int | None) -> None:
  """Deletes all but the `exports_to_keep` newest timestamped exports."""
  if exports_to_keep is None:
    return
  versions = export_versions(export_path)
  for version in versions[:-exports_to_keep]:
    path = os.path.join(os.fspath(export_path), str(version))
    try:
      tf.io.gfile.rmtree(path)
    except tf.errors.NotFoundError as e:
      logging.warning("Can not delete %s recursively: %s", path, e)


class LatestExporter(Exporter):
  """Exports after every evaluation, keeping the `exports_to_keep` newest.

  Args:
    name: directory name under model_dir/export/.
    serving_input_receiver_fn: as in `Estimator.export_saved_model`.
    assets_extra: as in `Estimator.export_saved_model`.
    as_text: as in `Estimator.export_saved_model`.
    exports_to_keep: how many exports to keep; None keeps all.
  """

  def __init__(self,
               name: str,
               serving_input_receiver_fn: Callable[[], Any],
               assets_extra: Mapping[str, str] | None = None,
               as_text: bool = False,
               exports_to_keep: int | None = 5):
    self._exporter = _SavedModelExporter(name, serving_input_receiver_fn,
                                         assets_extra, as_text)
    _check_exports_to_keep(exports_to_keep)
    self._exports_to_keep = exports_to_keep

  @property
  def name(self) -> str:
    """Directory name under model_dir/export/ (the `name` argument)."""
    return self._exporter.name

  def export(self, estimator: Any, export_path: str | os.PathLike[str],
             checkpoint_path: str | None, eval_result: Mapping[str, Any],
             is_the_final_export: bool) -> bytes | None:
    """Exports `checkpoint_path` under `export_path` after every evaluation,
    then deletes all but the newest `exports_to_keep` exports; returns the
    new export's directory.

    Args:
      estimator: the Estimator that was evaluated.
      export_path: the exporter's directory, model_dir/export/<name>.
      checkpoint_path: the checkpoint that was evaluated, or None for the
        latest one.
      eval_result: that evaluation's result, metric name to value.
      is_the_final_export: whether this is the last export of training.

    Returns:
      The new export's directory, as bytes.
    """
    result = self._exporter.export(estimator, export_path, checkpoint_path,
                                   eval_result, is_the_final_export)
    garbage_collect_exports(export_path, self._exports_to_keep)
    return result


class FinalExporter(Exporter):
  """Exports once, after the final evaluation (`is_the_final_export`).

  Args:
    name: directory name under model_dir/export/.
    serving_input_receiver_fn: as in `Estimator.export_saved_model`.
    assets_extra: as in `Estimator.export_saved_model`.
    as_text: as in `Estimator.export_saved_model`.

  Raises:
    ValueError: if `name` is not a non-empty string.
    TypeError: if `serving_input_receiver_fn` is not callable.
  """

  def __init__(self,
               name: str,
               serving_input_receiver_fn: Callable[[], Any],
               assets_extra: Mapping[str, str] | None = None,
               as_text: bool = False):
    self._exporter = _SavedModelExporter(name, serving_input_receiver_fn,
                                         assets_extra, as_text)

  @property
  def name(self) -> str:
    """Directory name under model_dir/export/ (the `name` argument)."""
    return self._exporter.name

  def export(self, estimator: Any, export_path: str | os.PathLike[str],
             checkpoint_path: str | None, eval_result: Mapping[str, Any],
             is_the_final_export: bool) -> bytes | None:
    """Exports `checkpoint_path` under `export_path` only when it is the
    final export (the end of training); returns its directory, else None.

    Args:
      estimator: the Estimator that was evaluated.
      export_path: the exporter's directory, model_dir/export/<name>.
      checkpoint_path: the checkpoint that was evaluated, or None for the
        latest one.
      eval_result: that evaluation's result, metric name to value.
      is_the_final_export: whether this is the last export of training.

    Returns:
      The export's directory, as bytes, or None if not the final export.
    """
    if not is_the_final_export:
      return None
    return self._exporter.export(estimator, export_path, checkpoint_path,
                                 eval_result, is_the_final_export)


_LOWER_LOSS = best_lib.BestMetric("loss", "min")


def _loss_smaller(best_eval_result, current_eval_result):
  """The default BestExporter comparison: True when the current loss is lower."""
  for arg, result in (("best_eval_result", best_eval_result),
                      ("current_eval_result", current_eval_result)):
    if not result or "loss" not in result:
      raise ValueError(f"`{arg}` must be an evaluation result with a 'loss'. "
                       f"Received: {arg}={result!r}.")
  return _LOWER_LOSS.better(current_eval_result["loss"],
                            best_eval_result["loss"])


def _check_compare_fn(compare_fn):
  if not callable(compare_fn):
    raise TypeError("`compare_fn` must be callable. Received: "
                    f"compare_fn={compare_fn!r}.")
  args = set(fn_args_lib.fn_args(compare_fn))
  expected = {"best_eval_result", "current_eval_result"}
  if args != expected:
    raise ValueError(
        "`compare_fn` must take exactly the arguments best_eval_result and "
        f"current_eval_result. Received: compare_fn="
        f"{fn_args_lib.describe(compare_fn)} with arguments {sorted(args)}.")


class BestExporter(Exporter):
  """Exports when an evaluation beats every earlier one.

  Unlike tf.estimator 2.15, a restarted job does not export its first
  evaluation unconditionally: the best result is seeded from the evaluations
  recorded before the current one, and the current evaluation is exported
  only if `compare_fn` says it is better, or if `export_path` holds no
  export yet.

  The recorded evaluations are read from `metrics.jsonl` in the directory of
  `event_file_pattern` (model_dir/eval/ by default), the record every
  estweight evaluation appends to. Only where that file is absent (a
  model_dir written by tf.estimator 2.15, which wrote event files only) are
  the event files matching `event_file_pattern` read instead.

  Args:
    name: directory name under model_dir/export/.
    serving_input_receiver_fn: as in `Estimator.export_saved_model`.
    event_file_pattern: glob, relative to model_dir, of the event files of
      the evaluations that seed the best result; its directory's
      metrics.jsonl is read in their place when it exists. None: start with
      no best.
    compare_fn: `(best_eval_result, current_eval_result) -> bool`, True when
      current is better. Default: lower 'loss'.
    assets_extra: as in `Estimator.export_saved_model`.
    as_text: as in `Estimator.export_saved_model`.
    exports_to_keep: how many exports to keep; None keeps all.
  """

  def __init__(self,
               name: str = "best_exporter",
               serving_input_receiver_fn: Callable[[], Any] | None = None,
               event_file_pattern: str | None = "eval/*.tfevents.*",
               compare_fn: Callable[..., bool] = _loss_smaller,
               assets_extra: Mapping[str, str] | None = None,
               as_text: bool = False,
               exports_to_keep: int | None = 5):
    _check_compare_fn(compare_fn)
    self._exporter = _SavedModelExporter(name, serving_input_receiver_fn,
                                         assets_extra, as_text)
    _check_exports_to_keep(exports_to_keep)
    self._event_file_pattern = event_file_pattern
    self._compare_fn = compare_fn
    self._exports_to_keep = exports_to_keep
    self._model_dir: str | None = None
    self._best_eval_result: Mapping[str, Any] | None = None

  @property
  def name(self) -> str:
    """Directory name under model_dir/export/ (the `name` argument)."""
    return self._exporter.name

  def export(self, estimator: Any, export_path: str | os.PathLike[str],
             checkpoint_path: str | None, eval_result: Mapping[str, Any],
             is_the_final_export: bool) -> bytes | None:
    """Exports `checkpoint_path` when `eval_result` beats the best seen so
    far (by `compare_fn`; the first export always happens), keeping the
    newest `exports_to_keep`; returns the export directory, else None.

    Args:
      estimator: the Estimator that was evaluated.
      export_path: the exporter's directory, model_dir/export/<name>.
      checkpoint_path: the checkpoint that was evaluated, or None for the
        latest one.
      eval_result: that evaluation's result, metric name to value.
      is_the_final_export: whether this is the last export of training.

    Returns:
      The new export's directory, as bytes, or None if `eval_result` is
      not better.
    """
    if self._model_dir != estimator.model_dir:
      self._model_dir = estimator.model_dir
      self._best_eval_result = self._best_recorded(
          eval_result.get("global_step"))
    first = not export_versions(export_path)
    if not (first or self._best_eval_result is None or
            self._compare_fn(best_eval_result=self._best_eval_result,
                             current_eval_result=eval_result)):
      return None
    logging.info("Performing best model export.")
    self._best_eval_result = eval_result
    result = self._exporter.export(estimator, export_path, checkpoint_path,
                                   eval_result, is_the_final_export)
    garbage_collect_exports(export_path, self._exports_to_keep)
    return result

  def _best_recorded(self, before_step):
    """The best recorded evaluation before global step `before_step`; read
    as a forward history (an evaluation at a lower step than an earlier one,
    of an older checkpoint, is skipped)."""
    if not self._event_file_pattern:
      return None
    pattern = os.path.join(self._model_dir, self._event_file_pattern)
    written = []
    for eval_dir in sorted(tf.io.gfile.glob(os.path.dirname(pattern))):
      if os.path.exists(os.path.join(eval_dir, evaluate_lib.EVAL_LOG)):
        written.extend(evaluate_lib.read_eval_records(eval_dir).items())
      else:
        written.extend(
            _event_records(os.path.join(eval_dir, os.path.basename(pattern))))
    best = None
    for step, result in evaluate_lib.forward_history(written,
                                                     source=pattern).items():
      if before_step is not None and step >= before_step:
        continue
      if best is None or self._compare_fn(best_eval_result=best,
                                          current_eval_result=result):
        best = result
    return best


def _event_records(pattern):
  """(step, {tag: value}) of the scalar summaries in the event files
  matching `pattern`, in file then write order."""
  written = []
  for path in sorted(tf.io.gfile.glob(pattern)):
    for event in _v1.train.summary_iterator(path):
      result = {
          v.tag: v.simple_value
          for v in event.summary.value
          if v.HasField("simple_value")
      }
      if result:
        written.append((event.step, result))
  return written
