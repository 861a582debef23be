"""Estimator.export_saved_model: layout, signatures, serving round trips, errors.

Every export is loaded back for real: `tf.saved_model.load` for the
numbers, the SavedModel proto for tags, and `saved_model_cli` (show --all,
run) as a subprocess.
"""
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

import estweight
from estweight import export as export_lib

v1 = tf.compat.v1
W = np.array([[1.0], [-2.0], [0.5]], np.float32)
B = 0.25
X = np.array([[1, 1, 1], [0, 0, 0], [2, -1, 4]], np.float32)
# logit = x . [1, -2, 0.5] + 0.25: 1 - 2 + 0.5 + 0.25 = -0.25; 0.25;
# 2 + 2 + 2 + 0.25 = 6.25.
LOGITS = np.array([-0.25, 0.25, 6.25], np.float32)


def linear_model_fn(features, labels, mode):
  """logit = x . W + B, with fixed W, B: learning rate 0 keeps them."""
  w = v1.get_variable("w", initializer=W)
  b = v1.get_variable("b", initializer=np.float32(B))
  logit = tf.matmul(features["x"], w)[:, 0] + b
  probability = tf.sigmoid(logit)
  predictions = {"logit": logit, "probability": probability}
  if mode == estweight.ModeKeys.PREDICT:
    scores = tf.stack([1.0 - probability, probability], axis=1)
    return estweight.EstimatorSpec(mode, predictions=predictions,
                                   export_outputs={
        "serving_default": export_lib.PredictOutput(
            {"probability": probability}),
        "scores": export_lib.ClassificationOutput(scores=scores),
        "value": export_lib.RegressionOutput(value=logit)})
  loss = tf.reduce_mean(tf.square(logit - tf.cast(labels, tf.float32)))
  train_op = v1.train.GradientDescentOptimizer(0.0).minimize(
      loss, global_step=v1.train.get_global_step())
  return estweight.EstimatorSpec(
      mode, loss=loss, train_op=train_op, predictions=predictions,
      eval_metric_ops={"mean_logit": v1.metrics.mean(logit)})


def train_input():
  return tf.data.Dataset.from_tensor_slices(
      ({"x": X}, np.zeros(3, np.float32))).repeat().batch(3)


RAW = export_lib.build_raw_serving_input_receiver_fn(
    {"x": tf.TensorSpec([None, 3], tf.float32)})
PARSING = export_lib.build_parsing_serving_input_receiver_fn(
    {"x": tf.io.FixedLenFeature([3], tf.float32)})


def serialized(x):
  return np.array([tf.train.Example(features=tf.train.Features(feature={
      "x": tf.train.Feature(float_list=tf.train.FloatList(value=row))}))
      .SerializeToString() for row in x], dtype=object)  # 'S' drops \0s


@pytest.fixture(name="trained")
def fixture_trained(tmp_path):
  est = estweight.Estimator(linear_model_fn, model_dir=str(tmp_path / "m"))
  return est.train(train_input, steps=1)


def meta_graph_tags(export_dir):
  proto = saved_model_pb2.SavedModel()
  with open(os.path.join(export_dir, "saved_model.pb"), "rb") as f:
    proto.ParseFromString(f.read())
  return proto.meta_graphs


def test_export_layout_and_served_numbers_equal_predict(trained, tmp_path):
  base = tmp_path / "export"
  path = trained.export_saved_model(str(base), RAW)
  assert isinstance(path, bytes)  # as tf.estimator returned it
  path = path.decode()
  name = os.path.basename(path)
  assert len(name) == 10 and name.isdigit()
  assert os.listdir(base) == [name]  # the temp dir was renamed, not left
  assert sorted(os.listdir(path)) == ["saved_model.pb", "variables"]
  [meta] = meta_graph_tags(path)
  assert list(meta.meta_info_def.tags) == ["serve"]
  # Raw (non-string) inputs: TF Serving's classify/regress signatures need
  # serialized Examples, so only the Predict ones are kept.
  assert sorted(meta.signature_def) == ["serving_default"]

  served = tf.saved_model.load(path).signatures["serving_default"](
      x=tf.constant(X))
  np.testing.assert_allclose(served["probability"].numpy(),
                             1 / (1 + np.exp(-LOGITS)), rtol=1e-6)
  predicted = list(trained.predict(
      lambda: tf.data.Dataset.from_tensor_slices({"x": X}).batch(3)))
  np.testing.assert_array_equal(
      served["probability"].numpy(), [p["probability"] for p in predicted])


