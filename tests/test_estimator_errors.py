"""Bad input: clear errors naming the argument, raised before any step runs,
with model_dir left untouched (here: never created)."""
import numpy as np
import pytest
import tensorflow as tf

import estweight
from support import models

v1 = tf.compat.v1
GOOD_INPUT = models.xy_input_fn([1.0, 2.0], [2.0, 4.0], repeat=True)


@pytest.fixture
def model_dir(tmp_path):
  path = tmp_path / "model"
  yield str(path)
  assert not path.exists(), "model_dir must stay untouched"


@pytest.mark.parametrize("kwargs, pattern", [
    ({"steps": 0}, r"`steps` must be a positive integer.*steps=0"),
    ({"steps": -3}, r"`steps` must be a positive integer.*steps=-3"),
    ({"steps": 2.5}, r"`steps` must be a positive integer.*steps=2.5"),
    ({"max_steps": 0}, r"`max_steps` must be a positive integer.*max_steps=0"),
    ({"steps": 1, "max_steps": 5},
     r"Can not provide both steps and max_steps.*steps=1, max_steps=5"),
])
def test_bad_step_arguments_raise_value_error(model_dir, kwargs, pattern):
  est = models.make_estimator(model_dir)
  with pytest.raises(ValueError, match=pattern):
    est.train(GOOD_INPUT, **kwargs)


def test_train_spec_without_train_op_raises(model_dir):
  def model_fn(features, labels, mode):
    w = v1.get_variable("w", [], initializer=v1.zeros_initializer())
    loss = tf.reduce_mean(tf.square(w * features["x"] - labels))
    return estweight.EstimatorSpec(mode, loss=loss)

  est = estweight.Estimator(model_fn, model_dir=model_dir)
  with pytest.raises(ValueError, match="Missing train_op.*mode='train'"):
    est.train(GOOD_INPUT, steps=1)


def test_non_scalar_loss_raises(model_dir):
  def model_fn(features, labels, mode):
    w = v1.get_variable("w", [], initializer=v1.zeros_initializer())
    loss = tf.square(w * features["x"] - labels)  # [batch], not reduced
    train_op = v1.train.GradientDescentOptimizer(0.1).minimize(loss)
    return estweight.EstimatorSpec(mode, loss=loss, train_op=train_op)

  est = estweight.Estimator(model_fn, model_dir=model_dir)
  with pytest.raises(ValueError, match=r"Loss must be scalar.*shape \(None,\)"):
    est.train(GOOD_INPUT, steps=1)


def test_model_fn_with_unknown_argument_raises_at_construction(model_dir):
  def model_fn(features, labels, mode, hidden_units):
    del features, labels, mode, hidden_units

  with pytest.raises(ValueError,
                     match=r"not expected args: \['hidden_units'\].*model_fn"):
    estweight.Estimator(model_fn, model_dir=model_dir)


def test_model_fn_without_features_raises(model_dir):
  with pytest.raises(ValueError, match="must include a `features` argument"):
    estweight.Estimator(lambda x, labels: None, model_dir=model_dir)


def test_params_without_params_argument_raises(model_dir):
  with pytest.raises(ValueError, match=r"params.*\{'lr': 1\}"):
    estweight.Estimator(lambda features, labels, mode: None,
                        model_dir=model_dir, params={"lr": 1})


def test_input_fn_returning_a_four_tuple_raises(model_dir):
  def input_fn():
    x = tf.constant([[1.0]])
    return {"x": x}, x, x, x

  est = models.make_estimator(model_dir)
  with pytest.raises(ValueError, match="returned a tuple of length 4"):
    est.train(input_fn, steps=1)


def test_weights_for_a_model_fn_without_weights_argument_raise(model_dir):
  # (features, labels, weights) with a model_fn that cannot receive the
  # weights: refusing beats silently training unweighted.
  def input_fn():
    return tf.data.Dataset.from_tensor_slices(
        ({"x": np.ones(4, np.float32)}, np.ones(4, np.float32),
         np.ones(4, np.float32))).batch(2)

  est = models.make_estimator(model_dir)
  with pytest.raises(ValueError, match="no `weights` argument"):
    est.train(input_fn, steps=1)


def test_weights_of_wrong_shape_raise(model_dir):
  def input_fn():
    return tf.data.Dataset.from_tensor_slices(
        ({"x": np.ones(4, np.float32)}, np.ones(4, np.float32),
         np.ones((4, 3), np.float32))).batch(2)

  est = models.make_estimator(model_dir)
  with pytest.raises(ValueError, match=r"shape \[batch_size\].*\(None, 3\)"):
    est.train(input_fn, steps=1)


def test_model_dir_that_is_a_file_raises(tmp_path):
  path = tmp_path / "a_file"
  path.write_text("not a directory")
  with pytest.raises(ValueError, match="`model_dir` must be a directory.*"
                     "a_file"):
    estweight.Estimator(models.scalar_model_fn, model_dir=str(path))
  assert path.read_text() == "not a directory"


def test_hooks_of_wrong_type_raise_type_error(model_dir):
  est = models.make_estimator(model_dir)
  with pytest.raises(TypeError, match="`hooks` must be SessionRunHook.*"
                     "'not a hook'"):
    est.train(GOOD_INPUT, steps=1, hooks=["not a hook"])
  with pytest.raises(TypeError, match="saving_listeners"):
    est.train(GOOD_INPUT, steps=1, saving_listeners=[object()])


def test_input_fn_with_unfillable_argument_raises(model_dir):
  def input_fn(batch_size):
    del batch_size

  est = models.make_estimator(model_dir)
  with pytest.raises(ValueError, match=r"`input_fn` has arguments.*"
                     r"\['batch_size'\]"):
    est.train(input_fn, steps=1)


def test_model_fn_not_taking_labels_with_labels_raises(model_dir):
  def model_fn(features, mode):
    del features, mode

  est = estweight.Estimator(model_fn, model_dir=model_dir)
  with pytest.raises(ValueError, match="does not take labels"):
    est.train(GOOD_INPUT, steps=1)


def test_model_fn_returning_a_non_spec_raises(model_dir):
  est = estweight.Estimator(lambda features, labels: {"loss": 1},
                            model_dir=model_dir)
  with pytest.raises(ValueError, match="should return an EstimatorSpec"):
    est.train(GOOD_INPUT, steps=1)


def test_saving_listeners_without_checkpointing_raise(model_dir):
  est = estweight.Estimator(
      models.scalar_model_fn, model_dir=model_dir,
      config=estweight.RunConfig(save_checkpoints_steps=None,
                                 save_checkpoints_secs=None))
  with pytest.raises(ValueError, match="CheckpointSaverHook"):
    est.train(GOOD_INPUT, steps=1,
              saving_listeners=[estweight.CheckpointSaverListener()])


def test_model_dir_conflicting_with_config_raises(tmp_path):
  with pytest.raises(ValueError, match="different values"):
    estweight.Estimator(
        models.scalar_model_fn, model_dir=str(tmp_path / "a"),
        config=estweight.RunConfig(model_dir=str(tmp_path / "b")))


def test_evaluate_with_bad_steps_raises(model_dir):
  est = models.make_estimator(model_dir)
  with pytest.raises(ValueError, match="`steps` must be a positive.*steps=0"):
    est.evaluate(GOOD_INPUT, steps=0)
