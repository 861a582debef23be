"""The release-specific helpers of estweight/_versions.py (see tools/matrix.py).

Each replaces a TensorFlow or tf_keras call that breaks on some supported
release; on the others it must give exactly what the original gave.
"""
import random

import tensorflow as tf

from estweight import _versions


def test_keras_seed_generator_draws_what_python_3_11_drew():
  # tf_keras 2.16-2.18 call randint(1, 1e9); Python 3.12 refuses the float.
  ours = _versions.keras_seed_generator(7)
  plain = random.Random(7)
  assert [ours.randint(1, 1e9) for _ in range(3)] == [
      plain.randint(1, int(1e9)) for _ in range(3)]


def test_write_graph_text_writes_what_tf_io_write_graph_writes(tmp_path):
  graph = tf.Graph()
  with graph.as_default():
    tf.constant([1.5, 2.0], name="c")
  graph_def = graph.as_graph_def(add_shapes=True)
  path = _versions.write_graph_text(graph_def, str(tmp_path / "m"),
                                    "graph.pbtxt")
  assert path == str(tmp_path / "m" / "graph.pbtxt")
  with open(path) as f:
    written = f.read()
  assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["graph.pbtxt"]
  try:  # where tf.io.write_graph works (not TF 2.20 with protobuf 7)
    reference = tf.io.write_graph(graph_def, str(tmp_path), "ref.pbtxt")
  except TypeError:
    return
  with open(reference) as f:
    assert written == f.read()
