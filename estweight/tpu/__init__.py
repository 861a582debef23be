"""`tf.compat.v1.estimator.tpu`: TPUEstimator and its configs, for CPU/GPU.

Legacy programs (BERT's original code, Model Garden, object detection) build
a `TPUEstimator(use_tpu=False)` to run off TPU. That works here exactly as
an Estimator whose model_fn and input_fn receive `params['batch_size']`
(the mode's batch size) and may return `TPUEstimatorSpec`s. Running on a
TPU (`use_tpu=True`) is not supported: there is no TPU to test it on, and
TF 2.21's TPU runtime has no v1-graph Estimator path.
"""
from estweight.tpu.config import InputPipelineConfig
from estweight.tpu.config import RunConfig
from estweight.tpu.config import TPUConfig
from estweight.tpu.estimator import TPUEstimator
from estweight.tpu.estimator import TPUEstimatorSpec
from estweight.tpu import experimental

__all__ = [
    "InputPipelineConfig", "RunConfig", "TPUConfig", "TPUEstimator",
    "TPUEstimatorSpec", "experimental"
]
