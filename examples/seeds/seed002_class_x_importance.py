"""Seed 002, example 2: class weight x per-example importance.

The seed multiplies a class weight by an importance score per example and
passes the product to `model.fit(..., sample_weight=...)`. The Estimator
counterpart feeds (features, labels, weights) to
`estweight.weights.make_weighted_model_fn` in two equivalent ways:

- `mode='product'`: the seed's `calculate_sample_weights` product as the
  dataset's third element (what the seed does);
- `mode='factored'`: the importance scores as the third element and
  `class_weight=class_weights`; estweight multiplies them (class x
  importance), so this trains the very same model.

The seed leaves `x_train` and the model out; here x_train is 8 x 4 uniform
features (numpy RandomState) and the model two Dense layers (16 relu, 3
logits). `model.fit` with its default batch size 32 sees the 8 examples as
one batch per epoch; 100 epochs. Adaptations, marked `# estweight:`: the
network returns logits and the loss applies the softmax (the same
cross-entropy as a softmax output layer with
'sparse_categorical_crossentropy'); Keras 3 layers named and seeded
(Estimators rebuild the network per call, unnamed Keras 3 layers get new
names that miss the checkpoint, unseeded initialisers ignore
`tf_random_seed`); `reduction='sum_over_batch_size'` and Adam at Keras'
defaults are what `model.fit` does.
"""
import keras
import numpy as np
import tensorflow as tf

import estweight


def calculate_sample_weights(y_true, class_weights, importance_scores):
    """
    Calculates sample weights based on class weights and importance scores.

    Args:
        y_true: Ground truth labels, integer encoded.
        class_weights: A dictionary mapping class indices to weights.
        importance_scores: A NumPy array of per-sample importance scores.

    Returns:
        A NumPy array of sample weights.
    """
    sample_weights = np.zeros(len(y_true))
    for i, label in enumerate(y_true):
        sample_weights[i] = class_weights.get(label, 1.0) * importance_scores[i]
    return sample_weights


# Example usage (synthetic data)
y_train = np.array([0, 1, 0, 1, 0, 2, 1, 2])
class_weights = {0: 1.0, 1: 3.0, 2: 5.0}  # Give class 1 more weight

# Simulate importance scores. In a real case, these would be calculated
# based on some domain specific criteria or model properties
importance_scores = np.array([0.5, 0.7, 1.2, 0.9, 0.8, 1.1, 1.5, 1.3]) # Arbitrary values

sample_weights = calculate_sample_weights(y_train, class_weights, importance_scores)

# estweight: the seed's x_train is not shown; 8 x 4 seeded uniform features.
x_train = np.random.RandomState(0).rand(8, 4).astype(np.float32)


def network_fn(features, config):
  # estweight: the seed's Sequential(...): named, seeded, logits out.
  seed = config.tf_random_seed
  hidden = keras.layers.Dense(
      16, activation="relu", name="hidden",
      kernel_initializer=keras.initializers.GlorotUniform(seed=seed))
  output = keras.layers.Dense(
      3, name="logits",
      kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1))
  return output(hidden(features))


def input_fn(weights, epochs=100):
  # model.fit(x_train, y_train, sample_weight=weights, epochs=100): one
  # batch of all 8 per epoch (shuffling within the single batch changes
  # nothing).
  dataset = tf.data.Dataset.from_tensor_slices(
      (x_train, y_train, np.float32(weights)))
  return dataset.batch(32).repeat(epochs)


def run(model_dir, mode="product", epochs=100, seed=0):
  """Trains; returns the estimator.

  mode: 'product' (seed: sample_weights as example weights), 'factored'
    (importance as example weights, class_weight=class_weights) or
    'importance_only' (importance as example weights, no class weights).
  """
  if mode == "product":
    weights, class_weight = sample_weights, None
  elif mode == "factored":
    weights, class_weight = importance_scores, class_weights
  elif mode == "importance_only":
    weights, class_weight = importance_scores, None
  else:
    raise ValueError(f"Unknown mode {mode!r}.")
  model_fn = estweight.weights.make_weighted_model_fn(
      network_fn, loss="sparse_softmax_cross_entropy",
      class_weight=class_weight,
      reduction="sum_over_batch_size",  # estweight: what model.fit does
      optimizer="Adam", metrics=["accuracy", "per_class_recall",
                                 "average_loss"])
  estimator = estweight.Estimator(
      model_fn, model_dir=model_dir,
      config=estweight.RunConfig(tf_random_seed=seed))
  estimator.train(lambda: input_fn(weights, epochs))
  return estimator


if __name__ == "__main__":
  import tempfile
  print("sample weights (class x importance):",
        np.round(sample_weights, 4).tolist())
  for mode in ("product", "factored"):
    est = run(tempfile.mkdtemp(), mode=mode)
    print(mode, "logits/bias", est.get_variable_value("logits/bias"))
