"""`tf.estimator.experimental` names."""
from estweight.experimental.logit_fn import call_logit_fn
