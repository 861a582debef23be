"""Seed 000, example 2: weighted classification with DNNClassifier.

The seed's program with `estweight.install()` added. Its input_fn does not
run as written, on tf.estimator 2.15 or here, and is adapted (marked
`# estweight:` below):

- features: the seed passes the bare array `X`; canned estimators look
  features up by feature-column key, so they must be a dict, `{"x": X}`;
- weights: the seed names `weight_column='weights'` and also passes the
  weights as the dataset's third element. A weight_column is a features key,
  so the weights go into the features dict under 'weights'. (Dropping
  `weight_column` and keeping the 3-tuple works too; giving both is an error
  because the weights would be applied twice.)
- data from `np.random.RandomState(seed)` so runs are reproducible;
- `.repeat()`: the seed's dataset ends after 4 batches, and training stops
  when the input ends, so `steps=1000` would have trained 4 steps;
- an evaluation (not in the seed) with the same weights, read once in order.

The seed's labels are random, so the network can only learn the (weighted)
class prior: weighting class 0 by 2 pulls predictions toward class 0. (The
seed calls y=0 the minority; with seed 0 it has 54 of the 100 examples.)
"""
import numpy as np

import estweight

estweight.install()
import tensorflow as tf  # noqa: E402


def make_data(seed=0):
  # Synthetic classification data
  rng = np.random.RandomState(seed)  # estweight: seeded, not np.random.*
  X = rng.rand(100, 10)
  y = rng.randint(0, 2, 100)
  weights = np.where(y == 0, 2, 1)  # Weight minority class (y=0) more heavily
  return X, y, weights


def weighted_input_fn(features, labels, weights, batch_size=32,
                      training=True):
  # estweight: features as a dict keyed like the feature column, weights
  # under the weight_column key (see the module docstring).
  dataset = tf.data.Dataset.from_tensor_slices(
      ({"x": features, "weights": weights}, labels))
  if not training:  # estweight: evaluation reads each example once, in order
    return dataset.batch(batch_size)
  dataset = dataset.shuffle(buffer_size=100).batch(batch_size)
  return dataset.repeat()  # estweight: see the module docstring


def run(model_dir, steps=1000, weighted=True, seed=0):
  """Trains as the seed does; returns (estimator, eval metrics, data).

  `weighted=False` trains and evaluates the same program with all weights 1.
  Evaluation uses the training weights.
  """
  X, y, weights = make_data(seed)
  if not weighted:
    weights = np.ones_like(weights)

  # Feature columns
  feature_columns = [tf.feature_column.numeric_column(key="x", shape=[10])]

  # Model creation and training
  estimator = tf.estimator.DNNClassifier(
      feature_columns=feature_columns,
      hidden_units=[10, 5],
      n_classes=2,
      weight_column='weights',  # Explicitly define weight column
      model_dir=model_dir,
      config=tf.estimator.RunConfig(tf_random_seed=seed),  # estweight: seeded
  )

  estimator.train(
      input_fn=lambda: weighted_input_fn(X, y, weights, batch_size=32),
      steps=steps
  )
  metrics = estimator.evaluate(
      input_fn=lambda: weighted_input_fn(X, y, weights, batch_size=100,
                                         training=False))
  return estimator, metrics, (X, y, weights)


if __name__ == "__main__":
  import tempfile
  for weighted in (True, False):
    _, metrics, _ = run(tempfile.mkdtemp(), weighted=weighted)
    print("weighted" if weighted else "unweighted", metrics)
