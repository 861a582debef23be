"""The TensorFlow version check at `import estweight` (estweight/_versions.py).

The import checks run in fresh interpreters against a stand-in `tensorflow`
package that only has a `__version__`, so they take well under a second.
"""
import importlib.util
import os
import subprocess
import sys
import warnings

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _versions():
  spec = importlib.util.spec_from_file_location(
      "_estweight_versions", os.path.join(ROOT, "estweight", "_versions.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


@pytest.mark.parametrize("version", ["2.16.0", "2.16.2", "2.19.1", "2.21.0",
                                     "2.21.0-rc1"])
def test_tested_releases_pass(version):
  _versions().check_tensorflow(version)


@pytest.mark.parametrize("version", ["2.15.1", "2.12.0", "1.15.5"])
def test_older_tensorflow_raises_naming_version_and_range(version):
  with pytest.raises(ImportError) as e:
    _versions().check_tensorflow(version, where="/site/tensorflow")
  message = str(e.value)
  assert f"installed TensorFlow is {version} at /site/tensorflow" in message
  assert "supports TensorFlow 2.16 to 2.21" in message
  assert "ESTWEIGHT_ALLOW_UNTESTED_TF" not in message


def test_newer_tensorflow_raises_unless_allowed(monkeypatch):
  versions = _versions()
  monkeypatch.delenv(versions.ALLOW_UNTESTED_ENV, raising=False)
  with pytest.raises(ImportError, match="2.22.0.*ESTWEIGHT_ALLOW_UNTESTED_TF"):
    versions.check_tensorflow("2.22.0")
  monkeypatch.setenv(versions.ALLOW_UNTESTED_ENV, "1")
  with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    versions.check_tensorflow("2.22.0")
  assert "newer than the releases" in str(caught[0].message)


def _run_with_fake(tmp_path, code, *, module=False, dist=False):
  if module:  # a tensorflow module of the wrong release, without metadata
    (tmp_path / "tensorflow").mkdir()
    (tmp_path / "tensorflow" / "__init__.py").write_text(
        '__version__ = "2.15.1"\n')
  if dist:  # installed-distribution metadata of the wrong release
    info = tmp_path / "tensorflow-2.15.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: tensorflow\nVersion: 2.15.1\n")
  env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), ROOT]))
  env.pop("ESTWEIGHT_ALLOW_UNTESTED_TF", None)
  out = subprocess.run([sys.executable, "-c", code],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, env=env, cwd=tmp_path, check=False)
  return out.returncode, out.stdout.strip().splitlines()[-1], out.stdout


def test_import_estweight_with_unsupported_tensorflow_is_one_clear_error(
    tmp_path):
  # `import estweight` does not import TensorFlow (the CLI answers without
  # it); the installed distribution's release is checked from its metadata.
  code, last, out = _run_with_fake(tmp_path, "import estweight", dist=True)
  assert code == 1
  assert last.startswith("ImportError: estweight supports TensorFlow 2.16 to "
                         "2.21; the installed TensorFlow is 2.15.1 at the "
                         "tensorflow distribution."), out


def test_first_use_with_an_unsupported_tensorflow_module_is_one_clear_error(
    tmp_path):
  code, last, out = _run_with_fake(
      tmp_path, "import estweight; estweight.Estimator", module=True)
  assert code == 1
  fake = tmp_path / "tensorflow"
  assert last.startswith("ImportError: estweight supports TensorFlow 2.16 to "
                         "2.21; the installed TensorFlow is 2.15.1 at "
                         f"{fake}."), out
