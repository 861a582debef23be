"""The version matrix: Python 3.10-3.13 x TensorFlow 2.16-2.21.

    python3 tools/matrix.py                      # every supported cell
    python3 tools/matrix.py --cell 3.12:2.16     # one cell
    python3 tools/matrix.py --suite smoke --no-parity --cell auto   # CI's
    python3 tools/matrix.py --rev HEAD ...       # a commit, not the work tree
    python3 tools/matrix.py --wheel              # the wheel[tensorflow]
    python3 tools/matrix.py --table              # the recorded table

Each cell gets its own venv, `.matrix/py<PY>-tf<TF>/` (rebuilt when the pins
or requirements/dev.txt change; estweight reinstalled when setup.cfg,
setup.py, pyproject.toml or MANIFEST.in do): the small CPU wheel
`tensorflow-cpu`, its matching `tf-keras` (with --no-deps, as in
requirements/no-deps.txt), requirements/dev.txt and estweight itself
(editable, --no-deps). About 1.7 GB each. Then, in that venv: `import
estweight`, the tests (`--suite fast`: make test's whole fast suite;
`reduced`: REDUCED below; `smoke`: SMOKE below) and, with `--parity` (the
default), `make parity` (needs .oracle-venv, which make builds on first use).

`--wheel` builds the wheel and installs it with the `tensorflow` extra from
the registry into a fresh venv of each Python (removed afterwards), where
`estweight --help`, `estweight.compat.install()` and seed 000's program
must work.

Results go to .matrix/results.json, one entry per cell, kept across runs,
and the whole table is printed (markdown) at the end. Exit status 1 when a
cell that ran failed. Only the standard library is used, so any python3
runs this.
"""
import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MATRIX_DIR = os.path.join(ROOT, ".matrix")
RESULTS = os.path.join(MATRIX_DIR, "results.json")

PYTHONS = ("3.10", "3.11", "3.12", "3.13")

# TensorFlow minor -> (tensorflow-cpu, tf-keras): the newest patch release
# of each, and the Pythons the registry has Linux x86_64 wheels of
# tensorflow-cpu for (checked 2026-12 with
# `pip index versions tensorflow-cpu --python-version X --only-binary=:all:`;
# tf-keras is a pure-Python wheel and exists for all four).
TENSORFLOWS = {
    "2.16": ("2.16.2", "2.16.0", ("3.10", "3.11", "3.12")),
    "2.17": ("2.17.1", "2.17.0", ("3.10", "3.11", "3.12")),
    "2.18": ("2.18.1", "2.18.0", ("3.10", "3.11", "3.12")),
    "2.19": ("2.19.1", "2.19.0", ("3.10", "3.11", "3.12")),
    "2.20": ("2.20.0", "2.20.1", ("3.10", "3.11", "3.12", "3.13")),
    "2.21": ("2.21.0", "2.21.0", ("3.10", "3.11", "3.12", "3.13")),
}

# The fast tests most likely to break across versions: graph/session
# machinery, the canned estimators against tf.estimator 2.15's numbers, the
# reference probes, install(), and the wheel (a few minutes on 2 cores).
REDUCED = (
    "tests/test_parity.py",
    "tests/test_estimator_train.py",
    "tests/test_estimator_evaluate.py",
    "tests/test_estimator_predict.py",
    "tests/test_estimator_errors.py",
    "tests/test_runtime_loops.py",
    "tests/test_probes.py",
    "tests/test_install.py",
    "tests/test_packaging.py",
    "tests/test_versions.py",
    "tests/test_versions_compat.py",
)

# `--suite smoke`: the fewest files that still exercise what differed
# between releases so far (seeded Keras initialisers, golden numbers, the
# wheel); what CI's extra cell runs (a few minutes, venv included).
SMOKE = (
    "tests/test_parity.py",
    "tests/test_estimator_train.py",
    "tests/test_install.py",
    "tests/test_packaging.py",
    "tests/test_versions.py",
    "tests/test_versions_compat.py",
)
SUITES = {"fast": (), "reduced": REDUCED, "smoke": SMOKE}

# Hashed into each venv's stamp: when one of DEPS changes, the venv is
# rebuilt; when one of PACKAGE changes, estweight is reinstalled in it.
DEPS = ("requirements/dev.txt",)
PACKAGE = ("setup.cfg", "setup.py", "pyproject.toml", "MANIFEST.in")


