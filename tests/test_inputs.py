"""numpy_input_fn / pandas_input_fn: the tf.compat.v1.estimator.inputs API.

Expected behaviour was checked against tf.estimator 2.15. One deliberate
difference: 2.15 raised its argument errors only when the input_fn was
called, estweight raises them at once; the error tests call both, so they
hold either way.
"""
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import estweight
from estweight.inputs import numpy_input_fn
from estweight.inputs import pandas_input_fn

v1 = tf.compat.v1
N = 10


def batches(input_fn):
  return list(input_fn().as_numpy_iterator())


def column(batch_list, pick):
  return np.concatenate([pick(b) for b in batch_list])


def data():
  return {"a": np.arange(N, dtype=np.float32),
          "b": np.arange(N, dtype=np.float32) * 10}, np.arange(
              N, dtype=np.float32) + 100


def model_fn(features, labels, mode):
  x = features["a"] if isinstance(features, dict) else features
  x = tf.reshape(tf.cast(x, tf.float32), [-1])
  w = v1.get_variable("w", [], initializer=v1.zeros_initializer())
  prediction = w * x
  if mode == estweight.ModeKeys.PREDICT:
    return estweight.EstimatorSpec(mode, predictions={"x": x})
  if isinstance(labels, dict):
    labels = labels["t"]
  loss = tf.reduce_mean(tf.square(prediction - tf.cast(labels, tf.float32)))
  train_op = v1.train.GradientDescentOptimizer(1e-4).minimize(
      loss, global_step=v1.train.get_global_step())
  return estweight.EstimatorSpec(mode, loss=loss, train_op=train_op)


def trained_steps(tmp_path, input_fn):
  est = estweight.Estimator(model_fn, model_dir=str(tmp_path))
  est.train(input_fn, steps=None)
  return int(est.get_variable_value("global_step"))


# ------------------------------------------------------------ numpy: shapes
def test_dict_x_gives_dict_features_and_array_y_a_bare_label_tensor():
  x, y = data()
  out = batches(numpy_input_fn(x, y, batch_size=4, shuffle=False))
  features, labels = out[0]
  assert sorted(features) == ["a", "b"]
  np.testing.assert_array_equal(features["a"], [0, 1, 2, 3])
  np.testing.assert_array_equal(features["b"], [0, 10, 20, 30])
  np.testing.assert_array_equal(labels, [100, 101, 102, 103])


def test_array_x_gives_a_bare_features_tensor():
  x = np.arange(2 * N, dtype=np.float32).reshape(N, 2)
  out = batches(numpy_input_fn(x, np.arange(N), batch_size=4, shuffle=False))
  features, labels = out[0]
  assert isinstance(features, np.ndarray)
  np.testing.assert_array_equal(features, x[:4])
  np.testing.assert_array_equal(labels, [0, 1, 2, 3])


def test_dict_y_gives_dict_labels():
  x, y = data()
  out = batches(numpy_input_fn(x, {"t": y, "u": -y}, batch_size=N,
                               shuffle=False))
  (features, labels), = out
  assert sorted(features) == ["a", "b"] and sorted(labels) == ["t", "u"]
  np.testing.assert_array_equal(labels["u"], -y)


def test_y_none_gives_features_only():
  x, _ = data()
  out = batches(numpy_input_fn(x, batch_size=4, shuffle=False))
  assert all(isinstance(b, dict) for b in out)
  np.testing.assert_array_equal(column(out, lambda b: b["a"]), x["a"])


def test_last_partial_batch_is_delivered():
  x, y = data()
  out = batches(numpy_input_fn(x, y, batch_size=4, shuffle=False))
  assert [len(labels) for _, labels in out] == [4, 4, 2]


def test_epochs_run_back_to_back_so_only_the_very_last_batch_is_short():
  x, y = data()
  out = batches(numpy_input_fn(x, y, batch_size=4, num_epochs=3,
                               shuffle=False))
  assert [len(labels) for _, labels in out] == [4] * 7 + [2]


def test_shuffle_false_keeps_order_exactly():
  x, y = data()
  out = batches(numpy_input_fn(x, y, batch_size=3, num_epochs=2,
                               shuffle=False))
  np.testing.assert_array_equal(column(out, lambda b: b[0]["a"]),
                                np.tile(x["a"], 2))
  np.testing.assert_array_equal(column(out, lambda b: b[1]), np.tile(y, 2))


