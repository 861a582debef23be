"""MultiHead: arguments, loss, metrics, predictions, estimators (2.15).

Expected numbers come from tf.estimator 2.15 (TF 2.15.1, the oracle venv)
running the same graphs, or from the hand arithmetic in the comments.
"""
import glob
import math

import numpy as np
import pytest
import tensorflow as tf

import estweight
from estweight.export import outputs as export_outputs
from estweight.runtime import metric_ops

fc = tf.feature_column
v1 = tf.compat.v1

LOGITS = {"head1": np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]], np.float32),
          "head2": np.array([[0.5], [-1.0]], np.float32)}
LABELS = {"head1": np.array([[2], [0]], np.int64),
          "head2": np.array([[1], [0]], np.int64)}


def _heads(**kwargs):
  return [estweight.MultiClassHead(3, name="head1", **kwargs),
          estweight.BinaryClassHead(name="head2", **kwargs)]


def _sce(x, z):
  """Sigmoid cross-entropy of logit x, label z."""
  return max(x, 0) - x * z + math.log1p(math.exp(-abs(x)))


def _softmax_ce(logits, label):
  return math.log(sum(math.exp(v) for v in logits)) - logits[label]


def run(fn):
  """Builds fn() in a fresh graph and returns its evaluated value."""
  with tf.Graph().as_default():
    out = fn()
    with v1.Session() as sess:
      sess.run([v1.local_variables_initializer(), v1.tables_initializer()])
      return sess.run(out)


# Per-head losses of LOGITS/LABELS, each averaged over the batch of 2.
HEAD1_LOSS = (_softmax_ce([1, 2, 3], 2) + _softmax_ce([0, 0, 1], 0)) / 2
HEAD2_LOSS = (_sce(0.5, 1) + _sce(-1.0, 0)) / 2


def test_loss_is_head_weighted_sum_of_head_losses():
  head = estweight.MultiHead(_heads(), head_weights=[1.0, 2.0])
  assert head.name == "head1_head2"
  assert head.logits_dimension == 4
  loss = run(lambda: head.loss(LABELS, LOGITS, features={}))
  # 0.979525 + 2 * 0.393669; tf.estimator 2.15 gives 1.7668641.
  assert loss == pytest.approx(HEAD1_LOSS + 2 * HEAD2_LOSS, rel=1e-6)
  assert loss == pytest.approx(1.7668641, rel=1e-7)
  # One logits tensor is split [3 | 1] in heads order: same loss.
  joined = np.concatenate([LOGITS["head1"], LOGITS["head2"]], axis=1)
  assert run(lambda: head.loss(LABELS, joined, features={})) == loss
  # No head_weights: each weighs 1; regularization is added once.
  plain = estweight.MultiHead(_heads())
  loss = run(lambda: plain.loss(LABELS, LOGITS, features={},
                                regularization_losses=[tf.constant(0.25)]))
  assert loss == pytest.approx(HEAD1_LOSS + HEAD2_LOSS + 0.25, rel=1e-6)


def test_heads_read_their_own_weight_columns():
  head = estweight.MultiHead([
      estweight.MultiClassHead(3, name="head1", weight_column="w"),
      estweight.BinaryClassHead(name="head2")])
  features = {"w": np.array([[3.0], [0.0]], np.float32)}
  loss = run(lambda: head.loss(LABELS, LOGITS, features=features))
  # head1: (3 * ce_1 + 0 * ce_2) / 2; head2 ignores "w".
  expected = 3 * _softmax_ce([1, 2, 3], 2) / 2 + HEAD2_LOSS
  assert loss == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"heads": []}, ValueError, "Must specify heads"),
    ({"heads": None}, ValueError, "Must specify heads"),
    ({"heads": "head1"}, TypeError, "`heads` must be a list"),
    ({"heads": [estweight.RegressionHead()]}, ValueError,
     "must have name specified"),
    ({"heads": [estweight.RegressionHead(name="a"),
                estweight.BinaryClassHead(name="a")]}, ValueError,
     r"unique; \['a'\]"),
    ({"heads": [estweight.RegressionHead(name="a"), 3]}, TypeError,
     "Received: 3 in heads"),
    ({"heads": _heads(), "head_weights": [1.0]}, ValueError,
     r"len\(heads\)=2, len\(head_weights\)=1"),
    ({"heads": _heads(), "head_weights": [1.0, "2"]}, TypeError,
     "head_weights=.1.0, '2'."),
    ({"heads": [estweight.RegressionHead(name="a"),
                estweight.RegressionHead(name="b", loss_reduction="sum")]},
     ValueError, "loss_reduction must be the same"),
])
def test_bad_arguments(kwargs, error, match):
  with pytest.raises(error, match=match):
    estweight.MultiHead(**kwargs)


