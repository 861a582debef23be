"""Optional dependencies and the `pip install estweight[<extra>]` naming them.

`estweight` itself needs numpy, absl-py and ml_collections (and TensorFlow
through an extra); what only some configs use comes with extras:
`examples` (scikit-learn, for the built-in `sklearn:<name>` data sets),
`plots` (matplotlib, for learning_curve.png and grid_summary.png) and
`pandas`. A missing one is named with its extra instead of a bare
`No module named 'sklearn'`.
"""
from __future__ import annotations

import importlib.util

# Module -> (distribution to install, estweight extra bringing it).
OPTIONAL = {
    "sklearn": ("scikit-learn", "examples"),
    "matplotlib": ("matplotlib", "plots"),
    "pandas": ("pandas", "pandas"),
}


class MissingExtraError(ImportError):
  """An optional dependency is not installed; the message says how to get
  it."""


def hint(module: str, needed_for: str) -> str:
  """'<needed_for> needs scikit-learn, which is not installed: pip install
  "estweight[examples]" (or pip install scikit-learn).'"""
  package, extra = OPTIONAL[module]
  return (f"{needed_for} needs {package}, which is not installed: "
          f"pip install \"estweight[{extra}]\" (or pip install {package}).")


def available(module: str) -> bool:
  """Whether `module` can be imported (without importing it)."""
  return importlib.util.find_spec(module) is not None


def require(module: str, needed_for: str) -> None:
  """Raises MissingExtraError when `module` is not installed."""
  if not available(module):
    raise MissingExtraError(hint(module, needed_for))


def explain(error: BaseException) -> BaseException:
  """`error`, or a MissingExtraError naming the extra when `error` is a
  ModuleNotFoundError for an optional dependency."""
  if isinstance(
      error, ModuleNotFoundError) and not isinstance(error, MissingExtraError):
    top = (error.name or "").split(".")[0]
    if top in OPTIONAL:
      return MissingExtraError(hint(top, "This command"))
  return error
