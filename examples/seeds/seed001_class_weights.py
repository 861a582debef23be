"""Seed 001, example 2: inverse-frequency class weights as example weights.

The seed computes `total / count` per class (1000/800 = 1.25 for the
majority class 0, 1000/200 = 5.0 for the minority class 1), stores it per
example and trains with `model.fit` on (features, labels, weights). Here the
same 3-tuple dataset trains through `estweight.weights.make_weighted_model_fn`.
Adaptations, marked `# estweight:` below:

- the network is a `network_fn` with the seed's Keras 3 layers returning
  logits (the sigmoid goes into the loss); layers are named and their
  initialisers seeded, because Estimators rebuild the network per call
  (unnamed Keras 3 layers would get new names that miss the checkpoint)
  and unseeded Keras 3 initialisers ignore `tf_random_seed`;
- `reduction='sum_over_batch_size'` and Adam at Keras' defaults: what
  `model.fit` does with sample weights;
- `epochs=10` becomes the dataset repeated 10 times (320 steps; the seed's
  dataset is not shuffled, so neither is this one);
- data from `np.random.RandomState(seed)` for reproducible runs.

The seed's features are uniform noise for both classes, so the network
can only learn the class prior: unweighted, P(class 1) tends to the share
of class 1, 0.2; weighted, to its weighted share
200·5 / (200·5 + 800·1.25) = 0.5.
"""
import keras
import numpy as np
import tensorflow as tf

import estweight


# Generate a synthetic dataset with class imbalance
def create_imbalanced_dataset(num_samples=1000, batch_size=32,
                              imbalance_ratio=0.2, weighted=True, seed=0):
  rng = np.random.RandomState(seed)  # estweight: seeded, not np.random.*
  num_minority = int(num_samples * imbalance_ratio)
  num_majority = num_samples - num_minority

  features_minority = rng.rand(num_minority, 2).astype(np.float32)
  labels_minority = np.ones(num_minority).astype(np.int32)  # Class 1 (minority)
  features_majority = rng.rand(num_majority, 2).astype(np.float32)
  labels_majority = np.zeros(num_majority).astype(np.int32)  # Class 0 (majority)

  features = np.concatenate((features_minority, features_majority), axis=0)
  labels = np.concatenate((labels_minority, labels_majority), axis=0)

  weights = np.ones(num_samples).astype(np.float32)

  # Compute class weights
  class_counts = np.bincount(labels)
  total_samples = np.sum(class_counts)
  class_weights = total_samples / class_counts

  if weighted:  # estweight: weighted=False keeps all weights 1 (baseline)
    for i, label in enumerate(labels):
      weights[i] = class_weights[label]

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


def run(model_dir, epochs=10, weighted=True, seed=0):
  """Trains as the seed's model.fit.

  Returns (estimator, metrics, probabilities): metrics of one unweighted
  pass over the 1000 examples (recall = recall of the minority class 1)
  and the predicted probabilities of class 1.
  """
  # Compile the model: adam, binary_crossentropy, accuracy
  model_fn = estweight.weights.make_weighted_model_fn(
      network_fn, loss="sigmoid_cross_entropy",
      reduction="sum_over_batch_size",  # estweight: what model.fit does
      optimizer="Adam",
      metrics=["accuracy", "recall", "precision", "average_loss"])
  estimator = estweight.Estimator(
      model_fn, model_dir=model_dir,
      config=estweight.RunConfig(tf_random_seed=seed))

  # Train the model: model.fit(dataset, epochs=10)
  estimator.train(lambda: create_imbalanced_dataset(
      weighted=weighted, seed=seed).repeat(epochs))

  unweighted = lambda: create_imbalanced_dataset(weighted=False, seed=seed)
  metrics = estimator.evaluate(unweighted)
  probabilities = np.array([p["probabilities"][0] for p in
                            estimator.predict(unweighted)])
  return estimator, metrics, probabilities


if __name__ == "__main__":
  import tempfile
  for weighted in (False, True):
    _, metrics, probabilities = run(tempfile.mkdtemp(), weighted=weighted)
    print("class-weighted" if weighted else "unweighted",
          f"mean P(class 1) = {probabilities.mean():.3f}",
          f"minority recall = {metrics['recall']:.3f}",
          f"accuracy = {metrics['accuracy']:.3f}")
