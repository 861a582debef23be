"""The evaluation session loop and the eval summaries it writes."""
from __future__ import annotations

import json
import os

import numpy as np
import tensorflow as tf
from absl import logging

from estweight.runtime import hooks as hooks_lib

_v1 = tf.compat.v1
GLOBAL_STEP_KEY = "global_step"


def add_default_metrics(spec, global_step):
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


def run_evaluation(mode_graph, *, checkpoint_path, steps, hooks, master,
                   session_config):
  """Runs the metric update ops `steps` times (or to end of input).

  Returns the final metric values as a dict of numpy values.
  """
  spec = mode_graph.spec
  with mode_graph.graph.as_default():
    values, update_op = add_default_metrics(spec, mode_graph.global_step)
    stop_hook = hooks_lib.StopAfterNEvalsHook(steps)
    final_hook = _v1.train.FinalOpsHook(values)
    all_hooks = (list(mode_graph.input_hooks) + [stop_hook] + list(hooks) +
                 list(spec.evaluation_hooks) + [final_hook])
    scaffold = _eval_scaffold(spec.scaffold)
    creator = _v1.train.ChiefSessionCreator(
        scaffold=scaffold, checkpoint_filename_with_path=checkpoint_path,
        master=master, config=session_config)
    with _v1.train.MonitoredSession(session_creator=creator,
                                    hooks=all_hooks) as session:
      while not session.should_stop():
        session.run(update_op)
  results = final_hook.final_ops_values
  logging.info("Evaluation done after %d batches.", stop_hook.evals_done)
  return results


def _eval_scaffold(scaffold):
  """tf.estimator groups a model_fn's local_init_op with the default one."""
  if scaffold.local_init_op is None:
    return scaffold
  default_local_init = tf.group(
      _v1.local_variables_initializer(), _v1.tables_initializer())
  return _v1.train.Scaffold(
      copy_from_scaffold=scaffold,
      local_init_op=tf.group(scaffold.local_init_op, default_local_init))


def write_eval_summary(eval_dir, results, global_step, checkpoint_path):
  """One Summary event of the metrics at `global_step`, like tf.estimator."""
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
        logging.warning("Skipping summary for %s: bytes that are not a "
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
        metadata=_v1.SummaryMetadata(
            plugin_data=_v1.SummaryMetadata.PluginData(plugin_name="text")))
    writer.add_summary(ckpt_summary, global_step)
  writer.flush()
  append_eval_record(eval_dir, results, global_step)


EVAL_LOG = "metrics.jsonl"


def append_eval_record(eval_dir, results, global_step):
  """One JSON line per evaluation, so early-stopping hooks and drivers read
  results directly instead of parsing event files."""
  record = {"global_step": int(global_step)}
  for key, value in results.items():
    if isinstance(value, (bool, int, float, np.integer, np.floating)):
      record[key] = float(value) if key != GLOBAL_STEP_KEY else int(value)
  with open(os.path.join(eval_dir, EVAL_LOG), "a") as f:
    f.write(json.dumps(record) + "\n")


def read_eval_records(eval_dir):
  """{global_step: metrics} from an eval dir (later lines win)."""
  path = os.path.join(eval_dir, EVAL_LOG)
  out = {}
  if not os.path.exists(path):
    return out
  with open(path) as f:
    for line in f:
      line = line.strip()
      if not line:
        continue
      try:
        record = json.loads(line)
      except ValueError:
        continue  # a line cut by a kill
      out[int(record["global_step"])] = record
  return dict(sorted(out.items()))
