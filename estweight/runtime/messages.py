"""The line of an error that says what went wrong (no TensorFlow import:
the CLI uses it before, and without, loading TensorFlow)."""
from __future__ import annotations

# Lines of TensorFlow's error text that are not the cause.
_NOISE = ("Graph execution error", "Detected at node", "Node:", "[[", "File \"",
          "Additional GRPC error", "defined at")


def cause(error: BaseException | str) -> str:
  """The line that says what went wrong in a (TensorFlow) error.

  TensorFlow's errors may start with "Graph execution error:" and the
  Python stack of the failing op; the cause (a bad value, a damaged file, a
  full disk) comes after them.
  """
  text = str(getattr(error, "message", None) or error)
  lines = text.split("\n")
  if not type(error).__module__.startswith("tensorflow"):
    return lines[0]
  in_stack = False
  for line in lines:
    stripped = line.strip()
    if not stripped:
      continue
    if stripped.startswith("File \""):
      in_stack = True
      continue
    if in_stack and line.startswith("  "):
      continue  # the source line under a File line
    in_stack = False
    if not stripped.startswith(_NOISE):
      return stripped
  return lines[0]
