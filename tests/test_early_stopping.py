"""EarlyStopping state machine, driven by scripted metric sequences."""
import math

import os

import pytest

from estweight.driver import EarlyStopping
from estweight.runtime import files as state_lib


def run(es, values):
  """Feeds values; returns the index at which it asked to stop, or None."""
  for i, v in enumerate(values):
    if es.update(v, global_step=(i + 1) * 100):
      return i
  return None


def test_stops_after_patience_evaluations_without_improvement():
  es = EarlyStopping(metric="loss", mode="min", patience=2)
  # best 0.5 at index 1; 0.6, 0.55 are not better -> stop at index 3
  assert run(es, [0.9, 0.5, 0.6, 0.55, 0.1]) == 3
  assert (es.best, es.best_step, es.wait, es.stopped) == (0.5, 200, 2, True)


def test_improvement_resets_patience():
  es = EarlyStopping(patience=2)
  assert run(es, [1.0, 1.1, 0.9, 1.0, 0.8, 0.85, 0.86]) == 6


def test_max_mode():
  es = EarlyStopping(metric="auc", mode="max", patience=1)
  assert run(es, [0.6, 0.7, 0.69]) == 2
  assert es.best == 0.7


def test_min_delta_demands_a_real_improvement():
  es = EarlyStopping(patience=2, min_delta=0.05)
  # 0.98 and 0.96 are within 0.05 of 1.0: no improvement -> stop at 2
  assert run(es, [1.0, 0.98, 0.96]) == 2
  es = EarlyStopping(patience=2, min_delta=0.05)
  assert run(es, [1.0, 0.94, 0.93, 0.92]) == 3  # 0.94 counts, then 2 misses


def test_baseline_must_be_beaten_first():
  es = EarlyStopping(metric="auc", mode="max", patience=2, baseline=0.8)
  assert run(es, [0.7, 0.75]) == 1  # never beat the baseline
  es = EarlyStopping(metric="auc", mode="max", patience=2, baseline=0.8)
  assert run(es, [0.7, 0.85, 0.84, 0.9]) is None


def test_nan_never_improves():
  es = EarlyStopping(patience=2)
  assert run(es, [1.0, math.nan, math.nan]) == 2


def test_stopped_stays_stopped():
  es = EarlyStopping(patience=1)
  assert run(es, [1.0, 2.0]) == 1
  assert es.update(0.0) is True and es.best == 1.0


def test_state_round_trip_resumes_the_same_decision(tmp_path):
  values = [1.0, 0.8, 0.85, 0.9, 0.95]
  straight = EarlyStopping(patience=3)
  expected = run(straight, values)
  # Interrupted after 3 values, state saved to disk, resumed in a new object.
  first = EarlyStopping(patience=3)
  run(first, values[:3])
  path = str(tmp_path / "state.json")
  state_lib.write_json(path, first.state_dict())
  second = EarlyStopping(patience=3)
  second.load_state_dict(state_lib.read_json(path))
  assert 3 + run(second, values[3:]) == expected == 4
  assert second.state_dict() == straight.state_dict()


def test_unknown_metric_lists_the_metrics():
  es = EarlyStopping(metric="recal")
  with pytest.raises(ValueError, match=r"'recal' is not among.*"
                     r"\['auc', 'loss'\]"):
    es.metric_value({"loss": 1.0, "auc": 0.5})


@pytest.mark.parametrize("kwargs, pattern", [
    ({"mode": "up"}, "`mode` must be 'min' or 'max'. Received: mode='up'"),
    ({"patience": 0}, "patience=0"),
    ({"min_delta": -1}, "min_delta=-1"),
    ({"metric": ""}, "metric=''"),
])
def test_bad_arguments(kwargs, pattern):
  with pytest.raises(ValueError, match=pattern):
    EarlyStopping(**kwargs)


def test_write_json_is_atomic_and_leaves_no_temp_files(tmp_path):
  path = str(tmp_path / "d" / "s.json")
  state_lib.write_json(path, {"a": 1})
  state_lib.write_json(path, {"a": 2})
  assert state_lib.read_json(path) == {"a": 2}
  assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["s.json"]
  assert state_lib.read_json(str(tmp_path / "missing.json"), {}) == {}


@pytest.mark.parametrize("text, expect, pattern", [
    ("{\"history\": [", dict, "is damaged \\(JSONDecodeError"),
    ("[]", dict, "holds a list, not the dict"),
])
def test_a_damaged_state_file_is_a_clear_error_naming_it(tmp_path, text,
                                                        expect, pattern):
  path = tmp_path / "state.json"
  path.write_text(text)
  with pytest.raises(state_lib.StateFileError, match=pattern) as info:
    state_lib.read_json(str(path), expect=expect)
  assert str(path) in str(info.value)


def test_state_files_get_the_usual_permissions(tmp_path):
  path = tmp_path / "s.json"
  state_lib.write_json(str(path), {})
  umask = os.umask(0)
  os.umask(umask)
  assert path.stat().st_mode & 0o777 == 0o666 & ~umask
