"""Canned estimators end to end: tasks, weights, feature columns, optimizers.

Tiny data (four examples in batches of two) and one or two steps, so every
test is a few graph builds. Golden numbers are worked out by hand in the
comments; tests/oracle/ compares the same numbers with tf.estimator 2.15.
"""
import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
import tf_keras

import estweight

fc = tf.feature_column
VOCAB = ["a", "b", "c"]
X = np.array([[0.0], [1.0], [2.0], [3.0]], np.float32)
W = np.array([1.0, 2.0, 1.0, 0.5], np.float32)  # Σw = 4.5
LABELS = {
    "binary": np.array([0, 1, 0, 1], np.int64),
    "multiclass": np.array(["a", "c", "b", "c"]),
    "regression": np.array([[1, 2], [2, 0], [3, 1], [4, -1]], np.float32),
}


def input_fn(labels=None, features=None, batch_size=2, repeat=False):
  def fn():
    feats = {"x": X, "w": W} if features is None else features
    ds = tf.data.Dataset.from_tensor_slices(
        feats if labels is None else (feats, labels))
    return (ds.repeat() if repeat else ds).batch(batch_size)
  return fn


def make(family, task, model_dir, **kwargs):
  x = fc.numeric_column("x")
  kwargs["model_dir"] = str(model_dir)
  if task == "binary":
    kwargs.setdefault("weight_column", "w")
  elif task == "multiclass":
    kwargs.update(n_classes=3, label_vocabulary=VOCAB,
                  weight_column=fc.numeric_column("w"))
  else:
    kwargs.update(label_dimension=2, weight_column=fc.numeric_column("w"))
  kind = "Regressor" if task == "regression" else "Classifier"
  if family == "linear":
    return getattr(estweight, "Linear" + kind)([x], **kwargs)
  if family == "dnn":
    return getattr(estweight, "DNN" + kind)([3], [x], **kwargs)
  if family == "combined":
    return getattr(estweight, "DNNLinearCombined" + kind)(
        linear_feature_columns=[x], dnn_feature_columns=[x],
        dnn_hidden_units=[3], **kwargs)
  return getattr(estweight, "Baseline" + kind)(**kwargs)


EVAL_KEYS = {
    "binary": {"accuracy", "accuracy_baseline", "auc", "auc_precision_recall",
               "average_loss", "global_step", "label/mean", "loss",
               "precision", "prediction/mean", "recall"},
    "multiclass": {"accuracy", "average_loss", "global_step", "loss"},
    "regression": {"average_loss", "global_step", "label/mean", "loss",
                   "prediction/mean"},
}
# key -> (numpy dtype kind / type, shape)
PREDICTION_SPECS = {
    "binary": {"logits": (np.float32, (1,)), "logistic": (np.float32, (1,)),
               "probabilities": (np.float32, (2,)),
               "class_ids": (np.int64, (1,)), "classes": (bytes, (1,)),
               "all_class_ids": (np.int32, (2,)),
               "all_classes": (bytes, (2,))},
    "multiclass": {"logits": (np.float32, (3,)),
                   "probabilities": (np.float32, (3,)),
                   "class_ids": (np.int64, (1,)), "classes": (bytes, (1,)),
                   "all_class_ids": (np.int32, (3,)),
                   "all_classes": (bytes, (3,))},
    "regression": {"predictions": (np.float32, (2,))},
}


def check_prediction(pred, task):
  specs = PREDICTION_SPECS[task]
  assert set(pred) == set(specs)
  for key, (dtype, shape) in specs.items():
    value = pred[key]
    assert value.shape == shape, key
    if dtype is bytes:
      assert all(isinstance(v, bytes) for v in value), key
    else:
      assert value.dtype == dtype, key


# --------------------------------------------------------- every estimator
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("family", ["linear", "dnn", "combined", "baseline"])
def test_train_evaluate_predict(tmp_path, family, task):
  est = make(family, task, tmp_path)
  est.train(input_fn(LABELS[task], repeat=True), steps=2)
  result = est.evaluate(input_fn(LABELS[task]))
  assert set(result) == EVAL_KEYS[task]
  assert result["global_step"] == 2
  assert all(np.isfinite(v) for v in result.values())
  preds = list(est.predict(input_fn()))
  assert len(preds) == 4
  for pred in preds:
    check_prediction(pred, task)
  if task == "multiclass":
    assert preds[0]["all_classes"].tolist() == [b"a", b"b", b"c"]
    assert all(p["classes"][0] in (b"a", b"b", b"c") for p in preds)
    assert all(p["all_class_ids"].tolist() == [0, 1, 2] for p in preds)
  if task != "regression":
    assert all(p["probabilities"].sum() == pytest.approx(1.0) for p in preds)


