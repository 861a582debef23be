"""RunConfig's `master` and `evaluation_master` (TF_CONFIG `session_master`
and `eval_session_master`) are the sessions' targets.

Two in-process gRPC servers, jobs 'trainer' and 'evaluation'. The model
pins one op to `/job:trainer` in TRAIN and to `/job:evaluation` in EVAL,
with soft placement off: only a session on that server has the device, so
train() and evaluate() succeed only if they run on the masters named.
"""
import json

import numpy as np
import pytest
import tensorflow as tf

import estweight

_v1 = tf.compat.v1


@pytest.fixture(scope="module")
def servers():
  ports = [_free_port(), _free_port()]
  made = {}
  for job, port in zip(("trainer", "evaluation"), ports):
    made[job] = tf.distribute.Server(
        tf.train.ClusterSpec({job: [f"127.0.0.1:{port}"]}), job_name=job,
        task_index=0, start=True)
  return made


def _free_port():
  import socket  # pylint: disable=g-import-not-at-top
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def model_fn(features, labels, mode):
  w = _v1.get_variable("w", [], initializer=_v1.zeros_initializer())
  job = "trainer" if mode == estweight.ModeKeys.TRAIN else "evaluation"
  with tf.device(f"/job:{job}/task:0"):
    loss = tf.reduce_mean(tf.square(features["x"] * w - labels))
  if mode == estweight.ModeKeys.EVAL:
    return estweight.EstimatorSpec(mode, loss=loss)
  train_op = _v1.train.GradientDescentOptimizer(0.1).minimize(
      loss, global_step=_v1.train.get_global_step())
  return estweight.EstimatorSpec(mode, loss=loss, train_op=train_op)


def input_fn():
  x = np.float32([1, 2, 3, 4])
  return tf.data.Dataset.from_tensor_slices(({"x": x}, 2 * x)).batch(4)


def _estimator(tmp_path, monkeypatch, tf_config):
  monkeypatch.setenv("TF_CONFIG", json.dumps(tf_config))
  config = estweight.RunConfig(session_config=_v1.ConfigProto(
      allow_soft_placement=False))
  return estweight.Estimator(model_fn, str(tmp_path), config=config)


def test_train_and_evaluate_run_on_the_named_masters(tmp_path, monkeypatch,
                                                     servers):
  est = _estimator(tmp_path, monkeypatch, {
      "session_master": servers["trainer"].target,
      "eval_session_master": servers["evaluation"].target})
  assert est.config.master == servers["trainer"].target
  est.train(input_fn, steps=1)
  # Step 1 from w = 0: loss = mean((2x)^2) = 4 * 30 / 4 = 30; gradient
  # dL/dw = mean(-2 * x * 2x) = -4 * 30 / 4 = -30, so w = 0.1 * 30 = 3;
  # then loss = mean((3x - 2x)^2) = 30 / 4 = 7.5.
  assert est.get_variable_value("w") == pytest.approx(3.0)
  assert est.evaluate(input_fn)["loss"] == pytest.approx(7.5)


def test_without_the_masters_the_pinned_ops_have_no_device(
    tmp_path, monkeypatch, servers):
  """The controls: a local session cannot place the TRAIN op; evaluate()
  without evaluation_master (not even on `master`) cannot place the EVAL
  op."""
  est = _estimator(tmp_path / "local", monkeypatch, {})
  with pytest.raises(tf.errors.InvalidArgumentError, match="/job:trainer"):
    est.train(input_fn, steps=1)
  est = _estimator(tmp_path / "master_only", monkeypatch,
                   {"session_master": servers["trainer"].target})
  est.train(input_fn, steps=1)
  with pytest.raises(tf.errors.InvalidArgumentError, match="/job:evaluation"):
    est.evaluate(input_fn)
