"""SavedModel exports against tf.estimator 2.15's, signature by signature.

The goldens (tests/golden/export/*.json) come from tests/oracle/gen_export.py
run on tf.estimator 2.15 (`make oracle`). Here the same functions run on
estweight: restore the case's golden checkpoint, export with a parsing and a
raw receiver, describe the SavedModel (files, MetaGraph tags, signature
names, method names, input/output keys, dtypes and shapes, variables) and
serve the 20 evaluation examples through every signature. Layouts must be
identical; served numbers equal to float32 rounding (rtol 1e-6, atol 1e-6:
the goldens were served on another CPU, and AVX-512 kernels sum in another
order, seen 1.3e-7 apart on a logit of -0.018), strings and ids exactly. gen_export also checks each export's `predict` signature
against the case's golden predict().
"""
import json
import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "oracle"))
import gen_export  # noqa: E402  pylint: disable=g-import-not-at-top
import parity_cases  # noqa: E402  pylint: disable=g-import-not-at-top

GOLDEN = os.path.join(HERE, "golden", "export")


def _golden(name):
  with open(os.path.join(GOLDEN, name + ".json")) as f:
    golden = json.load(f)
  assert golden["data_sha256"] == parity_cases.data_fingerprint()
  return golden


def _install():
  import estweight  # pylint: disable=g-import-not-at-top
  estweight.install()


def _assert_served_equal(got, want, where):
  assert sorted(got) == sorted(want), where
  for signature in want:
    assert sorted(got[signature]) == sorted(want[signature]), (
        where, signature)
    for key, expected in want[signature].items():
      actual = got[signature][key]
      label = f"{where}: {signature}/{key}"
      assert actual["dtype"] == expected["dtype"], label
      if expected["dtype"].startswith("float"):
        np.testing.assert_allclose(actual["value"], expected["value"],
                                   rtol=1e-6, atol=1e-6, err_msg=label)
      else:
        assert actual["value"] == expected["value"], label


def _assert_export_equal(got, want, where):
  for part in ("files", "dirs", "meta_graphs", "variables"):
    assert got[part] == want[part], f"{where}: {part}"
  if "served" in want:
    _assert_served_equal(got["served"], want["served"], where)


@pytest.mark.parametrize("name", gen_export.DEFAULT_CASES)
def test_canned_export_matches_tf_estimator(name, tmp_path):
  _install()
  want = _golden(name)
  got = gen_export.generate_canned(name, str(tmp_path))
  for kind in ("parsing", "raw"):
    _assert_export_equal(got["exports"][kind], want["exports"][kind],
                         f"{name}/{kind}")


def test_custom_model_fn_export_matches_tf_estimator(tmp_path):
  _install()
  want = _golden(gen_export.CUSTOM)
  got = gen_export.generate_custom(str(tmp_path))
  # One gradient step from the same start: the same trained kernel.
  np.testing.assert_allclose(got["kernel"], want["kernel"], rtol=1e-6)
  assert got["global_step"] == want["global_step"]
  for kind in ("parsing", "raw"):
    _assert_export_equal(got["exports"][kind], want["exports"][kind],
                         f"custom/{kind}")


def test_all_modes_export_matches_tf_estimator(tmp_path):
  _install()
  want = _golden(gen_export.ALL_MODES)
  got = gen_export.generate_all_modes(str(tmp_path))
  assert got["export_dir_name"] == want["export_dir_name"] == {
      "all_digits": True, "length": 10}
  _assert_export_equal(got["export"], want["export"], "all_modes")


def test_every_default_case_has_a_golden_file():
  names = sorted(f[:-5] for f in os.listdir(GOLDEN) if f.endswith(".json"))
  assert names == sorted(list(gen_export.DEFAULT_CASES) +
                         [gen_export.CUSTOM, gen_export.ALL_MODES])
