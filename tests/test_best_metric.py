"""BestMetric: the one "is this value better?" rule (runtime/best.py)."""
import math

import pytest

from estweight.runtime.best import BestMetric

NAN = math.nan


@pytest.mark.parametrize("mode, value, best, expected", [
    ("min", 0.5, 1.0, True),
    ("min", 1.0, 1.0, False),
    ("min", 1.5, 1.0, False),
    ("max", 1.5, 1.0, True),
    ("max", 1.0, 1.0, False),
    ("max", 0.5, 1.0, False),
    ("min", -math.inf, 1.0, True),
    ("max", math.inf, math.inf, False),
])
def test_better_without_min_delta(mode, value, best, expected):
  assert BestMetric("m", mode).better(value, best) is expected


@pytest.mark.parametrize(
    "mode, value, expected",
    [
        ("min", 0.75, False),  # exactly best - min_delta: not better
        ("min", 0.7499, True),
        ("min", 0.9, False),
        ("max", 1.25, False),  # exactly best + min_delta: not better
        ("max", 1.2501, True),
        ("max", 1.1, False),
    ])
def test_min_delta_boundary(mode, value, expected):
  # 0.25 and the values are exact in binary: the boundary is exact too.
  assert BestMetric("m", mode, min_delta=0.25).better(value, 1.0) is expected


@pytest.mark.parametrize("mode", ["min", "max"])
def test_nan_and_no_best(mode):
  rule = BestMetric("m", mode, min_delta=0.1)
  assert rule.better(1.0, None) is True  # nothing recorded yet
  assert rule.better(NAN, None) is False  # a NaN value never improves
  assert rule.better(NAN, 1.0) is False
  assert rule.better(1.0, NAN) is False  # nothing beats a NaN best
  assert rule.better(-1e9 if mode == "min" else 1e9, NAN) is False


@pytest.mark.parametrize("mode", ["min", "max"])
def test_select_is_min_or_max_for_min_delta_zero(mode):
  pick = min if mode == "min" else max
  rule = BestMetric("m", mode)
  for values in ([3.0, 1.0, 2.0], [2.0, 2.0, 1.0, 3.0, 3.0], [5.0],
                 [NAN, 1.0, 2.0], [1.0, NAN, 2.0, NAN], [2.0, 1.0, 2.0, 1.0]):
    items = list(enumerate(values))
    chosen = rule.select(items, key=lambda item: item[1])
    expected = pick(items, key=lambda item: item[1])
    assert chosen[0] == expected[0], (values, chosen, expected)


def test_select_details():
  assert BestMetric("m", "min").select([]) is None
  assert BestMetric("m", "max").select([1, 3, 2]) == 3
  # The first of equal values wins, as with min/max.
  rows = [{"id": 0, "s": 1.0}, {"id": 1, "s": 1.0}]
  assert BestMetric("s", "max").select(rows, key=lambda r: r["s"])["id"] == 0
  # With min_delta, each replacement must beat the one kept by more than it:
  # 2.25 replaces 3.0; 1.75 is exactly 0.5 below 2.25 (not better); 1.5 is.
  rule = BestMetric("m", "min", min_delta=0.5)
  assert rule.select([3.0, 2.75, 2.25, 1.75]) == 2.25
  assert rule.select([3.0, 2.75, 2.25, 1.75, 1.5]) == 1.5
  assert rule.select([3.0, 2.75, 2.5]) == 3.0


def test_attributes_and_repr():
  rule = BestMetric("auc", "max", min_delta=1)
  assert (rule.metric, rule.mode, rule.min_delta) == ("auc", "max", 1.0)
  assert isinstance(rule.min_delta, float)
  assert repr(rule) == "BestMetric(metric='auc', mode='max', min_delta=1.0)"
  assert BestMetric("loss").mode == "min"


@pytest.mark.parametrize("kwargs, message", [
    ({
        "mode": "x"
    }, "`mode` must be 'min' or 'max'. Received: mode='x'."),
    ({
        "mode": None
    }, "`mode` must be 'min' or 'max'. Received: mode=None."),
    ({
        "mode": "MIN"
    }, "`mode` must be 'min' or 'max'. Received: mode='MIN'."),
    ({
        "min_delta": -0.5
    }, "`min_delta` must be a number >= 0. Received: min_delta=-0.5."),
    ({
        "min_delta": "0.1"
    }, "`min_delta` must be a number >= 0. Received: min_delta='0.1'."),
    ({
        "min_delta": None
    }, "`min_delta` must be a number >= 0. Received: min_delta=None."),
])
def test_bad_arguments(kwargs, message):
  with pytest.raises(ValueError) as info:
    BestMetric("loss", **kwargs)
  assert str(info.value) == message