def test_parsing_receiver_gives_classify_and_regress_signatures(trained,
                                                                tmp_path):
  path = trained.export_saved_model(str(tmp_path / "e"), PARSING).decode()
  loaded = tf.saved_model.load(path)
  assert sorted(loaded.signatures) == ["scores", "serving_default", "value"]
  examples = tf.constant(serialized(X))
  value = loaded.signatures["value"](inputs=examples)["outputs"].numpy()
  np.testing.assert_allclose(value, LOGITS, rtol=1e-6)
  scores = loaded.signatures["scores"](inputs=examples)["scores"].numpy()
  np.testing.assert_allclose(scores[:, 1], 1 / (1 + np.exp(-LOGITS)),
                             rtol=1e-6)
  # serving_default is a Predict signature fed the examples themselves.
  out = loaded.signatures["serving_default"](examples=examples)
  np.testing.assert_allclose(out["probability"].numpy(), scores[:, 1],
                             rtol=1e-6)


def saved_model_cli(*args):
  cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  done = subprocess.run([cli, *args], capture_output=True, text=True,
                        env=env, timeout=300, check=False)
  assert done.returncode == 0, done.stderr[-3000:]
  return done.stdout


@pytest.mark.slow
def test_saved_model_cli_show_and_run(trained, tmp_path):
  path = trained.export_saved_model(str(tmp_path / "e"), PARSING).decode()
  shown = saved_model_cli("show", "--all", "--dir", path)
  assert "signature_def['value']" in shown
  assert "Method name is: tensorflow/serving/regress" in shown
  assert "signature_def['scores']" in shown
  assert "Method name is: tensorflow/serving/classify" in shown
  out = tmp_path / "out"
  examples = "[" + ",".join(
      "{'x':[%s]}" % ",".join(str(float(v)) for v in row) for row in X) + "]"
  saved_model_cli("run", "--dir", path, "--tag_set", "serve",
                  "--signature_def", "value", "--input_examples",
                  f"inputs={examples}", "--outdir", str(out))
  np.testing.assert_allclose(np.load(out / "outputs.npy"), LOGITS, rtol=1e-6)


def test_export_all_modes_tags_and_signatures(trained, tmp_path):
  supervised = estweight.experimental.build_raw_supervised_input_receiver_fn(
      {"x": tf.TensorSpec([None, 3], tf.float32)},
      tf.TensorSpec([None], tf.float32))
  path = trained.experimental_export_all_saved_models(
      str(tmp_path / "e"), {estweight.ModeKeys.TRAIN: supervised,
                            estweight.ModeKeys.EVAL: supervised,
                            estweight.ModeKeys.PREDICT: RAW}).decode()
  metas = {tuple(m.meta_info_def.tags): m for m in meta_graph_tags(path)}
  assert list(metas) == [("train",), ("eval",), ("serve",)]
  train_sig = metas[("train",)].signature_def["train"]
  assert sorted(train_sig.inputs) == ["label", "x"]
  assert "loss" in train_sig.outputs
  eval_sig = metas[("eval",)].signature_def["eval"]
  assert {"loss", "metrics/mean_logit/value",
          "metrics/mean_logit/update_op"} <= set(eval_sig.outputs)
  assert "predictions/logit" in eval_sig.outputs
  # The TRAIN graph also keeps its train op, as tf.estimator's exports did.
  assert "saved_model_train_op" in metas[("train",)].collection_def