@pytest.mark.parametrize("labels, logits, match", [
    ({"head1": LABELS["head1"]}, LOGITS,
     r"labels has missing values for head\(s\): \['head2'\]"),
    (LABELS["head1"], LOGITS, "labels must be a dict"),
    (None, LOGITS, "You must provide a labels Tensor"),
    (LABELS, {"head1": LOGITS["head1"]},
     r"logits has missing values for head\(s\): \['head2'\]"),
    (LABELS, np.zeros([2, 5], np.float32),
     r"dimensions \[3, 1\]: the last dimension of logits must be 4"),
    (LABELS, {"head1": LOGITS["head2"], "head2": LOGITS["head2"]},
     r"logits shape must be \[batch_size, 3\]"),
])
def test_bad_labels_and_logits(labels, logits, match):
  head = estweight.MultiHead(_heads())
  with tf.Graph().as_default(), pytest.raises(ValueError, match=match):
    head.loss(labels, logits, features={})


def test_predictions_and_export_outputs():
  head = estweight.MultiHead([estweight.RegressionHead(name="reg"),
                              estweight.MultiLabelHead(2, name="ml")])
  with tf.Graph().as_default():
    spec = head.create_estimator_spec(
        features={}, mode="infer", logits=np.zeros([2, 3], np.float32))
    # As tf.estimator 2.15: (head_name, key) prediction keys; each head's
    # serving_default as its name, its other outputs as name/key, the
    # first head's serving_default, and one merged 'predict'.
    assert sorted(spec.predictions) == [
        ("ml", "classes"), ("ml", "logits"), ("ml", "probabilities"),
        ("reg", "predictions")]
    outputs = spec.export_outputs
    assert {k: type(v).__name__ for k, v in outputs.items()} == {
        "serving_default": "RegressionOutput", "reg": "RegressionOutput",
        "reg/regression": "RegressionOutput", "reg/predict": "PredictOutput",
        "ml": "ClassificationOutput", "ml/classification":
        "ClassificationOutput", "ml/predict": "PredictOutput",
        "predict": "PredictOutput"}
    assert outputs["serving_default"] is outputs["reg"]
    assert isinstance(outputs["predict"], export_outputs.PredictOutput)
    assert sorted(outputs["predict"].outputs) == [
        "ml/classes", "ml/logits", "ml/probabilities", "reg/predictions"]
    # `keys` keeps one key of every head, or one (head, key) pair.
    assert sorted(head.predictions(np.zeros([2, 3], np.float32),
                                   keys=["logits"])) == [("ml", "logits")]
    assert sorted(head.predictions(
        np.zeros([2, 3], np.float32), keys=[("reg", "predictions")])) == [
            ("reg", "predictions")]


