"""(features, labels, weights) inputs reach custom and canned model_fns."""
import numpy as np
import pytest
import tensorflow as tf

import estweight

v1 = tf.compat.v1
X = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
Y = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
W = np.array([1.0, 3.0, 0.5, 2.0], np.float32)


def triples(batch_size=2, repeat=False):
  def input_fn():
    ds = tf.data.Dataset.from_tensor_slices(({"x": X}, Y, W))
    return (ds.repeat() if repeat else ds).batch(batch_size)
  return input_fn


def weighted_model_fn(features, labels, mode, weights=None):
  """prediction = w0 * x (w0 = 0); loss = Σ weights·(pred - y)² / Σ weights."""
  w0 = v1.get_variable("w0", [], initializer=v1.zeros_initializer())
  pred = w0 * features["x"]
  if mode == estweight.ModeKeys.PREDICT:
    return estweight.EstimatorSpec(mode, predictions=pred)
  seen.append(weights)
  err = tf.square(pred - labels)
  loss = tf.reduce_sum(weights * err) / tf.reduce_sum(weights)
  train_op = v1.train.GradientDescentOptimizer(0.0).minimize(
      loss, v1.train.get_global_step())
  return estweight.EstimatorSpec(mode, loss=loss, train_op=train_op)


seen = []


def test_custom_model_fn_receives_weights_argument(tmp_path):
  seen.clear()
  est = estweight.Estimator(weighted_model_fn, model_dir=str(tmp_path))
  result = est.evaluate(triples())
  # The EVAL graph's model_fn got the input's third element as `weights`.
  assert seen and all(isinstance(w, tf.Tensor) for w in seen), seen
  # Batches [1,2] w [1,3] and [3,4] w [0.5,2]; pred 0 so err = y².
  # batch 1: (1*1 + 3*4) / 4 = 3.25; batch 2: (0.5*9 + 2*16) / 2.5 = 14.6
  # loss = mean over batches = (3.25 + 14.6) / 2 = 8.925
  assert result["loss"] == pytest.approx(8.925)
  # PREDICT gets no weights (and needs none).
  preds = list(est.predict(triples()))
  assert [float(p) for p in preds] == [0.0] * 4


def test_canned_estimator_uses_third_element_as_weight_column(tmp_path):
  columns = [tf.feature_column.numeric_column("x")]
  config = estweight.RunConfig(tf_random_seed=1)
  by_tuple = estweight.LinearRegressor(columns, model_dir=str(tmp_path / "a"),
                                       config=config)
  by_column = estweight.LinearRegressor(
      columns, model_dir=str(tmp_path / "b"), weight_column="w",
      config=config)
  by_tuple.train(triples(repeat=True), steps=5)

  def with_column():
    return tf.data.Dataset.from_tensor_slices(
        ({"x": X, "w": W}, Y)).repeat().batch(2)

  by_column.train(with_column, steps=5)
  for name in ("linear/linear_model/x/weights",
               "linear/linear_model/bias_weights"):
    np.testing.assert_array_equal(by_tuple.get_variable_value(name),
                                  by_column.get_variable_value(name))
  a = by_tuple.evaluate(triples())
  b = by_column.evaluate(lambda: tf.data.Dataset.from_tensor_slices(
      ({"x": X, "w": W}, Y)).batch(2))
  assert a["average_loss"] == pytest.approx(b["average_loss"], rel=1e-6)
  assert a["loss"] == pytest.approx(b["loss"], rel=1e-6)


def test_weights_given_twice_raise_naming_both(tmp_path):
  est = estweight.LinearRegressor([tf.feature_column.numeric_column("x")],
                                  model_dir=str(tmp_path / "m"),
                                  weight_column="x")
  with pytest.raises(ValueError, match="weight_column='x'.*third element.*"
                     "drop one"):
    est.train(triples(), steps=1)
  assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("bad, pattern", [(-1.0, "must be >= 0"),
                                          (np.nan, "must be finite")])
def test_canned_rejects_negative_or_nan_weights(tmp_path, bad, pattern):
  est = estweight.LinearRegressor([tf.feature_column.numeric_column("x")],
                                  model_dir=str(tmp_path))

  def input_fn():
    w = np.array([1.0, bad, 1.0, 1.0], np.float32)
    return tf.data.Dataset.from_tensor_slices(({"x": X}, Y, w)).batch(4)

  with pytest.raises(tf.errors.InvalidArgumentError, match=pattern):
    est.train(input_fn, steps=1)


def test_canned_all_zero_eval_weights_report_zero_like_tf_estimator(tmp_path):
  # Documented behaviour (README): canned estimators keep tf.estimator 2.15's
  # numbers, where Σw·l/Σw with Σw = 0 is reported as 0 (divide-no-nan);
  # make_weighted_model_fn raises instead.
  est = estweight.LinearRegressor([tf.feature_column.numeric_column("x")],
                                  model_dir=str(tmp_path))

  def input_fn():
    return tf.data.Dataset.from_tensor_slices(
        ({"x": X}, Y, np.zeros(4, np.float32))).batch(4)

  result = est.evaluate(input_fn)
  assert result["average_loss"] == 0.0 and result["loss"] == 0.0


def test_canned_training_without_labels_says_so(tmp_path):
  est = estweight.LinearRegressor([tf.feature_column.numeric_column("x")],
                                  model_dir=str(tmp_path / "m"))
  with pytest.raises(ValueError, match="You must provide a labels Tensor"):
    est.train(lambda: tf.data.Dataset.from_tensor_slices({"x": X}).batch(2),
              steps=1)
  assert not (tmp_path / "m").exists()
