"""TF_CONFIG clusters of real processes on 127.0.0.1 (train_and_evaluate).

Each task is tests/support/cluster_job.py (a weighted DNNClassifier) run
with its own TF_CONFIG; kills happen at a named global step printed by the
task (`STEP <n>`), never after a sleep.
"""
import json
import os
import re
import socket
import subprocess
import sys
import threading

import pytest
import tensorflow as tf

import estweight
from support import jobs

MAX_WAIT = 300  # seconds any task may take to exit by itself


class Cluster:
  """chief + `workers` workers + `ps` ps tasks, and an evaluator outside."""

  def __init__(self, model_dir, max_steps, workers=2, ps=1, timeout=60):
    ports = iter(jobs.free_ports(1 + workers + ps))
    self.spec = {"chief": [f"127.0.0.1:{next(ports)}"]}
    if workers:
      self.spec["worker"] = [f"127.0.0.1:{next(ports)}"
                             for _ in range(workers)]
    if ps:
      self.spec["ps"] = [f"127.0.0.1:{next(ports)}" for _ in range(ps)]
    self.model_dir, self.max_steps, self.timeout = model_dir, max_steps, timeout
    self.hold_file = os.path.join(os.path.dirname(model_dir),
                                  os.path.basename(model_dir) + ".go")
    self.tasks = {}

  def release(self):
    with open(self.hold_file, "w"):
      pass

  def start(self, task_type, index=0, hold_at=None, released=True):
    """Starts a task; with `hold_at`, it holds after a step from that
    global step on until `release()` (with `released=False`, until killed)."""
    hold_file = self.hold_file if released else self.hold_file + ".never"
    env = {"TF_CONFIG": json.dumps({"cluster": self.spec, "task": {
        "type": task_type, "index": index}}),
           "SESSION_TIMEOUT": str(self.timeout),
           "HOLD_AT_STEP": str(hold_at or 0), "HOLD_FILE": hold_file}
    task = jobs.Task("cluster_job.py", self.model_dir, self.max_steps, env=env)
    self.tasks[(task_type, index)] = task
    return task

  def start_all(self, evaluator=True):
    for job, addresses in self.spec.items():
      for i in range(len(addresses)):
        self.start(job, i)
    if evaluator:
      self.start("evaluator")

  def results(self):
    return {key: task.result(timeout=MAX_WAIT)
            for key, task in self.tasks.items()}

  def kill_all(self):
    for task in self.tasks.values():
      if task.proc.poll() is None:
        task.kill()


def _step(line):
  return int(line.split()[1]) if line.startswith("STEP ") else -1


def _latest_step(model_dir):
  return int(tf.train.latest_checkpoint(model_dir).rsplit("-", 1)[1])


@pytest.fixture
def cluster_factory():
  made = []

  def make(*args, **kwargs):
    made.append(Cluster(*args, **kwargs))
    return made[-1]
  yield make
  for cluster in made:
    cluster.kill_all()


@pytest.mark.slow
def test_chief_workers_ps_and_evaluator_train_to_max_steps_and_exit(
    tmp_path, cluster_factory):
  cluster = cluster_factory(str(tmp_path), max_steps=200)
  cluster.start_all()
  results = cluster.results()
  for key, (code, _) in results.items():
    assert code == 0, (key, cluster.tasks[key].errors[-5:])
  latest = tf.train.latest_checkpoint(str(tmp_path))
  # The chief names its final checkpoint by the step it read; the workers may
  # still add a step while the ps variables are saved, so the checkpoint can
  # hold a later step than its name (seen: ckpt-201 holding 202).
  named, final = _latest_step(str(tmp_path)), int(
      tf.train.load_variable(latest, "global_step"))
  training = [results[k][1]["steps"] for k in (("chief", 0), ("worker", 0),
                                               ("worker", 1))]
  # Every step adds 1 to the shared global step; each of the 3 tasks stops
  # after the first step that shows >= 200, so 200 <= total <= 200 - 1 + 3,
  # and the chief's final checkpoint holds a step in that range.
  assert all(steps > 0 for steps in training), training
  assert 200 <= sum(training) <= 202
  assert 200 <= named <= final <= sum(training)
  # The evaluator's last evaluation is of the final checkpoint.
  assert results[("evaluator", 0)][1]["result"]["global_step"] == final
  # Only the chief writes events.
  events = [n for n in os.listdir(tmp_path) if n.startswith("events.")]
  assert len(events) == 1


