"""The three modes a model_fn is called in (same strings as tf.estimator)."""


class ModeKeys:
  """Standard names for Estimator modes.

  `TRAIN`, `EVAL` and `PREDICT` ('train', 'eval', 'infer'), as in
  tf.estimator 2.15 and TF's SavedModel utilities.
  """

  TRAIN = "train"
  EVAL = "eval"
  PREDICT = "infer"


ALL_MODES = (ModeKeys.TRAIN, ModeKeys.EVAL, ModeKeys.PREDICT)
