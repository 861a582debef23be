"""`tf.compat.v1.estimator.tpu.experimental`: TPU embedding configuration."""
from __future__ import annotations

# Private names only: dir() of this namespace lists its globals.
import typing as _typing

if _typing.TYPE_CHECKING:
  from typing import Any


class EmbeddingConfigSpec:
  """TPU embedding tables exist only on TPUs; off TPU, use feature columns'
  embeddings (`tf.feature_column.embedding_column`) instead.

  Args:
    *args: ignored; construction always fails.
    **kwargs: ignored; construction always fails.

  Raises:
    NotImplementedError: always (estweight runs without a TPU).
  """

  def __init__(self, *args: Any, **kwargs: Any):
    del args, kwargs
    raise NotImplementedError(
        "EmbeddingConfigSpec configures TPU embedding tables, which need a "
        "TPU; estweight runs TPUEstimator with use_tpu=False only. To fix, "
        "use tf.feature_column.embedding_column in the model and drop "
        "embedding_config_spec.")