def test_export_of_a_chosen_checkpoint(tmp_path):
  est = estweight.Estimator(linear_model_fn, model_dir=str(tmp_path / "m"),
                            config=estweight.RunConfig(
                                save_checkpoints_steps=1))
  est.train(train_input, steps=2)
  first = os.path.join(est.model_dir, "model.ckpt-1")
  path = est.export_saved_model(str(tmp_path / "e"), RAW,
                                checkpoint_path=first).decode()
  step = tf.train.load_variable(os.path.join(path, "variables", "variables"),
                                "global_step")
  assert step == 1


def test_assets_extra_and_as_text(trained, tmp_path):
  source = tmp_path / "vocab.txt"
  source.write_text("a\nb\n")
  path = trained.export_saved_model(
      str(tmp_path / "e"), RAW, assets_extra={"my/vocab.txt": str(source)},
      as_text=True).decode()
  assert sorted(os.listdir(path)) == ["assets.extra", "saved_model.pbtxt",
                                      "variables"]
  with open(os.path.join(path, "assets.extra", "my", "vocab.txt")) as f:
    assert f.read() == "a\nb\n"


def test_two_exports_in_one_second_get_distinct_directories(trained,
                                                             tmp_path):
  first = trained.export_saved_model(str(tmp_path / "e"), RAW)
  second = trained.export_saved_model(str(tmp_path / "e"), RAW)
  assert first != second and int(second[-10:]) > int(first[-10:])


def test_tensor_serving_receiver_passes_a_bare_tensor(tmp_path):
  def bare_model_fn(features, mode):
    w = v1.get_variable("w", initializer=W)
    out = tf.matmul(features, w)[:, 0]
    return estweight.EstimatorSpec(
        mode, predictions=out, loss=tf.reduce_sum(out),
        train_op=v1.assign_add(v1.train.get_global_step(), 1))

  est = estweight.Estimator(bare_model_fn, model_dir=str(tmp_path / "m"))
  est.train(lambda: tf.data.Dataset.from_tensors(X).repeat(), steps=1)

  def receiver():
    x = v1.placeholder(tf.float32, [None, 3])
    return export_lib.TensorServingInputReceiver(x, {"x": x})
  path = est.export_saved_model(str(tmp_path / "e"), receiver).decode()
  out = tf.saved_model.load(path).signatures["serving_default"](
      x=tf.constant(X))
  # x . [1, -2, 0.5]: -0.5, 0, 6.
  np.testing.assert_allclose(out["output"].numpy(), [-0.5, 0.0, 6.0])


# ------------------------------------------------------------- bad input

def test_no_checkpoint_is_a_clear_error_and_writes_nothing(tmp_path):
  est = estweight.Estimator(linear_model_fn, model_dir=str(tmp_path / "m"))
  with pytest.raises(ValueError, match="Couldn't find trained model at"):
    est.export_saved_model(str(tmp_path / "e"), RAW)
  assert not (tmp_path / "e").exists()
  assert not (tmp_path / "m").exists()


def test_receiver_fn_returning_the_wrong_type(trained, tmp_path):
  def returns_a_dict():
    return {"x": v1.placeholder(tf.float32, [None, 3])}
  with pytest.raises(TypeError, match="must return ServingInputReceiver or "
                     "TensorServingInputReceiver.*Received: dict"):
    trained.export_saved_model(str(tmp_path / "e"), returns_a_dict)
  assert not (tmp_path / "e").exists()