@pytest.mark.slow
def test_a_killed_worker_restarted_rejoins_and_the_job_finishes(
    tmp_path, cluster_factory):
  model_dir = str(tmp_path / "model")
  cluster = cluster_factory(model_dir, max_steps=300)
  # The chief and worker 0 hold from step 100 on, until released; worker 1
  # holds from step 60 on and is killed there.
  cluster.start("ps")
  cluster.start("chief", hold_at=100)
  cluster.start("worker", 0, hold_at=100)
  cluster.start("worker", 1, hold_at=60, released=False)
  held = lambda line: line.startswith("HOLD ")
  cluster.tasks[("worker", 1)].wait_for_line(held)
  cluster.tasks[("worker", 1)].kill()
  cluster.tasks[("chief", 0)].wait_for_line(held)
  cluster.tasks[("worker", 0)].wait_for_line(held)
  restarted = cluster.start("worker", 1)
  first = _step(restarted.wait_for_line(lambda line: _step(line) >= 0))
  cluster.release()
  results = cluster.results()
  for key, (code, _) in results.items():
    assert code == 0, (key, cluster.tasks[key].errors[-5:])
  # It joined the shared global step (the others hold at 100 or just after:
  # one step each past it at most, and STEP may read after the increment),
  # not its own from 0.
  assert 100 <= first <= 103
  assert _latest_step(model_dir) >= 300


@pytest.mark.slow
def test_a_killed_chief_restarted_continues_from_its_last_checkpoint(
    tmp_path, cluster_factory):
  model_dir = str(tmp_path / "model")
  cluster = cluster_factory(model_dir, max_steps=300)
  cluster.start("ps")
  cluster.start("chief")
  for i in range(2):  # the workers hold from step 130 on
    cluster.start("worker", i, hold_at=130)
  # Named phase: both workers are holding (nobody but the chief moves the
  # shared step from here), then the chief dies.
  for i in range(2):
    cluster.tasks[("worker", i)].wait_for_line(
        lambda line: line.startswith("HOLD"))
  cluster.tasks[("chief", 0)].kill()
  # The value saved, not the step in the file name: the workers moved the
  # shared step while the chief saved.
  saved = int(tf.train.load_variable(tf.train.latest_checkpoint(model_dir),
                                     "global_step"))
  assert saved >= 50  # save_checkpoints_steps=50, the shared step is >= 130
  restarted = cluster.start("chief")
  created = int(restarted.wait_for_line(
      lambda line: line.startswith("CREATED")).split()[1])
  first = _step(restarted.wait_for_line(lambda line: _step(line) >= 0))
  cluster.release()
  results = cluster.results()
  for key, (code, _) in results.items():
    assert code == 0, (key, cluster.tasks[key].errors[-5:])
  # Restored the checkpoint (the workers were holding: nobody else moved
  # the shared step in between), not the ps tasks' newer variables. (STEP
  # prints the global step read in the same run as the step's increment, so
  # either value.)
  assert created == saved
  assert first in (saved, saved + 1)
  assert _latest_step(model_dir) >= 300