def test_binary_label_vocabulary(tmp_path):
  est = estweight.LinearClassifier([fc.numeric_column("x")],
                                   model_dir=str(tmp_path),
                                   label_vocabulary=["no", "yes"])
  labels = np.array(["no", "yes", "no", "yes"])
  est.train(input_fn(labels, repeat=True), steps=2)
  assert set(est.evaluate(input_fn(labels))) == EVAL_KEYS["binary"]
  pred = next(est.predict(input_fn()))
  assert pred["all_classes"].tolist() == [b"no", b"yes"]
  assert pred["classes"][0] in (b"no", b"yes")


# ------------------------------------------- golden numbers, no checkpoint
# With no checkpoint, evaluate() uses the initial variables: linear weights
# and the baseline bias start at 0, so every prediction (logit) is 0.
@pytest.mark.parametrize("weight_column", ["w", fc.numeric_column("w")])
@pytest.mark.parametrize("cls", ["LinearRegressor", "BaselineRegressor"])
def test_regression_weighted_golden(tmp_path, cls, weight_column):
  y = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
  kwargs = {"weight_column": weight_column, "model_dir": str(tmp_path)}
  if cls == "LinearRegressor":
    est = estweight.LinearRegressor([fc.numeric_column("x")], **kwargs)
  else:
    est = estweight.BaselineRegressor(**kwargs)
  result = est.evaluate(input_fn(y))
  # Σw·y² = 1·1 + 2·4 + 1·9 + 0.5·16 = 26; Σw = 4.5.
  assert result["average_loss"] == pytest.approx(26 / 4.5)
  # SUM_OVER_BATCH_SIZE divides by the batch size (2), not Σw:
  # batch 1: (1 + 8) / 2 = 4.5; batch 2: (9 + 8) / 2 = 8.5; mean = 6.5.
  assert result["loss"] == pytest.approx(6.5)
  # Σw·y / Σw = (1 + 4 + 3 + 2) / 4.5.
  assert result["label/mean"] == pytest.approx(10 / 4.5)
  assert result["prediction/mean"] == 0.0
  assert result["global_step"] == 0


def test_regression_sum_reduction_golden(tmp_path):
  est = estweight.LinearRegressor([fc.numeric_column("x")],
                                  model_dir=str(tmp_path), weight_column="w",
                                  loss_reduction="sum")
  result = est.evaluate(input_fn(np.array([1.0, 2.0, 3.0, 4.0], np.float32)))
  # SUM: batch losses 1 + 8 = 9 and 9 + 8 = 17; loss = mean = 13.
  assert result["loss"] == pytest.approx(13.0)
  assert result["average_loss"] == pytest.approx(26 / 4.5)


def test_binary_classifier_weighted_golden(tmp_path):
  est = estweight.LinearClassifier([fc.numeric_column("x")],
                                   model_dir=str(tmp_path), weight_column="w")
  result = est.evaluate(input_fn(LABELS["binary"]))
  ln2 = math.log(2.0)
  # Logit 0: every example's loss is ln 2, whatever its weight.
  assert result["average_loss"] == pytest.approx(ln2)
  # batch 1: ln2·(1 + 2) / 2; batch 2: ln2·(1 + 0.5) / 2; mean = 1.125 ln2.
  assert result["loss"] == pytest.approx(1.125 * ln2)
  # Logit 0 predicts class 0: correct for labels 0 (weights 1 + 1 of 4.5).
  assert result["accuracy"] == pytest.approx(2 / 4.5)
  # Weighted share of label 1: (2 + 0.5) / 4.5; baseline = max(p, 1 - p).
  assert result["label/mean"] == pytest.approx(2.5 / 4.5)
  assert result["accuracy_baseline"] == pytest.approx(2.5 / 4.5)
  assert result["prediction/mean"] == pytest.approx(0.5)
  # No positive predictions: precision and recall are 0. One score for all
  # examples: the ROC curve is the diagonal, AUC 0.5.
  assert result["precision"] == 0.0 and result["recall"] == 0.0
  assert result["auc"] == pytest.approx(0.5)
  # PR curve is the single point (recall 1, precision = positive share).
  assert result["auc_precision_recall"] == pytest.approx(2.5 / 4.5)
  pred = next(est.predict(input_fn()))
  assert pred["logistic"][0] == pytest.approx(0.5)
  assert pred["probabilities"].tolist() == pytest.approx([0.5, 0.5])
  assert pred["class_ids"].tolist() == [0] and pred["classes"] == [b"0"]