def test_metrics_and_update_metrics():
  head = estweight.MultiHead(_heads())
  reg = [tf.constant(0.5)]
  assert sorted(head.metrics()) == ["loss/head1", "loss/head2"]
  names = sorted(head.metrics(regularization_losses=reg))
  assert names == ["loss/head1", "loss/head2",
                   "regularization_loss/head1_head2"]
  with tf.Graph().as_default() as graph:
    metrics = head.update_metrics(
        head.metrics(regularization_losses=reg), {}, LOGITS, LABELS,
        regularization_losses=[tf.constant(0.5)])
    ops = metric_ops.normalize(metrics, graph)
    with v1.Session() as sess:
      sess.run(v1.local_variables_initializer())
      sess.run([update for _, update in ops.values()])
      values = sess.run({k: value for k, (value, _) in ops.items()})
  # tf.estimator 2.15's numbers for the same logits and labels; the
  # per-head losses are not scaled by head_weights.
  expected = {
      "regularization_loss/head1_head2": 0.5,
      "loss/head1": 0.9795253276824951, "loss/head2": 0.39366933703422546,
      "average_loss/head1": 0.9795253276824951, "accuracy/head1": 0.5,
      "average_loss/head2": 0.39366933703422546, "accuracy/head2": 1.0,
      "precision/head2": 1.0, "recall/head2": 1.0,
      "prediction/mean/head2": 0.44570040702819824, "label/mean/head2": 0.5,
      "accuracy_baseline/head2": 0.5, "auc/head2": 1.0,
      "auc_precision_recall/head2": 1.0}
  assert set(values) == set(expected)
  for key, value in expected.items():
    assert values[key] == pytest.approx(value, rel=1e-6), key
  assert values["loss/head1"] == pytest.approx(HEAD1_LOSS, rel=1e-6)


def test_custom_model_fn_train_evaluate_predict(tmp_path):
  x = np.array([[0.5], [-1.0], [2.0], [0.1]], np.float32)
  w = np.array([[1.0], [2.0], [0.5], [1.0]], np.float32)
  labels = {"cls": np.array([[2], [0], [1], [0]], np.int64),
            "reg": np.array([[1.0], [0.0], [2.0], [0.5]], np.float32)}

  def model_fn(features, labels, mode):
    head = estweight.MultiHead(
        [estweight.MultiClassHead(3, name="cls", weight_column="w"),
         estweight.RegressionHead(name="reg")], head_weights=[0.5, 2.0])
    kernel = v1.get_variable("k", [1, 4],
                             initializer=v1.constant_initializer(0.7))
    reg = [0.01 * tf.reduce_sum(tf.square(kernel))]

    def train_op_fn(loss):
      return v1.train.GradientDescentOptimizer(0.1).minimize(
          loss, global_step=v1.train.get_global_step())
    return head.create_estimator_spec(
        features=features, mode=mode, labels=labels,
        logits=tf.matmul(features["x"], kernel), train_op_fn=train_op_fn,
        regularization_losses=reg)

  def input_fn():
    return tf.data.Dataset.from_tensor_slices(
        ({"x": x, "w": w}, labels)).batch(2)
  est = estweight.Estimator(model_fn, model_dir=str(tmp_path),
                            config=estweight.RunConfig(save_summary_steps=1))
  est.train(input_fn, steps=1)
  # All expected values: tf.estimator 2.15, same model_fn and data.
  np.testing.assert_allclose(est.get_variable_value("k"), [[
      0.6610999703407288, 0.7110999822616577, 0.7235999703407288,
      0.6236000061035156]], rtol=1e-6)
  summaries = {}
  for path in glob.glob(str(tmp_path / "events*")):
    for event in v1.train.summary_iterator(path):
      for value in event.summary.value:
        summaries[value.tag] = value.simple_value
  # loss = 0.5 * loss/cls + 2 * loss/reg + regularization_loss.
  expected = {"loss/cls": 1.647918462753296, "loss/reg": 0.4562499523162842,
              "loss": 1.756059169769287,
              "regularization_loss": 0.019599998369812965}
  assert set(expected) <= set(summaries)
  for key, value in expected.items():
    assert summaries[key] == pytest.approx(value, rel=1e-6), key
  metrics = est.evaluate(input_fn)
  expected = {
      "accuracy/cls": 0.6666666865348816,
      "average_loss/cls": 1.0775675773620605,
      "average_loss/reg": 0.40518319606781006, "label/mean/reg": 0.875,
      "loss": 1.4350500106811523, "loss/cls": 1.2122634649276733,
      "loss/reg": 0.40518319606781006,
      "prediction/mean/reg": 0.2494400143623352,
      "regularization_loss/cls_reg": 0.0185519028455019, "global_step": 1}
  assert set(metrics) == set(expected)
  for key, value in expected.items():
    assert metrics[key] == pytest.approx(value, rel=1e-6), key
  predictions = list(est.predict(
      lambda: tf.data.Dataset.from_tensor_slices({"x": x}).batch(2),
      predict_keys=[("reg", "predictions")]))
  assert len(predictions) == 4
  assert list(predictions[0]) == [("reg", "predictions")]
  # reg is the 4th logit: x * k[3] = 0.5 * 0.6236.
  assert predictions[0][("reg", "predictions")] == pytest.approx(
      [0.5 * 0.6236000061035156], rel=1e-6)