def cell_name(py, tf):
  return f"py{py}-tf{tf}"


def find_python(version):
  """The interpreter for `version` ('3.12'): pyenv's, else one on PATH."""
  root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
  candidates = sorted(
      glob.glob(os.path.join(root, "versions", f"{version}.*", "bin",
                             f"python{version}")), reverse=True)
  on_path = shutil.which(f"python{version}")
  if on_path:
    candidates.append(on_path)
  for exe in candidates:
    try:
      out = subprocess.run([exe, "-c", "import sys, venv; print('%d.%d' % "
                            "sys.version_info[:2])"], capture_output=True,
                           text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
      continue
    if out.returncode == 0 and out.stdout.strip() == version:
      return exe
  return None


def digest_of(paths):
  digest = hashlib.sha256()
  for path in paths:
    full = os.path.join(ROOT, path)
    if os.path.exists(full):
      with open(full, "rb") as f:
        digest.update(f.read())
  return digest.hexdigest()


def stamp_of(py, tf):
  tf_pin, keras_pin, _ = TENSORFLOWS[tf]
  return {"python": py, "tensorflow-cpu": tf_pin, "tf-keras": keras_pin,
          "deps": digest_of(DEPS)}


def run(cmd, log, env=None, cwd=ROOT):
  """Runs `cmd`, appending its output to `log`; returns (rc, output)."""
  with open(log, "a") as f:  # written as it runs: `tail -f` shows progress
    f.write(f"\n$ {' '.join(cmd)}\n")
    f.flush()
    begin = f.tell()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=f,
                          stderr=subprocess.STDOUT)
  with open(log) as f:
    f.seek(begin)
    return proc.returncode, f.read()


def build_venv(py, tf, venv, log):
  """Creates or reuses the cell's venv. Returns None, or why it failed."""
  stamp_file = os.path.join(venv, ".cell.json")
  package_stamp = os.path.join(venv, ".package")
  want = stamp_of(py, tf)
  pip = [os.path.join(venv, "bin", "python"), "-m", "pip", "install",
         "--disable-pip-version-check", "--quiet"]
  editable = pip + ["--no-deps", "-e", "."]
  if os.path.exists(stamp_file):
    with open(stamp_file) as f:
      if json.load(f) == want:
        with open(package_stamp) as g:
          if g.read() == digest_of(PACKAGE):
            return None
        if run(editable, log)[0]:
          return f"install failed: {' '.join(editable[3:])} (see {log})"
        with open(package_stamp, "w") as g:
          g.write(digest_of(PACKAGE))
        return None
  exe = find_python(py)
  if exe is None:
    return f"no Python {py} interpreter found (pyenv or python{py} on PATH)"
  if os.path.exists(venv):
    shutil.rmtree(venv)
  rc, _ = run([exe, "-m", "venv", venv], log)
  if rc:
    return "venv creation failed"
  tf_pin, keras_pin, _ = TENSORFLOWS[tf]
  steps = (
      pip + ["--upgrade", "pip"],
      pip + [f"tensorflow-cpu=={tf_pin}", "-r", "requirements/dev.txt"],
      pip + ["--no-deps", f"tf-keras=={keras_pin}"],
      editable,
  )
  for cmd in steps:
    rc, out = run(cmd, log)
    if rc:
      if "No matching distribution" in out:
        return "n/a: " + out.strip().splitlines()[-1][:200]
      return f"install failed: {' '.join(cmd[3:])} (see {log})"
  # `make parity VENV=<venv> REQS=` takes this as an up-to-date venv.
  open(os.path.join(venv, ".installed"), "w").close()
  with open(stamp_file, "w") as f:
    json.dump(want, f)
  with open(package_stamp, "w") as f:
    f.write(digest_of(PACKAGE))
  return None


def pytest_counts(output):
  """'12 passed, 1 failed in 3.2s' -> {'passed': 12, 'failed': 1}."""
  counts = {}
  for line in output.splitlines()[::-1]:
    if re.search(r"\b(passed|failed|error|errors|no tests ran)\b", line) and (
        " in " in line):
      for n, what in re.findall(r"(\d+) (\w+)", line):
        counts[what.rstrip("s") if what == "errors" else what] = int(n)
      break
  return counts


