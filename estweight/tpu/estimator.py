"""TPUEstimator and TPUEstimatorSpec, run off TPU (use_tpu=False)."""
from __future__ import annotations

import collections
import os
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import tensorflow as tf

from estweight import run_config as run_config_lib
from estweight import validation
from estweight import warm_start as warm_start_lib
from estweight.estimator import Estimator
from estweight.mode_keys import ModeKeys
from estweight.runtime import fn_args as fn_args_lib
from estweight.spec import EstimatorSpec

_v1 = tf.compat.v1
_BATCH_SIZE_KEY = "batch_size"
_RESERVED_PARAMS = (_BATCH_SIZE_KEY, "context")


class TPUEstimatorSpec(
    collections.namedtuple("TPUEstimatorSpec", [
        "mode", "predictions", "loss", "train_op", "eval_metrics",
        "export_outputs", "scaffold_fn", "host_call", "training_hooks",
        "evaluation_hooks", "prediction_hooks"
    ])):
  """What a TPUEstimator model_fn returns.

  Differs from EstimatorSpec where TPUs needed it: `eval_metrics` is
  `(metric_fn, tensors)` (a list, or a dict of keyword arguments) instead of
  built metric ops, `scaffold_fn` returns the Scaffold, and `host_call` is
  `(fn, tensors)` whose ops run with every training step.
  """

  def __new__(cls,
              mode,
              predictions=None,
              loss=None,
              train_op=None,
              eval_metrics=None,
              export_outputs=None,
              scaffold_fn=None,
              host_call=None,
              training_hooks=None,
              evaluation_hooks=None,
              prediction_hooks=None):
    for name, value in (("eval_metrics", eval_metrics), ("host_call",
                                                         host_call)):
      if value is not None and not (isinstance(value, (tuple, list)) and
                                    len(value) == 2 and callable(value[0]) and
                                    isinstance(value[1], (list, tuple, dict))):
        raise ValueError(
            f"`{name}` must be a (fn, tensors) pair, tensors a list or a "
            f"dict of fn's arguments. Received: {name}={value!r}.")
    if scaffold_fn is not None and not callable(scaffold_fn):
      raise TypeError("`scaffold_fn` must be callable. Received: "
                      f"scaffold_fn={scaffold_fn!r}.")
    return super().__new__(cls, mode, predictions, loss, train_op, eval_metrics,
                           export_outputs, scaffold_fn, host_call,
                           training_hooks, evaluation_hooks, prediction_hooks)

  def as_estimator_spec(self) -> EstimatorSpec:
    """The equivalent EstimatorSpec (off TPU)."""
    eval_metric_ops = (_call(
        *self.eval_metrics) if self.eval_metrics is not None else None)
    scaffold = self.scaffold_fn() if self.scaffold_fn else None
    training_hooks = list(self.training_hooks or [])
    if self.host_call is not None:
      training_hooks.append(_HostCallHook(_call(*self.host_call)))
    return EstimatorSpec(self.mode,
                         predictions=self.predictions,
                         loss=self.loss,
                         train_op=self.train_op,
                         eval_metric_ops=eval_metric_ops,
                         export_outputs=self.export_outputs,
                         scaffold=scaffold,
                         training_hooks=training_hooks,
                         evaluation_hooks=self.evaluation_hooks,
                         prediction_hooks=self.prediction_hooks)


def _call(fn, tensors):
  return fn(**tensors) if isinstance(tensors, dict) else fn(*tensors)


class _HostCallHook(_v1.train.SessionRunHook):
  """Runs a host_call's ops (usually summaries) with every step."""

  def __init__(self, ops):
    self._ops = ops

  def before_run(self, run_context):
    return _v1.train.SessionRunArgs(self._ops)


