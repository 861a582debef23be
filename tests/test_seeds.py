"""The user's seed programs and the TF getting-started custom Estimator."""
import json
import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "examples", "seeds"))
sys.path.insert(0, os.path.join(HERE, "oracle"))


def test_seed000_custom_weighted_model_fn_runs_unchanged(tmp_path):
  import seed000_custom_weighted as seed  # pylint: disable=g-import-not-at-top
  estimator, metrics = seed.run(str(tmp_path), steps=300)
  assert metrics["global_step"] == 300
  assert set(metrics) == {"accuracy", "loss", "global_step"}
  # The rule is learnable: far above the 50% of a constant guess.
  assert metrics["accuracy"] > 0.85
  names = estimator.get_variable_names()
  assert {"dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias",
          "dense/kernel/Adam", "beta1_power", "global_step"} <= set(names)


def test_seed000_weights_change_the_loss(tmp_path):
  """The weights in features really weight the loss."""
  import seed000_custom_weighted as seed  # pylint: disable=g-import-not-at-top
  import tensorflow.compat.v1 as tf  # pylint: disable=g-import-not-at-top
  X, y, weights = seed.make_data()
  # With a seed, each evaluate initialises the same (untrained) model.
  est = tf.estimator.Estimator(seed.model_fn, model_dir=str(tmp_path),
                               params={"learning_rate": 0.01},
                               config=tf.estimator.RunConfig(tf_random_seed=1))
  base = est.evaluate(lambda: seed.weighted_input_fn(
      {"x": X, "weights": np.ones_like(weights)}, y, 100, repeat=False))
  doubled = est.evaluate(lambda: seed.weighted_input_fn(
      {"x": X, "weights": 2 * np.ones_like(weights)}, y, 100, repeat=False))
  # Same (initial) model: loss is linear in the weights.
  assert doubled["loss"] == pytest.approx(2 * base["loss"], rel=1e-6)


def test_iris_custom_estimator_matches_tf_estimator_2_15(tmp_path):
  import estweight  # pylint: disable=g-import-not-at-top
  estweight.install()
  import iris_custom  # pylint: disable=g-import-not-at-top
  with open(os.path.join(HERE, "golden", "iris_custom.json")) as f:
    golden = json.load(f)
  ours = iris_custom.run(str(tmp_path))
  # Same seed, data and steps: tf.estimator 2.15 numbers, bit for bit.
  assert ours["global_step"] == golden["global_step"] == 400
  assert ours["accuracy"] == golden["accuracy"]
  assert ours["class_ids"] == golden["class_ids"]
  np.testing.assert_allclose(ours["loss"], golden["loss"], rtol=1e-6)
  np.testing.assert_allclose(ours["first_probabilities"],
                             golden["first_probabilities"], rtol=1e-5,
                             atol=1e-9)
  np.testing.assert_allclose(ours["first_kernel"], golden["first_kernel"],
                             rtol=1e-6)
