"""The fault suite behind `make reliability`: seeded SIGKILLs, bad inputs.

    python tests/reliability_suite.py [--count=36] [--seed=0] [--paths=...]

Kills: `--count` SIGKILLs spread over six paths (Estimator.train,
train_and_evaluate, run_iterations, grid_search, the `estweight train`
command, a task of a loopback TF_CONFIG cluster). Every kill is made by the
job itself at a named point (ESTWEIGHT_KILL_AFTER=<phase>:<step>, see
estweight/runtime/faults.py), with the phase and the step drawn from a
random.Random(seed): no sleeps, so a seed names the same kills on every
machine. A run is a chain of 1 to 3 kills (each rerun of the same command
carries the next, later point), then a rerun to the end. It survives when
it ends as the uninterrupted reference run of its path did:

- bit-exact (train, train_and_evaluate, run_iterations, grid_search, CLI):
  every variable of the final checkpoint has the reference's bytes, and
  the job's results (evaluations, history, scores) are equal floats;
- state (the cluster, whose input restarts with each task): every task
  exits 0, a restarted chief restores the last checkpoint's global step,
  training reaches max_steps and the evaluator's last result is of the
  final checkpoint.

Every path's reference is run twice first (the control: two uninterrupted
runs must agree, so a difference after a kill is the kill's).

Bad inputs: every case of tests/support/bad_inputs.py (docs/errors.md), run
in this process: caught (the declared error) before any training step, and
model_dir untouched.

Prints each run as it goes, then the figures; exits 1 unless every figure
is N/N. Work directories of failed runs are kept and named.
"""
import argparse
import collections
import dataclasses
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

TESTS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, TESTS)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

from estweight.runtime import faults  # pylint: disable=g-import-not-at-top,wrong-import-position
from support import bad_inputs  # pylint: disable=g-import-not-at-top,wrong-import-position
from support import errors_table  # pylint: disable=g-import-not-at-top,wrong-import-position
from support import jobs  # pylint: disable=g-import-not-at-top,wrong-import-position

TIMEOUT = 900  # seconds any one process may take
CLUSTER_MAX_STEPS = 300  # cluster_job.py saves every 50 steps
CLI_ARGS = ("--config.driver.max_steps=60",
            "--config.driver.steps_per_iteration=10")


@dataclasses.dataclass(frozen=True)
class Point:
  """A named kill point; `trial` only for grid_search (KILL_IN_TRIAL)."""
  phase: str
  step: int
  trial: int | None = None

  def env(self):
    env = {faults.ENV: f"{self.phase}:{self.step}"}
    if self.trial is not None:
      env["KILL_IN_TRIAL"] = str(self.trial)
    return env

  def __str__(self):
    where = f"trial {self.trial} " if self.trial is not None else ""
    return f"{where}{self.phase}:{self.step}"


@dataclasses.dataclass
class RunRecord:
  """One chain of kills and its resume."""
  path: str
  points: list
  kills: int = 0
  state_ok: bool = False
  exact: bool | None = None  # None: not a bit-exact path
  note: str = ""
  kept: str = ""

  @property
  def survived(self):
    return self.state_ok and self.exact is not False


# ------------------------------------------------------------ the paths
def _variables(model_dir):
  """{name: bytes} of every variable of model_dir's latest checkpoint."""
  reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(model_dir))
  return {name: reader.get_tensor(name).tobytes()
          for name in sorted(reader.get_variable_to_shape_map())}


def _last_json(out):
  lines = out.strip().splitlines()
  try:
    return json.loads(lines[-1]) if lines else None
  except ValueError:
    return None


def _script(script, *args):
  def run(model_dir, point):
    proc = jobs.start(script, *args, model_dir,
                      env=point.env() if point else None)
    out, _ = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, out
  return run


def _cli(model_dir, point):
  env = {k: v for k, v in os.environ.items()
         if k not in (faults.ENV, "KILL_IN_TRIAL")}
  env.update(point.env() if point else {})
  root = os.path.dirname(model_dir)
  proc = subprocess.run(
      [sys.executable, "-m", "estweight", "train",
       f"--config={os.path.join(root, 'config.py')}",
       f"--model_dir={model_dir}", *CLI_ARGS],
      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
      timeout=TIMEOUT, check=False)
  return proc.returncode, proc.stdout


