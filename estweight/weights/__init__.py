"""Weighted training: class weights, weighted losses, the model_fn factory.

    estweight.DNNClassifier(..., class_weight='balanced')
    estweight.weights.balanced_class_weight([950, 50])  # {0: 0.53, 1: 10.0}
"""
from estweight.weights.class_weights import ClassWeight
from estweight.weights.class_weights import balanced_class_weight
from estweight.weights.class_weights import count_classes
from estweight.weights.dynamic import DynamicClassWeights
from estweight.weights.factory import METRICS
from estweight.weights.factory import make_weighted_model_fn
from estweight.weights.losses import reduce_loss

__all__ = [
    "ClassWeight",
    "DynamicClassWeights",
    "METRICS",
    "balanced_class_weight",
    "count_classes",
    "make_weighted_model_fn",
    "reduce_loss",
]
