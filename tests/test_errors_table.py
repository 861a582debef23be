"""docs/errors.md is what the bad inputs of tests/support/bad_inputs.py give
today: every case is run (in this process, the CLI through its `run`), and
the page rendered from the outcomes must equal the committed one. After a
deliberate change of an error: `python tests/support/errors_table.py
--write`.
"""
import collections

import pytest

from support import bad_inputs
from support import errors_table


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
  return errors_table.run_all(str(tmp_path_factory.mktemp("bad_inputs")))


def test_there_are_at_least_40_cases_from_every_area():
  areas = collections.Counter(case.area for case in bad_inputs.CASES)
  assert len(bad_inputs.CASES) >= 40
  assert set(areas) == set(bad_inputs.AREAS)
  assert min(areas.values()) >= 5, areas


@pytest.mark.parametrize("index", range(len(bad_inputs.CASES)),
                         ids=[f"{c.area}-{i + 1}" for i, c in
                              enumerate(bad_inputs.CASES)])
def test_each_bad_input_fails_as_declared_before_any_step(outcomes, index):
  outcome = outcomes[index]
  assert outcome.raised == bad_inputs.CASES[index].raises, outcome.message
  assert outcome.message
  assert not outcome.stepped


def test_docs_errors_md_is_what_the_cases_give_today(outcomes):
  with open(errors_table.DOC) as f:
    assert f.read() == errors_table.render(outcomes), (
        "An error changed: check it, then run python "
        "tests/support/errors_table.py --write.")
