"""Serving export API (`tf.estimator.export` names)."""
# pylint: disable=g-importing-member,unused-import
from estweight.export.outputs import ClassificationOutput
from estweight.export.outputs import EvalOutput
from estweight.export.outputs import ExportOutput
from estweight.export.outputs import PredictOutput
from estweight.export.outputs import RegressionOutput
from estweight.export.outputs import TrainOutput
from estweight.export.receivers import ServingInputReceiver
from estweight.export.receivers import SupervisedInputReceiver
from estweight.export.receivers import TensorServingInputReceiver
from estweight.export.receivers import UnsupervisedInputReceiver
from estweight.export.receivers import build_parsing_serving_input_receiver_fn
from estweight.export.receivers import build_raw_serving_input_receiver_fn
from estweight.export.receivers import build_raw_supervised_input_receiver_fn

__all__ = [
    "ClassificationOutput",
    "EvalOutput",
    "ExportOutput",
    "PredictOutput",
    "RegressionOutput",
    "ServingInputReceiver",
    "SupervisedInputReceiver",
    "TensorServingInputReceiver",
    "TrainOutput",
    "UnsupervisedInputReceiver",
    "build_parsing_serving_input_receiver_fn",
    "build_raw_serving_input_receiver_fn",
    "build_raw_supervised_input_receiver_fn",
]