def test_dnn_estimator_matches_tf_estimator(tmp_path):
  rng = np.random.RandomState(0)
  x = rng.randn(16, 2).astype(np.float32)
  labels = {"bin": (x[:, :1] > 0).astype(np.int64),
            "reg": (x[:, 1:] * 2 + 0.5).astype(np.float32)}

  def input_fn():
    return tf.data.Dataset.from_tensor_slices(({"x": x}, labels)).batch(4)
  head = estweight.MultiHead([estweight.BinaryClassHead(name="bin"),
                              estweight.RegressionHead(name="reg")],
                             head_weights=[1.0, 0.5])
  est = estweight.DNNEstimator(
      head=head, hidden_units=[3],
      feature_columns=[fc.numeric_column("x", shape=[2])],
      model_dir=str(tmp_path), config=estweight.RunConfig(tf_random_seed=7))
  est.train(input_fn, steps=8)
  metrics = est.evaluate(input_fn)
  # tf.estimator 2.15, same seed and data (the data ends after 4 steps).
  expected = {
      "accuracy/bin": 0.125, "accuracy_baseline/bin": 0.875, "auc/bin": 0.5,
      "auc_precision_recall/bin": 0.8065677881240845,
      "average_loss/bin": 0.7315052151679993,
      "average_loss/reg": 1.9102822542190552, "global_step": 4,
      "label/mean/bin": 0.875, "label/mean/reg": 0.8613510131835938,
      "loss": 1.6866464614868164, "loss/bin": 0.7315052151679993,
      "loss/reg": 1.9102822542190552, "precision/bin": 0.0,
      "prediction/mean/bin": 0.461254358291626,
      "prediction/mean/reg": 0.4139476418495178, "recall/bin": 0.0}
  assert set(metrics) == set(expected)
  for key, value in expected.items():
    assert metrics[key] == pytest.approx(value, rel=1e-5, abs=1e-7), key
  first = next(iter(est.predict(
      lambda: tf.data.Dataset.from_tensor_slices({"x": x}).batch(4))))
  assert first[("bin", "logits")] == pytest.approx([-0.10779405385255814],
                                                   rel=1e-5)
  assert first[("bin", "logistic")] == pytest.approx([0.47307756543159485],
                                                     rel=1e-5)
  assert first[("reg", "predictions")] == pytest.approx(
      [1.2196292877197266], rel=1e-5)
  # 2.15 built (and dropped) a train op per head first: the optimizer's
  # slots live under training_2/, which a 2.15 checkpoint has.
  assert "training_2/Adagrad/dnn/logits/kernel/accumulator" in (
      est.get_variable_names())