def test_multiclass_weighted_golden(tmp_path):
  est = make("linear", "multiclass", tmp_path)
  result = est.evaluate(input_fn(LABELS["multiclass"]))
  # Equal logits: softmax 1/3 each, loss ln 3; argmax picks class 0 ("a"),
  # right only for example 0 (weight 1 of 4.5).
  assert result["average_loss"] == pytest.approx(math.log(3.0))
  assert result["accuracy"] == pytest.approx(1 / 4.5)
  # batch 1: ln3·(1 + 2) / 2; batch 2: ln3·(1 + 0.5) / 2.
  assert result["loss"] == pytest.approx(1.125 * math.log(3.0))


# ---------------------------------------------------------- feature columns
def _column_features():
  return {
      "x": X,
      "id": np.array([[0], [1], [3], [2]], np.int64),
      "color": np.array([["r"], ["g"], ["b"], ["r"]]),
      "city": np.array([["paris"], ["rome"], ["oslo"], ["paris"]]),
      "tag": np.array([["t1"], ["t2"], ["t3"], ["t1"]]),
      "wid": np.array([[0], [2], [1], [1]], np.int64),
      "wid_weight": np.array([[0.5], [1.0], [2.0], [1.5]], np.float32),
  }


def _categorical_columns(tmp_path):
  vocab_file = tmp_path / "cities.txt"
  vocab_file.write_text("paris\nrome\noslo\n")
  return {
      "bucketized": fc.bucketized_column(fc.numeric_column("x"), [1.0, 2.0]),
      "identity": fc.categorical_column_with_identity("id", 4),
      "vocab_list": fc.categorical_column_with_vocabulary_list(
          "color", ["r", "g", "b"]),
      "vocab_file": fc.categorical_column_with_vocabulary_file(
          "city", str(vocab_file)),
      "hash": fc.categorical_column_with_hash_bucket("tag", 10),
      "crossed": fc.crossed_column(["color", "tag"], 7),
      "weighted": fc.weighted_categorical_column(
          fc.categorical_column_with_identity("wid", 3), "wid_weight"),
  }


def test_feature_columns_linear(tmp_path):
  cats = _categorical_columns(tmp_path)
  columns = [fc.numeric_column("x"),
             fc.embedding_column(cats["vocab_list"], 2),
             fc.indicator_column(cats["identity"])] + list(cats.values())
  est = estweight.LinearClassifier(columns, model_dir=str(tmp_path / "m"))
  est.train(input_fn(LABELS["binary"], _column_features(), repeat=True),
            steps=2)
  for column in columns:
    weights = est.get_variable_value(
        f"linear/linear_model/{column.name}/weights")
    assert np.any(weights != 0), column.name  # each column got gradients
  assert "linear/linear_model/color_embedding/embedding_weights" in (
      est.get_variable_names())


def test_feature_columns_dnn(tmp_path):
  cats = _categorical_columns(tmp_path)
  embedded = ("vocab_list", "hash", "weighted")
  columns = [fc.numeric_column("x"), cats["bucketized"]] + [
      fc.embedding_column(cats[k], 2) if k in embedded else
      fc.indicator_column(cats[k]) for k in cats if k != "bucketized"]
  est = estweight.DNNClassifier([3], columns, model_dir=str(tmp_path / "m"),
                                optimizer="SGD",
                                config=estweight.RunConfig(tf_random_seed=3))
  est.train(input_fn(LABELS["binary"], _column_features(), repeat=True),
            steps=2)
  # Input width: x 1 + bucketized 3 + identity 4 + color 2 + city 3 +
  # tag 2 + crossed 7 + weighted 2 = 24.
  assert est.get_variable_value("dnn/hiddenlayer_0/kernel").shape == (24, 3)
  first = tf.train.load_checkpoint(str(tmp_path / "m" / "model.ckpt-0"))
  for key in embedded:
    name = ("dnn/input_from_feature_columns/input_layer/"
            f"{cats[key].name}_embedding/embedding_weights")
    assert not np.array_equal(est.get_variable_value(name),
                              first.get_tensor(name)), name


