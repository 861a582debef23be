"""TensorFlow internals estweight needs that have no public name.

Keep every new `tensorflow.python` import here, so a TensorFlow upgrade that
moves one breaks a single, known file. (runtime/export.py and
export/outputs.py predate this module and import the SavedModel export
helpers directly.)

- `clustering_ops`: the k-means graph (`clustering_ops.KMeans`, its
  initialisation and distance constants) behind `KMeans`; TensorFlow ships
  it (unchanged since 2.15) but exports no public name for it.
"""
# pylint: disable=g-direct-tensorflow-import,unused-import
from tensorflow.python.ops import clustering_ops
