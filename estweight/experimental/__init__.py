"""`tf.estimator.experimental` names."""
from estweight.experimental.logit_fn import call_logit_fn
from estweight.experimental.early_stopping import make_early_stopping_hook
from estweight.experimental.early_stopping import read_eval_metrics
from estweight.experimental.early_stopping import stop_if_higher_hook
from estweight.experimental.early_stopping import stop_if_lower_hook
from estweight.experimental.early_stopping import stop_if_no_decrease_hook
from estweight.experimental.early_stopping import stop_if_no_increase_hook
from estweight.experimental.in_memory import InMemoryEvaluatorHook