def test_sequence_column_rejected(tmp_path):
  seq = fc.sequence_numeric_column("s")
  for make_est in (
      lambda: estweight.LinearClassifier([seq], model_dir=str(tmp_path)),
      lambda: estweight.DNNClassifier([2], [seq], model_dir=str(tmp_path))):
    with pytest.raises(ValueError, match="Sequence feature columns"):
      make_est()


def test_categorical_column_in_dnn_suggests_wrappers(tmp_path):
  column = fc.categorical_column_with_identity("id", 4)
  with pytest.raises(ValueError, match="indicator_column.*embedding_column"):
    estweight.DNNClassifier([2], [column], model_dir=str(tmp_path))


# --------------------------------------------------------------- optimizers
OPTIMIZERS = {
    "Adagrad": ("Adagrad", "training/Adagrad/dnn/logits/kernel/accumulator"),
    "Adam": ("Adam", "training/Adam/dnn/logits/kernel/m"),
    "Ftrl": ("Ftrl", "training/Ftrl/dnn/logits/kernel/linear"),
    "RMSProp": ("RMSProp", "training/RMSprop/dnn/logits/kernel/rms"),
    "SGD": ("SGD", "training/SGD/learning_rate"),
    "legacy_instance": (lambda: tf_keras.optimizers.legacy.Adagrad(0.05),
                        "training/Adagrad/dnn/logits/kernel/accumulator"),
    "keras3_instance": (lambda: keras.optimizers.Adam(0.01),
                        "training/Adam/dnn/logits/kernel/v"),
    "class": (lambda: tf_keras.optimizers.legacy.RMSprop,
              "training/RMSprop/dnn/logits/kernel/rms"),
    "callable": (lambda: lambda: tf_keras.optimizers.legacy.Adam(0.02),
                 "training/Adam/dnn/logits/kernel/m"),
    "v1_instance": (lambda: tf.compat.v1.train.AdagradOptimizer(0.1),
                    "dnn/logits/kernel/Adagrad"),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizers(tmp_path, name):
  optimizer, slot = OPTIMIZERS[name]
  if callable(optimizer):
    optimizer = optimizer()
  est = estweight.DNNRegressor([2], [fc.numeric_column("x")],
                               model_dir=str(tmp_path), optimizer=optimizer)
  y = LABELS["regression"][:, :1]
  est.train(input_fn(y, repeat=True), steps=1)
  assert est.get_variable_value("global_step") == 1
  assert slot in est.get_variable_names()
  if name == "keras3_instance":  # converted to its legacy twin
    assert est.get_variable_value("training/Adam/learning_rate") == (
        pytest.approx(0.01))
    est.train(input_fn(y, repeat=True), steps=1)  # a fresh twin per graph
    assert est.get_variable_value("global_step") == 2


# ------------------------------------------------------ dropout, batch norm
def test_dropout_only_in_training(tmp_path):
  est = estweight.DNNClassifier([8, 8], [fc.numeric_column("x")],
                                model_dir=str(tmp_path), dropout=0.5)
  est.train(input_fn(LABELS["binary"], repeat=True), steps=2)
  first = [p["logits"] for p in est.predict(input_fn())]
  second = [p["logits"] for p in est.predict(input_fn())]
  np.testing.assert_array_equal(first, second)


def test_batch_norm_moving_statistics(tmp_path):
  est = estweight.DNNRegressor([3], [fc.numeric_column("x")],
                               model_dir=str(tmp_path), batch_norm=True,
                               optimizer="SGD",
                               config=estweight.RunConfig(tf_random_seed=3))
  # Batch norm follows the relu: with x of both signs every unit is active
  # on some example, whatever the sign of its kernel.
  features = {"x": np.array([[-1.0], [1.0], [-2.0], [2.0]], np.float32)}
  est.train(input_fn(LABELS["regression"][:, :1], features, repeat=True),
            steps=2)
  prefix = "dnn/hiddenlayer_0/batchnorm_0/"
  mean = est.get_variable_value(prefix + "moving_mean")
  variance = est.get_variable_value(prefix + "moving_variance")
  assert mean.shape == variance.shape == (3,)
  # Initial values are 0 and 1; two training batches move them.
  assert np.any(mean != 0.0) and np.any(variance != 1.0)
  assert prefix + "gamma" in est.get_variable_names()


# ---------------------------------------------------------------- bad input
def _fails_early(tmp_path, match, make_est, train_input=None,
                 error=ValueError):
  """`make_est` (or training it one step) raises; model_dir stays absent."""
  model_dir = tmp_path / "model"
  with pytest.raises(error, match=match):
    est = make_est(str(model_dir))
    est.train(train_input or input_fn(LABELS["binary"], repeat=True),
              steps=1)
  assert not model_dir.exists()


def test_unknown_optimizer_name(tmp_path):
  _fails_early(tmp_path, r"'Adamz'.*Supported names are: \('Adagrad', 'Adam', "
               r"'Ftrl', 'RMSProp', 'SGD'\)",
               lambda d: estweight.DNNClassifier(
                   [2], [fc.numeric_column("x")], model_dir=d,
                   optimizer="Adamz"))
  _fails_early(tmp_path, "linear_optimizer.*'Adamz'",
               lambda d: estweight.DNNLinearCombinedClassifier(
                   d, linear_feature_columns=[fc.numeric_column("x")],
                   linear_optimizer="Adamz"))


@pytest.mark.parametrize("family", ["linear", "dnn", "combined", "baseline"])
def test_n_classes_one(tmp_path, family):
  _fails_early(tmp_path, r"`n_classes` must be .*Received: n_classes=1\.",
               lambda d: make(family, "binary", d, n_classes=1))


def test_label_vocabulary_wrong_size(tmp_path):
  _fails_early(tmp_path, r"n_classes=3.*label_vocabulary=\['a', 'b'\]",
               lambda d: estweight.DNNClassifier(
                   [2], [fc.numeric_column("x")], model_dir=d, n_classes=3,
                   label_vocabulary=["a", "b"]))


def test_string_labels_without_vocabulary(tmp_path):
  _fails_early(tmp_path, "label_vocabulary is not set",
               lambda d: make("linear", "binary", d),
               input_fn(np.array(["a", "b", "a", "b"])))


def test_label_out_of_range_fails_first_step(tmp_path):
  est = make("dnn", "binary", tmp_path)
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r"Labels must be <= n_classes - 1 = 1"):
    est.train(input_fn(np.array([0, 2, 0, 1])), steps=1)
  est = make("linear", "multiclass", tmp_path / "m3", weight_column=None)
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match="Labels must be in label_vocabulary"):
    est.train(input_fn(np.array(["a", "z", "b", "c"])), steps=1)