def _cli_prepare(root):
  bad_inputs.write_cli_files(bad_inputs.Workspace(root))


def _job_result(model_dir, out):
  return {"output": _last_json(out), "variables": _variables(model_dir)}


def _grid_result(model_dir, out):
  return {"scores": _last_json(out), "variables": {
      t: _variables(os.path.join(model_dir, f"trial_{t}")) for t in range(4)}}


def _cli_result(model_dir, out):
  del out  # the printed report holds wall times
  with open(os.path.join(model_dir, "driver", "state.json")) as f:
    history = [(h["global_step"], h["metrics"])
               for h in json.load(f)["history"]]
  return {"history": history, "variables": _variables(model_dir)}


@dataclasses.dataclass(frozen=True)
class Path:
  """A path the suite kills.

  Attributes:
    name: as printed.
    phases: the kill phases its job passes through.
    last_step: kill steps are drawn from [1, last_step] (the reference's
      last step, so every point is reached).
    run: run(model_dir, point or None) -> (exit code, stdout).
    result: result(model_dir, stdout) -> what must equal the reference.
    prepare: prepare(run_root) before the first run (writes input files).
    trials: grid_search's number of trials (points name one).
  """
  name: str
  phases: tuple
  last_step: int
  run: object
  result: object
  prepare: object = None
  trials: int | None = None


PATHS = [
    Path("Estimator.train", ("step", "save"), 200,
         _script("reliability_job.py", "train"), _job_result),
    Path("train_and_evaluate", ("step", "save", "eval"), 200,
         _script("reliability_job.py", "train_and_evaluate"), _job_result),
    Path("run_iterations", ("step", "save", "eval"), 140,
         _script("driver_job.py"), _job_result),
    Path("grid_search", ("step", "save", "eval"), 40,
         _script("grid_job.py"), _grid_result, trials=4),
    Path("estweight train (CLI)", ("step", "save", "eval"), 60, _cli,
         _cli_result, prepare=_cli_prepare),
]
CLUSTER = "cluster task"


def _draw(rng, path, n):
  """n kill points of `path`, in the order a resumed run reaches them."""
  points = set()
  while len(points) < n:
    trial = rng.randrange(path.trials) if path.trials else None
    points.add(Point(rng.choice(path.phases),
                     rng.randint(1, path.last_step), trial))
  return sorted(points, key=lambda p: (p.trial or 0, p.step))


def _fresh(root, name):
  run_root = tempfile.mkdtemp(prefix=name.split()[0].replace(".", "_") + "-",
                              dir=root)
  return run_root, os.path.join(run_root, "model")


def _reference(path, root):
  """The uninterrupted result, after checking that it is reproducible."""
  results = []
  for _ in range(2):
    run_root, model_dir = _fresh(root, path.name)
    if path.prepare:
      path.prepare(run_root)
    code, out = path.run(model_dir, None)
    if code != 0:
      raise RuntimeError(f"{path.name}: the uninterrupted run failed "
                         f"(exit {code}); kept in {run_root}.")
    results.append(path.result(model_dir, out))
    shutil.rmtree(run_root, ignore_errors=True)
  if results[0] != results[1]:
    raise RuntimeError(f"{path.name}: two uninterrupted runs differ, so a "
                       "kill cannot be judged.")
  return results[0]


def _global_steps(result):
  """The final global step(s) (grid: per trial) a result holds."""
  variables = result["variables"]
  if "global_step" in variables:
    return variables["global_step"]
  return {t: v["global_step"] for t, v in variables.items()}


def _chain(path, points, reference, root):
  record = RunRecord(path.name, points, exact=False)
  run_root, model_dir = _fresh(root, path.name)
  if path.prepare:
    path.prepare(run_root)
  code, out, steps = None, "", []
  for point in points:
    code, out = path.run(model_dir, point)
    if code != -9:
      steps.append(f"{point} not reached (exit {code})")
      break
    record.kills += 1
    steps.append(f"{point} killed")
  if code == -9:
    code, out = path.run(model_dir, None)
  record.note = ", ".join(steps)
  if code != 0:
    record.note += f"; resume exit {code}"
  else:
    result = path.result(model_dir, out)
    record.state_ok = _global_steps(result) == _global_steps(reference)
    record.exact = result == reference
    record.note += "; resumed " + ("bit-exact" if record.exact else
                                   "to other numbers")
  if record.survived:
    shutil.rmtree(run_root, ignore_errors=True)
  else:
    record.kept = run_root
  return record


