"""The string contracts of canned estimators: metric and prediction keys."""


class MetricKeys:
  """Keys of `evaluate()` results (tf.estimator 2.15 names)."""
  LOSS = "loss"
  LOSS_MEAN = "average_loss"
  LOSS_REGULARIZATION = "regularization_loss"
  ACCURACY = "accuracy"
  PRECISION = "precision"
  RECALL = "recall"
  ACCURACY_BASELINE = "accuracy_baseline"
  AUC = "auc"
  AUC_PR = "auc_precision_recall"
  LABEL_MEAN = "label/mean"
  PREDICTION_MEAN = "prediction/mean"
  ACCURACY_AT_THRESHOLD = "accuracy/positive_threshold_%g"
  PRECISION_AT_THRESHOLD = "precision/positive_threshold_%g"
  RECALL_AT_THRESHOLD = "recall/positive_threshold_%g"
  PROBABILITY_MEAN_AT_CLASS = "probability_mean/class%d"
  AUC_AT_CLASS = "auc/class%d"
  AUC_PR_AT_CLASS = "auc_precision_recall/class%d"


class PredictionKeys:
  """Keys of canned `predict()` dicts."""
  CLASSES = "classes"
  CLASS_IDS = "class_ids"
  ALL_CLASSES = "all_classes"
  ALL_CLASS_IDS = "all_class_ids"
  LOGISTIC = "logistic"
  LOGITS = "logits"
  PREDICTIONS = "predictions"
  PROBABILITIES = "probabilities"