def test_shuffle_true_permutes_examples_but_keeps_rows_together():
  x = {"a": np.arange(200, dtype=np.int64)}
  y = np.arange(200, dtype=np.int64) * 2
  out = batches(numpy_input_fn(x, y, batch_size=32, shuffle=True))
  a = column(out, lambda b: b[0]["a"])
  np.testing.assert_array_equal(np.sort(a), x["a"])
  assert not np.array_equal(a, x["a"])
  np.testing.assert_array_equal(column(out, lambda b: b[1]), a * 2)


def test_num_epochs_none_repeats_past_the_first_epoch():
  x, y = data()
  dataset = numpy_input_fn(x, y, batch_size=4, num_epochs=None,
                           shuffle=False)()
  out = list(dataset.take(4).as_numpy_iterator())
  assert [len(labels) for _, labels in out] == [4, 4, 4, 4]
  np.testing.assert_array_equal(column(out, lambda b: b[0]["a"]),
                                np.tile(x["a"], 2)[:16])


def test_numpy_integer_batch_size_and_num_epochs_are_accepted():
  x, y = data()
  out = batches(numpy_input_fn(x, y, batch_size=np.int64(5),
                               num_epochs=np.int32(2), shuffle=False))
  assert [len(labels) for _, labels in out] == [5, 5, 5, 5]


def test_input_fn_can_be_called_again_for_a_fresh_pass():
  x, y = data()
  input_fn = numpy_input_fn(x, y, batch_size=4, shuffle=False)
  assert len(batches(input_fn)) == len(batches(input_fn)) == 3


# ------------------------------------------------------------ numpy: errors
@pytest.mark.parametrize("shuffle", [None, 1, 0, "True", np.bool_(True)])
def test_shuffle_must_be_an_explicit_python_bool(shuffle):
  x, y = data()
  with pytest.raises(ValueError, match="shuffle"):
    numpy_input_fn(x, y, shuffle=shuffle)()


def test_length_mismatch_between_x_and_y_is_a_value_error():
  x, y = data()
  with pytest.raises(ValueError, match="mismatched"):
    numpy_input_fn(x, y[:-1], shuffle=False)()


def test_length_mismatch_inside_x_is_a_value_error():
  x, y = data()
  x["b"] = x["b"][:-1]
  with pytest.raises(ValueError, match="mismatched"):
    numpy_input_fn(x, y, shuffle=False)()


def test_keys_in_both_x_and_y_are_a_value_error():
  x, y = data()
  with pytest.raises(ValueError, match=r"duplicate keys.*'a'"):
    numpy_input_fn(x, {"a": y, "t": y}, shuffle=False)()


@pytest.mark.parametrize("x", [[1.0, 2.0], (np.arange(2),), None, 3.0],
                         ids=["list", "tuple", "none", "float"])
def test_x_of_wrong_type_is_a_type_error(x):
  with pytest.raises(TypeError, match="x must be"):
    numpy_input_fn(x, np.arange(2), shuffle=False)()


def test_empty_dicts_are_value_errors():
  x, y = data()
  with pytest.raises(ValueError, match="`x` must be a non-empty dict"):
    numpy_input_fn({}, y, shuffle=False)()
  with pytest.raises(ValueError, match="`y` must be a non-empty dict"):
    numpy_input_fn(x, {}, shuffle=False)()


@pytest.mark.parametrize("kwargs", [{"batch_size": 0}, {"batch_size": "4"},
                                    {"num_epochs": 0}, {"num_epochs": True},
                                    {"queue_capacity": -1}])
def test_non_positive_or_non_integer_sizes_are_value_errors(kwargs):
  x, y = data()
  name = next(iter(kwargs))
  with pytest.raises(ValueError, match=f"`{name}` must be a positive"):
    numpy_input_fn(x, y, shuffle=False, **kwargs)()


# ------------------------------------------------------------------- pandas
def frame():
  return pd.DataFrame({"a": np.arange(N, dtype=np.float32),
                       "b": np.arange(N, dtype=np.float32) * 10},
                      index=np.arange(N) + 50)


def test_dataframe_x_and_series_y():
  x = frame()
  y = pd.Series(np.arange(N) + 100.0, index=x.index)
  out = batches(pandas_input_fn(x, y, batch_size=4, shuffle=False))
  assert [len(labels) for _, labels in out] == [4, 4, 2]
  assert sorted(out[0][0]) == ["a", "b"]
  np.testing.assert_array_equal(column(out, lambda b: b[0]["b"]), x["b"])
  np.testing.assert_array_equal(column(out, lambda b: b[1]), y)