def test_receiver_validation_names_the_field():
  with pytest.raises(ValueError, match=r"`features\['x'\]` must be a Tensor"):
    with tf.Graph().as_default():
      export_lib.ServingInputReceiver({"x": [1.0]},
                                      v1.placeholder(tf.string, [None]))
  with pytest.raises(ValueError, match="must have distinct keys.*'x'"):
    export_lib.build_raw_supervised_input_receiver_fn(
        {"x": tf.TensorSpec([None], tf.float32)},
        {"x": tf.TensorSpec([None], tf.float32)})
  with pytest.raises(ValueError, match="default_batch_size=0"):
    export_lib.build_raw_serving_input_receiver_fn(
        {"x": tf.TensorSpec([None], tf.float32)}, default_batch_size=0)
  with pytest.raises(ValueError, match="feature_spec=None"):
    export_lib.build_parsing_serving_input_receiver_fn(None)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"experimental_mode": "serve"}, ValueError,
     "experimental_mode='serve'"),
    ({"assets_extra": {"a.txt": "/no/such/file"}}, ValueError,
     "does not exist"),
    ({"assets_extra": {"/abs.txt": __file__}}, ValueError,
     "relative paths"),
    ({"checkpoint_path": "/no/such/model.ckpt-3"}, ValueError,
     "Could not find trained model"),
])
def test_bad_export_arguments(trained, tmp_path, kwargs, error, match):
  with pytest.raises(error, match=match):
    trained.export_saved_model(str(tmp_path / "e"), RAW, **kwargs)
  assert not (tmp_path / "e").exists()


def test_model_fn_variables_missing_from_checkpoint(trained, tmp_path):
  def grown_model_fn(features, labels, mode):
    spec = linear_model_fn(features, labels, mode)
    v1.get_variable("extra", [2])
    return spec
  est = estweight.Estimator(grown_model_fn, model_dir=trained.model_dir)
  with pytest.raises(ValueError, match="Could not restore the infer graph"):
    est.export_saved_model(str(tmp_path / "e"), RAW)
  assert os.listdir(tmp_path / "e") == []  # the temp dir was removed


@pytest.mark.parametrize("head_fn, labels", [
    (lambda: estweight.MultiLabelHead(3),
     np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0]], np.int64)),
    (estweight.PoissonRegressionHead, np.array([[1.0], [0.0], [3.0]])),
    (estweight.LogisticRegressionHead, np.array([[0.2], [0.9], [0.5]])),
])
def test_heads_outside_the_parity_matrix_serve_what_predict_gives(
    head_fn, labels, tmp_path):
  est = estweight.DNNEstimator(
      head_fn(), [4], [tf.feature_column.numeric_column("x", shape=(3,))],
      model_dir=str(tmp_path / "m"),
      config=estweight.RunConfig(tf_random_seed=3))
  est.train(lambda: tf.data.Dataset.from_tensor_slices(
      ({"x": X}, labels.astype(np.float32) if labels.dtype != np.int64
       else labels)).repeat().batch(3), steps=3)
  path = est.export_saved_model(str(tmp_path / "e"), PARSING).decode()
  served = tf.saved_model.load(path).signatures["predict"](
      examples=tf.constant(serialized(X)))
  predicted = next(est.predict(
      lambda: tf.data.Dataset.from_tensor_slices({"x": X}).batch(3),
      yield_single_examples=False))
  assert sorted(served) == sorted(predicted)
  for key, value in predicted.items():
    if value.dtype.kind in "OS":  # class names
      np.testing.assert_array_equal(served[key].numpy(), value)
    else:
      np.testing.assert_allclose(served[key].numpy(), value, rtol=1e-6)


def test_a_raw_export_says_why_classify_signatures_are_missing(
    trained, tmp_path, caplog):
  trained.export_saved_model(str(tmp_path / "e"), RAW)
  [message] = [r.getMessage() for r in caplog.records
               if "are not exported" in r.getMessage()]
  assert "['scores', 'value']" in message
  assert "build_parsing_serving_input_receiver_fn" in message


def test_v1_export_savedmodel_name(trained, tmp_path):
  # tf.compat.v1.estimator.Estimator's spelling: PREDICT only, same layout.
  path = trained.export_savedmodel(str(tmp_path / "e"), RAW).decode()
  [meta] = meta_graph_tags(path)
  assert list(meta.meta_info_def.tags) == ["serve"]
  out = tf.saved_model.load(path).signatures["serving_default"](
      x=tf.constant(X))
  np.testing.assert_allclose(out["probability"].numpy(),
                             1 / (1 + np.exp(-LOGITS)), rtol=1e-6)
