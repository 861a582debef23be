"""The tf.estimator public names, shared by `estweight` and its v1 namespace."""
import importlib

# pylint: disable=g-importing-member,unused-import
from estweight.estimator import Estimator
from estweight.export.exporters import BestExporter
from estweight.export.exporters import Exporter
from estweight.export.exporters import FinalExporter
from estweight.export.exporters import LatestExporter
from estweight.extenders import add_metrics
from estweight.hooks import CheckpointSaverHook
from estweight.hooks import CheckpointSaverListener
from estweight.hooks import FeedFnHook
from estweight.hooks import FinalOpsHook
from estweight.hooks import GlobalStepWaiterHook
from estweight.hooks import LoggingTensorHook
from estweight.hooks import NanLossDuringTrainingError
from estweight.hooks import NanTensorHook
from estweight.hooks import ProfilerHook
from estweight.hooks import SecondOrStepTimer
from estweight.hooks import SessionRunArgs
from estweight.hooks import SessionRunContext
from estweight.hooks import SessionRunHook
from estweight.hooks import SessionRunValues
from estweight.hooks import StepCounterHook
from estweight.hooks import StopAtStepHook
from estweight.hooks import SummarySaverHook
from estweight.mode_keys import ModeKeys
from estweight.run_config import RunConfig
from estweight.spec import EstimatorSpec
from estweight.training import EvalSpec
from estweight.training import TrainSpec
from estweight.training import train_and_evaluate
from estweight.warm_start import VocabInfo
from estweight.warm_start import WarmStartSettings

__all__ = [
    "BestExporter",
    "CheckpointSaverHook",
    "CheckpointSaverListener",
    "Estimator",
    "EstimatorSpec",
    "Exporter",
    "FeedFnHook",
    "FinalExporter",
    "LatestExporter",
    "FinalOpsHook",
    "GlobalStepWaiterHook",
    "LoggingTensorHook",
    "ModeKeys",
    "NanLossDuringTrainingError",
    "NanTensorHook",
    "ProfilerHook",
    "RunConfig",
    "SecondOrStepTimer",
    "SessionRunArgs",
    "SessionRunContext",
    "SessionRunHook",
    "SessionRunValues",
    "StepCounterHook",
    "StopAtStepHook",
    "SummarySaverHook",
    "TrainSpec",
    "EvalSpec",
    "VocabInfo",
    "WarmStartSettings",
    "add_metrics",
    "train_and_evaluate",
]

# Canned estimators and heads import tf_keras, so they load on first use.
CANNED_NAMES = (
    "BaselineClassifier",
    "BaselineEstimator",
    "BaselineRegressor",
    "DNNLinearCombinedClassifier",
    "DNNLinearCombinedEstimator",
    "DNNLinearCombinedRegressor",
    "MetricKeys",
    "PredictionKeys",
    "BinaryClassHead",
    "DNNClassifier",
    "DNNEstimator",
    "DNNRegressor",
    "Head",
    "LinearClassifier",
    "LinearEstimator",
    "LinearRegressor",
    "LogisticRegressionHead",
    "MultiClassHead",
    "MultiHead",
    "MultiLabelHead",
    "PoissonRegressionHead",
    "RegressionHead",
    "classifier_parse_example_spec",
    "regressor_parse_example_spec",
)

# The Keras bridge imports Keras, so it loads on first use too.
KERAS_NAMES = ("model_to_estimator",)


def module_dir(module_globals, lazy_names=()):
  """A module's `dir()`: its own public names plus the lazily loaded ones
  (tab completion and `hasattr`-style feature checks see all of them)."""
  return sorted(set(module_globals) | set(lazy_names))


def lazy_attributes(module_globals, lazy):
  """`(__dir__, __getattr__)` for a module whose names in `lazy`
  ({name: defining module}) are imported on first use."""

  def __dir__():  # pylint: disable=invalid-name
    return module_dir(module_globals, tuple(lazy))

  def __getattr__(name):  # pylint: disable=invalid-name
    if name in lazy:
      return getattr(importlib.import_module(lazy[name]), name)
    raise AttributeError(f"module {module_globals['__name__']!r} has no "
                         f"attribute {name!r}")

  return __dir__, __getattr__


def lazy_canned(name):
  """Module `__getattr__` body for namespaces that offer the canned names."""
  if name in CANNED_NAMES:
    import estweight.canned  # pylint: disable=g-import-not-at-top
    return getattr(estweight.canned, name)
  return None


def lazy_keras(name):
  """Module `__getattr__` body for the Keras bridge names."""
  if name in KERAS_NAMES:
    import estweight.keras  # pylint: disable=g-import-not-at-top
    return getattr(estweight.keras, name)
  return None