# ------------------------------------------------------------ the cluster
def _cluster_chain(points, target, root):
  """ps + chief + evaluator on loopback; `target` is killed at `points`."""
  record = RunRecord(CLUSTER, [f"{target} {p}" for p in points])
  run_root, model_dir = _fresh(root, "cluster")
  ports = jobs.free_ports(2)
  spec = {"chief": [f"127.0.0.1:{ports[0]}"], "ps": [f"127.0.0.1:{ports[1]}"]}

  def start(task, point=None):
    env = {"TF_CONFIG": json.dumps({"cluster": spec, "task": {
        "type": task, "index": 0}}), "SESSION_TIMEOUT": "120"}
    env.update(point.env() if point else {})
    return jobs.Task("cluster_job.py", model_dir, CLUSTER_MAX_STEPS, env=env)

  tasks = {"ps": start("ps")}
  tasks["chief"] = start("chief", points[0] if target == "chief" else None)
  tasks["evaluator"] = start("evaluator",
                             points[0] if target == "evaluator" else None)
  problems, steps = [], []
  try:
    for i, point in enumerate(points):
      code = tasks[target].proc.wait(timeout=TIMEOUT)
      if code != -9:
        steps.append(f"{target} {point} not reached (exit {code})")
        break
      record.kills += 1
      steps.append(f"{target} {point} killed")
      nxt = points[i + 1] if i + 1 < len(points) else None
      saved = None
      if target == "chief":
        latest = tf.train.latest_checkpoint(model_dir)
        saved = int(tf.train.load_variable(latest, "global_step"))
      tasks[target] = start(target, nxt)
      # A chief whose checkpoint already reached max_steps returns at once,
      # without a session; any other must begin where the checkpoint is.
      if saved is not None and saved < CLUSTER_MAX_STEPS:
        try:
          created = int(tasks[target].wait_for_line(
              lambda line: line.startswith("CREATED"),
              timeout=TIMEOUT).split()[1])
        except AssertionError as e:  # it ended before its session began
          problems.append(f"restarted chief: {e}")
          continue
        if created != saved:
          problems.append(f"restarted chief began at {created}, the last "
                          f"checkpoint holds {saved}")
    results = {task: t.result(timeout=TIMEOUT) for task, t in tasks.items()}
  finally:
    for t in tasks.values():
      if t.proc.poll() is None:
        t.kill()
  for task, (code, _) in results.items():
    if code != 0:
      problems.append(f"{task} exit {code}")
  latest = tf.train.latest_checkpoint(model_dir)
  final = int(tf.train.load_variable(latest, "global_step")) if latest else -1
  if final < CLUSTER_MAX_STEPS:
    problems.append(f"final checkpoint at {final} < {CLUSTER_MAX_STEPS}")
  evaluated = (results["evaluator"][1] or {}).get("result") or {}
  if evaluated.get("global_step") != int(latest.rsplit("-", 1)[1]):
    problems.append(f"evaluator's last result is of step "
                    f"{evaluated.get('global_step')}, not {latest}")
  record.state_ok = not problems
  record.note = ", ".join(steps) + "; " + ("; ".join(problems) or
                                           "state as expected")
  if record.survived:
    shutil.rmtree(run_root, ignore_errors=True)
  else:
    record.kept = run_root
  return record


