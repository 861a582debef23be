"""Session hooks: TensorFlow's own classes, under their tf.estimator names,
and estweight's `SkipNonFiniteBatches`."""
import tensorflow as tf

from estweight.runtime.nonfinite import SkipNonFiniteBatches

_train = tf.compat.v1.train

SessionRunHook = _train.SessionRunHook
SessionRunArgs = _train.SessionRunArgs
SessionRunContext = _train.SessionRunContext
SessionRunValues = _train.SessionRunValues
CheckpointSaverListener = _train.CheckpointSaverListener
LoggingTensorHook = _train.LoggingTensorHook
StopAtStepHook = _train.StopAtStepHook
CheckpointSaverHook = _train.CheckpointSaverHook
SummarySaverHook = _train.SummarySaverHook
StepCounterHook = _train.StepCounterHook
NanTensorHook = _train.NanTensorHook
ProfilerHook = _train.ProfilerHook
FinalOpsHook = _train.FinalOpsHook
FeedFnHook = _train.FeedFnHook
GlobalStepWaiterHook = _train.GlobalStepWaiterHook
SecondOrStepTimer = _train.SecondOrStepTimer
NanLossDuringTrainingError = _train.NanLossDuringTrainingError

__all__ = [
    "CheckpointSaverHook",
    "CheckpointSaverListener",
    "FeedFnHook",
    "FinalOpsHook",
    "GlobalStepWaiterHook",
    "LoggingTensorHook",
    "NanLossDuringTrainingError",
    "NanTensorHook",
    "ProfilerHook",
    "SecondOrStepTimer",
    "SessionRunArgs",
    "SessionRunContext",
    "SessionRunHook",
    "SessionRunValues",
    "SkipNonFiniteBatches",
    "StepCounterHook",
    "StopAtStepHook",
    "SummarySaverHook",
]
