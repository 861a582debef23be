"""Which rows go where: the eval split, minority down-sampling, and
per-row weights that balance a grouping column."""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from estweight.cli.schema import DataError

SPLITS = ("train", "eval")


def round_half_up(x: float) -> int:
  return int(math.floor(x + 0.5))


def split(
    cfg: Mapping[str, Any], whole: Mapping[str, np.ndarray],
    ids: Mapping[str, np.ndarray] | None, n_classes: int,
    rng: np.random.RandomState, where: str
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, np.ndarray] | None, str]:
  """Splits eval off the train source: ({split: columns}, {split: class ids}
  or None, describe() note). Stratified by class when `ids` is given; each
  split keeps the source's row order."""
  fraction = cfg["eval_fraction"]
  n = len(next(iter(whole.values())))
  if ids is None:
    chosen = rng.permutation(n)[:round_half_up(fraction * n)]
  else:
    labels = ids["train"]
    chosen = np.concatenate([
        rng.permutation(np.flatnonzero(
            labels == c))[:round_half_up(fraction * np.sum(labels == c))]
        for c in range(n_classes)
    ])
  is_eval = np.zeros(n, bool)
  is_eval[chosen.astype(np.int64)] = True
  train_rows, eval_rows = np.flatnonzero(~is_eval), np.flatnonzero(is_eval)
  if not len(train_rows) or not len(eval_rows):
    raise DataError(f"data.eval_fraction={fraction!r} of the {n} rows of "
                    f"{where} leaves a split empty; change it or give "
                    "data.eval.")
  columns = {"train": take(whole, train_rows), "eval": take(whole, eval_rows)}
  if ids is not None:
    ids = {"train": ids["train"][train_rows], "eval": ids["train"][eval_rows]}
  return columns, ids, (
      f"eval split from {where} (eval_fraction={fraction}, split_seed="
      f"{cfg['split_seed']}" + (", stratified" if ids else "") + ")")


def minority_rows(ids: np.ndarray, n_classes: int, fraction: float,
                  rng: np.random.RandomState,
                  names: Sequence[Any]) -> tuple[np.ndarray, str]:
  """(training rows kept, describe() note)."""
  counts = np.bincount(ids, minlength=n_classes)
  present = np.flatnonzero(counts)
  minority = present[np.argmin(counts[present])]
  rows = np.flatnonzero(ids == minority)
  n_keep = max(1, round_half_up(fraction * len(rows)))
  dropped = rng.permutation(rows)[n_keep:]
  keep = np.ones(len(ids), bool)
  keep[dropped] = False
  return np.flatnonzero(keep), (
      f"minority class {names[minority]!r}: kept {n_keep} of {len(rows)} "
      f"training rows (minority_keep_fraction={fraction})")


def take(columns: Mapping[str, np.ndarray],
         index: Any) -> dict[str, np.ndarray]:
  return {k: v[index] for k, v in columns.items()}


def balance_weights(
    columns: Mapping[str, Mapping[str, np.ndarray]],
    group: str,
    where: str,
    weight_column: str | None = None) -> tuple[dict[str, np.ndarray], str]:
  """Per-row weights `n / (groups * group size)` from the training rows.

  Every group (value of column `group`) then carries the same total weight
  in training, like class_weight='balanced' does for classes. Evaluation
  rows get their group's training weight. Multiplies an existing
  weight column.

  Returns:
    ({split: weights array}, describe() note).
  """
  train = columns["train"][group]
  values, counts = np.unique(train.astype(str), return_counts=True)
  per_group = dict(
      zip(values.tolist(), (len(train) / (len(values) * counts)).tolist()))
  out = {}
  for split, cols in columns.items():
    keys = cols[group].astype(str)
    unseen = sorted(set(keys.tolist()) - set(per_group))
    if unseen:
      raise DataError(f"data.balance_weights_by={group!r}: the {split} rows "
                      f"of {where} have values {unseen[:5]} that the "
                      "training rows lack, so they have no weight.")
    weights = np.asarray([per_group[k] for k in keys], np.float32)
    if weight_column:
      weights = weights * cols[weight_column].astype(np.float32)
    out[split] = weights
  note = (f"balance weights by {group!r}: " +
          ", ".join(f"{k} x{w:.3f}" for k, w in sorted(per_group.items())))
  return out, note
