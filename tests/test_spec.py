"""EstimatorSpec validation per mode, without running anything."""
import pytest
import tensorflow as tf

import estweight

v1 = tf.compat.v1
ModeKeys = estweight.ModeKeys


@pytest.fixture(autouse=True)
def graph():
  with tf.Graph().as_default() as g:
    yield g


def scalar():
  return tf.constant(1.0)


def test_mode_keys_have_tf_estimator_values():
  assert (ModeKeys.TRAIN, ModeKeys.EVAL, ModeKeys.PREDICT) == (
      "train", "eval", "infer")


def test_train_requires_loss_and_train_op():
  with pytest.raises(ValueError, match="Missing loss"):
    estweight.EstimatorSpec(ModeKeys.TRAIN, train_op=tf.no_op())
  with pytest.raises(ValueError, match="Missing train_op"):
    estweight.EstimatorSpec(ModeKeys.TRAIN, loss=scalar())


def test_predict_requires_predictions_and_adds_default_export_output():
  with pytest.raises(ValueError, match="Missing predictions"):
    estweight.EstimatorSpec(ModeKeys.PREDICT)
  spec = estweight.EstimatorSpec(ModeKeys.PREDICT, predictions=scalar())
  assert list(spec.export_outputs) == ["serving_default"]
  assert isinstance(spec.export_outputs["serving_default"],
                    estweight.export.PredictOutput)


def test_loss_must_be_a_tensor():
  with pytest.raises(TypeError, match="`loss` must be a Tensor.*loss=1.0"):
    estweight.EstimatorSpec(ModeKeys.EVAL, loss=1.0)


def test_loss_of_shape_one_is_reshaped_to_scalar():
  spec = estweight.EstimatorSpec(ModeKeys.EVAL, loss=tf.constant([2.0]))
  assert spec.loss.shape.rank == 0


def test_defaults_for_optional_fields():
  spec = estweight.EstimatorSpec(ModeKeys.EVAL, loss=scalar())
  assert spec.predictions == {}
  assert spec.eval_metric_ops == {}
  assert spec.training_hooks == () and spec.prediction_hooks == ()
  assert isinstance(spec.scaffold, v1.train.Scaffold)


def test_tensor_from_another_graph_is_rejected():
  with tf.Graph().as_default():
    foreign = tf.constant(1.0)
  with pytest.raises(ValueError, match="created outside model_fn"):
    estweight.EstimatorSpec(ModeKeys.EVAL, loss=foreign)


def test_hooks_must_be_session_run_hooks():
  with pytest.raises(TypeError, match="training_hooks"):
    estweight.EstimatorSpec(ModeKeys.EVAL, loss=scalar(),
                            training_hooks=[object()])


def test_bad_eval_metric_ops_raise():
  with pytest.raises(TypeError, match="eval_metric_ops"):
    estweight.EstimatorSpec(ModeKeys.EVAL, loss=scalar(),
                            eval_metric_ops={"m": 3})


def test_scaffold_type_checked():
  with pytest.raises(TypeError, match="scaffold"):
    estweight.EstimatorSpec(ModeKeys.EVAL, loss=scalar(), scaffold="s")


def test_replace_keeps_validation_and_mode():
  spec = estweight.EstimatorSpec(ModeKeys.EVAL, loss=scalar())
  with pytest.raises(ValueError, match="mode"):
    spec._replace(mode=ModeKeys.TRAIN)
  with pytest.raises(ValueError, match="Missing loss"):
    spec._replace(loss=None)


def test_unknown_mode_raises():
  with pytest.raises(ValueError, match="mode='bogus'"):
    estweight.EstimatorSpec("bogus", loss=scalar())


def test_call_logit_fn_fills_arguments_by_name():
  def logit_fn(features, mode):
    return features["x"] * (2.0 if mode == ModeKeys.TRAIN else 1.0)

  out = estweight.experimental.call_logit_fn(
      logit_fn, {"x": tf.constant(3.0)}, ModeKeys.TRAIN, None, None)
  with tf.compat.v1.Session() as session:
    assert session.run(out) == 6.0
  with pytest.raises(ValueError, match="logit_fn should return a Tensor"):
    estweight.experimental.call_logit_fn(lambda features: 1, {}, "train",
                                         None, None)