@pytest.mark.slow
def test_a_killed_ps_stops_the_workers_with_a_clear_error_and_a_restart_resumes(
    tmp_path, cluster_factory):
  cluster = cluster_factory(str(tmp_path), max_steps=300)
  cluster.start_all(evaluator=False)
  cluster.tasks[("chief", 0)].wait_for_line(lambda line: _step(line) >= 80)
  cluster.tasks[("ps", 0)].kill()
  results = cluster.results()
  for key in (("chief", 0), ("worker", 0), ("worker", 1)):
    code, _ = results[key]
    assert code != 0, key
    text = "\n".join(cluster.tasks[key].errors)
    assert "ClusterError" in text, (key, text[-1500:])
    # The ps, and perhaps the chief too if it exited first (a worker's peer).
    assert re.search(
        r"lost (\S+ \(\S+\), )*/job:ps/task:0 \(" +
        re.escape(cluster.spec["ps"][0]) + r"\)(, \S+ \(\S+\))* during",
        text), (key, text[-1500:])
  saved = _latest_step(str(tmp_path))
  assert 50 <= saved < 300
  # The whole job again: it resumes from the last checkpoint.
  again = cluster_factory(str(tmp_path), max_steps=300)
  again.start("ps")
  chief = again.start("chief")  # alone first: its first step is the job's
  first = _step(chief.wait_for_line(lambda line: _step(line) >= 0))
  assert first in (saved, saved + 1)  # read before or after the increment
  for i in range(2):
    again.start("worker", i)
  results = again.results()
  for key, (code, _) in results.items():
    assert code == 0, (key, again.tasks[key].errors[-5:])
  assert _latest_step(str(tmp_path)) >= 300


@pytest.mark.slow
def test_a_worker_whose_chief_never_starts_fails_naming_it(tmp_path,
                                                           cluster_factory):
  cluster = cluster_factory(str(tmp_path), max_steps=10, workers=1, ps=1,
                            timeout=3)
  cluster.start("ps")
  worker = cluster.start("worker", 0)
  code, _ = worker.result(timeout=MAX_WAIT)
  assert code != 0
  text = "\n".join(worker.errors)
  assert "session_creation_timeout_secs=3" in text
  assert "/job:chief/task:0 (" + cluster.spec["chief"][0] in text
  assert not os.path.exists(os.path.join(tmp_path, "checkpoint"))


@pytest.mark.slow
def test_a_chief_whose_ps_never_starts_fails_naming_it(tmp_path,
                                                        cluster_factory):
  cluster = cluster_factory(str(tmp_path), max_steps=10, workers=0, ps=1,
                            timeout=2)
  chief = cluster.start("chief")
  code, _ = chief.result(timeout=MAX_WAIT)
  assert code != 0
  text = "\n".join(chief.errors)
  assert "/job:ps/task:0 (" + cluster.spec["ps"][0] in text
  assert "never answered" in text


class _FakeTask:
  """A port that accepts connections but is no TensorFlow server. With
  `dies`, it closes (the task "dies") when a gRPC client sends its HTTP/2
  preface, i.e. when the worker's session has got past the reachability
  checks and is finding the cluster's devices (the named phase)."""

  def __init__(self, address, dies=True):
    self.dies = dies
    host, port = address.rsplit(":", 1)
    self.listener = socket.create_server((host, int(port)))
    self.died = threading.Event()
    self.thread = threading.Thread(target=self._serve, daemon=True)
    self.thread.start()

  def _serve(self):
    with self.listener:
      while True:
        connection, _ = self.listener.accept()
        with connection:
          connection.settimeout(5)
          try:
            data = connection.recv(3)
          except OSError:
            data = b""
          if data == b"PRI" and self.dies:
            self.died.set()
            return


@pytest.mark.slow
def test_a_ps_that_dies_while_a_worker_sets_up_its_session_fails_it(
    tmp_path, cluster_factory):
  # TensorFlow's device discovery would wait for the dead ps forever, whatever
  # the session timeouts; the worker must notice the ps is gone and stop.
  cluster = cluster_factory(str(tmp_path), max_steps=10, workers=1, ps=1,
                            timeout=600)
  ps = _FakeTask(cluster.spec["ps"][0])
  _FakeTask(cluster.spec["chief"][0], dies=False)
  worker = cluster.start("worker", 0)
  code, _ = worker.result(timeout=MAX_WAIT)
  assert ps.died.is_set()
  assert code != 0
  text = "\n".join(worker.errors)
  assert "ClusterError" in text, text[-2000:]
  assert f"lost /job:ps/task:0 ({cluster.spec['ps'][0]}) during" in text
  assert "stopped answering while this task set up its session" in text
  assert "session_creation_timeout_secs" not in text  # not the 600 s bound


