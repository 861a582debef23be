"""What differs between the TensorFlow releases estweight supports.

The tested range is TensorFlow 2.16 to 2.21 on Python 3.10 to 3.13
(`make matrix`, tools/matrix.py; setup.cfg states the same bounds). Code that
depends on the TensorFlow or Python release lives here and nowhere else, so
widening the range means reading one file (private TensorFlow attributes,
the same for every release, are in _tf_private.py).
"""
import os
import random
import re
import warnings

# Inclusive (major, minor) bounds of the tested TensorFlow releases.
OLDEST_TF = (2, 16)
NEWEST_TF = (2, 21)

# Set to 1 to run on a TensorFlow newer than NEWEST_TF (a warning instead
# of the error); an older one lacks what estweight needs and stays an error.
ALLOW_UNTESTED_ENV = "ESTWEIGHT_ALLOW_UNTESTED_TF"


def parse_version(version: str) -> tuple[int, int]:
  """'2.16.2', '2.21.0-rc1', '2.22.0.dev20260101' -> (2, 16), (2, 21), (2, 22)."""
  match = re.match(r"(\d+)\.(\d+)", version)
  if not match:
    raise ValueError(f"Unrecognised TensorFlow version {version!r}.")
  return int(match.group(1)), int(match.group(2))


def supported_range() -> str:
  return "%d.%d to %d.%d" % (OLDEST_TF + NEWEST_TF)


def check_tensorflow(version: str, *, where: str = "") -> None:
  """Raises ImportError unless TensorFlow `version` is in the tested range.

  Args:
    version: `tf.__version__`.
    where: where that TensorFlow was imported from, for the message.

  Raises:
    ImportError: `version` is older than OLDEST_TF, or newer than NEWEST_TF
      without ESTWEIGHT_ALLOW_UNTESTED_TF=1 (then a warning is issued).
  """
  found = parse_version(version)
  if OLDEST_TF <= found <= NEWEST_TF:
    return
  at = f" at {where}" if where else ""
  message = (f"estweight supports TensorFlow {supported_range()}; the "
             f"installed TensorFlow is {version}{at}.")
  if found < OLDEST_TF:
    message += " (TensorFlow 2.15 and older ship tf.estimator themselves.)"
  message += (" To fix, install a supported one: `pip install "
              "'tensorflow>=2.16,<2.22' 'tf-keras>=2.16,<2.22'` (or `pip "
              "install estweight[tensorflow]`).")
  if found > NEWEST_TF:
    if os.environ.get(ALLOW_UNTESTED_ENV) == "1":
      warnings.warn(
          f"TensorFlow {version} is newer than the releases "
          f"estweight was tested with ({supported_range()}).",
          RuntimeWarning,
          stacklevel=3)
      return
    message += (f" To try this untested TensorFlow anyway, set "
                f"{ALLOW_UNTESTED_ENV}=1.")
  raise ImportError(message)


class _IntegralFloatRandom(random.Random):
  """random.Random whose randint takes integral floats, as before 3.12.

  tf_keras 2.16-2.18 draw initializer seeds with
  `_SEED_GENERATOR.generator.randint(1, 1e9)`; Python 3.12 made randrange
  refuse floats (TypeError), tf_keras 2.19 passes int(1e9). The draws are
  the same numbers Python 3.11 gave.
  """

  def randint(self, a, b):
    return super().randint(_integral(a), _integral(b))


def _integral(x):
  return int(x) if isinstance(x, float) and x.is_integer() else x


def keras_seed_generator(seed: int) -> random.Random:
  """What runtime/graph.py puts in tf_keras's `_SEED_GENERATOR.generator`."""
  return _IntegralFloatRandom(seed)


def write_graph_text(graph_def, logdir: str, name: str) -> str:
  """`tf.io.write_graph(graph_def, logdir, name)` (as text) on every release.

  TensorFlow 2.20's write_graph passes `float_format=''` to protobuf's
  MessageToString, which protobuf 7 (allowed by 2.20's own requirements)
  no longer takes: graph.pbtxt was never written. 2.21 dropped the argument;
  this writes what 2.21 writes, with any protobuf.

  Returns:
    The path written, `logdir/name`.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from google.protobuf import text_format  # pylint: disable=g-import-not-at-top
  tf.io.gfile.makedirs(logdir)
  path = os.path.join(logdir, name)
  tmp = f"{path}.tmp{os.getpid()}"
  with tf.io.gfile.GFile(tmp, "w") as f:
    f.write(text_format.MessageToString(graph_def))
  tf.io.gfile.rename(tmp, path, overwrite=True)
  return path
