"""model_to_estimator: the Keras bridge, against hand arithmetic and 2.15.

Goldens (tests/golden/keras_*.json and the 2.15 model_dir
tests/golden/keras_functional_adam_weighted_start/) come from
tests/oracle/gen_keras.py run on tf.estimator 2.15; the same module builds
the models here, with Keras 3 and with tf_keras.
"""
import json
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
import tf_keras

import estweight
from support import models

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "oracle"))
import gen_keras  # noqa: E402  pylint: disable=g-import-not-at-top

v1 = tf.compat.v1
KERAS_MODULES = pytest.mark.parametrize("km", [keras, tf_keras],
                                        ids=["keras3", "tf_keras"])


def golden(case):
  with open(os.path.join(HERE, "golden", f"keras_{case}.json")) as f:
    return json.load(f)


def xy_input(x, y, w=None, batch=16, repeat=False, sample_weights_dict=False):
  def input_fn():
    features = np.float32(x)
    labels = np.float32(y)
    if w is None:
      parts = (features, labels)
    elif sample_weights_dict:
      parts = ({"features": features, "sample_weights": np.float32(w)},
               labels)
    else:
      parts = (features, labels, np.float32(w))
    ds = tf.data.Dataset.from_tensor_slices(parts)
    return (ds.repeat() if repeat else ds).batch(batch)
  return input_fn


def zero_linear(km, metrics=None, weighted_metrics=None, lr=0.1):
  """prediction = 0 * x + 0 for one feature, mse, SGD."""
  model = km.Sequential([km.Input((1,)), km.layers.Dense(
      1, kernel_initializer="zeros", name="out")])
  model.compile(optimizer=km.optimizers.SGD(lr), loss="mse",
                metrics=metrics, weighted_metrics=weighted_metrics)
  return model


def predictions_of(est, input_fn, key):
  return np.array([p[key] for p in est.predict(input_fn)])


# ------------------------------------------------------------- seed 004 flow
def test_compile_convert_train_evaluate_on_breast_cancer(tmp_path):
  from sklearn import datasets  # pylint: disable=g-import-not-at-top
  x, y = datasets.load_breast_cancer(return_X_y=True)
  x = ((x - x.mean(0)) / x.std(0)).astype(np.float32)
  keras.utils.set_random_seed(0)
  model = keras.Sequential([keras.Input((30,)),
                            keras.layers.Dense(16, activation="relu"),
                            keras.layers.Dense(1)])
  model.compile(optimizer="adam",
                loss=keras.losses.BinaryCrossentropy(from_logits=True),
                metrics=["accuracy"])
  est = estweight.model_to_estimator(keras_model=model,
                                     model_dir=str(tmp_path))
  assert isinstance(est, estweight.Estimator)
  # One evaluation batch: the estimator's `loss` is the mean of batch losses.
  before = est.evaluate(xy_input(x, y[:, None], batch=len(x)))
  est.train(xy_input(x, y[:, None], batch=32, repeat=True), steps=60)
  after = est.evaluate(xy_input(x, y[:, None], batch=len(x)))
  assert set(after) == {"accuracy", "loss", "global_step"}
  assert after["global_step"] == 60
  assert after["loss"] < 0.5 * before["loss"]
  assert os.path.exists(tmp_path / "keras" / "keras_model.ckpt.index")
  # The same numbers as Keras's own evaluate with the trained weights (its
  # 'accuracy' thresholds the logits at 0.5, as Keras does).
  model.set_weights([est.get_variable_value(
      f"layer_with_weights-{i}/{name}/.ATTRIBUTES/VARIABLE_VALUE")
                     for i in (0, 1) for name in ("kernel", "bias")])
  expected = model.evaluate(x, y[:, None], batch_size=len(x), verbose=0,
                            return_dict=True)
  assert after["loss"] == pytest.approx(expected["loss"], rel=1e-5)
  assert after["accuracy"] == pytest.approx(expected["accuracy"])


# -------------------------------------------------- weights carried over
@KERAS_MODULES
def test_first_predictions_equal_keras_predict(km, tmp_path):
  # Batch-norm statistics are not at their defaults: non-trainable weights
  # are carried over too (2.15 warm-started trainable ones only).
  case = "functional_adam_weighted"
  model = gen_keras.build(case, km)
  expected = model.predict(gen_keras.predict_input_fn(case)(), verbose=0)
  est = estweight.model_to_estimator(keras_model=model,
                                     model_dir=str(tmp_path))
  got = predictions_of(est, gen_keras.predict_input_fn(case), "score")
  np.testing.assert_allclose(got, expected, atol=1e-6)
  assert est.latest_checkpoint() is None  # predicted from the warm start
  # The Keras model still works: tf_keras used to re-base its classes onto
  # TF1 ones when the estimator built graphs ("invalid state" in 2.15).
  est.train(gen_keras.input_fn(case, train=True), steps=1)
  np.testing.assert_array_equal(
      model.predict(gen_keras.predict_input_fn(case)(), verbose=0), expected)


