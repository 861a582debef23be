"""The evaluation session loop and the eval summaries it writes."""
from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import numpy as np
import tensorflow as tf
from estweight import _logging as logging

from estweight.runtime import checkpoints
from estweight.runtime import faults
from estweight.runtime import feed as feed_lib
from estweight.runtime import hooked

if TYPE_CHECKING:
  from estweight.run_config import RunConfig
  from estweight.runtime.graph import ModeGraph

_v1 = tf.compat.v1
GLOBAL_STEP_KEY = "global_step"


def add_default_metrics(spec: Any,
                        global_step: Any) -> tuple[dict[str, Any], Any]:
  """Returns (value_ops, update_op) with tf.estimator's `loss` metric added.

  `loss` is the unweighted mean over batches of the model_fn's scalar loss;
  `global_step` is the evaluated checkpoint's step.
  """
  metric_ops = dict(spec.eval_metric_ops)
  for reserved in ("loss", GLOBAL_STEP_KEY):
    if reserved in metric_ops:
      raise ValueError(
          f'Metric with name "{reserved}" is not allowed, because Estimator '
          "already defines a default metric with the same name. To fix, "
          "rename it in eval_metric_ops.")
  metric_ops["loss"] = _v1.metrics.mean(spec.loss)
  values = {name: pair[0] for name, pair in metric_ops.items()}
  values[GLOBAL_STEP_KEY] = global_step
  update_op = tf.group(*[pair[1] for pair in metric_ops.values()])
  return values, update_op