def test_linear_estimator_export_signatures(tmp_path):
  rng = np.random.RandomState(0)
  x = rng.randn(16, 2).astype(np.float32)
  w = rng.uniform(0.5, 2, size=(16, 1)).astype(np.float32)
  labels = {"cls": (x[:, :1] > 0).astype(np.int64) + (x[:, 1:] > 0.5),
            "ml": np.concatenate([x[:, :1] > 0, x[:, 1:] > 0],
                                 1).astype(np.int64),
            "reg": (x[:, 1:] * 2 + 0.5).astype(np.float32)}

  def input_fn():
    return tf.data.Dataset.from_tensor_slices(
        ({"x": x, "w": w}, labels)).batch(4)
  columns = [fc.numeric_column("x", shape=[2])]
  head = estweight.MultiHead(
      [estweight.MultiClassHead(3, name="cls", weight_column="w"),
       estweight.MultiLabelHead(2, name="ml"),
       estweight.RegressionHead(name="reg", weight_column="w")],
      head_weights=[1.0, 0.25, 0.5])
  est = estweight.LinearEstimator(head, columns,
                                  model_dir=str(tmp_path / "model"))
  est.train(input_fn, steps=8)
  metrics = est.evaluate(input_fn)
  # tf.estimator 2.15 (Ftrl starts from zeros: no seed involved).
  expected = {
      "accuracy/cls": 0.837476909160614, "auc/ml": 0.9685990214347839,
      "auc_precision_recall/ml": 0.9872525930404663,
      "average_loss/cls": 0.6871609091758728,
      "average_loss/ml": 0.6163256764411926,
      "average_loss/reg": 2.7457375526428223, "global_step": 4,
      "label/mean/reg": 0.7214241027832031, "loss": 2.416184186935425,
      "loss/cls": 0.7545661926269531, "loss/ml": 0.6163256764411926,
      "loss/reg": 3.015073537826538,
      "prediction/mean/reg": 0.28219589591026306}
  assert set(metrics) == set(expected)
  for key, value in expected.items():
    assert metrics[key] == pytest.approx(value, rel=1e-5, abs=1e-7), key
  path = est.export_saved_model(
      str(tmp_path / "export"),
      estweight.export.build_parsing_serving_input_receiver_fn(
          fc.make_parse_example_spec(columns)))
  path = path.decode() if isinstance(path, bytes) else path
  from tensorflow.python.tools import saved_model_utils  # pylint: disable=g-import-not-at-top
  signatures = saved_model_utils.get_meta_graph_def(path,
                                                    "serve").signature_def
  classify, regress, predict = ("tensorflow/serving/classify",
                                "tensorflow/serving/regress",
                                "tensorflow/serving/predict")
  # The signatures tf.estimator 2.15 wrote for this model.
  assert {k: (s.method_name, sorted(s.outputs))
          for k, s in signatures.items()} == {
              "serving_default": (classify, ["classes", "scores"]),
              "cls": (classify, ["classes", "scores"]),
              "cls/classification": (classify, ["classes", "scores"]),
              "cls/predict": (predict, [
                  "all_class_ids", "all_classes", "class_ids", "classes",
                  "logits", "probabilities"]),
              "ml": (classify, ["classes", "scores"]),
              "ml/classification": (classify, ["classes", "scores"]),
              "ml/predict": (predict, ["classes", "logits", "probabilities"]),
              "reg": (regress, ["outputs"]),
              "reg/regression": (regress, ["outputs"]),
              "reg/predict": (predict, ["predictions"]),
              "predict": (predict, [
                  "cls/all_class_ids", "cls/all_classes", "cls/class_ids",
                  "cls/classes", "cls/logits", "cls/probabilities",
                  "ml/classes", "ml/logits", "ml/probabilities",
                  "reg/predictions"])}


def test_public_names():
  from estweight.compat.v1 import estimator as v1_estimator  # pylint: disable=g-import-not-at-top
  assert estweight.MultiHead is v1_estimator.MultiHead
  assert "MultiHead" in dir(v1_estimator)
  estweight.install()
  assert tf.estimator.MultiHead is estweight.MultiHead
  assert tf.compat.v1.estimator.MultiHead is estweight.MultiHead