def test_weight_column_missing(tmp_path):
  _fails_early(tmp_path, r"weight_column 'wt' not in features \['w', 'x'\]",
               lambda d: make("dnn", "binary", d, weight_column="wt"))


def test_weights_wrong_shape(tmp_path):
  features = {"x": X, "w": np.ones([4, 2], np.float32)}
  _fails_early(tmp_path, r"weight_column 'w' have shape \(None, 2\)",
               lambda d: make("linear", "binary", d),
               input_fn(LABELS["binary"], features))


@pytest.mark.parametrize("hidden_units", [[], [0], [2, -1], "2"])
def test_bad_hidden_units(tmp_path, hidden_units):
  _fails_early(tmp_path, r"`hidden_units` must be .*Received: hidden_units=",
               lambda d: estweight.DNNRegressor(
                   hidden_units, [fc.numeric_column("x")], model_dir=d))


def test_bad_dropout(tmp_path):
  _fails_early(tmp_path, r"`dropout` must be .*Received: dropout=1\.5\.",
               lambda d: estweight.DNNClassifier(
                   [2], [fc.numeric_column("x")], model_dir=d, dropout=1.5))


def test_features_not_a_dict(tmp_path):
  def tensor_input():
    return tf.data.Dataset.from_tensor_slices((X, LABELS["binary"])).batch(2)
  _fails_early(tmp_path, r"`features` must be a dict.*Received: features=",
               lambda d: make("linear", "binary", d, weight_column=None),
               tensor_input)
