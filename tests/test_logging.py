"""Logging as ported tf.estimator code expects it, without global side effects.

- install() and estweight's log calls add no handler (before, the first
  absl call ran logging.basicConfig(), and every TensorFlow line printed
  twice); importing estweight leaves TF_CPP_MIN_LOG_LEVEL alone. These run
  in fresh interpreters: pytest's own handlers on the root logger would
  hide a basicConfig().
- train() writes tf.estimator 2.15's progress lines on the `tensorflow`
  logger. The expected lines were printed by tf.estimator 2.15 (oracle venv)
  for the same model, data and RunConfig.
"""
import json
import logging
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

import estweight
from estweight import _logging
from support import models

# A TF1 program as it was written for tf.estimator: nothing configures
# Python logging; tf.logging.set_verbosity(INFO) turns the lines on.
_PORTED = """
import json, logging, os, sys, tempfile
import numpy as np
before = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
sys.argv = ["estweight"]  # the name the old import-time check looked for
import estweight
r = {"env_after_import": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "unset"),
     "env_before": before}
estweight.install()
r["root_handlers_after_install"] = len(logging.getLogger().handlers)
import tensorflow.compat.v1 as tf
tf.logging.set_verbosity(tf.logging.INFO)

def model_fn(features, labels, mode, params):  # params not passed: a warning
  w = tf.get_variable("w", [], initializer=tf.zeros_initializer())
  loss = tf.reduce_mean(tf.square(w * features["x"] - labels))
  train_op = tf.train.GradientDescentOptimizer(0.01).minimize(
      loss, global_step=tf.train.get_global_step())
  return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)

def input_fn():
  x = np.arange(8, dtype=np.float32)
  return tf.data.Dataset.from_tensor_slices(({"x": x}, 2 * x)).repeat().batch(2)

est = tf.estimator.Estimator(model_fn, model_dir=tempfile.mkdtemp())
est.train(input_fn, steps=25)
r["root_handlers_after_train"] = len(logging.getLogger().handlers)
print(json.dumps(r), flush=True)
"""


@pytest.fixture(scope="module")
def ported_run():
  env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
  proc = subprocess.run(
      [sys.executable, "-c", textwrap.dedent(_PORTED)], capture_output=True,
      text=True, env=env, timeout=300, check=False)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def test_import_leaves_tf_cpp_min_log_level_alone(ported_run):
  result, _ = ported_run
  assert result["env_before"] is None
  assert result["env_after_import"] == "unset"


def test_install_and_training_add_no_log_handler(ported_run):
  result, _ = ported_run
  assert result["root_handlers_after_install"] == 0
  assert result["root_handlers_after_train"] == 0


def test_tensorflow_lines_print_once_in_a_ported_program(ported_run):
  _, stderr = ported_run
  lines = stderr.splitlines()
  loss_lines = [l for l in lines if l.startswith("INFO:tensorflow:loss = ")]
  # tf.estimator 2.15 printed (log_step_count_steps=100, 25 steps): one line.
  assert loss_lines == ["INFO:tensorflow:loss = 2.0, step = 0"]
  assert lines.count("INFO:tensorflow:Graph was finalized.") == 1
  # estweight's own warning reaches stderr once, through Python's
  # last-resort handler (the bare message: no basicConfig() format).
  warnings = [l for l in lines if "includes params argument" in l]
  assert len(warnings) == 1 and warnings[0].startswith("model_fn ("), lines


class _Records(logging.Handler):

  def __init__(self):
    super().__init__(logging.DEBUG)
    self.records = []

  def emit(self, record):
    self.records.append(record)


@pytest.fixture
def tf_records():
  """The `tensorflow` logger's records, at tf.logging.INFO."""
  logger = tf.get_logger()
  handler, level = _Records(), logger.level
  logger.addHandler(handler)
  tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.INFO)
  try:
    yield handler.records
  finally:
    logger.removeHandler(handler)
    logger.setLevel(level)


def _progress(records):
  return [r.getMessage() for r in records
          if r.getMessage().startswith(("loss = ", "global_step/sec: "))]


