"""Estimator: train, evaluate and predict a model_fn (tf.estimator 2.15 API)."""
from __future__ import annotations

import copy
import os
import tempfile
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
import tensorflow as tf
from estweight import _logging as logging

from estweight import run_config as run_config_lib
from estweight import validation
from estweight import warm_start as warm_start_lib
from estweight.mode_keys import ModeKeys
from estweight.runtime import checkpoints
from estweight.runtime import distribute as distribute_lib
from estweight.export import receivers as receivers_lib
from estweight.runtime import evaluate as evaluate_lib
from estweight.runtime import export as export_lib
from estweight.runtime import fn_args as fn_args_lib
from estweight.runtime import graph as graph_lib
from estweight.runtime import inputs as inputs_lib
from estweight.runtime import predict as predict_lib
from estweight.runtime import preparation
from estweight.runtime import runner as runner_lib
from estweight.spec import EstimatorSpec

_v1 = tf.compat.v1


def check_no_strategy(config: run_config_lib.RunConfig, field: str) -> None:
  """Refuses a RunConfig.train_distribute / eval_distribute strategy that
  estweight cannot run (see runtime/distribute.py: in-graph strategies such
  as MirroredStrategy run; a strategy on a TF_CONFIG cluster, across
  workers, on TPUs or needing eager execution raises NotImplementedError
  saying why and what to use instead). Called before any graph is built."""
  distribute_lib.check_strategy(config, field)