@KERAS_MODULES
def test_features_as_dict_or_list_in_input_order(km, tmp_path):
  case = "functional_adam_weighted"
  model = gen_keras.build(case, km)
  d = gen_keras.data()
  expected = model.evaluate([d["a"], d["b"]], d["y_reg"], batch_size=64,
                            verbose=0, return_dict=True)
  est = estweight.model_to_estimator(keras_model=model,
                                     model_dir=str(tmp_path))

  def input_fn(features):
    return lambda: tf.data.Dataset.from_tensor_slices(
        (features, d["y_reg"])).batch(64)
  # Extra keys are ignored, as in 2.15.
  for features in ((d["a"], d["b"]),
                   {"b": d["b"], "a": d["a"], "id": np.arange(64)}):
    result = est.evaluate(input_fn(features))
    assert result["loss"] == pytest.approx(expected["loss"], rel=1e-6)
    assert result["mae"] == pytest.approx(expected["mae"], rel=1e-6)


# ---------------------------------------------------- parity with 2.15
@KERAS_MODULES
def test_sgd_training_matches_tf_estimator_2_15(km, tmp_path):
  case = "sequential_sgd"
  gold = golden(case)
  model = gen_keras.build(case, km)
  est = estweight.model_to_estimator(keras_model=model,
                                     model_dir=str(tmp_path),
                                     checkpoint_format="saver")
  predict = gen_keras.predict_input_fn(case)
  assert gold["prediction_key"] == "dense_1"
  np.testing.assert_allclose(predictions_of(est, predict, "dense_1"),
                             gold["initial_predictions"], atol=1e-6)
  train = gen_keras.input_fn(case, train=True)
  evaluate = gen_keras.input_fn(case, train=False)
  est.train(train, steps=gen_keras.START_STEPS)
  for name, value in est.evaluate(evaluate).items():
    np.testing.assert_allclose(value, gold["start_eval"][name], rtol=1e-5)
  est.train(train, steps=gen_keras.MORE_STEPS)
  for name, value in est.evaluate(evaluate).items():
    np.testing.assert_allclose(value, gold["final_eval"][name], rtol=1e-5)
  assert sorted(est.get_variable_names()) == sorted(gold["final_variables"])
  for name, value in gold["final_variables"].items():
    np.testing.assert_allclose(est.get_variable_value(name), value,
                               rtol=1e-5, atol=1e-7, err_msg=name)
  np.testing.assert_allclose(predictions_of(est, predict, "dense_1"),
                             gold["final_predictions"], rtol=1e-5, atol=1e-6)