def test_train_logs_tf_estimator_progress_lines(tmp_path, tf_records):
  x = np.arange(8, dtype=np.float32)
  est = estweight.Estimator(
      models.scalar_model_fn, model_dir=str(tmp_path),
      params={"learning_rate": 0.01},
      config=estweight.RunConfig(log_step_count_steps=10))
  est.train(models.xy_input_fn(x, 2 * x, batch_size=2, repeat=True),
            steps=25)
  lines = _progress(tf_records)
  # tf.estimator 2.15, same model and data:
  #   loss = 2.0, step = 0
  #   global_step/sec: 181.605
  #   loss = 0.0020535477, step = 10 (0.055 sec)
  #   global_step/sec: 987.569
  #   loss = 1.3137935e-11, step = 20 (0.010 sec)
  # (first batch x = [0, 1], y = [0, 2], w = 0: loss = (0 + 4) / 2 = 2.0).
  timing = r"\((\d+\.\d{3}) sec\)"
  rate = r"global_step/sec: [\d.e+]+"
  assert len(lines) == 5, lines
  assert lines[0] == "loss = 2.0, step = 0"
  assert re.fullmatch(rate, lines[1]), lines
  assert re.fullmatch(r"loss = 0\.0020535477, step = 10 " + timing, lines[2])
  assert re.fullmatch(rate, lines[3]), lines
  assert re.fullmatch(r"loss = 1\.3137935e-11, step = 20 " + timing,
                      lines[4])
  # The format strings are tf.estimator's, so filters on msg still match.
  loss_records = [r for r in tf_records if r.getMessage().startswith("loss")]
  assert [r.msg for r in loss_records] == ["%s", "%s (%.3f sec)",
                                           "%s (%.3f sec)"]
  assert all(r.name == "tensorflow" and r.levelno == logging.INFO
             for r in loss_records)


def test_each_train_call_starts_its_own_loss_lines(tmp_path, tf_records):
  x = np.arange(8, dtype=np.float32)
  est = estweight.Estimator(
      models.scalar_model_fn, model_dir=str(tmp_path),
      params={"learning_rate": 0.01},
      config=estweight.RunConfig(log_step_count_steps=10))
  input_fn = models.xy_input_fn(x, 2 * x, batch_size=2, repeat=True)
  est.train(input_fn, steps=5)
  est.train(input_fn, steps=12)
  steps = [int(re.search(r"step = (\d+)", l).group(1))
           for l in _progress(tf_records) if l.startswith("loss")]
  # As LoggingTensorHook: the first step of each call, then every 10 of it.
  assert steps == [0, 5, 15]


def test_no_progress_lines_without_log_step_count_steps(tmp_path, tf_records):
  x = np.arange(8, dtype=np.float32)
  est = estweight.Estimator(
      models.scalar_model_fn, model_dir=str(tmp_path),
      params={"learning_rate": 0.01},
      config=estweight.RunConfig(log_step_count_steps=None))
  est.train(models.xy_input_fn(x, 2 * x, repeat=True), steps=12)
  assert _progress(tf_records) == []


def test_label_prefixes_lines_inside_it(caplog):
  caplog.set_level(logging.INFO)
  with _logging.label("trial 3/9"):
    _logging.info("step %d | loss %.1f", 200, 0.31)
    _logging.info("100% done")  # no args: not %-formatted
  _logging.info("after")
  assert [r.getMessage() for r in caplog.records] == [
      "trial 3/9 | step 200 | loss 0.3", "trial 3/9 | 100% done", "after"]
  assert all(r.name == "absl" for r in caplog.records)
  # absl's handler prints the caller's file, not the helper's.
  assert {os.path.basename(r.pathname) for r in caplog.records} == {
      "test_logging.py"}


def test_tf_verbosity_info_shows_the_runtime_lines_in_ported_code(
    tmp_path, tf_records):
  """A ported TF1 script sets only tf.compat.v1.logging's verbosity; the
  checkpoint and final-loss lines appear on the `tensorflow` logger, as
  tf.estimator 2.15 printed them, and not also on absl's."""
  from absl import logging as absl_logging  # pylint: disable=g-import-not-at-top
  saved = absl_logging.get_verbosity()
  absl_logging.set_verbosity(absl_logging.WARNING)
  try:
    x = np.arange(4, dtype=np.float32)
    est = estweight.Estimator(models.scalar_model_fn,
                              model_dir=str(tmp_path),
                              params={"learning_rate": 0.01})
    est.train(models.xy_input_fn(x, 2 * x, batch_size=2), steps=2)
  finally:
    absl_logging.set_verbosity(saved)
  messages = [r.getMessage() for r in tf_records]
  # x = [0, 1], [2, 3]: two steps, then the input ends.
  assert f"Saving checkpoints for 2 into {tmp_path}/model.ckpt-2." in messages
  assert any(m.startswith("Loss for final step: ") for m in messages)
