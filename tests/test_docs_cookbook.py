"""The cookbook's code runs as written (and the porting guide's).

Each page of docs/cookbook/ (and docs/porting.md) is one test: its ```python blocks run in order in
one namespace (as a reader would paste them), in a fresh directory, and so
do the `estweight ...` lines of its ```bash blocks (through the command
line's own entry point, in-process; a non-zero exit fails). A page holding
`<!-- cookbook: slow -->` is marked slow (`make test-slow`).
"""
import os
import re
import shlex
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
COOKBOOK = os.path.join(DOCS, "cookbook")
OTHER_PAGES = ("porting.md",)  # pages outside the cookbook whose code runs
SLOW_MARK = "<!-- cookbook: slow -->"
_FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```\s*$", re.S | re.M)


def pages():
  """Cookbook pages (their recipes), as paths relative to docs/cookbook."""
  return sorted(name for name in os.listdir(COOKBOOK)
                if name.endswith(".md") and name != "index.md")


def blocks(text):
  """[(language, code)] of a page's fenced blocks, in order."""
  return [(lang, code) for lang, code in _FENCE.findall(text)
          if lang in ("python", "bash")]


def _read(name):
  with open(os.path.join(COOKBOOK, name)) as f:
    return f.read()


def _params():
  for name in pages() + [f"../{page}" for page in OTHER_PAGES]:
    marks = [pytest.mark.slow] if SLOW_MARK in _read(name) else []
    yield pytest.param(name, marks=marks, id=os.path.basename(name)[:-3])


def _run_commands(code, where):
  from estweight.cli import app  # pylint: disable=g-import-not-at-top
  for line in code.replace("\\\n", " ").splitlines():
    line = line.strip()
    if not line.startswith("estweight "):
      continue
    argv = shlex.split(line.split(" #")[0])
    assert app.run(argv) == 0, f"{where}: `{line}` failed"


@pytest.mark.parametrize("name", list(_params()))
def test_cookbook_page_runs(name, tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  namespace = {"__name__": "cookbook"}
  for i, (lang, code) in enumerate(blocks(_read(name)), start=1):
    where = f"{os.path.normpath(os.path.join('docs/cookbook', name))}, block {i}"
    if lang == "bash":
      _run_commands(code, where)
    else:
      exec(compile(code, where, "exec"), namespace)  # pylint: disable=exec-used


def test_every_public_name_has_an_api_entry_and_a_docstring():
  """What `make docs` checks too (docs/hooks/api_coverage.py), here so that
  `make test` reports a new public name without an entry or docstring."""
  sys.path.insert(0, os.path.join(DOCS, "hooks"))
  try:
    import api_coverage  # pylint: disable=g-import-not-at-top
  finally:
    sys.path.pop(0)
  problems, missing = api_coverage.check()
  assert not problems, "\n".join(problems)
  assert not missing, "missing docstrings:\n" + "\n".join(missing)


def test_every_recipe_page_has_code_and_is_in_the_index():
  index = _read("index.md")
  for name in pages():
    assert any(lang == "python" for lang, _ in blocks(_read(name))) or (
        any(lang == "bash" for lang, _ in blocks(_read(name)))), name
    assert f"({name})" in index, f"{name} is not linked from the index"