# ------------------------------------------------------------ the suite
def kill_runs(count, rng, root, names):
  """Runs chains until each path made its share of `count` kills."""
  every = [n for n in [p.name for p in PATHS] + [CLUSTER] if n in names]
  share = {name: count // len(every) + (i < count % len(every))
           for i, name in enumerate(every)}
  records, broken = [], []
  for name in every:
    if not share[name]:
      continue
    started = time.monotonic()
    path = next((p for p in PATHS if p.name == name), None)
    try:
      reference = _reference(path, root) if path else None
    except RuntimeError as e:
      print(f"  {name:24s} no reference: {e}", flush=True)
      broken.append(name)
      continue
    made = attempts = 0
    while made < share[name] and attempts < 3 * share[name] + 3:
      attempts += 1
      n = rng.randint(1, min(3, share[name] - made))
      if path:
        record = _chain(path, _draw(rng, path, n), reference, root)
      else:
        target = rng.choice(("chief", "evaluator"))
        phases = ("step", "save") if target == "chief" else ("eval",)
        draw = Path(CLUSTER, phases, CLUSTER_MAX_STEPS, None, None)
        record = _cluster_chain(_draw(rng, draw, n), target, root)
      made += record.kills
      records.append(record)
      print(f"  {name:24s} {record.note}"
            + (f"  [kept: {record.kept}]" if record.kept else ""),
            flush=True)
    print(f"  {name:24s} ({time.monotonic() - started:.0f} s)", flush=True)
  return records, broken


def bad_input_runs(root):
  os.makedirs(root, exist_ok=True)
  outcomes = errors_table.run_all(root)
  for o in outcomes:
    caught = o.raised == o.case.raises and not o.stepped
    if not (caught and o.untouched):
      print(f"  bad input: {o.case.what}: {o.raised} (declared "
            f"{o.case.raises}), step ran: {o.stepped}, model_dir "
            f"untouched: {o.untouched}", flush=True)
  return outcomes


def report(records, broken, outcomes, count, seed):
  print(f"\nReliability figures (seed {seed}, --count={count}):")
  print(f"  {'path':24s} {'runs':>4s} {'kills':>5s} {'survived':>9s} "
        f"{'state ok':>9s} {'bit-exact':>9s}")
  by_path = collections.OrderedDict()
  for r in records:
    by_path.setdefault(r.path, []).append(r)
  for name, rs in by_path.items():
    kills = sum(r.kills for r in rs)
    survived = sum(r.kills for r in rs if r.survived)
    exact = [r for r in rs if r.exact is not None]
    print(f"  {name:24s} {len(rs):4d} {kills:5d} {survived:4d}/{kills:<4d} "
          f"{sum(r.state_ok for r in rs):4d}/{len(rs):<4d} "
          + (f"{sum(r.exact for r in exact):4d}/{len(exact):<4d}"
             if exact else "  (state)"))
  kills = sum(r.kills for r in records)
  survived = sum(r.kills for r in records if r.survived)
  figures = [(survived, kills), (0, len(broken))]
  if broken:
    print(f"paths without a reproducible reference: {', '.join(broken)}")
  print(f"kills survived {survived}/{kills} (resumed run equal to the "
        "uninterrupted one: bit-exact on every path but the cluster, state "
        "there)")
  if outcomes is not None:
    n = len(outcomes)
    caught = sum(o.raised == o.case.raises and not o.stepped
                 for o in outcomes)
    untouched = sum(o.untouched for o in outcomes)
    figures += [(caught, n), (untouched, n)]
    print(f"bad inputs caught {caught}/{n} before any step")
    print(f"model_dirs untouched {untouched}/{n}")
  return all(a == b for a, b in figures)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--count", type=int, default=36,
                      help="SIGKILLs in all (spread over the six paths)")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--paths", default="",
                      help="comma-separated path names to run (default all)")
  parser.add_argument("--no-bad-inputs", action="store_true")
  args = parser.parse_args(argv)
  names = ([n.strip() for n in args.paths.split(",")] if args.paths else
           [p.name for p in PATHS] + [CLUSTER])
  root = tempfile.mkdtemp(prefix="estweight-reliability-")
  rng = random.Random(args.seed)
  print(f"Kills ({args.count}, seed {args.seed}); work in {root}",
        flush=True)
  records, broken = kill_runs(args.count, rng, root, names)
  outcomes = None
  if not args.no_bad_inputs:
    print("Bad inputs (docs/errors.md)", flush=True)
    outcomes = bad_input_runs(os.path.join(root, "bad_inputs"))
  ok = report(records, broken, outcomes, args.count, args.seed)
  if ok:
    shutil.rmtree(root, ignore_errors=True)
  return 0 if ok else 1


if __name__ == "__main__":
  sys.exit(main())