def test_dataframe_y_gives_dict_labels_keyed_by_its_columns():
  x = frame()
  y = pd.DataFrame({"t": np.arange(N) + 100.0, "u": -np.arange(N)},
                   index=x.index)
  (features, labels), = batches(pandas_input_fn(x, y, batch_size=N,
                                                shuffle=False))
  assert sorted(features) == ["a", "b"] and sorted(labels) == ["t", "u"]
  np.testing.assert_array_equal(labels["u"], y["u"])


def test_dataframe_y_may_reuse_a_feature_name_like_2_15():
  x = frame()
  y = pd.DataFrame({"a": np.arange(N) + 100.0}, index=x.index)
  (features, labels), = batches(pandas_input_fn(x, y, batch_size=N,
                                                shuffle=False))
  np.testing.assert_array_equal(features["a"], x["a"])
  np.testing.assert_array_equal(labels["a"], y["a"])


def test_y_none_gives_dataframe_features_only():
  out = batches(pandas_input_fn(frame(), batch_size=4, shuffle=False))
  assert all(isinstance(b, dict) for b in out)
  assert len(out) == 3


def test_string_column_becomes_a_bytes_feature():
  x = frame().assign(s=[f"id{i}" for i in range(N)])
  (features,) = batches(pandas_input_fn(x, batch_size=N, shuffle=False))
  assert [s.decode() for s in features["s"]] == list(x["s"])


def test_target_column_clashing_with_a_feature_is_a_value_error():
  x = frame()
  y = pd.Series(np.arange(N, dtype=np.float32), index=x.index)
  with pytest.raises(ValueError, match="Cannot use name a for target column"):
    pandas_input_fn(x, y, shuffle=False, target_column="a")()
  with pytest.raises(ValueError, match="Cannot use name target"):
    pandas_input_fn(x.assign(target=1.0), y, shuffle=False)()


def test_index_mismatch_between_x_and_y_is_a_value_error():
  x = frame()
  y = pd.Series(np.arange(N, dtype=np.float32))  # default 0..9 index
  with pytest.raises(ValueError, match="Index for x and y are mismatched"):
    pandas_input_fn(x, y, shuffle=False)()


def test_pandas_shuffle_must_be_a_bool():
  with pytest.raises(ValueError, match="shuffle"):
    pandas_input_fn(frame(), None)()


def test_pandas_x_must_be_a_dataframe():
  with pytest.raises(TypeError, match="DataFrame"):
    pandas_input_fn(np.arange(N), None, shuffle=False)()


# --------------------------------------------------------------- end to end
@pytest.mark.parametrize("num_epochs,steps", [(1, 3), (2, 5)])
def test_estimator_trains_until_end_of_numpy_input(tmp_path, num_epochs,
                                                   steps):
  x, y = data()
  input_fn = numpy_input_fn(x, y, batch_size=4, num_epochs=num_epochs,
                            shuffle=True)
  assert trained_steps(tmp_path, input_fn) == steps


def test_estimator_trains_on_array_x_and_dict_y(tmp_path):
  x, y = data()
  input_fn = numpy_input_fn(x["a"], {"t": y}, batch_size=4, shuffle=False)
  assert trained_steps(tmp_path, input_fn) == 3


def test_estimator_trains_on_a_dataframe_then_predicts_from_features_only(
    tmp_path):
  x = frame()
  y = pd.Series(np.arange(N) + 100.0, index=x.index)
  est = estweight.Estimator(model_fn, model_dir=str(tmp_path))
  est.train(pandas_input_fn(x, y, batch_size=4, num_epochs=2, shuffle=True))
  assert est.get_variable_value("global_step") == 5
  predictions = est.predict(pandas_input_fn(x, batch_size=4, shuffle=False))
  np.testing.assert_array_equal([p["x"] for p in predictions], x["a"])


def test_pandas_integer_column_names_are_kept():
  # As in 2.15: features[0], not features['0'].
  x = pd.DataFrame({0: np.arange(3.0), 1: np.arange(3.0) * 2})
  batches = list(pandas_input_fn(x, shuffle=False, batch_size=3)()
                 .as_numpy_iterator())
  assert sorted(batches[0]) == [0, 1]
  np.testing.assert_array_equal(batches[0][1], [0.0, 2.0, 4.0])
