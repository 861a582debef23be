"""Canned heads (public as estweight.BinaryClassHead, ...)."""
from __future__ import annotations

from typing import Any, Sequence
from estweight.canned.heads.base import Head
from estweight.canned.heads.classification import BinaryClassHead
from estweight.canned.heads.classification import MultiClassHead
from estweight.canned.heads.multi_head import MultiHead
from estweight.canned.heads.multi_label import MultiLabelHead
from estweight.canned.heads.regression import LogisticRegressionHead
from estweight.canned.heads.regression import PoissonRegressionHead
from estweight.canned.heads.regression import RegressionHead


def binary_or_multi_class_head(n_classes: int,
                               weight_column: Any,
                               label_vocabulary: Sequence[str] | None,
                               loss_reduction: str,
                               class_weight: Any = None) -> Head:
  """The head a canned classifier uses for `n_classes`."""
  if isinstance(n_classes, bool) or not isinstance(n_classes, int) or (n_classes
                                                                       < 2):
    raise ValueError("`n_classes` must be an integer >= 2. Received: "
                     f"n_classes={n_classes!r}.")
  if n_classes == 2:
    return BinaryClassHead(weight_column=weight_column,
                           label_vocabulary=label_vocabulary,
                           loss_reduction=loss_reduction,
                           class_weight=class_weight)
  return MultiClassHead(n_classes,
                        weight_column=weight_column,
                        label_vocabulary=label_vocabulary,
                        loss_reduction=loss_reduction,
                        class_weight=class_weight)


__all__ = [
    "BinaryClassHead",
    "Head",
    "LogisticRegressionHead",
    "MultiClassHead",
    "MultiHead",
    "MultiLabelHead",
    "PoissonRegressionHead",
    "RegressionHead",
    "binary_or_multi_class_head",
]
