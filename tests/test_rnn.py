"""RNNClassifier / RNNEstimator: checkpoint names and seeded numbers of
tf.estimator 2.15 (literals below were printed by tf.estimator 2.15 in the
oracle venv with `random.seed(seed)` before train and the same inputs;
estweight draws Keras initializer seeds from `tf_random_seed` itself)."""
import itertools
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

import estweight
from estweight.canned import rnn

fc = tf.feature_column
SEED = 7
LABELS = ((1,), (0,), (1,))
STEP_LABELS = ((1, 0, 0), (0, 0, 0), (1, 1, 0))  # sequence lengths 2, 1, 3


def columns():
  tokens = fc.sequence_categorical_column_with_identity("tokens", 5)
  return [fc.embedding_column(tokens, 2), fc.sequence_numeric_column("x")]


def features():
  indices = [[0, 0], [0, 1], [1, 0], [2, 0], [2, 1], [2, 2]]
  return {
      "tokens": tf.sparse.SparseTensor(
          indices, tf.constant([1, 2, 3, 0, 4, 2], tf.int64), [3, 3]),
      "x": tf.sparse.SparseTensor(indices, [0.5, -1.0, 2.0, 0.1, 0.3, -0.7],
                                  [3, 3]),
      "c": tf.constant([[1.0], [2.0], [-1.0]]),
      "w": tf.constant([[1.0], [0.5], [2.0]]),
  }


def input_fn(labels=LABELS):
  return lambda: (features(), tf.constant(labels))


def classifier(tmp_path, seed=SEED, **kwargs):
  kwargs.setdefault("sequence_feature_columns", columns())
  return estweight.experimental.RNNClassifier(
      model_dir=str(tmp_path), config=estweight.RunConfig(tf_random_seed=seed),
      **kwargs)


def predict(est):
  return list(itertools.islice(est.predict(features), 3))


def check_metrics(metrics, expected):
  assert set(metrics) == set(expected)
  for key, value in expected.items():
    np.testing.assert_allclose(metrics[key], value, rtol=1e-6, err_msg=key)


def test_default_cell_names_metrics_and_predictions(tmp_path):
  est = classifier(tmp_path, units=[3])
  est.train(input_fn(), steps=3)
  assert est.get_variable_names() == [
      "global_step", "rnn_model/logits/bias", "rnn_model/logits/kernel",
      "rnn_model/rnn/simple_rnn_cell/bias",
      "rnn_model/rnn/simple_rnn_cell/kernel",
      "rnn_model/rnn/simple_rnn_cell/recurrent_kernel",
      "sequence_features/tokens_embedding/embedding_weights",
      "training/Adagrad/decay", "training/Adagrad/learning_rate",
      "training/Adagrad/rnn_model/logits/bias/accumulator",
      "training/Adagrad/rnn_model/logits/kernel/accumulator",
      "training/Adagrad/rnn_model/rnn/simple_rnn_cell/bias/accumulator",
      "training/Adagrad/rnn_model/rnn/simple_rnn_cell/kernel/accumulator",
      "training/Adagrad/rnn_model/rnn/simple_rnn_cell/recurrent_kernel/"
      "accumulator",
      "training/Adagrad/sequence_features/tokens_embedding/embedding_weights/"
      "accumulator"]
  # Named optimizers learn at 0.05 in 2.15's RNN estimators.
  assert est.get_variable_value("training/Adagrad/learning_rate") == (
      np.float32(0.05))
  check_metrics(est.evaluate(input_fn(), steps=1), {
      "accuracy": 1.0, "accuracy_baseline": 0.6666666865348816, "auc": 1.0,
      "auc_precision_recall": 1.0, "average_loss": 0.34216389060020447,
      "label/mean": 0.6666666865348816, "loss": 0.34216389060020447,
      "precision": 1.0, "prediction/mean": 0.5423889756202698, "recall": 1.0,
      "global_step": 3.0})
  logits = [float(p["logits"][0]) for p in predict(est)]
  np.testing.assert_allclose(
      logits, [1.039718747138977, -1.1222953796386719, 0.5874746441841125],
      rtol=1e-6)


def test_return_sequences_scores_real_steps_only(tmp_path):
  est = classifier(tmp_path, units=[2], return_sequences=True)
  est.train(input_fn(STEP_LABELS), steps=2)
  # 6 real steps, 3 of them positive: label/mean 0.5 (padding not counted).
  check_metrics(est.evaluate(input_fn(STEP_LABELS), steps=1), {
      "accuracy": 0.5, "accuracy_baseline": 0.5, "auc": 0.555555522441864,
      "auc_precision_recall": 0.659449577331543,
      "average_loss": 0.7287095189094543, "label/mean": 0.5,
      "loss": 0.7287095189094543, "precision": 0.5,
      "prediction/mean": 0.6009112000465393, "recall": 0.6666666865348816,
      "global_step": 2.0})
  predictions = predict(est)
  np.testing.assert_allclose(
      [p["logits"].ravel() for p in predictions],
      [[1.1511162519454956, 0.8753633499145508, 0.8753633499145508],
       [-1.0035914182662964, -1.0035914182662964, -1.0035914182662964],
       [0.5454655885696411, -0.046862129122018814, 1.1001397371292114]],
      rtol=1e-6)
  assert [p["sequence_mask"].tolist() for p in predictions] == [
      [True, True, False], [True, False, False], [True, True, True]]
  assert predictions[0]["probabilities"].shape == (3, 2)


