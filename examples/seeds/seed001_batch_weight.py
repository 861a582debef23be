"""Seed 001, example 1: one weight for a whole batch (weight 2 on batch 1).

The seed trains `tf.keras.Sequential` with `model.fit` on a dataset of
(features, labels, weights). The Estimator counterpart feeds the very same
3-tuple dataset to `estweight.weights.make_weighted_model_fn`, which hands
the third element to the loss as example weights. Adaptations, marked
`# estweight:` below:

- the network is a `network_fn` with the seed's Keras 3 layers, but it
  returns logits (no sigmoid): the weighted sigmoid cross-entropy takes
  logits, which is what Keras computes for a sigmoid output anyway;
- the layers are named and their initialisers seeded from
  `RunConfig.tf_random_seed`: an Estimator rebuilds the network in a fresh
  graph for every train/evaluate/predict call, and unnamed Keras 3 layers
  get new names each time (dense, dense_1, dense_2, ...), which then do not
  match the checkpoint; unseeded Keras 3 initialisers ignore tf_random_seed;
- `reduction='sum_over_batch_size'` and Adam at its Keras defaults
  (learning rate 0.001, epsilon 1e-7) match what `model.fit` does with
  sample weights: Σ(w·loss) / batch_size per batch;
- `epochs=5` becomes a dataset repeated 5 times, trained until it ends
  (50 steps of 10 examples; `model.fit` does not shuffle a Dataset);
- data from `np.random.RandomState(seed)` so runs are reproducible.
"""
import keras
import numpy as np
import tensorflow as tf

import estweight


# Generate a synthetic dataset
def create_dataset(num_samples=100, batch_size=10, first_batch_weight=2.0,
                   seed=0):
  rng = np.random.RandomState(seed)  # estweight: seeded, not np.random.*
  features = rng.rand(num_samples, 2).astype(np.float32)
  labels = rng.randint(0, 2, num_samples).astype(np.int32)
  weights = np.ones(num_samples).astype(np.float32)  # Initially all 1's

  # Manually setting weight of 2 for the first batch.
  weights[:batch_size] = first_batch_weight

  dataset = tf.data.Dataset.from_tensor_slices((features, labels, weights))
  dataset = dataset.batch(batch_size)
  return dataset


# Define a simple model
def network_fn(features, config):
  # estweight: named layers, seeded initialisers, logits out (see docstring).
  seed = config.tf_random_seed
  hidden = keras.layers.Dense(
      16, activation="relu", name="hidden",
      kernel_initializer=keras.initializers.GlorotUniform(seed=seed))
  output = keras.layers.Dense(
      1, name="logits",
      kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1))
  return output(hidden(features))


def make_estimator(model_dir, optimizer="Adam", learning_rate=None, seed=0):
  # Compile the model: adam, binary_crossentropy, accuracy
  model_fn = estweight.weights.make_weighted_model_fn(
      network_fn, loss="sigmoid_cross_entropy",
      reduction="sum_over_batch_size",  # estweight: what model.fit does
      optimizer=optimizer, learning_rate=learning_rate,
      metrics=["accuracy", "average_loss"])
  return estweight.Estimator(
      model_fn, model_dir=model_dir,
      config=estweight.RunConfig(tf_random_seed=seed))


def run(model_dir, epochs=5, steps=None, first_batch_weight=2.0,
        optimizer="Adam", learning_rate=None, seed=0):
  """Trains as the seed's model.fit; returns (estimator, eval metrics).

  Evaluation reads the training dataset once (its weights included).
  `steps` caps training (None: all `epochs`).
  """
  estimator = make_estimator(model_dir, optimizer, learning_rate, seed)
  dataset = lambda: create_dataset(first_batch_weight=first_batch_weight,
                                   seed=seed)
  # Train the model: model.fit(dataset, epochs=5)
  estimator.train(lambda: dataset().repeat(epochs), steps=steps)
  return estimator, estimator.evaluate(dataset)


if __name__ == "__main__":
  import tempfile
  _, metrics = run(tempfile.mkdtemp())
  print(metrics)
