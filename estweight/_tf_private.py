"""TensorFlow internals estweight needs that have no public name.

Keep every new `tensorflow.python` import here, so a TensorFlow upgrade that
moves one breaks a single, known file. (runtime/export.py and
export/outputs.py predate this module and import the SavedModel export
helpers directly.)

- `clustering_ops`: the k-means graph (`clustering_ops.KMeans`, its
  initialisation and distance constants) behind `KMeans`; TensorFlow ships
  it (unchanged since 2.15) but exports no public name for it.
- `abandon_session`: a v1 Session whose remote (gRPC) task died blocks
  forever in `close()`, also when garbage-collected at exit; it is detached
  from its C session, which leaks (the process is about to fail anyway).
"""
# pylint: disable=g-direct-tensorflow-import,unused-import
from tensorflow.python.ops import clustering_ops


def abandon_session(session):
  """Makes `session.close()` and its finaliser no-ops (see above)."""
  session._session = None  # pylint: disable=protected-access