class TPUEstimator(Estimator):
  """An Estimator for TPU-style programs, run on CPU or GPU.

  Args:
    model_fn: `(features, labels, mode, params[, config]) ->
      TPUEstimatorSpec` (or EstimatorSpec); `params['batch_size']` is the
      mode's batch size and `params['use_tpu']` is False.
    model_dir, config, params, warm_start_from: as for Estimator; `config`
      may be an `estweight.tpu.RunConfig`; `params` may not set
      'batch_size'.
    use_tpu: must be False here (see the package docstring).
    train_batch_size, eval_batch_size, predict_batch_size: the batch size
      of each mode, handed to input_fn and model_fn as params['batch_size'].
    batch_axis, eval_on_tpu, export_to_tpu, export_to_cpu,
      export_saved_model_api_version: TPU placement settings, accepted and
      ignored off TPU.
    embedding_config_spec: TPU embeddings; refused (no TPU).
  """

  def __init__(self,
               model_fn: Callable[..., Any] | None = None,
               model_dir: str | os.PathLike | None = None,
               config: run_config_lib.RunConfig | None = None,
               params: Mapping[str, Any] | None = None,
               use_tpu: bool = True,
               train_batch_size: int | None = None,
               eval_batch_size: int | None = None,
               predict_batch_size: int | None = None,
               batch_axis: Any = None,
               eval_on_tpu: bool = True,
               export_to_tpu: bool = True,
               export_to_cpu: bool = True,
               warm_start_from: str | bytes | os.PathLike |
               warm_start_lib.WarmStartSettings | None = None,
               embedding_config_spec: Any = None,
               export_saved_model_api_version: Any = None):
    del batch_axis, eval_on_tpu, export_to_tpu, export_to_cpu
    del export_saved_model_api_version
    if use_tpu:
      raise ValueError(
          "TPUEstimator runs on CPU and GPU in estweight: there is no TPU to "
          "run on (untested, and TF 2.21's TPU runtime has no v1-graph "
          "Estimator path). To fix, pass use_tpu=False. Received: "
          f"use_tpu={use_tpu!r}.")
    if embedding_config_spec is not None:
      raise ValueError("`embedding_config_spec` needs a TPU. Received: "
                       f"embedding_config_spec={embedding_config_spec!r}.")
    params = dict(params or {})
    for key in _RESERVED_PARAMS:
      if key in params:
        raise ValueError(
            f"`params` may not set {key!r}: TPUEstimator sets it per mode "
            "(train_batch_size, eval_batch_size, predict_batch_size). "
            f"Received: params={params!r}.")
    self._batch_sizes = {
        ModeKeys.TRAIN:
            validation.integer("train_batch_size", train_batch_size, minimum=1),
        ModeKeys.EVAL:
            validation.integer("eval_batch_size", eval_batch_size, minimum=1),
        ModeKeys.PREDICT:
            validation.integer("predict_batch_size",
                               predict_batch_size,
                               minimum=1)
    }
    if model_fn is None or not callable(model_fn):
      raise ValueError("`model_fn` must be callable. Received: "
                       f"model_fn={model_fn!r}.")
    self._tpu_model_fn = model_fn
    super().__init__(self._spec_fn,
                     model_dir=model_dir,
                     config=config,
                     params=params,
                     warm_start_from=warm_start_from)

  def _mode_params(self, mode):
    params = dict(self._params)
    batch_size = self._batch_sizes.get(mode)
    if batch_size is not None:
      params[_BATCH_SIZE_KEY] = batch_size
    return params

  def _input_fn_params(self, mode) -> dict:
    return self._mode_params(mode)

  def _spec_fn(self, features, labels, mode, config, params):
    del params  # the Estimator's; the model_fn gets the mode's
    params = dict(self._mode_params(mode), use_tpu=False)
    available = {
        "features": features,
        "labels": labels,
        "mode": mode,
        "params": params,
        "config": config
    }
    spec = fn_args_lib.call_with_available(self._tpu_model_fn, available)
    if isinstance(spec, TPUEstimatorSpec):
      spec = spec.as_estimator_spec()
    return spec

  def train(self,
            input_fn: Callable[..., Any],
            hooks: Iterable[Any] | None = None,
            steps: int | None = None,
            max_steps: int | None = None,
            saving_listeners: Iterable[Any] | None = None) -> Estimator:
    """`Estimator.train`, after checking `train_batch_size` is set.

    Args:
      input_fn: as in `Estimator.train`; `params['batch_size']` is
        `train_batch_size`.
      hooks: as in `Estimator.train`.
      steps: as in `Estimator.train`.
      max_steps: as in `Estimator.train`.
      saving_listeners: as in `Estimator.train`.

    Returns:
      self, for chaining.

    Raises:
      ValueError: if `train_batch_size` was not set.
    """
    self._require_batch_size(ModeKeys.TRAIN, "train_batch_size")
    return super().train(input_fn,
                         hooks=hooks,
                         steps=steps,
                         max_steps=max_steps,
                         saving_listeners=saving_listeners)

  def evaluate(self,
               input_fn: Callable[..., Any],
               steps: int | None = None,
               hooks: Iterable[Any] | None = None,
               checkpoint_path: str | None = None,
               name: str | None = None) -> dict[str, Any]:
    """`Estimator.evaluate`, after checking `eval_batch_size` is set.

    Args:
      input_fn: as in `Estimator.evaluate`; `params['batch_size']` is
        `eval_batch_size`.
      steps: as in `Estimator.evaluate`.
      hooks: as in `Estimator.evaluate`.
      checkpoint_path: as in `Estimator.evaluate`.
      name: as in `Estimator.evaluate`.

    Returns:
      The metrics, as `Estimator.evaluate` returns them.

    Raises:
      ValueError: if `eval_batch_size` was not set.
    """
    self._require_batch_size(ModeKeys.EVAL, "eval_batch_size")
    return super().evaluate(input_fn,
                            steps=steps,
                            hooks=hooks,
                            checkpoint_path=checkpoint_path,
                            name=name)

  def predict(self,
              input_fn: Callable[..., Any],
              predict_keys: str | Sequence[str] | None = None,
              hooks: Iterable[Any] | None = None,
              checkpoint_path: str | None = None,
              yield_single_examples: bool = True) -> Iterator[Any]:
    """`Estimator.predict`, after checking `predict_batch_size` is set.

    Args:
      input_fn: as in `Estimator.predict`; `params['batch_size']` is
        `predict_batch_size`.
      predict_keys: as in `Estimator.predict`.
      hooks: as in `Estimator.predict`.
      checkpoint_path: as in `Estimator.predict`.
      yield_single_examples: as in `Estimator.predict`.

    Returns:
      The predictions' iterator, as from `Estimator.predict`.

    Raises:
      ValueError: if `predict_batch_size` was not set.
    """
    self._require_batch_size(ModeKeys.PREDICT, "predict_batch_size")
    return super().predict(input_fn,
                           predict_keys=predict_keys,
                           hooks=hooks,
                           checkpoint_path=checkpoint_path,
                           yield_single_examples=yield_single_examples)

  def _require_batch_size(self, mode, name):
    if self._batch_sizes[mode] is None:
      raise ValueError(f"`{name}` must be set in the TPUEstimator "
                       f"constructor to {mode}: input_fn and model_fn read "
                       "params['batch_size']. Received: None.")
