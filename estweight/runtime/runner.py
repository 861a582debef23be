"""The kept loops of one Estimator: one TrainLoop and one EvalLoop.

A call reuses the kept loop when its input has the structure the graph was
built for (see feed.py); otherwise the loop is rebuilt, which is what every
call cost before. Graphs replicated by a strategy (distribute.py) are
rebuilt per call. Warm starting needs a graph built with its initialisers,
so a call that must warm-start never reuses a graph built without them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

import tensorflow as tf

from estweight.mode_keys import ModeKeys
from estweight.runtime import checkpoints
from estweight.runtime import distribute
from estweight.runtime import evaluate as evaluate_lib
from estweight.runtime import feed
from estweight.runtime import fn_args
from estweight.runtime import train as train_lib

if TYPE_CHECKING:
  from estweight.run_config import RunConfig


class Runner:
  """Builds, keeps and runs the train and eval loops of one Estimator.

  Attributes:
    train_input_fn: the latest training input, handed to every graph build
      (a model may resolve facts from it, e.g. 'balanced' class weights; a
      driver sets it before its first evaluation).

  Args:
    build: `(input_fn, mode, warm_start, train_input_fn) -> ModeGraph`.
    config: the RunConfig.
    model_dir: the Estimator's model_dir.
    input_params: `(mode) -> params` handed to input_fns.
    can_warm_start: whether the Estimator has warm-start settings.
  """

  def __init__(self, build: Callable, *, config: RunConfig, model_dir: str,
               input_params: Callable, can_warm_start: bool):
    self._build = build
    self._config = config
    self._model_dir = model_dir
    self._input_params = input_params
    self._can_warm_start = can_warm_start
    self._train: train_lib.TrainLoop | None = None
    self._train_input_fn: Callable[..., Any] | None = None
    self._eval: evaluate_lib.EvalLoop | None = None
    self._eval_input_fn: Callable[..., Any] | None = None
    self.train_input_fn: Callable[..., Any] | None = None

  # --------------------------------------------------------------- train
  def train(self,
            input_fn: Callable[..., Any],
            *,
            continue_input: bool = False,
            skip_batches: int = 0,
            **run_kwargs: Any) -> train_lib.TrainResult:
    """Runs `TrainLoop.run(**run_kwargs)` on `input_fn`'s data.

    Args:
      continue_input: when `input_fn` is the previous call's, go on reading
        where that call stopped instead of from the start (the driver).
      skip_batches: when the input starts from the beginning, skip this many
        batches first (a resumed driver's data position).
    """
    warm = self._can_warm_start and not checkpoints.latest_checkpoint(
        self._model_dir)
    self.train_input_fn = input_fn
    # A TrainLoop once `source` is set (mypy cannot follow that).
    loop: Any
    source: str | feed.SerializedInput | None
    loop, source = self._train, None
    if loop is not None and warm and not loop.warm_started:
      loop = None
    if loop is not None:
      if continue_input and input_fn is self._train_input_fn:
        source = feed.CONTINUE_INPUT
      elif not self._replicated(ModeKeys.TRAIN):
        serialized = feed.serialize_input(input_fn,
                                          ModeKeys.TRAIN,
                                          self._config,
                                          self._input_params(ModeKeys.TRAIN),
                                          skip_batches=skip_batches)
        if loop.accepts(serialized):
          source = serialized
    if source is None:
      loop, source = self._new_train_loop(input_fn, warm, skip_batches)
    self._train_input_fn = input_fn
    return loop.run(source, **run_kwargs)

  def _new_train_loop(self, input_fn, warm, skip_batches):
    self.close_train()
    source = feed.FIRST_INPUT
    strategy = distribute.strategy_for(self._config, ModeKeys.TRAIN)
    if skip_batches and strategy is not None:
      # Each step of a replicated graph reads one batch per replica.
      input_fn = _skipping(input_fn,
                           skip_batches * strategy.num_replicas_in_sync)
    elif skip_batches:
      source = feed.serialize_input(input_fn,
                                    ModeKeys.TRAIN,
                                    self._config,
                                    self._input_params(ModeKeys.TRAIN),
                                    skip_batches=skip_batches)
      if source is None:  # cannot feed: build the skip into the graph
        input_fn = _skipping(input_fn, skip_batches)
        source = feed.FIRST_INPUT
    mode_graph = self._build(input_fn, ModeKeys.TRAIN, warm)
    self._train = train_lib.TrainLoop(mode_graph,
                                      config=self._config,
                                      model_dir=self._model_dir,
                                      warm_started=warm)
    return self._train, source

  # ------------------------------------------------------------ evaluate
  def evaluate(
      self,
      input_fn: Callable[..., Any],
      *,
      checkpoint_path: str | None,
      steps: int | None = None,
      hooks: Iterable[Any] = ()) -> dict[str, Any]:
    loop, source = self._eval_loop(input_fn, checkpoint_path is None)
    return loop.evaluate(source,
                         checkpoint_path=checkpoint_path,
                         steps=steps,
                         hooks=hooks)

  def evaluate_values(self,
                      input_fn: Callable[..., Any],
                      values: Mapping[str, Any],
                      *,
                      steps: int | None = None) -> dict[str, Any]:
    loop, source = self._eval_loop(input_fn, False)
    return loop.evaluate_values(source, values, steps=steps)

  def eval_metric_names(self, input_fn: Callable[..., Any]) -> list[str]:
    """The metric names evaluate() returns (builds the eval graph once)."""
    if self._eval is None:
      self._eval = self._new_eval_loop(input_fn, False)
    return self._eval.metric_names

  def _eval_loop(self, input_fn, uninitialized):
    warm = uninitialized and self._can_warm_start
    loop = self._eval
    if loop is not None and not (warm and not loop.warm_started):
      if not loop._first_input_used and input_fn is self._eval_input_fn:  # pylint: disable=protected-access
        return loop, feed.FIRST_INPUT
      if self._replicated(ModeKeys.EVAL):  # its input cannot be fed
        self._eval = self._new_eval_loop(input_fn, warm)
        return self._eval, feed.FIRST_INPUT
      serialized = feed.serialize_input(input_fn, ModeKeys.EVAL, self._config,
                                        self._input_params(ModeKeys.EVAL))
      if loop.accepts(serialized):
        return loop, serialized
    self._eval = self._new_eval_loop(input_fn, warm)
    return self._eval, feed.FIRST_INPUT

  def _new_eval_loop(self, input_fn, warm):
    self.close_eval()
    self._eval_input_fn = input_fn
    mode_graph = self._build(input_fn, ModeKeys.EVAL, warm, self.train_input_fn)
    return evaluate_lib.EvalLoop(mode_graph,
                                 config=self._config,
                                 warm_started=warm)

  def _replicated(self, mode) -> bool:
    """Whether `mode` runs under a strategy: its graph has no iterator a new
    input could be fed into, so each call builds its graph."""
    return distribute.strategy_for(self._config, mode) is not None

  # ---------------------------------------------------------------- close
  def close_train(self) -> None:
    if self._train is not None:
      self._train.close()
      self._train = None

  def close_eval(self) -> None:
    if self._eval is not None:
      self._eval.close()
      self._eval = None

  def close(self) -> None:
    """Frees the kept graphs and sessions; the next call rebuilds them."""
    self.close_train()
    self.close_eval()


def _skipping(input_fn, batches):
  """input_fn whose Dataset skips its first `batches` elements."""

  def skipped(mode, params, config, input_context=None):
    available = {"mode": mode, "params": params, "config": config}
    if input_context is not None:  # under a strategy
      available["input_context"] = input_context
    result = fn_args.call_with_available(input_fn, available)
    if isinstance(result, tf.data.Dataset):
      return result.skip(batches)
    return result

  return skipped
