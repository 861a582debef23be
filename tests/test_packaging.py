"""The built distributions: sdist and wheel, and the wheel installed.

The wheel is built from a copy of the sources (the work tree is left alone)
without build isolation, and installed with --no-deps into a new venv that
sees this interpreter's site-packages through a .pth line, so the check is
offline and takes seconds: the installed `estweight` command and
`estweight.compat.install()` run from that venv, not from the repository.
`make matrix` runs it on every supported Python and TensorFlow; installing
with the `tensorflow` extra from the registry is `make dist`'s manual check
(see tools/matrix.py).
"""
import configparser
import email
import glob
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = ("estweight", "configs", "setup.py", "setup.cfg", "pyproject.toml",
           "MANIFEST.in", "README.md")
CONFIGS = sorted(os.path.basename(p)
                 for p in glob.glob(os.path.join(ROOT, "configs", "*.py")))


def _run(cmd, **kwargs):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  env.pop("PYTHONPATH", None)
  out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, env=env, **kwargs)
  assert out.returncode == 0, f"{cmd} exited {out.returncode}:\n{out.stdout}"
  return out.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
  """{'wheel': path, 'sdist': path or None} built from a copy of the tree."""
  src = tmp_path_factory.mktemp("src")
  for name in SOURCES:
    path = os.path.join(ROOT, name)
    if os.path.isdir(path):
      shutil.copytree(path, src / name, ignore=shutil.ignore_patterns(
          "__pycache__", "*.pyc"))
    else:
      shutil.copy(path, src / name)
  out = tmp_path_factory.mktemp("dist")
  if importlib.util.find_spec("build"):
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir",
          str(out), str(src)])
  else:  # requirements/dev.txt brings `build`; pip alone makes the wheel.
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps",
          "--no-build-isolation", "-w", str(out), str(src)])
  wheels = glob.glob(str(out / "*.whl"))
  sdists = glob.glob(str(out / "*.tar.gz"))
  assert len(wheels) == 1, os.listdir(out)
  return {"wheel": wheels[0], "sdist": sdists[0] if sdists else None}


@pytest.fixture(scope="module")
def installed(dist, tmp_path_factory):
  """bin/ of a new venv with the wheel installed (--no-deps)."""
  env_dir = tmp_path_factory.mktemp("venv")
  venv.EnvBuilder(with_pip=False).create(env_dir)
  python = os.path.join(env_dir, "bin", "python")
  site = _run([python, "-c", "import sysconfig; "
               "print(sysconfig.get_paths()['purelib'])"]).strip()
  # TensorFlow and the rest come from this interpreter's site-packages, as
  # a site dir after the venv's own (its .pth files matter: TensorFlow 2.16
  # on Python 3.12 needs setuptools' distutils shim). An editable estweight
  # there only adds a fallback finder: the wheel's copy is found first.
  ours = sorted({sysconfig.get_paths()["purelib"],
                 sysconfig.get_paths()["platlib"]})
  with open(os.path.join(site, "_outer_site.pth"), "w") as f:
    # (map, not a comprehension: before 3.12 one has its own scope, which
    # cannot see the `site` that this line's exec binds.)
    f.write(f"import site; list(map(site.addsitedir, {ours!r}))\n")
  _run([sys.executable, "-m", "pip", "--python", python, "install",
        "--quiet", "--no-deps", "--no-index", dist["wheel"]])
  return os.path.join(env_dir, "bin")


def test_wheel_metadata_states_the_tested_range(dist):
  with zipfile.ZipFile(dist["wheel"]) as whl:
    name = next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))
    meta = email.message_from_bytes(whl.read(name))
  assert meta["Requires-Python"] in (">=3.10,<3.14", "<3.14,>=3.10")
  requires = meta.get_all("Requires-Dist")
  tf_extra = sorted(r.split(";")[0].replace(" ", "") for r in requires
                    if 'extra == "tensorflow"' in r)
  assert tf_extra == ["tensorboard", "tensorflow<2.22,>=2.16",
                      "tf-keras<2.22,>=2.16"]
  for extra, package in (("examples", "scikit-learn"), ("plots", "matplotlib"),
                         ("pandas", "pandas"), ("tensorboard", "tensorboard")):
    assert f'{package}; extra == "{extra}"' in requires
  classifiers = meta.get_all("Classifier")
  assert [c.rsplit(" ", 1)[-1] for c in classifiers
          if c.startswith("Programming Language :: Python :: 3.")] == [
              "3.10", "3.11", "3.12", "3.13"]


def _versions_module():
  """estweight/_versions.py, loaded without importing TensorFlow."""
  spec = importlib.util.spec_from_file_location(
      "_estweight_versions", os.path.join(ROOT, "estweight", "_versions.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def test_setup_cfg_bounds_match_the_version_check():
  _versions = _versions_module()
  cfg = configparser.ConfigParser()
  cfg.read(os.path.join(ROOT, "setup.cfg"))
  bound = ">=%d.%d,<%d.%d" % (_versions.OLDEST_TF + (
      _versions.NEWEST_TF[0], _versions.NEWEST_TF[1] + 1))
  assert f"tensorflow{bound}" in cfg["options.extras_require"]["tensorflow"]


def test_wheel_ships_the_example_configs(dist):
  with zipfile.ZipFile(dist["wheel"]) as whl:
    shipped = sorted(os.path.basename(n) for n in whl.namelist()
                     if n.startswith("estweight/configs/"))
  assert CONFIGS and shipped == CONFIGS


def test_sdist_builds_the_same_wheel_and_passes_twine_check(dist):
  if dist["sdist"] is None or not importlib.util.find_spec("twine"):
    pytest.skip("needs `build` and `twine` (requirements/dev.txt)")
  with tarfile.open(dist["sdist"]) as sdist:
    names = sdist.getnames()
  assert any(n.endswith("/configs/" + CONFIGS[0]) for n in names)
  assert not any("/tests/" in n for n in names)
  _run([sys.executable, "-m", "twine", "check", "--strict", dist["sdist"],
        dist["wheel"]])


def test_installed_estweight_command_answers_help(installed, tmp_path):
  out = _run([os.path.join(installed, "estweight"), "--help"], cwd=tmp_path)
  assert "train" in out and "--config" in out


def test_installed_package_installs_tf_estimator_and_has_configs(
    installed, tmp_path):
  code = """
import importlib.resources, os, sys
import estweight, tensorflow as tf
assert os.path.dirname(estweight.__file__).startswith(sys.prefix), estweight.__file__
estweight.compat.install()
assert tf.estimator.Estimator is estweight.Estimator
assert tf.compat.v1.layers.dense is estweight.compat.v1.layers.dense
print(sorted(p.name for p in importlib.resources.files("estweight.configs")
             .iterdir() if p.name.endswith(".py")))
"""
  out = _run([os.path.join(installed, "python"), "-c", code], cwd=tmp_path)
  assert out.strip().splitlines()[-1] == repr(CONFIGS)
