"""Every public name of estweight has an API-reference entry and a docstring.

Run by the site build (`mkdocs.yml` lists this file under `hooks:`; each
problem is a warning, so `mkdocs build --strict` fails on it) and on its own:

    .venv/bin/python docs/hooks/api_coverage.py   # prints the report

Public names are those of the user-facing namespaces below (`dir()` of each,
lazily loaded names included, minus `_private` names and submodules). A name
is covered when an API page has a `::: dotted.path` directive resolving to
the same object, or names it as `` `namespace.name` `` in a table (how the
pages list the TensorFlow classes estweight re-exports under tf.estimator's
names). A name estweight defines itself needs a docstring, and so does every
public method and property its classes define.
"""
from __future__ import annotations

import importlib
import inspect
import logging
import os
import re
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
# Methods and properties known to lack a docstring, in files the docs do not
# own. The list may only shrink: a name missing from it fails the build, and
# so does a listed name that has a docstring now (drop it from the list).
KNOWN_MISSING = os.path.join(HERE, "missing_docstrings.txt")
DOCS = os.path.dirname(HERE)
API_DIR = os.path.join(DOCS, "api")

# The user-facing namespaces: tf.estimator's (after install(): tf.estimator,
# tf.compat.v1.estimator and its experimental/tpu parts, tf.compat.v1.layers)
# and estweight's own (weights, driver, keras, the hooks module).
NAMESPACES = (
    "estweight",
    "estweight.canned",
    "estweight.compat",
    "estweight.compat.v1",
    "estweight.compat.v1.estimator",
    "estweight.compat.v1.experimental",
    "estweight.compat.v1.layers",
    "estweight.driver",
    "estweight.experimental",
    "estweight.export",
    "estweight.hooks",
    "estweight.inputs",
    "estweight.keras",
    "estweight.tpu",
    "estweight.tpu.experimental",
    "estweight.weights",
)

_DIRECTIVE = re.compile(r"^:::\s+([\w.]+)\s*$", re.M)
_CODE_NAME = re.compile(r"`(estweight(?:\.\w+)+)`")


def public_names():
  """[(namespace, name, object)] for every public name of NAMESPACES."""
  out = []
  for ns in NAMESPACES:
    module = importlib.import_module(ns)
    for name in sorted(dir(module)):
      if name.startswith("_"):
        continue
      value = getattr(module, name)
      if isinstance(value, types.ModuleType):
        continue  # namespaces are checked as namespaces
      if value.__class__.__module__ == "__future__":
        continue  # `from __future__ import annotations`
      out.append((ns, name, value))
  return out


def _resolve(path):
  parts = path.split(".")
  for i in range(len(parts), 0, -1):
    try:
      obj = importlib.import_module(".".join(parts[:i]))
    except ImportError:
      continue
    try:
      for attr in parts[i:]:
        obj = getattr(obj, attr)
    except AttributeError:
      return None
    return obj
  return None


def documented():
  """(ids of objects with a `:::` directive, names written in API pages,
  problems with the pages themselves)."""
  ids, names, problems = set(), set(), []
  for root, _, files in os.walk(API_DIR):
    for fname in sorted(files):
      if not fname.endswith(".md"):
        continue
      with open(os.path.join(root, fname)) as f:
        text = f.read()
      for path in _DIRECTIVE.findall(text):
        obj = _resolve(path)
        if obj is None:
          problems.append(f"api/{fname}: `::: {path}` does not resolve")
        else:
          ids.add(id(obj))
      names.update(_CODE_NAME.findall(text))
  return ids, names, problems


def _own(obj):
  return (getattr(obj, "__module__", None) or "").startswith("estweight")


def _missing_member_docs(cls):
  """Public methods/properties `cls` itself defines without a docstring."""
  missing = []
  for name, member in vars(cls).items():
    if name.startswith("_"):
      continue
    func = member
    if isinstance(member, (staticmethod, classmethod)):
      func = member.__func__
    if not (inspect.isfunction(func) or isinstance(member, property)):
      continue
    if not (func.__doc__ or "").strip():
      missing.append(f"{cls.__module__}.{cls.__qualname__}.{name}")
  return missing


def known_missing():
  """The names listed in missing_docstrings.txt."""
  with open(KNOWN_MISSING) as f:
    return {line.strip() for line in f
            if line.strip() and not line.startswith("#")}


_ARG_LINE = re.compile(
    r"^(\*{0,2}\w+(?:,\s*\*{0,2}\w+)*)(?:\s*\([^)]*\))?:(?:\s|$)")


def documented_args(doc):
  """Argument names of a Google docstring's `Args:` section ("a, b: ..."
  lines give several)."""
  names, indent, inside = [], None, False
  for line in inspect.cleandoc(doc or "").splitlines():
    if line.strip() in ("Args:", "Arguments:"):
      inside = True
      continue
    if not inside or not line.strip():
      continue
    if not line.startswith(" "):
      break  # the next section
    here = len(line) - len(line.lstrip())
    indent = here if indent is None else indent
    if here == indent:
      match = _ARG_LINE.match(line.strip())
      if match:
        names += [n.strip().lstrip("*") for n in match.group(1).split(",")]
  return names


