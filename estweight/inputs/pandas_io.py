"""pandas_input_fn: the 2.15 arguments, built on tf.data."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from estweight.inputs import numpy_io

if TYPE_CHECKING:
  import pandas as pd


def pandas_input_fn(x: pd.DataFrame,
                    y: pd.Series | pd.DataFrame | None = None,
                    batch_size: int = 128,
                    num_epochs: int | None = 1,
                    shuffle: bool | None = None,
                    queue_capacity: int = 1000,
                    num_threads: int = 1,
                    target_column: str = "target") -> Callable[[], Any]:
  """Returns an input_fn feeding a pandas DataFrame to an Estimator.

  Args:
    x: a `pandas.DataFrame`; each column becomes a feature.
    y: a `pandas.Series` or `DataFrame` of targets, or None; its index must
      equal x's index.
    batch_size: examples per batch; the last batch of the data may be short.
    num_epochs: passes over the data; `None` repeats forever.
    shuffle: required bool; shuffles within a buffer of `queue_capacity`.
    queue_capacity: shuffle buffer size.
    num_threads: accepted for compatibility; tf.data decides parallelism.
    target_column: the name the target uses internally; must not clash with
      a column of `x`.

  Returns:
    An input_fn returning a Dataset of `(features, target)` (or features
    when `y` is None); features are keyed by column name.

  Raises:
    TypeError: `x` is not a DataFrame.
    ValueError: `shuffle` is not a bool, `y`'s index differs from `x`'s,
      or `target_column` is a column of `x`.
  """
  try:
    import pandas as pd  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise ImportError("pandas_input_fn needs pandas: pip install pandas") from e
  if not isinstance(x, pd.DataFrame):
    raise TypeError(f"x must be a pandas DataFrame; got {type(x).__name__}.")
  numpy_io.check_shuffle(shuffle)
  if y is not None:
    if target_column in x:
      raise ValueError(
          f"Cannot use name {target_column} for target column: DataFrame "
          f"already has a column with that name: {list(x.columns)}")
    if not np.array_equal(x.index, y.index):
      raise ValueError(f"Index for x and y are mismatched.\nIndex for x: "
                       f"{x.index}\nIndex for y: {y.index}\n")
  features = {c: x[c].to_numpy() for c in x.columns}
  if y is None:
    target = None
  elif isinstance(y, pd.DataFrame):
    target = {c: y[c].to_numpy() for c in y.columns}
  else:
    target = y.to_numpy()
  # A target column may share a feature's name (2.15 renamed it inside).
  return numpy_io.make_input_fn(features,
                                target,
                                batch_size=batch_size,
                                num_epochs=num_epochs,
                                shuffle=shuffle,
                                queue_capacity=queue_capacity,
                                num_threads=num_threads)
