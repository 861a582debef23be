"""Serving export API (`tf.estimator.export` names)."""
from estweight.export.outputs import ClassificationOutput
from estweight.export.outputs import EvalOutput
from estweight.export.outputs import ExportOutput
from estweight.export.outputs import PredictOutput
from estweight.export.outputs import RegressionOutput