class EvalLoop:
  """Evaluates checkpoints in a kept EVAL graph and session.

  Per call, as a fresh tf.estimator evaluation: the checkpoint's variables
  (restored only when they are not already loaded), metric variables reset,
  the call's own input from its start, hooks' full protocol.

  Args:
    mode_graph: the built EVAL `ModeGraph`.
    config: the RunConfig (evaluation_master, session_config).
  """

  def __init__(self,
               mode_graph: ModeGraph,
               *,
               config: RunConfig,
               warm_started: bool = False):
    self.mode_graph = mode_graph
    self.warm_started = warm_started
    spec, graph = mode_graph.spec, mode_graph.graph
    with graph.as_default():
      self._values, self._update = add_default_metrics(spec,
                                                       mode_graph.global_step)
      self._feed = (feed_lib.IteratorFeed(graph, mode_graph.iterator,
                                          mode_graph.element_spec)
                    if mode_graph.iterator is not None else None)
      # Assign ops for evaluate_values.
      self._loaders = {}
      for var in _v1.global_variables():
        holder = _v1.placeholder(var.dtype.base_dtype, var.shape)
        self._loaders[var.op.name] = (holder, var.assign(holder))
      self._scaffold = _eval_scaffold(spec.scaffold)
      self._scaffold.finalize()  # finalizes the graph too
    self._session = _v1.Session(target=config.evaluation_master or "",
                                graph=graph,
                                config=config.session_config)
    self._update_fn = self._session.make_callable(self._update)
    self._variables_from = None
    self._first_input_used = False

  @property
  def metric_names(self) -> list[str]:
    return sorted(self._values)

  def accepts(self, serialized: feed_lib.SerializedInput | None) -> bool:
    return self._feed is not None and self._feed.accepts(serialized)

  def evaluate(
      self,
      source: Any,
      *,
      checkpoint_path: str | None,
      steps: int | None = None,
      hooks: Iterable[Any] = ()) -> dict[str, Any]:
    """Metrics of `checkpoint_path` (None: initial or warm-started values)
    on up to `steps` batches of `source` (FIRST_INPUT or a SerializedInput).
    """
    with self.mode_graph.graph.as_default():
      return self._evaluate(source, checkpoint_path, steps, hooks)

  def _evaluate(self, source, checkpoint_path, steps, hooks):
    if checkpoint_path:
      stamp = (checkpoint_path, checkpoints.stamp(checkpoint_path))
      if stamp != self._variables_from:
        self._scaffold.saver.restore(self._session, checkpoint_path)
        self._variables_from = stamp
    else:
      self._session.run(self._scaffold.init_op,
                        feed_dict=self._scaffold.init_feed_dict)
      if self._scaffold.init_fn:
        self._scaffold.init_fn(self._scaffold, self._session)
      self._variables_from = None
    return self._run(source, steps, hooks)

  def evaluate_values(self,
                      source: Any,
                      values: Mapping[str, Any],
                      *,
                      steps: int | None = None) -> dict[str, Any]:
    """Metrics with the variables set from `values` ({name: array}, e.g. read
    from a live training session) instead of a checkpoint."""
    missing = sorted(set(self._loaders) - set(values))
    if missing:
      raise ValueError(f"No values for evaluation variables {missing}.")
    self._session.run([op for _, op in self._loaders.values()], {
        h: values[n] for n, (h, _) in self._loaders.items()
    })
    self._variables_from = None
    with self.mode_graph.graph.as_default():
      return self._run(source, steps, ())

  def _run(self, source, steps, hooks):
    session, spec = self._session, self.mode_graph.spec
    session.run(self._scaffold.local_init_op,
                feed_dict=self._scaffold.local_init_feed_dict)
    if source == feed_lib.FIRST_INPUT:
      if self._first_input_used:
        raise RuntimeError("The first input of this evaluation graph was "
                           "already used; pass a serialized input.")
      for hook in self.mode_graph.input_hooks:
        hook.begin()
        hook.after_create_session(session, None)
      self._first_input_used = True
    else:
      self._feed.initialize(session, source)
    runner = hooked.HookedRunner(list(hooks) + list(spec.evaluation_hooks))
    runner.begin(self.mode_graph.graph)
    runner.after_create_session(session)
    log_every = max(steps // 10, 1) if steps else None
    batches = 0
    while (steps is None or batches < steps) and not runner.should_stop():
      try:
        if runner.hooks:
          _, stop = runner.run(session, self._update)
        else:
          self._update_fn()
          stop = False
      except (tf.errors.OutOfRangeError, StopIteration):
        break
      batches += 1
      if log_every and (batches % log_every == 0 or batches == steps):
        logging.info("Evaluation [%d/%d]", batches, steps)
      if stop:
        break
    results = session.run(self._values)
    runner.end(session)
    logging.info("Evaluation done after %d batches.", batches)
    return results

  def close(self) -> None:
    self._session.close()


def _eval_scaffold(scaffold):
  """tf.estimator groups a model_fn's local_init_op with the default one."""
  if scaffold.local_init_op is None:
    return scaffold
  default_local_init = tf.group(_v1.local_variables_initializer(),
                                _v1.tables_initializer())
  return _v1.train.Scaffold(copy_from_scaffold=scaffold,
                            local_init_op=tf.group(scaffold.local_init_op,
                                                   default_local_init))


def write_eval_summary(eval_dir: str, results: Mapping[str, Any],
                       global_step: int, checkpoint_path: str | None) -> None:
  """One Summary event of the metrics at `global_step`, like tf.estimator."""
  faults.maybe_kill("eval", global_step)
  with tf.Graph().as_default():  # v1 writers refuse eager mode
    writer = _v1.summary.FileWriterCache.get(eval_dir)
  summary = _v1.Summary()
  for key, value in results.items():
    if key == GLOBAL_STEP_KEY:
      continue
    if isinstance(value, (bool, np.bool_)):
      summary.value.add(tag=key, simple_value=float(value))
    elif isinstance(value, (float, int, np.floating, np.integer)):
      summary.value.add(tag=key, simple_value=float(value))
    elif isinstance(value, bytes):
      try:
        nested = _v1.Summary.FromString(value)
        for v in nested.value:
          v.tag = key
          summary.value.add().CopyFrom(v)
      except Exception:  # pylint: disable=broad-except
        logging.warning(
            "Skipping summary for %s: bytes that are not a "
            "serialized Summary.", key)
    elif isinstance(value, np.ndarray):
      entry = summary.value.add(tag=key)
      entry.tensor.CopyFrom(tf.make_tensor_proto(value))
    else:
      logging.warning("Skipping summary for %s: cannot write %s.", key,
                      type(value).__name__)
  writer.add_summary(summary, global_step)
  if checkpoint_path:
    ckpt_summary = _v1.Summary()
    ckpt_summary.value.add(
        tag="checkpoint_path",
        tensor=tf.make_tensor_proto(checkpoint_path, dtype=tf.string),
        metadata=_v1.SummaryMetadata(plugin_data=_v1.SummaryMetadata.PluginData(
            plugin_name="text")))
    writer.add_summary(ckpt_summary, global_step)
  writer.flush()
  append_eval_record(eval_dir, results, global_step)


EVAL_LOG = "metrics.jsonl"


def append_eval_record(eval_dir: str, results: Mapping[str, Any],
                       global_step: int) -> None:
  """One JSON line per evaluation, so early-stopping hooks and drivers read
  results directly instead of parsing event files."""
  record: dict[str, float] = {"global_step": int(global_step)}
  for key, value in results.items():
    if isinstance(value, (bool, int, float, np.integer, np.floating)):
      record[key] = float(value) if key != GLOBAL_STEP_KEY else int(value)
  with open(os.path.join(eval_dir, EVAL_LOG), "a") as f:
    f.write(json.dumps(record) + "\n")


def read_eval_records(eval_dir: str) -> dict[int, dict[str, Any]]:
  """{global_step: metrics} from an eval dir, a history moving forward.

  A record at the same step as the one before replaces it (a re-evaluation
  of the same checkpoint); a record at a lower step than an earlier one is
  skipped: earlier estweight versions appended evaluations of older
  checkpoints (`--checkpoint=<model_dir>/best`) here, after newer ones.
  """
  path = os.path.join(eval_dir, EVAL_LOG)
  if not os.path.exists(path):
    return {}
  with open(path) as f:
    lines = f.readlines()
  records = []
  for line in lines:
    line = line.strip()
    if not line:
      continue
    try:
      record = json.loads(line)
    except ValueError:
      continue  # a line cut by a kill
    records.append((int(record["global_step"]), record))
  return forward_history(records, source=path)


_warned_backward: set[str] = set()


def forward_history(records: Iterable[tuple[int, Any]], *,
                    source: str) -> dict[int, Any]:
  """{step: record} of `(step, record)` pairs in the order they were
  written, keeping a forward-moving history: later wins at the same step,
  a step below an earlier one is skipped (once logged per `source`)."""
  out, last, skipped = {}, None, []
  for step, record in records:
    if last is not None and step < last:
      skipped.append(step)
      continue
    out[step] = record
    last = step
  if skipped and source not in _warned_backward:
    _warned_backward.add(source)
    logging.warning(
        "%s records evaluations at steps %s after a later step; they are "
        "evaluations of older checkpoints and are skipped (evaluations of "
        "other checkpoints than the latest now go to eval_<name>/).", source,
        sorted(set(skipped)))
  return out


def last_recorded_step(eval_dir: str) -> int | None:
  """The highest step recorded in `eval_dir`'s metrics.jsonl, or None."""
  records = read_eval_records(eval_dir)
  return max(records) if records else None


def _same_dir(a, b):
  if "://" in a or "://" in b:
    return a.rstrip("/") == b.rstrip("/")
  return os.path.realpath(a) == os.path.realpath(b)


def eval_name_for(checkpoint_path: str | os.PathLike | None, global_step: int,
                  *, model_dir: str | os.PathLike,
                  default_eval_dir: str) -> str | None:
  """The `name` of an evaluation given none: None for `default_eval_dir`
  (model_dir/eval/), else the suffix of its own `eval_<name>/`.

  eval/ (and its metrics.jsonl, which early stopping and exporters read)
  only moves forward: it gets evaluations of model_dir's own checkpoints
  (or of the initial values) at a step no lower than the last one it
  recorded. A checkpoint in another directory goes to eval_<that
  directory's name> (`eval_best` for model_dir/best/), an older checkpoint
  of model_dir to eval_<its file name> (`eval_model.ckpt-100`), the initial
  values below a recorded step to `eval_initial`.
  """
  if checkpoint_path:
    directory = os.path.dirname(os.fspath(checkpoint_path)).rstrip("/")
    if not _same_dir(directory, os.fspath(model_dir)):
      return os.path.basename(directory) or "checkpoint"
  last = last_recorded_step(default_eval_dir)
  if last is None or global_step >= last:
    return None
  return os.path.basename(checkpoint_path) if checkpoint_path else "initial"