def _tf_config(task_type, index, **cluster):
  return json.dumps({"cluster": cluster or {
      "chief": ["127.0.0.1:1"], "worker": ["127.0.0.1:2"],
      "ps": ["127.0.0.1:3"]}, "task": {"type": task_type, "index": index}})


def test_a_second_evaluator_is_refused_before_any_network_wait(
    tmp_path, monkeypatch):
  # tf.estimator 2.15's RunConfig accepts evaluator index 1 (probed); its
  # train_and_evaluate refuses it, as here.
  monkeypatch.setenv("TF_CONFIG", _tf_config("evaluator", 1))
  est = estweight.Estimator(lambda features, labels, mode: None,
                            model_dir=str(tmp_path))
  with pytest.raises(ValueError, match="only one evaluator task.*index 1"):
    estweight.train_and_evaluate(
        est, estweight.TrainSpec(lambda: None, max_steps=1),
        estweight.EvalSpec(lambda: None))
  assert os.listdir(tmp_path) == []


@pytest.mark.slow
def test_the_cli_started_in_every_process_runs_each_tasks_role(tmp_path):
  from test_cli import CONFIG, write_data  # pylint: disable=g-import-not-at-top
  config = tmp_path / "config.py"
  config.write_text(CONFIG.format(train=write_data(tmp_path / "data.csv",
                                                   n=96)))
  model_dir = str(tmp_path / "run")
  ports = jobs.free_ports(2)
  spec = {"chief": [f"127.0.0.1:{ports[0]}"], "ps": [f"127.0.0.1:{ports[1]}"]}
  script = os.path.join(os.path.dirname(sys.executable), "estweight")
  procs = {}
  for task in ("ps", "chief", "evaluator"):
    env = dict(os.environ, TF_CONFIG=json.dumps(
        {"cluster": spec, "task": {"type": task, "index": 0}}))
    procs[task] = subprocess.Popen(
        [script, "train", f"--config={config}", f"--model_dir={model_dir}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
  outs = {}
  try:
    for task, proc in procs.items():
      outs[task] = proc.communicate(timeout=MAX_WAIT)
      assert proc.returncode == 0, (task, outs[task][1][-2000:])
  finally:
    for proc in procs.values():
      proc.kill()
  # One trainer: exactly driver.max_steps=30, checkpoints every
  # driver.steps_per_iteration=10; the evaluator evaluated the last one.
  assert _latest_step(model_dir) == 30
  assert "Evaluation at step 30:" in outs["evaluator"][0]
  steps = sorted(estweight.experimental.read_eval_metrics(
      os.path.join(model_dir, "eval")))
  assert steps[-1] == 30 and set(steps) <= {0, 10, 20, 30}
  assert os.path.exists(os.path.join(model_dir, "config.json"))


def test_a_strategy_is_refused_by_every_role_before_any_network_wait(
    tmp_path, monkeypatch):
  monkeypatch.setenv("TF_CONFIG", _tf_config("ps", 0))
  strategy = tf.compat.v1.distribute.MirroredStrategy(["/cpu:0"])
  est = estweight.Estimator(
      lambda features, labels, mode: None, model_dir=str(tmp_path),
      config=estweight.RunConfig(train_distribute=strategy))
  with pytest.raises(NotImplementedError,
                     match="RunConfig.train_distribute is not run"):
    estweight.train_and_evaluate(
        est, estweight.TrainSpec(lambda: None, max_steps=1),
        estweight.EvalSpec(lambda: None))
  assert os.listdir(tmp_path) == []


def test_run_iterations_on_a_cluster_says_what_to_use(tmp_path, monkeypatch):
  monkeypatch.setenv("TF_CONFIG", _tf_config("worker", 0))
  est = estweight.Estimator(lambda features, labels, mode: None,
                            model_dir=str(tmp_path))
  with pytest.raises(ValueError, match="task 'worker' of a TF_CONFIG cluster"
                     ".*train_and_evaluate"):
    estweight.driver.run_iterations(est, lambda: None, lambda: None,
                                    steps_per_iteration=1, max_steps=1)
  assert os.listdir(tmp_path) == []
