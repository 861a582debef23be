"""`tf.estimator.experimental` names."""
from estweight.experimental.logit_fn import call_logit_fn
from estweight.experimental.early_stopping import make_early_stopping_hook
from estweight.experimental.early_stopping import read_eval_metrics
from estweight.experimental.early_stopping import stop_if_higher_hook
from estweight.experimental.early_stopping import stop_if_lower_hook
from estweight.experimental.early_stopping import stop_if_no_decrease_hook
from estweight.experimental.early_stopping import stop_if_no_increase_hook
from estweight.experimental.in_memory import InMemoryEvaluatorHook
from estweight.experimental.stop_at_checkpoint import make_stop_at_checkpoint_step_hook
from estweight.export.receivers import build_raw_supervised_input_receiver_fn
from estweight import _api

# Loaded on first use: the canned package imports tf_keras.
_LAZY = {
    "LinearSDCA": "estweight.canned.linear_sdca",
    "RNNClassifier": "estweight.canned.rnn",
    "RNNEstimator": "estweight.canned.rnn"
}

__dir__, __getattr__ = _api.lazy_attributes(globals(), _LAZY)

__all__ = [
    "InMemoryEvaluatorHook",
    "build_raw_supervised_input_receiver_fn",
    "call_logit_fn",
    "make_early_stopping_hook",
    "make_stop_at_checkpoint_step_hook",
    "read_eval_metrics",
    "stop_if_higher_hook",
    "stop_if_lower_hook",
    "stop_if_no_decrease_hook",
    "stop_if_no_increase_hook",
]
