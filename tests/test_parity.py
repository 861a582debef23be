"""Canned estimators against tf.estimator 2.15, case by case.

The cases live in tests/oracle/parity_cases.py; their golden runs
(tests/golden/parity/<case>/: start checkpoint model.ckpt-3 and
expected.json) come from tests/oracle/gen_parity.py (`make oracle`). The
comparison itself is parity_check.check_case, which also runs on the oracle
(`python tests/oracle/parity_check.py` in its venv) to prove the goldens
reproduce there.
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "oracle"))
import parity_cases  # noqa: E402  pylint: disable=g-import-not-at-top
import parity_check  # noqa: E402  pylint: disable=g-import-not-at-top

GOLDEN_CASES = parity_check.golden_cases()


def _install():
  import estweight  # pylint: disable=g-import-not-at-top
  estweight.install()


@pytest.mark.parametrize("name", GOLDEN_CASES)
def test_evaluate_and_predict_from_the_golden_checkpoint(name, tmp_path):
  """(a) Same metrics, predictions (keys, dtypes, values), variable names."""
  _install()
  parity_check.check_case(name, str(tmp_path), parts=("start",))


@pytest.mark.parametrize("name", GOLDEN_CASES)
def test_training_on_continues_like_tf_estimator(name, tmp_path):
  """(b), (c) 4 more steps: every variable and optimizer slot as in 2.15."""
  _install()
  parity_check.check_case(name, str(tmp_path), parts=("train",))


def test_every_case_has_a_golden_run():
  assert GOLDEN_CASES == sorted(parity_cases.CASES), (
      "regenerate with `make oracle` after changing parity_cases.CASES")
