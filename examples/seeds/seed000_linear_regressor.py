"""Seed 000, example 1: weighted regression with LinearRegressor.

The seed's program with `estweight.install()` added, so `tf.estimator`
resolves on TensorFlow 2.16+. Its dataset of (features, labels, weights)
triples is what estweight feeds canned estimators as example weights (the
third element acts as a `weight_column`; tf.estimator 2.15 rejected it).
Changes, each marked `# estweight:` below:

- data from `np.random.RandomState(seed)` instead of the global numpy state,
  so runs are reproducible;
- `weights` is an argument of `weighted_input_fn` (the seed read a module
  global), so `run()` can train the same program unweighted;
- `.repeat()`: the seed's dataset ends after one pass (4 batches of 32), and
  Estimators stop training when the input ends, so `steps=1000` would have
  trained 4 steps;
- the evaluation the seed omits "for brevity": the same weights, one batch
  of all 100 examples, no shuffling.
"""
import numpy as np

import estweight

estweight.install()
import tensorflow as tf  # noqa: E402


def make_data(seed=0):
  # Generate synthetic data with weights
  rng = np.random.RandomState(seed)  # estweight: seeded, not np.random.*
  X = rng.rand(100, 1)
  y = 2*X + 1 + rng.randn(100, 1) * 0.5
  weights = rng.rand(100)  # Random weights for demonstration
  return X, y, weights


# Input function with weights
def weighted_input_fn(features, labels, weights, batch_size=32,
                      training=True):
  dataset = tf.data.Dataset.from_tensor_slices((features, labels, weights))
  if not training:  # estweight: evaluation reads each example once, in order
    return dataset.batch(batch_size)
  dataset = dataset.shuffle(buffer_size=100).batch(batch_size)
  return dataset.repeat()  # estweight: see the module docstring


def run(model_dir, steps=1000, weights=None, seed=0):
  """Trains as the seed does; returns (estimator, eval metrics, data).

  `weights=None` uses the seed's random weights; pass e.g. ones to train
  the same model unweighted.
  """
  X, y, seed_weights = make_data(seed)
  weights = seed_weights if weights is None else np.asarray(weights)

  # Create and train the model
  feature_columns = [tf.feature_column.numeric_column("x")]
  estimator = tf.estimator.LinearRegressor(
      feature_columns=feature_columns, model_dir=model_dir,
      config=tf.estimator.RunConfig(tf_random_seed=seed))  # estweight: seeded

  estimator.train(
      input_fn=lambda: weighted_input_fn({"x": X}, y, weights, batch_size=32),
      steps=steps
  )

  # Evaluation (omitted for brevity in the seed, but crucial in practice)
  metrics = estimator.evaluate(
      input_fn=lambda: weighted_input_fn({"x": X}, y, weights,
                                         batch_size=100, training=False))
  return estimator, metrics, (X, y, weights)


if __name__ == "__main__":
  import tempfile
  est, metrics, _ = run(tempfile.mkdtemp())
  print("weighted:", metrics)
  print("slope", est.get_variable_value("linear/linear_model/x/weights")
        .ravel(), "intercept",
        est.get_variable_value("linear/linear_model/bias_weights"))
