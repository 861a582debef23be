"""`tf.compat.v1.estimator.tpu.experimental`: TPU embedding configuration."""


class EmbeddingConfigSpec:
  """TPU embedding tables exist only on TPUs; off TPU, use feature columns'
  embeddings (`tf.feature_column.embedding_column`) instead."""

  def __init__(self, *args, **kwargs):
    del args, kwargs
    raise NotImplementedError(
        "EmbeddingConfigSpec configures TPU embedding tables, which need a "
        "TPU; estweight runs TPUEstimator with use_tpu=False only. To fix, "
        "use tf.feature_column.embedding_column in the model and drop "
        "embedding_config_spec.")