def _signature_params(obj):
  try:
    target = obj
    if inspect.isclass(obj):
      target = obj.__new__ if "__new__" in vars(obj) else obj.__init__
    return set(inspect.signature(target).parameters)
  except (TypeError, ValueError):
    return None


def unknown_args(obj, where):
  """Problems for documented arguments that `obj`'s signature lacks."""
  params = _signature_params(obj)
  if params is None or any(
      p in params for p in ("args", "kwargs")) and not documented_args(
          obj.__doc__):
    return []
  return [f"{where}: docstring documents `{name}`, which is not an argument"
          for name in documented_args(obj.__doc__) if name not in params]


def check():
  """Returns (problems, missing_docstrings): lists of strings."""
  ids, names, problems = documented()
  missing_docs = set()
  for ns in NAMESPACES:
    module = importlib.import_module(ns)
    if not (module.__doc__ or "").strip():
      missing_docs.add(ns)
  # One object is often public under several paths (estweight.Estimator is
  # also estweight.compat.v1.estimator.Estimator): one entry covers them all.
  aliases = {}
  for ns, name, value in public_names():
    aliases.setdefault(id(value), (value, []))[1].append(f"{ns}.{name}")
  for key, (value, paths) in aliases.items():
    if key not in ids and not names.intersection(paths):
      problems.append(f"{' = '.join(paths)} has no entry in docs/api/")
    if not _own(value) or not (inspect.isclass(value) or callable(value)):
      continue
    name = paths[0].rsplit(".", 1)[1]
    where = f"{value.__module__}.{getattr(value, '__qualname__', name)}"
    if not (value.__doc__ or "").strip():
      missing_docs.add(where)
    problems.extend(unknown_args(value, where))
    if inspect.isclass(value):
      for klass in value.__mro__:
        if _own(klass):
          missing_docs.update(_missing_member_docs(klass))
          for attr, member in vars(klass).items():
            if not attr.startswith("_") and inspect.isfunction(member):
              problems.extend(unknown_args(
                  member, f"{klass.__module__}.{klass.__qualname__}.{attr}"))
  known = known_missing()
  for name in sorted(known - missing_docs):
    problems.append(f"{name} has a docstring now: drop it from "
                    "docs/hooks/missing_docstrings.txt")
  return sorted(set(problems)), sorted(missing_docs - known)


# --- mkdocs hook -----------------------------------------------------------

_log = logging.getLogger("mkdocs.hooks.api_coverage")

# griffe's docstring warnings that come from files the docs do not own, as
# "path: message" (no line number). Like missing_docstrings.txt, the list may
# only shrink: an entry that no longer occurs fails the build.
KNOWN_GRIFFE = os.path.join(HERE, "known_griffe_warnings.txt")
_LINE_NO = re.compile(r"^(\S+?\.py):\d+: ")


class _KnownGriffeWarnings(logging.Filter):
  """Lets through every griffe warning except the listed ones."""

  def __init__(self):
    super().__init__()
    with open(KNOWN_GRIFFE) as f:
      self.known = {line.strip() for line in f
                    if line.strip() and not line.startswith("#")}
    self.seen = set()

  def filter(self, record):
    message = _LINE_NO.sub(r"\1: ", record.getMessage().replace(
        "griffe: ", "", 1))
    if record.levelno == logging.WARNING and message in self.known:
      self.seen.add(message)
      return False
    return True


_griffe_filter = None


def on_config(config):  # pylint: disable=unused-argument
  """Installs the filter of known griffe warnings."""
  global _griffe_filter  # pylint: disable=global-statement
  logger = logging.getLogger("mkdocs.plugins.griffe")
  if _griffe_filter is not None:
    logger.removeFilter(_griffe_filter)
  _griffe_filter = _KnownGriffeWarnings()
  logger.addFilter(_griffe_filter)
  return config


def on_post_build(config):  # pylint: disable=unused-argument
  """Warns for listed griffe warnings that no longer occur."""
  if _griffe_filter is None:
    return
  for message in sorted(_griffe_filter.known - _griffe_filter.seen):
    _log.warning("%s no longer occurs: drop it from "
                 "docs/hooks/known_griffe_warnings.txt", message)


def on_pre_build(config):  # pylint: disable=unused-argument
  """Warns (an error under --strict) for each public name without an API
  entry or a docstring."""
  sys.path.insert(0, os.path.dirname(DOCS))
  problems, missing = check()
  for problem in problems:
    _log.warning(problem)
  for name in missing:
    _log.warning("missing docstring: %s", name)


if __name__ == "__main__":
  sys.path.insert(0, os.path.dirname(DOCS))
  _problems, _missing = check()
  print(f"{len(public_names())} public names in {len(NAMESPACES)} "
        f"namespaces; {len(known_missing())} methods/properties known to "
        "lack a docstring (docs/hooks/missing_docstrings.txt)")
  for _p in _problems:
    print("problem:", _p)
  for _m in _missing:
    print("missing docstring:", _m)
  sys.exit(1 if _problems or _missing else 0)
