"""TensorFlow and Keras internals are reached through one module.

estweight/_tf_private.py's promise: a TensorFlow or Keras release that
moves an internal breaks one known file. This holds it: no other module
imports `tensorflow.python`, `tensorflow.core`, `keras.src` or
`tf_keras.src`.
"""
import ast
import os

import estweight

PACKAGE = os.path.dirname(estweight.__file__)
INTERNAL = ("tensorflow.python", "tensorflow.core", "keras.src", "tf_keras.src")


def _imported_modules(path):
  with open(path) as f:
    tree = ast.parse(f.read(), path)
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
      yield node.module


def _internal_imports():
  found = []
  for root, _, names in os.walk(PACKAGE):
    for name in sorted(names):
      if not name.endswith(".py"):
        continue
      path = os.path.join(root, name)
      found += [(os.path.relpath(path, PACKAGE), module)
                for module in _imported_modules(path)
                if module.startswith(INTERNAL)]
  return found


def test_only_tf_private_imports_internals():
  outside = [(f, m) for f, m in _internal_imports() if f != "_tf_private.py"]
  assert not outside, ("import these through estweight/_tf_private.py: "
                       f"{outside}")


def test_the_check_sees_tf_private_itself():
  """The scan is not vacuous: _tf_private's own imports are found."""
  found = _internal_imports()
  assert ("_tf_private.py", "tensorflow.python.ops") in found
  assert ("_tf_private.py", "tensorflow.core.protobuf") in found