@KERAS_MODULES
def test_continues_a_model_dir_tf_estimator_2_15_trained(km, tmp_path):
  # 2.15 wrote object-based keys (checkpoint_format='checkpoint', Adam slots,
  # batch norm, l2 regularization, sample weights in the features dict);
  # 4 more steps here give the variables 2.15 reached.
  case = "functional_adam_weighted"
  gold = golden(case)
  model_dir = str(tmp_path / "m")
  shutil.copytree(os.path.join(HERE, "golden", f"keras_{case}_start"),
                  model_dir)
  est = estweight.model_to_estimator(
      keras_model=gen_keras.build(case, km), model_dir=model_dir)
  evaluate = gen_keras.input_fn(case, train=False)
  for name, value in est.evaluate(evaluate).items():
    np.testing.assert_allclose(value, gold["start_eval"][name], rtol=1e-5)
  est.train(gen_keras.input_fn(case, train=True), steps=gen_keras.MORE_STEPS)
  for name, value in est.evaluate(evaluate).items():
    np.testing.assert_allclose(value, gold["final_eval"][name], rtol=1e-5)
  for name, value in gold["final_variables"].items():
    ours = "global_step" if name.startswith("estimator_global_step") else name
    np.testing.assert_allclose(est.get_variable_value(ours), value,
                               rtol=1e-5, atol=1e-6, err_msg=name)
  np.testing.assert_allclose(
      predictions_of(est, gen_keras.predict_input_fn(case), "score"),
      gold["final_predictions"], rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------- weights
@pytest.mark.parametrize("sample_weights_dict", [False, True],
                         ids=["tuple", "features_dict"])
def test_example_weights_scale_loss_and_weighted_metrics(tmp_path,
                                                         sample_weights_dict):
  model = zero_linear(keras, metrics=["mae"], weighted_metrics=["mae"])
  est = estweight.model_to_estimator(keras_model=model,
                                     model_dir=str(tmp_path))
  # Predictions 0, labels [1, 2]: squared errors [1, 4], abs errors [1, 2].
  result = est.evaluate(xy_input([[0], [0]], [[1], [2]], w=[3, 1],
                                 sample_weights_dict=sample_weights_dict))
  # sum_over_batch_size: (3*1 + 1*4) / 2 = 3.5 (unweighted: 2.5)
  assert result["loss"] == pytest.approx(3.5)
  assert result["mae"] == pytest.approx(1.5)  # `metrics`: unweighted
  # `weighted_metrics`: (3*1 + 1*2) / (3+1) = 1.25
  assert result["weighted_mae"] == pytest.approx(1.25)


def test_all_zero_weights_give_zero_loss_and_no_update(tmp_path):
  model = zero_linear(tf_keras, weighted_metrics=["mae"])
  est = estweight.model_to_estimator(keras_model=model,
                                     model_dir=str(tmp_path),
                                     checkpoint_format="saver")
  data = xy_input([[1], [2]], [[1], [2]], w=[0, 0], repeat=True)
  est.train(data, steps=2)
  assert est.get_variable_value("out/kernel")[0, 0] == 0.0
  result = est.evaluate(xy_input([[1], [2]], [[1], [2]], w=[0, 0]))
  assert result["loss"] == 0.0
  assert result["mae"] == 0.0  # weighted: 0/0 reads as 0, not NaN


def test_weighted_training_moves_towards_heavy_examples(tmp_path):
  # One SGD step, lr 0.1, from w=0: dL/dw = -2/N * sum(weight*x*y).
  # x=[1,1], y=[1,3]: weights [3,1] -> -(3*1 + 1*3) = -6 -> w = 0.6;
  # unweighted -> -(1 + 3) = -4 -> w = 0.4.
  for name, weights, expected in (("weighted", [3, 1], 0.6),
                                  ("plain", None, 0.4)):
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(
        1, use_bias=False, kernel_initializer="zeros", name="out")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    est = estweight.model_to_estimator(keras_model=model,
                                       model_dir=str(tmp_path / name),
                                       checkpoint_format="saver")
    est.train(xy_input([[1], [1]], [[1], [3]], w=weights), steps=1)
    assert est.get_variable_value("out/kernel")[0, 0] == pytest.approx(
        expected)


def test_weights_given_twice_raise(tmp_path):
  est = estweight.model_to_estimator(keras_model=zero_linear(keras),
                                     model_dir=str(tmp_path))

  def input_fn():
    return tf.data.Dataset.from_tensor_slices((
        {"features": np.zeros((2, 1), np.float32),
         "sample_weights": np.ones(2, np.float32)},
        np.zeros((2, 1), np.float32), np.ones(2, np.float32))).batch(2)
  with pytest.raises(ValueError, match="given twice"):
    est.evaluate(input_fn)


def test_negative_weights_fail_the_step(tmp_path):
  est = estweight.model_to_estimator(keras_model=zero_linear(keras),
                                     model_dir=str(tmp_path))
  with pytest.raises(tf.errors.InvalidArgumentError, match=">= 0"):
    est.train(xy_input([[0], [0]], [[1], [2]], w=[1, -1]), steps=1)


# ------------------------------------------------------------- outputs
def test_metric_names_map_renames_evaluate_keys(tmp_path):
  model = zero_linear(keras, metrics=["mae"], weighted_metrics=["mae"])
  est = estweight.model_to_estimator(
      keras_model=model, model_dir=str(tmp_path),
      metric_names_map={"mae": "abs_error", "weighted_mae": "w_abs_error"})
  result = est.evaluate(xy_input([[0]], [[2]]))
  assert set(result) == {"abs_error", "w_abs_error", "loss", "global_step"}


def test_export_outputs_default_and_per_output(tmp_path):
  model = zero_linear(keras)
  est = estweight.model_to_estimator(
      keras_model=model, model_dir=str(tmp_path),
      export_outputs={"out": estweight.export.RegressionOutput})
  with tf.Graph().as_default():
    spec = est.model_fn(v1.placeholder(tf.float32, [None, 1]), None,
                        estweight.ModeKeys.PREDICT, est.config)
  assert set(spec.predictions) == {"out"}
  assert isinstance(spec.export_outputs["serving_default"],
                    estweight.export.PredictOutput)
  assert isinstance(spec.export_outputs["out"],
                    estweight.export.RegressionOutput)


def test_model_saved_to_a_keras_file_converts(tmp_path):
  model = gen_keras.build("sequential_sgd", keras)
  path = str(tmp_path / "model.keras")
  model.save(path)
  est = estweight.model_to_estimator(keras_model_path=path,
                                     model_dir=str(tmp_path / "m"))
  x = gen_keras.data()["a"]
  np.testing.assert_allclose(
      predictions_of(est, gen_keras.predict_input_fn("sequential_sgd"),
                     "dense_1"), model.predict(x, verbose=0), atol=1e-6)


# ------------------------------------------------------------- bad input
def test_uncompiled_model_raises_before_writing(tmp_path):
  model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
  with pytest.raises(ValueError, match="`keras_model` has not been compiled"):
    estweight.model_to_estimator(keras_model=model,
                                 model_dir=str(tmp_path / "m"))
  assert not os.path.exists(tmp_path / "m")


@pytest.mark.parametrize("change, pattern", [
    ({"keras_model": None}, "Exactly one of `keras_model` and "
     "`keras_model_path` must be given. Received: keras_model=None"),
    ({"keras_model_path": "x.keras"}, "Exactly one of"),
    ({"checkpoint_format": "h5"}, r"`checkpoint_format` must be one of "
     r"\['checkpoint', 'saver'\]. Received: checkpoint_format='h5'"),
    ({"config": estweight.RunConfig(model_dir="/elsewhere")},
     "`model_dir` are set both in constructor and `RunConfig`"),
    ({"metric_names_map": {"accuracy": "acc"}},
     r"must map exactly the compiled metric names \['mae'\]"),
    ({"export_outputs": {"logits": estweight.export.PredictOutput}},
     r"model output names \['out'\]. Unknown: \['logits'\]"),
])
def test_bad_arguments_raise_before_writing(tmp_path, change, pattern):
  args = {"keras_model": zero_linear(keras, metrics=["mae"]),
          "model_dir": str(tmp_path / "m"), **change}
  with pytest.raises(ValueError, match=pattern):
    estweight.model_to_estimator(**args)
  assert not os.path.exists(tmp_path / "m")


def test_not_a_keras_model_raises_type_error(tmp_path):
  with pytest.raises(TypeError, match="`keras_model` must be a Keras model"):
    estweight.model_to_estimator(keras_model=object(),
                                 model_dir=str(tmp_path))


def test_feature_keys_mismatch_raises_before_any_step(tmp_path):
  model = gen_keras.build("functional_adam_weighted", keras)
  est = estweight.model_to_estimator(keras_model=model,
                                     model_dir=str(tmp_path))
  written = models.snapshot(str(tmp_path))
  d = gen_keras.data()

  def input_fn():
    return tf.data.Dataset.from_tensor_slices(
        ({"a": d["a"], "c": d["b"]}, d["y_reg"])).batch(16)
  with pytest.raises(KeyError) as raised:
    est.train(input_fn, steps=1)
  message = str(raised.value)
  assert "Expected keys: ['a', 'b']" in message
  assert "Received keys: ['a', 'c']" in message
  assert "Missing keys: ['b']" in message
  assert models.snapshot(str(tmp_path)) == written  # keras/ only
  assert est.latest_checkpoint() is None


def test_subclassed_model_without_config_raises(tmp_path):
  class Wrapped(keras.Model):

    def __init__(self, layer):
      super().__init__()
      self.layer = layer

    def call(self, x):
      return self.layer(x)

  model = Wrapped(keras.layers.Dense(1))
  model.compile(optimizer="sgd", loss="mse")
  with pytest.raises(ValueError, match="must implement `get_config`"):
    estweight.model_to_estimator(keras_model=model,
                                 model_dir=str(tmp_path / "m"))
  assert not os.path.exists(tmp_path / "m")


def test_keras_loads_only_on_first_use():
  code = ("import sys, estweight\n"
          "assert 'estweight.keras' not in sys.modules\n"
          "assert callable(estweight.model_to_estimator)\n"
          "assert 'estweight.keras' in sys.modules\n")
  subprocess.run([sys.executable, "-c", code], check=True,
                 env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


@pytest.mark.parametrize("km", [keras, tf_keras], ids=["keras3", "tf_keras"])
def test_exported_keras_estimator_serves_what_predict_gives(km, tmp_path):
  km.utils.set_random_seed(3)
  model = km.Sequential([km.Input((3,), name="x"),
                         km.layers.Dense(4, activation="relu"),
                         km.layers.Dense(1, name="score")])
  model.compile(optimizer="sgd", loss="mse")
  est = estweight.model_to_estimator(keras_model=model,
                                     model_dir=str(tmp_path / "m"))
  x = np.random.RandomState(0).normal(size=(5, 3)).astype(np.float32)
  est.train(xy_input(x, x[:, :1], repeat=True), steps=2)
  path = est.export_saved_model(
      str(tmp_path / "e"), estweight.export.build_raw_serving_input_receiver_fn(
          {"x": tf.TensorSpec([None, 3])}))
  served = tf.saved_model.load(path.decode()).signatures["serving_default"]
  out = served(x=tf.constant(x))
  predicted = predictions_of(
      est, lambda: tf.data.Dataset.from_tensor_slices(x).batch(5), "score")
  np.testing.assert_allclose(out["score"].numpy(), predicted, rtol=1e-6)
