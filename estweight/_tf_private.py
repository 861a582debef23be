"""TensorFlow internals estweight needs that have no public name.

Every `tensorflow.python` import and every private TensorFlow attribute
estweight touches is here, so a TensorFlow upgrade that moves one breaks a
single, known file. Keras internals (Keras 3 and tf_keras) are reached
through `keras_internal(name)` below, imported when first asked for, so
importing this module imports neither Keras.

- `export_output`, `export_utils`: TensorFlow's own SavedModel output
  classes and signature helpers (the layout TF Serving expects).

- `clustering_ops`: the k-means graph (`clustering_ops.KMeans`, its
  initialisation and distance constants) behind `KMeans`; TensorFlow ships
  it (unchanged since 2.15) but exports no public name for it.
- `rewriter_config_pb2`, `saved_model_pb2`: the protos of Grappler's
  options (tf.estimator's default session config) and of a saved_model.pb
  file (the CLI reads an export's signature names without loading it).
- `abandon_session`: a v1 Session whose remote (gRPC) task died blocks
  forever in `close()`, also when garbage-collected at exit; it is detached
  from its C session, which leaks (the process is about to fail anyway).
"""
# pylint: disable=g-direct-tensorflow-import,unused-import,protected-access
import importlib

from tensorflow.core.protobuf import rewriter_config_pb2
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow.python.ops import clustering_ops
from tensorflow.python.saved_model.model_utils import export_output
from tensorflow.python.saved_model.model_utils import export_utils


def abandon_session(session):
  """Makes `session.close()` and its finaliser no-ops (see above)."""
  session._session = None


def set_last_loss_reduction(graph, reduction):
  """What tf.compat.v1.losses and tf_keras record when they reduce a loss:
  `tf.compat.v1.distribute.get_loss_reduction()` reads it to decide whether
  the replicas' losses are summed or averaged."""
  graph._last_loss_reduction = reduction


def unfinalize(graph):
  """Lets ops be added to a finalized graph again (hooks' `begin()`)."""
  graph._unsafe_unfinalize()


def serialize_dataset(dataset, external_state_policy):
  """The op giving `dataset`'s GraphDef (what `DatasetFromGraph` takes)."""
  return dataset._as_serialized_graph(
      external_state_policy=external_state_policy)


def add_control_input(op, source):
  """Makes an existing op wait for `source` (no public way after creation)."""
  op._add_control_input(source)


def add_train_op(builder, train_op):
  """Records the train op in a SavedModelBuilder as tf.estimator did."""
  builder._add_train_op(train_op)


# Keras internals: name -> module path. Keras 3's global name counters,
# Functional class, deserialisation and compile utilities; tf_keras's
# backend (its per-thread seed generator), base layer and compile utilities.
_KERAS_INTERNALS = {
    "keras.global_state": "keras.src.backend.common.global_state",
    "keras.functional": "keras.src.models.functional",
    "keras.serialization_lib": "keras.src.saving.serialization_lib",
    "keras.compile_utils": "keras.src.trainers.compile_utils",
    "tf_keras.backend": "tf_keras.src.backend",
    "tf_keras.base_layer": "tf_keras.src.engine.base_layer",
    "tf_keras.compile_utils": "tf_keras.src.engine.compile_utils",
}


def keras_internal(name):
  """The Keras-internal module `name` (a key of _KERAS_INTERNALS)."""
  return importlib.import_module(_KERAS_INTERNALS[name])


__all__ = [
    "abandon_session",
    "add_control_input",
    "add_train_op",
    "clustering_ops",
    "export_output",
    "export_utils",
    "keras_internal",
    "rewriter_config_pb2",
    "saved_model_pb2",
    "serialize_dataset",
    "set_last_loss_reduction",
    "unfinalize",
]
