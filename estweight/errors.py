"""The errors estweight raises beyond tf.estimator's, in one namespace.

    try:
      est.train(input_fn, max_steps=10000)
    except estweight.errors.InvalidDataError as e:
      print(e.problem, "in batch", e.batch)

- `InvalidDataError`: a batch holds data the model cannot use (a
  `tf.errors.InvalidArgumentError`).
- `NonFiniteLossError`: the loss became NaN or Inf (a
  `NanLossDuringTrainingError`).
- `CheckpointError`: no readable checkpoint, or one cannot be written.
- `ModelDirLockedError`: another trainer holds the model_dir.
- `StateFileError`: a state file of estweight's is damaged.
- `ClusterError`: a task of a TF_CONFIG cluster cannot be reached or died.
"""
# pylint: disable=g-importing-member,unused-import
from estweight.runtime.checkpoints import CheckpointError
from estweight.runtime.cluster import ClusterError
from estweight.runtime.data_errors import InvalidDataError
from estweight.runtime.data_errors import NonFiniteLossError
from estweight.runtime.files import StateFileError
from estweight.runtime.lock import ModelDirLockedError

__all__ = [
    "CheckpointError", "ClusterError", "InvalidDataError",
    "ModelDirLockedError", "NonFiniteLossError", "StateFileError"
]