class Estimator:
  """Trains, evaluates and predicts with a `model_fn`.

  Args:
    model_fn: `(features, labels, mode, params, config) -> EstimatorSpec`;
      every argument but `features` is optional and filled by name.
    model_dir: where checkpoints and summaries live. `None` uses
      `config.model_dir`, else a fresh temporary directory (with a warning).
    config: a `RunConfig`; `None` means `RunConfig()`.
    params: a dict handed (deep-copied) to model_fn and input_fn.
    warm_start_from: a checkpoint path or directory, a SavedModel directory,
      or a `WarmStartSettings`; used only while model_dir has no checkpoint.
  """

  def __init__(self,
               model_fn: Callable,
               model_dir: str | os.PathLike | None = None,
               config: run_config_lib.RunConfig | None = None,
               params: dict[str, Any] | None = None,
               warm_start_from: str | bytes | os.PathLike |
               warm_start_lib.WarmStartSettings | None = None):
    if config is None:
      config = run_config_lib.RunConfig()
      logging.info("Using default config.")
    if not isinstance(config, run_config_lib.RunConfig):
      raise ValueError("`config` must be an estweight.RunConfig. "
                       f"Received: config={config!r}.")
    validation.model_fn(model_fn, params)
    model_dir = self._resolve_model_dir(model_dir, config)
    replacements: dict[str, Any] = {"model_dir": model_dir}
    if config.session_config is None:
      replacements["session_config"] = (
          run_config_lib.get_default_session_config())
    if (config.train_distribute is not None or
        config.eval_distribute is not None):
      # The strategies' session settings, and their logical CPUs counted.
      replacements["session_config"] = distribute_lib.session_config_for(
          replacements.get("session_config", config.session_config),
          (config.train_distribute, config.eval_distribute))
    self._config = config.replace(**replacements)
    self._model_dir = model_dir
    self._model_fn = model_fn
    self._params = copy.deepcopy(params or {})
    self._warm_start_settings = warm_start_lib.normalize_warm_start(
        warm_start_from)
    self._runner = runner_lib.Runner(self._build,
                                     config=self._config,
                                     model_dir=self._model_dir,
                                     input_params=self._input_fn_params,
                                     can_warm_start=self._warm_start_settings
                                     is not None)
    logging.debug("Using config: %s", self._config)

  @staticmethod
  def _resolve_model_dir(model_dir, config) -> str:
    model_dir = validation.model_dir(model_dir, config)
    if model_dir is None:
      model_dir = tempfile.mkdtemp()
      logging.warning("Using temporary folder as model directory: %s",
                      model_dir)
    return model_dir

  # ------------------------------------------------------------ properties
  @property
  def model_dir(self) -> str:
    """The directory of checkpoints, summaries and exports' sources."""
    return self._model_dir

  @property
  def config(self) -> run_config_lib.RunConfig:
    """A copy of the RunConfig (model_dir and cluster resolved)."""
    return copy.deepcopy(self._config)

  @property
  def params(self) -> dict[str, Any]:
    """A copy of the `params` passed to model_fn."""
    return copy.deepcopy(self._params)

  @property
  def model_fn(self) -> Callable:
    """`(features, labels, mode, config, weights=None) -> EstimatorSpec`,
    params injected."""

    def public_model_fn(features, labels, mode, config, weights=None):
      return self._call_model_fn(features, labels, mode, config, weights)

    return public_model_fn

  def eval_dir(self, name: str | None = None) -> str:
    """model_dir/eval (no `name`) or model_dir/eval_<name>.

    Args:
      name: the evaluation's name; None or empty: model_dir/eval.

    Returns:
      The path of that evaluation's directory.
    """
    return os.path.join(self._model_dir, "eval" if not name else "eval_" + name)

  def latest_checkpoint(self) -> str | None:
    """The newest complete checkpoint in model_dir, or None."""
    return checkpoints.latest_checkpoint(self._model_dir)

  def get_variable_names(self) -> list[str]:
    """Names of the variables in the latest checkpoint.

    Raises:
      ValueError: model_dir holds no checkpoint.
    """
    return [
        name for name, _ in tf.train.list_variables(self._require_checkpoint())
    ]

  def get_variable_value(self, name: str) -> np.ndarray:
    """The value of variable `name` in the latest checkpoint.

    Args:
      name: the variable's name, one of `get_variable_names()`.

    Returns:
      The variable's value, as a numpy array.

    Raises:
      ValueError: model_dir holds no checkpoint.
    """
    return tf.train.load_variable(self._require_checkpoint(), name)

  def _require_checkpoint(self) -> str:
    path = self.latest_checkpoint()
    if not path:
      raise ValueError("Could not find trained model in model_dir: "
                       f"{self._model_dir}.")
    return path

  # -------------------------------------------------------------- model_fn
  def _call_model_fn(self, features, labels, mode, config, weights=None):
    args = fn_args_lib.fn_args(self._model_fn)
    takes_all = "**" in args
    kwargs = {}
    if "weights" in args or takes_all:
      kwargs["weights"] = weights
    elif weights is not None:
      raise ValueError(
          "input_fn yields (features, labels, weights), but model_fn has no "
          "`weights` argument, so the weights would be ignored. To fix, add "
          "`weights=None` to model_fn (it receives the [batch_size] example "
          "weights in TRAIN and EVAL, None otherwise), or use a canned "
          "estimator or estweight.weights.make_weighted_model_fn.")
    if "labels" in args or takes_all:
      kwargs["labels"] = labels
    elif labels is not None:
      raise ValueError(
          "model_fn does not take labels, but input_fn returns labels. To "
          "fix, add a `labels` argument to model_fn or return only features "
          "from input_fn.")
    if "mode" in args or takes_all:
      kwargs["mode"] = mode
    if "params" in args or takes_all:
      kwargs["params"] = self.params
    if "config" in args or takes_all:
      kwargs["config"] = copy.deepcopy(config)
    logging.debug("Calling model_fn.")
    spec = self._model_fn(features=features, **kwargs)
    logging.debug("Done calling model_fn.")
    if not isinstance(spec, EstimatorSpec):
      raise ValueError("model_fn should return an EstimatorSpec. Received: "
                       f"{type(spec).__name__}: {spec!r}.")
    if spec.mode != mode:
      raise ValueError(f"model_fn returned a spec for mode={spec.mode!r} "
                       f"when called with mode={mode!r}.")
    return spec

  def _input_fn_params(self, mode) -> dict:
    """The params an input_fn of `mode` receives (TPUEstimator adds the
    mode's batch size)."""
    del mode
    return self._params

  def _build_context(self, mode, train_input_fn=None):
    return preparation.building(
        preparation.BuildContext(mode=mode,
                                 model_dir=self._model_dir,
                                 train_input_fn=train_input_fn,
                                 params=copy.deepcopy(
                                     self._input_fn_params(ModeKeys.TRAIN)),
                                 config=self.config))

  def _build(self, input_fn, mode, warm_start=False, train_input_fn=None):
    """The graph of `mode` over `input_fn`'s data (see runtime/graph.py).

    `train_input_fn` is the training input when known (it is `input_fn` in
    TRAIN); models resolve facts such as 'balanced' class weights from it.
    """

    def after_model_fn(_):
      if warm_start:
        checkpoints.apply_warm_start(self._warm_start_settings)

    if mode == ModeKeys.TRAIN:
      train_input_fn = input_fn
    with self._build_context(mode, train_input_fn):
      return graph_lib.build_mode_graph(
          input_fn=input_fn,
          call_model_fn=lambda f, labels, m, w: self._call_model_fn(
              f, labels, m, self._config, weights=w),
          mode=mode,
          config=self._config,
          params=self._input_fn_params(mode),
          use_labels=mode != ModeKeys.PREDICT,
          after_model_fn=after_model_fn)

  # ----------------------------------------------------------------- train
  def train(self,
            input_fn: Callable,
            hooks: Iterable | None = None,
            steps: int | None = None,
            max_steps: int | None = None,
            saving_listeners: Iterable | None = None) -> "Estimator":
    """Trains the model.

    Args:
      input_fn: returns a `tf.data.Dataset` of `(features, labels)`, or the
        pair itself; may take `mode`, `params`, `config`.
      hooks: `SessionRunHook`s run during training.
      steps: train this many more steps. `None` (and `max_steps=None`): until
        input_fn raises end-of-input.
      max_steps: train until the global step reaches this absolute value;
        returns at once if a checkpoint already reached it.
      saving_listeners: `CheckpointSaverListener`s called around saves.

    Returns:
      self, for chaining.
    """
    if self._config.task_type in (run_config_lib.TaskType.EVALUATOR,
                                  run_config_lib.TaskType.PS):
      raise ValueError(
          f"Train has been called wrong configuration. Please use "
          f"tf.estimator.train_and_evaluate which calls proper API according "
          f"to given configuration. Current configuration: task_type="
          f"{self._config.task_type!r}.")
    if steps is not None and max_steps is not None:
      raise ValueError("Can not provide both steps and max_steps. Received: "
                       f"steps={steps!r}, max_steps={max_steps!r}.")
    validation.integer("steps", steps, minimum=1)
    validation.integer("max_steps", max_steps, minimum=1)
    hooks = validation.instances("hooks", hooks, _v1.train.SessionRunHook)
    saving_listeners = validation.instances("saving_listeners",
                                            saving_listeners,
                                            _v1.train.CheckpointSaverListener)
    inputs_lib.validate_input_fn(input_fn)
    checkpoints.check_model_dir(self._model_dir)
    check_no_strategy(self._config, "train_distribute")

    if max_steps is not None:
      start_step = checkpoints.model_dir_global_step(self._model_dir)
      if max_steps <= start_step:
        logging.info("Skipping training since max_steps has already saved.")
        return self
    self._runner.train(input_fn,
                       num_steps=None if steps is None else int(steps),
                       last_step=None if max_steps is None else int(max_steps),
                       hooks=hooks,
                       saving_listeners=saving_listeners)
    return self

  # -------------------------------------------------------------- evaluate
  def evaluate(self,
               input_fn: Callable,
               steps: int | None = None,
               hooks: Iterable | None = None,
               checkpoint_path: str | None = None,
               name: str | None = None) -> dict[str, Any]:
    """Evaluates the model on `steps` batches (`None`: until end of input).

    Args:
      input_fn: returns the evaluation (features, labels[, weights]).
      steps: batches to evaluate; None: until input_fn's data end.
      hooks: SessionRunHooks for the evaluation.
      checkpoint_path: a checkpoint prefix or a directory holding one;
        None: the latest checkpoint in model_dir (initial or warm-started
        values if there is none).
      name: the results are written to model_dir/eval_<name> (an empty
        name: model_dir/eval). None: model_dir/eval when this evaluation
        continues its history, a checkpoint of model_dir at a step no lower
        than the last one recorded there; otherwise its own directory:
        eval_best for model_dir/best/ (eval_<dirname> for any other
        directory), eval_model.ckpt-<N> for an older checkpoint of
        model_dir. tf.estimator wrote every evaluation into eval/, so
        evaluating an older checkpoint broke the curve and the records
        early stopping and exporters read.

    Returns:
      A dict of the spec's metrics plus `loss` (mean of the batch losses)
      and `global_step` (the evaluated checkpoint's step).
    """
    validation.integer("steps", steps, minimum=1)
    hooks = validation.instances("hooks", hooks, _v1.train.SessionRunHook)
    inputs_lib.validate_input_fn(input_fn)
    check_no_strategy(self._config, "eval_distribute")
    if name is not None and not isinstance(name, str):
      raise TypeError(f"`name` must be a string or None. Received: "
                      f"name={name!r}.")
    follows_latest = checkpoint_path is None
    checkpoint_path, _ = self._checkpoint_for_inference(checkpoint_path,
                                                        "evaluate")
    if checkpoint_path:
      logging.info("Starting evaluation of checkpoint %s.", checkpoint_path)
    for attempt in range(3):
      try:
        results = self._runner.evaluate(input_fn,
                                        checkpoint_path=checkpoint_path,
                                        steps=steps,
                                        hooks=hooks)
        break
      except (tf.errors.NotFoundError, tf.errors.DataLossError, ValueError):
        # A trainer rotated the latest checkpoint away while it was being
        # read (keep_checkpoint_max): evaluate the newer one.
        newer = self.latest_checkpoint() if follows_latest else None
        if attempt == 2 or not newer or newer == checkpoint_path:
          raise
        logging.info(
            "Checkpoint %s was replaced while being read; "
            "evaluating %s.", checkpoint_path, newer)
        checkpoint_path = newer
    global_step = int(results[evaluate_lib.GLOBAL_STEP_KEY])
    logging.info("Saving dict for global step %d: %s", global_step,
                 ", ".join(f"{k} = {v}" for k, v in sorted(results.items())))
    if name is None:
      name = evaluate_lib.eval_name_for(checkpoint_path,
                                        global_step,
                                        model_dir=self._model_dir,
                                        default_eval_dir=self.eval_dir())
      if name is not None:
        logging.info(
            "Recording this evaluation of %s in %s: %s only moves forward "
            "in steps (pass name= to choose).", checkpoint_path or
            "the initial values", self.eval_dir(name), self.eval_dir())
    evaluate_lib.write_eval_summary(self.eval_dir(name), results, global_step,
                                    checkpoint_path)
    return results

  def _checkpoint_for_inference(self, checkpoint_path, what):
    """(checkpoint to restore or None, whether to warm start)."""
    if checkpoint_path:
      checkpoint_path = os.fspath(checkpoint_path)
      if tf.io.gfile.isdir(checkpoint_path):
        checkpoint_path = checkpoints.resolve_checkpoint_path(checkpoint_path)
      if not tf.compat.v1.train.checkpoint_exists(checkpoint_path):
        raise ValueError(f"Could not find trained model at {checkpoint_path}."
                         f" Received: checkpoint_path={checkpoint_path!r}.")
      return checkpoint_path, False
    latest = self.latest_checkpoint()
    if latest:
      return latest, False
    logging.info(
        "Could not find trained model in model_dir: %s, running "
        "initialization to %s.", self._model_dir, what)
    return None, self._warm_start_settings is not None

  # --------------------------------------------------------------- predict
  def predict(self,
              input_fn: Callable,
              predict_keys: str | Sequence[str] | None = None,
              hooks: Iterable | None = None,
              checkpoint_path: str | None = None,
              yield_single_examples: bool = True) -> Iterator[Any]:
    """Yields predictions for the features from `input_fn`.

    Args:
      input_fn: returns features (or (features, labels); labels are
        ignored), as a Dataset or tensors.
      predict_keys: names of the predictions to yield (a str or list); None:
        all of the model_fn's predictions.
      hooks: SessionRunHooks for the prediction.
      checkpoint_path: a checkpoint prefix or a directory holding one; None:
        the latest checkpoint in model_dir (initial or warm-started values
        if there is none).
      yield_single_examples: True: one prediction per example; False: one
        per batch.

    Yields:
      Dicts of prediction name to value (a bare value when the model_fn's
      predictions are one tensor). With a Dataset the generator ends with
      the data; a features tensor that never ends yields forever.
    """
    hooks = validation.instances("hooks", hooks, _v1.train.SessionRunHook)
    inputs_lib.validate_input_fn(input_fn)
    checkpoint_path, warm = self._checkpoint_for_inference(
        checkpoint_path, "predict")
    if checkpoint_path:
      logging.info("Predicting with checkpoint %s.", checkpoint_path)
    mode_graph = self._build(input_fn, ModeKeys.PREDICT, warm)
    if not mode_graph.input_hooks:
      logging.warning("Input graph does not use tf.data.Dataset; predict "
                      "yields forever unless input_fn raises end-of-input.")
    predictions = predict_lib.select_predictions(mode_graph.spec.predictions,
                                                 predict_keys)
    yield from predict_lib.run_prediction(
        mode_graph,
        predictions=predictions,
        checkpoint_path=checkpoint_path,
        hooks=hooks,
        master=self._config.master,
        session_config=self._config.session_config,
        yield_single_examples=yield_single_examples)

  # ---------------------------------------------------------------- export
  def export_saved_model(self,
                         export_dir_base: str | os.PathLike,
                         serving_input_receiver_fn: Callable,
                         assets_extra: dict[str, str] | None = None,
                         as_text: bool = False,
                         checkpoint_path: str | None = None,
                         experimental_mode: str = ModeKeys.PREDICT) -> bytes:
    """Exports the model as a SavedModel for serving.

    Args:
      export_dir_base: the export goes to `export_dir_base/<unix seconds>`.
      serving_input_receiver_fn: `() -> ServingInputReceiver` (or
        `TensorServingInputReceiver`; a `SupervisedInputReceiver` for
        `experimental_mode` TRAIN or EVAL), e.g. from
        `estweight.export.build_parsing_serving_input_receiver_fn`.
      assets_extra: `{destination under assets.extra/: source file}`.
      as_text: write `saved_model.pbtxt` instead of `saved_model.pb`.
      checkpoint_path: the checkpoint to export; None: the latest one (else
        the warm-start checkpoint).
      experimental_mode: the mode whose graph is exported (PREDICT: tag
        `serve` and the model_fn's `export_outputs` as signatures).

    Returns:
      The export directory, as bytes (as tf.estimator returned it).
    """
    if experimental_mode not in (ModeKeys.TRAIN, ModeKeys.EVAL,
                                 ModeKeys.PREDICT):
      raise ValueError(
          f"`experimental_mode` must be one of {list(export_lib.MODE_ORDER)}."
          f" Received: experimental_mode={experimental_mode!r}.")
    return self.experimental_export_all_saved_models(
        export_dir_base, {experimental_mode: serving_input_receiver_fn},
        assets_extra=assets_extra,
        as_text=as_text,
        checkpoint_path=checkpoint_path)

  def experimental_export_all_saved_models(
      self,
      export_dir_base: str | os.PathLike,
      input_receiver_fn_map: dict[str, Callable],
      assets_extra: dict[str, str] | None = None,
      as_text: bool = False,
      checkpoint_path: str | None = None) -> bytes:
    """Exports one SavedModel holding a MetaGraph per mode in the map.

    Args:
      export_dir_base: as in `export_saved_model`.
      input_receiver_fn_map: `{ModeKeys.TRAIN/EVAL/PREDICT: receiver_fn}`;
        TRAIN and EVAL receivers return `SupervisedInputReceiver`s (see
        `estweight.experimental.build_raw_supervised_input_receiver_fn`).
        Tags: TRAIN `train`, EVAL `eval`, PREDICT `serve`.
      assets_extra, as_text, checkpoint_path: as in `export_saved_model`.

    Returns:
      The export directory, as bytes.
    """
    return self._export(export_dir_base,
                        input_receiver_fn_map,
                        assets_extra=assets_extra,
                        as_text=as_text,
                        checkpoint_path=checkpoint_path)

  def export_savedmodel(self,
                        export_dir_base: str | os.PathLike,
                        serving_input_receiver_fn: Callable,
                        assets_extra: dict[str, str] | None = None,
                        as_text: bool = False,
                        checkpoint_path: str | None = None,
                        strip_default_attrs: bool = False) -> bytes:
    """tf.compat.v1's name for `export_saved_model` (PREDICT only).

    Args:
      export_dir_base: the export goes to `export_dir_base/<unix seconds>`.
      serving_input_receiver_fn: `() -> ServingInputReceiver` (or
        `TensorServingInputReceiver`), as in `export_saved_model`.
      assets_extra: `{destination under assets.extra/: source file}`.
      as_text: write `saved_model.pbtxt` instead of `saved_model.pb`.
      checkpoint_path: the checkpoint to export; None: the latest one (else
        the warm-start checkpoint).
      strip_default_attrs: leave out op attributes that have their default
        value from the saved graph.

    Returns:
      The export directory, as bytes.
    """
    return self._export(export_dir_base,
                        {ModeKeys.PREDICT: serving_input_receiver_fn},
                        assets_extra=assets_extra,
                        as_text=as_text,
                        checkpoint_path=checkpoint_path,
                        strip_default_attrs=strip_default_attrs)

  def _export(self,
              export_dir_base,
              input_receiver_fn_map,
              *,
              assets_extra,
              as_text,
              checkpoint_path,
              strip_default_attrs=True):
    modes = export_lib.check_export_args(export_dir_base, input_receiver_fn_map)
    export_lib.check_assets_extra(assets_extra)
    checkpoint_path = self._checkpoint_for_export(checkpoint_path)
    export_graphs = [
        self._build_export_graph(input_receiver_fn_map[mode], mode)
        for mode in modes
    ]
    return export_lib.write_saved_model(
        export_graphs,
        export_dir_base=export_dir_base,
        checkpoint_path=checkpoint_path,
        session_config=self._config.session_config,
        assets_extra=assets_extra,
        as_text=as_text,
        strip_default_attrs=strip_default_attrs)

  def _checkpoint_for_export(self, checkpoint_path):
    if checkpoint_path:
      checkpoint_path, _ = self._checkpoint_for_inference(
          checkpoint_path, "export")
      return checkpoint_path
    latest = self.latest_checkpoint()
    if latest:
      return latest
    if self._warm_start_settings is not None:
      return checkpoints.resolve_checkpoint_path(
          self._warm_start_settings.ckpt_to_initialize_from)
    raise ValueError(
        f"Couldn't find trained model at {self._model_dir}: export needs a "
        "checkpoint. To fix, train first, or pass `checkpoint_path`.")

  def _build_export_graph(self, receiver_fn, mode):

    def check_receiver(receiver):
      expected = (receivers_lib.SERVING_RECEIVERS
                  if mode == ModeKeys.PREDICT else receivers_lib.ALL_RECEIVERS)
      if not isinstance(receiver, expected):
        names = " or ".join(cls.__name__ for cls in expected)
        raise TypeError(
            f"The receiver fn for mode {mode!r} must return {names} (see "
            f"estweight.export). Received: {type(receiver).__name__}: "
            f"{receiver!r}.")

    with self._build_context(mode):
      return graph_lib.build_export_graph(
          receiver_fn=receiver_fn,
          call_model_fn=lambda f, labels, m, w: self._call_model_fn(
              f, labels, m, self._config, weights=w),
          mode=mode,
          config=self._config,
          check_receiver=check_receiver)