def snapshot(rev):
  """The tree of commit `rev`, extracted under .matrix/ (tests run there).

  The work tree is shared with work in progress; a commit is what a result
  can be pinned to. Returns (directory, full sha).
  """
  sha = subprocess.run(["git", "-C", ROOT, "rev-parse", rev], check=True,
                       capture_output=True, text=True).stdout.strip()
  src = os.path.join(MATRIX_DIR, f"src-{sha[:12]}")
  if not os.path.exists(src):
    os.makedirs(src + ".tmp", exist_ok=True)
    archive = subprocess.Popen(["git", "-C", ROOT, "archive", sha],
                               stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", src + ".tmp"], stdin=archive.stdout,
                   check=True)
    if archive.wait():
      raise SystemExit(f"git archive {sha} failed")
    os.replace(src + ".tmp", src)
  return src, sha


def run_cell(py, tf, *, suite, parity, build_only=False, src=ROOT, rev=None):
  """Builds and tests one cell; returns its result entry."""
  name = cell_name(py, tf)
  tf_pin, keras_pin, pythons = TENSORFLOWS[tf]
  entry = {"python": py, "tf": tf, "tensorflow-cpu": tf_pin,
           "tf-keras": keras_pin, "suite": suite, "parity": parity,
           "date": time.strftime("%Y-%m-%d")}
  if py not in pythons:
    entry.update(status="n/a", detail=f"no tensorflow-cpu {tf_pin} wheel "
                 f"for Python {py} in the registry")
    return entry
  os.makedirs(MATRIX_DIR, exist_ok=True)
  venv = os.path.join(MATRIX_DIR, name)
  log = os.path.join(MATRIX_DIR, name + ".log")
  open(log, "w").close()
  start = time.time()
  print(f"[{name}] venv ...", flush=True)
  why = build_venv(py, tf, venv, log)
  entry["venv_s"] = round(time.time() - start)
  if why:
    entry.update(status="n/a" if why.startswith("n/a") else "fail",
                 detail=why)
    return entry
  if build_only:
    entry.update(status="built")
    return entry
  python = os.path.join(venv, "bin", "python")
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  env.pop("PYTHONPATH", None)
  if src != ROOT:  # a snapshot: its estweight before the editable one
    env["PYTHONPATH"] = src
    entry["rev"] = rev
  rc, out = run([python, "-c", "import estweight, tensorflow as tf, "
                 "tf_keras, numpy; print(tf.__version__, tf_keras.__version__,"
                 " numpy.__version__)"], log, env=env, cwd=src)
  if rc:
    entry.update(status="fail", detail="import estweight: " +
                 out.strip().splitlines()[-1][:300])
    return entry
  entry["versions"] = out.strip().splitlines()[-1]
  print(f"[{name}] {entry['versions']}; tests ({suite}) ...", flush=True)
  t0 = time.time()
  tests = [t for t in SUITES[suite] if os.path.exists(os.path.join(src, t))]
  rc, out = run([python, "-m", "pytest", "-q", "-m", "not slow",
                 "--durations=10", "-p", "no:cacheprovider", *tests], log,
                env=env, cwd=src)
  entry["tests_s"] = round(time.time() - t0)
  entry["tests"] = pytest_counts(out)
  entry["failed_tests"] = re.findall(r"^(?:FAILED|ERROR) (\S+)", out,
                                     re.MULTILINE)[:20]
  ok = rc == 0
  if parity:
    print(f"[{name}] make parity ...", flush=True)
    t0 = time.time()
    # `make matrix-cell PY=3.12 TF=2.16` would hand PY=3.12 down to this
    # make through MAKEFLAGS: the cell's make gets a clean slate instead.
    make_env = {k: v for k, v in env.items()
                if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    rc, out = run(["make", "--no-print-directory", "parity", f"VENV={venv}",
                   f"PY={venv}/bin/python", "REQS=",
                   f"ORACLE_VENV={os.path.join(ROOT, '.oracle-venv')}"],
                  log, env=make_env, cwd=src)
    entry["parity_s"] = round(time.time() - t0)
    entry["parity_ok"] = rc == 0
    agree = re.findall(r"oracle reproduces .*", out)
    entry["parity_detail"] = agree[-1] if agree else ""
    ok = ok and rc == 0
  entry["status"] = "pass" if ok else "fail"
  entry["total_s"] = round(time.time() - start)
  return entry


def check_wheel(py, wheel):
  """A fresh venv of Python `py` with `<wheel>[tensorflow]` from the registry.

  Returns the result entry: `estweight --help`, `install()` and seed 000's
  weighted custom model_fn (examples/seeds, 50 steps) must work from that
  venv (run outside the repository).
  """
  name = f"wheel-py{py}"
  venv = os.path.join(MATRIX_DIR, name)
  log = os.path.join(MATRIX_DIR, name + ".log")
  open(log, "w").close()
  entry = {"python": py, "wheel": os.path.basename(wheel),
           "date": time.strftime("%Y-%m-%d")}
  start = time.time()
  exe = find_python(py)
  if exe is None:
    return dict(entry, status="fail", detail=f"no Python {py} found")
  if os.path.exists(venv):
    shutil.rmtree(venv)
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  env.pop("PYTHONPATH", None)
  python = os.path.join(venv, "bin", "python")
  steps = (
      [exe, "-m", "venv", venv],
      [python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
      [python, "-m", "pip", "install", "--quiet", f"{wheel}[tensorflow]"],
      [os.path.join(venv, "bin", "estweight"), "--help"],
      [python, "-c", "import estweight, tensorflow as tf, tensorboard; "
       "estweight.compat.install(); "
       "assert tf.estimator.Estimator is estweight.Estimator; "
       "print(tf.__version__, estweight.__file__)"],
      [python, os.path.join(ROOT, "examples", "seeds",
                            "seed000_custom_weighted.py"), "--steps=50"],
  )
  last_lines = []
  for cmd in steps:
    rc, out = run(cmd, log, env=env, cwd=MATRIX_DIR)
    last_lines.append((out.strip().splitlines() or [""])[-1])
    if rc:
      return dict(entry, status="fail", total_s=round(time.time() - start),
                  detail=f"{os.path.basename(cmd[0])} {' '.join(cmd[1:3])}: "
                  + last_lines[-1][:200])
  entry["versions"], entry["seed"] = last_lines[-2:]
  shutil.rmtree(venv)  # 2-3 GB each (the full tensorflow wheel)
  return dict(entry, status="pass", total_s=round(time.time() - start))


def wheel_checks(pythons):
  """Builds the wheel (python -m build) and checks it on each Python."""
  dist = os.path.join(MATRIX_DIR, "dist")
  if os.path.exists(dist):
    shutil.rmtree(dist)
  builder = os.path.join(ROOT, ".venv", "bin", "python")
  rc, out = run([builder, "-m", "build", "--wheel", "--outdir", dist, ROOT],
                os.path.join(MATRIX_DIR, "wheel-build.log"))
  if rc:
    print(out)
    return 1
  wheel = glob.glob(os.path.join(dist, "*.whl"))[0]
  failed = False
  for py in pythons:
    print(f"[wheel-py{py}] {os.path.basename(wheel)}[tensorflow] ...",
          flush=True)
    entry = check_wheel(py, wheel)
    failed |= entry["status"] != "pass"
    print(f"[wheel-py{py}] {entry['status']} {entry.get('versions', '')} "
          f"{entry.get('detail', '')} ({entry['total_s']} s)", flush=True)
  return 1 if failed else 0


def load_results():
  if os.path.exists(RESULTS):
    with open(RESULTS) as f:
      return json.load(f)
  return {}


def table(results):
  """The markdown table of every cell, tried or not."""
  header = ("| Python | TF (tensorflow-cpu / tf-keras) | result | tests | "
            "parity | venv / tests / parity (s) |")
  lines = [header, "|---|---|---|---|---|---|"]
  for tf in TENSORFLOWS:
    for py in PYTHONS:
      e = results.get(cell_name(py, tf))
      pins = "%s / %s" % TENSORFLOWS[tf][:2]
      if e is None and py not in TENSORFLOWS[tf][2]:
        e = {"status": "n/a", "detail": f"no tensorflow-cpu {tf} wheel for "
             f"Python {py}"}
      if e is None:
        lines.append(f"| {py} | {pins} | not run | | | |")
        continue
      tests = ", ".join(f"{v} {k}" for k, v in e.get("tests", {}).items())
      if e.get("tests"):
        tests = f"{tests} ({e['suite']})"
      if e.get("failed_tests"):
        tests += ": " + " ".join(e["failed_tests"][:5])
      parity = ""
      if "parity_ok" in e:
        parity = "ok" if e["parity_ok"] else "FAIL"
      times = " / ".join(str(e.get(k, "-")) for k in
                         ("venv_s", "tests_s", "parity_s"))
      status = e["status"]
      if e.get("detail"):
        status += f" ({e['detail']})"
      if e.get("rev"):
        status += f" @{e['rev'][:7]}"
      lines.append(f"| {py} | {pins} | {status} | {tests} | {parity} | "
                   f"{times} |")
  return "\n".join(lines)


# The cell `make test` (.venv, requirements/cpu.txt) already covers.
DEFAULT_CELL = ("3.11", "2.21")


def rotation_cell(today=None):
  """`--cell auto`: one supported cell besides the default, by ISO week.

  CI runs this one extra cell per run; every supported cell comes round
  within len(cells) weeks, and a whole week's runs test the same one.
  """
  cells = [(py, tf) for tf in TENSORFLOWS for py in PYTHONS
           if py in TENSORFLOWS[tf][2] and (py, tf) != DEFAULT_CELL]
  week = (today or time.localtime()).tm_yday // 7
  return cells[week % len(cells)]


def parse_cells(specs):
  cells = []
  for spec in specs:
    if spec == "auto":
      cells.append(rotation_cell())
      print("--cell auto: py%s-tf%s (this week's cell)" % cells[-1])
      continue
    py, sep, tf = spec.partition(":")
    if not sep or py not in PYTHONS or tf not in TENSORFLOWS:
      raise SystemExit(f"`--cell` must be PY:TF with PY in {PYTHONS} and TF "
                       f"in {tuple(TENSORFLOWS)}, or auto. Received: "
                       f"--cell={spec!r}. (make matrix-cell PY=3.12 TF=2.16)")
    cells.append((py, tf))
  return cells


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--cell", action="append", default=[],
                      help="PY:TF (or `auto`: this week's CI cell), "
                      "repeatable; default: every cell")
  parser.add_argument("--suite", choices=tuple(SUITES), default="fast",
                      help="fast: make test's suite; reduced: REDUCED; "
                      "smoke: SMOKE (see the top of this file)")
  parser.add_argument("--rev", default=None,
                      help="test this commit (extracted under .matrix/) "
                      "instead of the work tree")
  parser.add_argument("--parity", action=argparse.BooleanOptionalAction,
                      default=True, help="also run `make parity` in the cell")
  parser.add_argument("--build-only", action="store_true",
                      help="only create or update the cells' venvs")
  parser.add_argument("--wheel", action="store_true",
                      help="instead: build the wheel, install it with the "
                      "tensorflow extra from the registry into a fresh venv "
                      "of each Python (--cell PY: only that one), run "
                      "`estweight --help`, install() and seed 000")
  parser.add_argument("--table", action="store_true",
                      help="only print the recorded table")
  args = parser.parse_args(argv)
  if args.wheel:
    os.makedirs(MATRIX_DIR, exist_ok=True)
    return wheel_checks([c.split(":")[0] for c in args.cell] or PYTHONS)
  results = load_results()
  if args.table:
    print(table(results))
    return 0
  cells = parse_cells(args.cell) or [
      (py, tf) for tf in TENSORFLOWS for py in PYTHONS]
  src, rev = ROOT, None
  if args.rev:
    os.makedirs(MATRIX_DIR, exist_ok=True)
    src, rev = snapshot(args.rev)
  failed = False
  for py, tf in cells:
    entry = run_cell(py, tf, suite=args.suite, parity=args.parity,
                     build_only=args.build_only, src=src, rev=rev)
    failed |= entry["status"] == "fail"
    print(f"[{cell_name(py, tf)}] {entry['status']} "
          f"{entry.get('detail', '')}".rstrip(), flush=True)
    if args.build_only:
      continue
    results = load_results()  # another run may have added cells meanwhile
    results[cell_name(py, tf)] = entry
    os.makedirs(MATRIX_DIR, exist_ok=True)
    with open(RESULTS + ".tmp", "w") as f:
      json.dump(results, f, indent=1, sort_keys=True)
    os.replace(RESULTS + ".tmp", RESULTS)
  print(table(results))
  return 1 if failed else 0


if __name__ == "__main__":
  sys.exit(main())
