"""InMemoryEvaluatorHook: evaluate during training without a checkpoint."""
from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any, Callable, Sequence

import tensorflow as tf

from estweight.runtime import evaluate as evaluate_lib

if TYPE_CHECKING:
  from estweight.estimator import Estimator

_v1 = tf.compat.v1


class InMemoryEvaluatorHook(_v1.train.SessionRunHook):
  """Evaluates the live training variables every `every_n_iter` steps.

  Same arguments and moments as tf.estimator's: once when the training
  session starts, every `every_n_iter` iterations, and at the end. The
  variables are copied from the training session into a separate, warm
  evaluation graph (no checkpoint is written or read); results go to the
  eval dir like `Estimator.evaluate` and are kept in `.results`.

  Args:
    estimator: the Estimator being trained; its model_fn builds the
      evaluation graph.
    input_fn: the evaluation input function, as for `Estimator.evaluate`.
    steps: number of evaluation batches; None evaluates until `input_fn`
      is exhausted.
    hooks: not supported yet; must be empty or None.
    name: name of the evaluation, for its eval dir (`eval_<name>`).
    every_n_iter: evaluate every this many training iterations.

  Raises:
    ValueError: if `every_n_iter` is not a positive integer or `hooks` is
      given.
  """

  def __init__(self,
               estimator: Estimator,
               input_fn: Callable[..., Any],
               steps: int | None = None,
               hooks: Sequence[Any] | None = None,
               name: str | None = None,
               every_n_iter: int = 100):
    if isinstance(every_n_iter, bool) or not isinstance(
        every_n_iter, numbers.Integral) or every_n_iter <= 0:
      raise ValueError("`every_n_iter` must be a positive integer. Received: "
                       f"every_n_iter={every_n_iter!r}.")
    if hooks:
      raise ValueError("`hooks` are not supported by the in-memory evaluator "
                       f"yet. Received: hooks={hooks!r}.")
    self._estimator = estimator
    self._input_fn = input_fn
    self._steps = steps
    self._name = name
    self._every = int(every_n_iter)
    self.results: list[dict[str, Any]] = []

  def begin(self) -> None:
    """Finds the variables to evaluate (the training graph's globals)."""
    self._iter = 0
    self._variables = {v.op.name: v for v in _v1.global_variables()}

  def _evaluate(self, session):
    values = session.run(self._variables)
    # pylint: disable-next=protected-access
    results = self._estimator._runner.evaluate_values(self._input_fn,
                                                      values,
                                                      steps=self._steps)
    evaluate_lib.write_eval_summary(self._estimator.eval_dir(self._name),
                                    results,
                                    int(results[evaluate_lib.GLOBAL_STEP_KEY]),
                                    None)
    self.results.append(results)

  def after_create_session(self, session: tf.compat.v1.Session,
                           coord: Any) -> None:
    """Evaluates the initial (or restored) variables.

    Args:
      session: the training session, holding the variables.
      coord: the session's coordinator (not used).
    """
    del coord
    self._evaluate(session)

  def after_run(self, run_context: Any, run_values: Any) -> None:
    """Evaluates the live variables every `every_n_iter` steps.

    Args:
      run_context: the `SessionRunContext`, whose session holds the
        variables.
      run_values: the results of this step's run (not used).
    """
    self._iter += 1
    if self._iter % self._every == 0:
      self._evaluate(run_context.session)

  def end(self, session: tf.compat.v1.Session) -> None:
    """Evaluates the final variables unless the last step just did.

    Args:
      session: the training session, holding the variables.
    """
    if self._iter % self._every:
      self._evaluate(session)
