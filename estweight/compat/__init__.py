"""Compatibility glue: `install()` and the `compat.v1` namespaces."""
import importlib

from estweight.compat.install import install


def __getattr__(name):
  if name == "v1":
    return importlib.import_module("estweight.compat.v1")
  raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "install",
    "v1",
]
