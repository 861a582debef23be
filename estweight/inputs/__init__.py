"""Input-function builders for in-memory data (`tf.compat.v1.estimator.inputs`)."""
from estweight.inputs.numpy_io import numpy_input_fn
from estweight.inputs.pandas_io import pandas_input_fn

__all__ = [
    "numpy_input_fn",
    "pandas_input_fn",
]
