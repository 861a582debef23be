"""Export outputs: the signatures a model_fn offers for serving.

These are TensorFlow's own SavedModel output classes (still shipped in TF
2.21 under `tensorflow.python.saved_model.model_utils`), so exports written by
estweight use exactly the signature layout TF Serving expects.
"""
from __future__ import annotations

from typing import Any, Mapping

from estweight import _tf_private

_eo = _tf_private.export_output
_eu = _tf_private.export_utils

ExportOutput = _eo.ExportOutput
ClassificationOutput = _eo.ClassificationOutput
RegressionOutput = _eo.RegressionOutput
PredictOutput = _eo.PredictOutput
EvalOutput = _eo.EvalOutput
TrainOutput = _eo.TrainOutput


def get_export_outputs(export_outputs: Mapping[str, Any] | None,
                       predictions: Any) -> dict[str, Any]:
  """Validates `export_outputs`, defaulting to a PredictOutput of predictions."""
  return _eu.get_export_outputs(export_outputs, predictions)
