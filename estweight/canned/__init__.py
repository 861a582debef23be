"""Canned estimators and heads (tf.estimator 2.15 names and numbers).

Importing this package imports tf_keras (Keras 2), which canned models use
for their layers, metrics and legacy optimizers.
"""
from estweight.canned.dnn import DNNClassifier
from estweight.canned.dnn import DNNEstimator
from estweight.canned.dnn import DNNRegressor
from estweight.canned.heads import BinaryClassHead
from estweight.canned.heads import Head
from estweight.canned.heads import LogisticRegressionHead
from estweight.canned.heads import MultiClassHead
from estweight.canned.heads import MultiHead
from estweight.canned.heads import MultiLabelHead
from estweight.canned.heads import PoissonRegressionHead
from estweight.canned.heads import RegressionHead
from estweight.canned.keys import MetricKeys
from estweight.canned.keys import PredictionKeys
from estweight.canned.linear import LinearClassifier
from estweight.canned.linear import LinearEstimator
from estweight.canned.linear import LinearRegressor
from estweight.canned.baseline import BaselineClassifier
from estweight.canned.baseline import BaselineEstimator
from estweight.canned.baseline import BaselineRegressor
from estweight.canned.dnn_linear_combined import DNNLinearCombinedClassifier
from estweight.canned.dnn_linear_combined import DNNLinearCombinedEstimator
from estweight.canned.dnn_linear_combined import DNNLinearCombinedRegressor
from estweight.canned.parsing import classifier_parse_example_spec
from estweight.canned.parsing import regressor_parse_example_spec

__all__ = [
    "BaselineClassifier",
    "BaselineEstimator",
    "BaselineRegressor",
    "BinaryClassHead",
    "DNNClassifier",
    "DNNEstimator",
    "DNNLinearCombinedClassifier",
    "DNNLinearCombinedEstimator",
    "DNNLinearCombinedRegressor",
    "DNNRegressor",
    "Head",
    "LinearClassifier",
    "LinearEstimator",
    "LinearRegressor",
    "LogisticRegressionHead",
    "MetricKeys",
    "MultiClassHead",
    "MultiHead",
    "MultiLabelHead",
    "PoissonRegressionHead",
    "PredictionKeys",
    "RegressionHead",
    "classifier_parse_example_spec",
    "regressor_parse_example_spec",
]
