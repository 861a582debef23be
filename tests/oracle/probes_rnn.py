"""Probes of tf.estimator.experimental.RNNClassifier / RNNEstimator.

Seeded runs call `random.seed(SEED)` before training: 2.15's Keras
initializers draw their seeds from Python's `random` (estweight draws them
from `random.Random(tf_random_seed)` by itself).
"""
import random
import tempfile

from probe_cases import probe

SEED = 7


def _columns(tf):
  fc = tf.feature_column
  tokens = fc.sequence_categorical_column_with_identity("tokens", 5)
  return [fc.embedding_column(tokens, 2), fc.sequence_numeric_column("x")]


def _features(tf):
  indices = [[0, 0], [0, 1], [1, 0], [2, 0], [2, 1], [2, 2]]
  return {
      "tokens": tf.sparse.SparseTensor(
          indices, tf.constant([1, 2, 3, 0, 4, 2], tf.int64), [3, 3]),
      "x": tf.sparse.SparseTensor(indices, [0.5, -1.0, 2.0, 0.1, 0.3, -0.7],
                                  [3, 3]),
      "c": tf.constant([[1.0], [2.0], [-1.0]]),
      "w": tf.constant([[1.0], [0.5], [2.0]]),
  }


def _input_fn(tf, labels=((1,), (0,), (1,))):
  return lambda: (_features(tf), tf.constant(labels))


def _train_evaluate(tf, est, input_fn, steps=3):
  random.seed(SEED)
  est.train(input_fn, steps=steps)
  metrics = est.evaluate(input_fn, steps=1)
  return {"variables": sorted(est.get_variable_names()),
          "metrics": {k: round(float(v), 4) for k, v in metrics.items()}}


def _classifier(tf, **kwargs):
  kwargs.setdefault("sequence_feature_columns", _columns(tf))
  return tf.estimator.experimental.RNNClassifier(
      model_dir=tempfile.mkdtemp(),
      config=tf.estimator.RunConfig(tf_random_seed=SEED), **kwargs)


@probe("RNNClassifier(units=[3]) default cell: variables, metrics")
def _(tf):
  return _train_evaluate(tf, _classifier(tf, units=[3]), _input_fn(tf))


@probe("RNNClassifier(cell_type='gru', units=[3, 2]): stacked cells")
def _(tf):
  return _train_evaluate(tf, _classifier(tf, units=[3, 2], cell_type="gru"),
                         _input_fn(tf))


@probe("RNNClassifier(lstm, n_classes=3, label_vocabulary)")
def _(tf):
  est = _classifier(tf, units=[2], cell_type="lstm", n_classes=3,
                    label_vocabulary=["a", "b", "c"])
  return _train_evaluate(tf, est, _input_fn(tf, (("a",), ("c",), ("b",))))


@probe("RNNClassifier(context_feature_columns, weight_column)")
def _(tf):
  est = _classifier(tf, units=[2], weight_column="w",
                    context_feature_columns=[
                        tf.feature_column.numeric_column("c")])
  return _train_evaluate(tf, est, _input_fn(tf))


@probe("RNNClassifier(return_sequences=True): masked metrics, predictions")
def _(tf):
  import itertools  # pylint: disable=g-import-not-at-top
  est = _classifier(tf, units=[2], return_sequences=True)
  out = _train_evaluate(tf, est, _input_fn(
      tf, ((1, 0, 0), (0, 0, 0), (1, 1, 0))), steps=2)
  first = next(itertools.islice(
      est.predict(lambda: _features(tf), yield_single_examples=True), 1))
  out["prediction_shapes"] = {k: list(v.shape) for k, v in first.items()}
  out["sequence_mask"] = [bool(b) for b in first["sequence_mask"]]
  return out


@probe("RNNClassifier(optimizer='SGD'): learning rate 0.05, clipnorm 5")
def _(tf):
  fc = tf.feature_column

  def input_fn():  # gradients far above norm 5: clipping shows
    x = tf.sparse.SparseTensor([[0, 0], [0, 1], [1, 0]], [50.0, -80.0, 90.0],
                               [2, 2])
    return {"x": x}, tf.constant([[1], [0]])
  est = _classifier(tf, sequence_feature_columns=[
      fc.sequence_numeric_column("x")], units=[2], optimizer="SGD")
  random.seed(SEED)
  est.train(input_fn, steps=1)
  return {"learning_rate": float(est.get_variable_value(
      "training/SGD/learning_rate")),
          "kernel": [round(float(v), 4) for v in est.get_variable_value(
              "rnn_model/rnn/simple_rnn_cell/kernel").ravel()]}


@probe("RNNEstimator(RegressionHead, rnn_cell_fn=tf.keras LSTMCell)")
def _(tf):
  est = tf.estimator.experimental.RNNEstimator(
      tf.estimator.RegressionHead(), _columns(tf),
      rnn_cell_fn=lambda: tf.keras.layers.LSTMCell(2),
      model_dir=tempfile.mkdtemp(),
      config=tf.estimator.RunConfig(tf_random_seed=SEED))
  return _train_evaluate(tf, est, _input_fn(tf, ((1.0,), (0.0,), (2.0,))),
                         steps=2)


# Bad arguments: constructed and trained, since 2.15 raised some of these
# only in train(); the error type is what is compared.
_BAD = {
    "cell_type='foo'": dict(units=[2], cell_type="foo"),
    "units=None": dict(),
    "units=2": dict(units=2),
    "units and rnn_cell_fn": dict(units=[2], rnn_cell_fn=lambda: None),
    "cell_type and rnn_cell_fn": dict(cell_type="lstm",
                                      rnn_cell_fn=lambda: None),
    "units=[0]": dict(units=[0]),
    "sequence_feature_columns=[]": dict(units=[2],
                                        sequence_feature_columns=[]),
    "n_classes=1": dict(units=[2], n_classes=1),
    "optimizer='Nope'": dict(units=[2], optimizer="Nope"),
}


def _bad_probe(kwargs):
  def fn(tf):
    est = _classifier(tf, **kwargs)
    est.train(_input_fn(tf), steps=1)
    return {"trained": True}
  return fn


for _name, _kwargs in _BAD.items():
  probe(f"RNNClassifier({_name})")(_bad_probe(_kwargs))


@probe("RNNClassifier(non-sequence column)")
def _(tf):
  est = _classifier(tf, units=[2], sequence_feature_columns=[
      tf.feature_column.numeric_column("c")])
  est.train(_input_fn(tf), steps=1)
  return {"trained": True}


@probe("RNNClassifier(sequence column in context_feature_columns)")
def _(tf):
  est = _classifier(tf, units=[2], context_feature_columns=[
      tf.feature_column.sequence_numeric_column("x")])
  est.train(_input_fn(tf), steps=1)
  return {"trained": True}


@probe("RNNEstimator(BinaryClassHead, return_sequences=True)")
def _(tf):
  est = tf.estimator.experimental.RNNEstimator(
      tf.estimator.BinaryClassHead(), _columns(tf), units=[2],
      return_sequences=True, model_dir=tempfile.mkdtemp())
  est.train(_input_fn(tf), steps=1)
  return {"trained": True}