def test_context_columns_and_weight_column(tmp_path):
  est = classifier(tmp_path, units=[2], weight_column="w",
                   context_feature_columns=[fc.numeric_column("c")])
  est.train(input_fn(), steps=3)
  # Weights 1, 0.5, 2: label/mean = (1 + 2) / 3.5; loss (sum / 3) differs
  # from average_loss (sum / 3.5) by 3.5 / 3.
  check_metrics(est.evaluate(input_fn(), steps=1), {
      "accuracy": 1.0, "accuracy_baseline": 0.8571428656578064, "auc": 1.0,
      "auc_precision_recall": 1.0, "average_loss": 0.20808379352092743,
      "label/mean": 0.8571428656578064, "loss": 0.2427644282579422,
      "precision": 1.0, "prediction/mean": 0.714753270149231, "recall": 1.0,
      "global_step": 3.0})


def _large_gradient_input():
  x = tf.sparse.SparseTensor([[0, 0], [0, 1], [1, 0]], [50.0, -80.0, 90.0],
                             [2, 2])
  return {"x": x}, tf.constant([[1], [0]])


@pytest.mark.parametrize("optimizer, kernel", [
    # 2.15: a name means learning rate 0.05 and clipnorm=5 ...
    ("SGD", [-0.25585067, -1.3691657]),
    # ... an optimizer the caller builds is used as it is (no clipping).
    (lambda: tf_keras.optimizers.legacy.SGD(0.05), [-0.41310272, -1.3691657]),
])
def test_named_optimizer_clips_gradient_norm(tmp_path, optimizer, kernel):
  est = classifier(tmp_path, seed=3, units=[2], optimizer=optimizer,
                   sequence_feature_columns=[fc.sequence_numeric_column("x")])
  est.train(_large_gradient_input, steps=1)
  np.testing.assert_allclose(
      est.get_variable_value("rnn_model/rnn/simple_rnn_cell/kernel").ravel(),
      kernel, rtol=1e-5)


def test_stacked_cells_and_keras3_cell_fn(tmp_path):
  est = classifier(tmp_path / "gru", units=[3, 2], cell_type="gru")
  est.train(input_fn(), steps=1)
  names = [n for n in est.get_variable_names() if n.startswith("rnn_model/rnn")]
  assert names == [f"rnn_model/rnn/stacked_rnn_cells/{cell}/{v}"
                   for cell in ("gru_cell", "gru_cell_1")
                   for v in ("bias", "kernel", "recurrent_kernel")]
  assert est.get_variable_value(names[0]).shape == (2, 9)  # reset_after
  # A TF 2.21 `tf.keras` (Keras 3) cell, as 2.15 code wrote it, runs as its
  # tf_keras twin, without Keras 3's seed-generator variable.
  est = estweight.experimental.RNNEstimator(
      estweight.RegressionHead(), columns(), model_dir=str(tmp_path / "l"),
      rnn_cell_fn=lambda: tf.keras.layers.LSTMCell(2))
  est.train(input_fn(((1.0,), (0.0,), (2.0,))), steps=1)
  assert [n for n in est.get_variable_names()
          if not n.startswith("training/")] == [
              "global_step", "rnn_model/logits/bias", "rnn_model/logits/kernel",
              "rnn_model/rnn/lstm_cell/bias", "rnn_model/rnn/lstm_cell/kernel",
              "rnn_model/rnn/lstm_cell/recurrent_kernel",
              "sequence_features/tokens_embedding/embedding_weights"]


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(units=[2], cell_type="foo"), ValueError, "cell_type='foo'"),
    (dict(), TypeError, "units=None"),
    (dict(units=2), TypeError, "units=2"),
    (dict(units=[]), ValueError, r"units=\[\]"),
    (dict(units=[2, 0]), ValueError, r"units=\[2, 0\]"),
    (dict(units=[2], rnn_cell_fn=lambda: None), ValueError,
     "must not be specified when using `rnn_cell_fn`"),
    (dict(cell_type="lstm", rnn_cell_fn=lambda: None), ValueError,
     "cell_type='lstm'"),
    (dict(rnn_cell_fn="lstm"), TypeError, "rnn_cell_fn='lstm'"),
    (dict(units=[2], sequence_feature_columns=None), TypeError,
     "sequence_feature_columns=None"),
    (dict(units=[2], sequence_feature_columns=[fc.numeric_column("c")]),
     ValueError, "sequence dense columns"),
    (dict(units=[2],
          context_feature_columns=[fc.sequence_numeric_column("x")]),
     ValueError, "context_feature_columns"),
    (dict(units=[2], n_classes=1), ValueError, "n_classes=1"),
    (dict(units=[2], optimizer="Nope"), ValueError, "optimizer='Nope'"),
])
def test_bad_arguments_fail_at_construction(tmp_path, kwargs, error, match):
  with pytest.raises(error, match=match):
    classifier(tmp_path, **kwargs)


def test_estimator_head_checks(tmp_path):
  with pytest.raises(ValueError, match="SequentialHeadWrapper"):
    estweight.experimental.RNNEstimator(
        estweight.BinaryClassHead(), columns(), units=[2],
        return_sequences=True, model_dir=str(tmp_path))
  with pytest.raises(ValueError, match="head='x'"):
    estweight.experimental.RNNEstimator("x", columns(), units=[2])
  head = rnn.SequentialHeadWrapper(estweight.BinaryClassHead())
  assert head.logits_dimension == 1
  assert head.input_sequence_mask_key == "sequence_mask"


def test_exported_lazily():
  code = ("import sys, estweight; "
          "assert 'tf_keras' not in sys.modules; "
          "assert {'RNNClassifier', 'RNNEstimator'} <= set("
          "dir(estweight.experimental)); "
          "assert estweight.experimental.RNNEstimator.__module__ == "
          "'estweight.canned.rnn'")
  subprocess.run([sys.executable, "-c", code], check=True)
