"""Seed 001, example 3: the custom training loop, as a custom model_fn.

The seed's loop does, per batch of (features, labels, weights): predict,
`BinaryCrossentropy()(labels, predictions, sample_weight=weights)`, take
gradients, apply Adam. An Estimator runs that loop itself; the per-batch
part becomes a model_fn, and its `weights` argument receives the third
element of the (features, labels, weights) dataset. The Keras 3 model and
loss object are the seed's. Adaptations, marked `# estweight:` below:

- the model is built inside model_fn (Estimators build a fresh graph per
  call); its layers are named and their initialisers seeded, because
  unnamed Keras 3 layers get new names in each graph (missing the
  checkpoint) and unseeded Keras 3 initialisers ignore `tf_random_seed`;
- `tf.keras.optimizers.Adam()` becomes `tf.compat.v1.train.AdamOptimizer`
  with Keras' defaults (learning rate 0.001, epsilon 1e-7): the same update
  rule, in the graph-mode API model_fns use;
- the seed prints each epoch's last batch loss (computed before that
  batch's update); a hook records the loss of every training step, and the
  print picks the same steps;
- data from `np.random.RandomState(seed)` for reproducible runs.

`run_seed_loop` is the seed's eager loop with the same model and data, for
comparison: both end with the same variables (up to float rounding).
"""
import keras
import numpy as np
import tensorflow as tf

import estweight

_v1 = tf.compat.v1
LOSS_COLLECTION = "seed001_batch_loss"


# Generate a synthetic dataset with weights already defined
def create_dataset_with_weights(num_samples=100, batch_size=10, seed=0):
  rng = np.random.RandomState(seed)  # estweight: seeded, not np.random.*
  features = rng.rand(num_samples, 2).astype(np.float32)
  labels = rng.randint(0, 2, num_samples).astype(np.int32)
  weights = rng.rand(num_samples).astype(np.float32)  # Example using random weights
  dataset = tf.data.Dataset.from_tensor_slices((features, labels, weights))
  dataset = dataset.batch(batch_size)
  return dataset


# Define a simple model
def build_model(seed):
  # estweight: named layers and seeded initialisers (see the docstring).
  return keras.Sequential([
      keras.layers.Dense(
          16, activation="relu", input_shape=(2,), name="hidden",
          kernel_initializer=keras.initializers.GlorotUniform(seed=seed)),
      keras.layers.Dense(
          1, activation="sigmoid", name="output",
          kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1)),
  ], name="model")


# Define the loss function
loss_fn = keras.losses.BinaryCrossentropy()


def model_fn(features, labels, mode, config, weights=None):
  """One step of the seed's loop body; `weights` = the dataset's 3rd element."""
  model = build_model(config.tf_random_seed)
  predictions = model(features)
  if mode == estweight.ModeKeys.PREDICT:
    return estweight.EstimatorSpec(mode, predictions={
        "probabilities": predictions})
  loss = loss_fn(labels, predictions, sample_weight=weights)
  _v1.add_to_collection(LOSS_COLLECTION, loss)  # estweight: for BatchLossHook
  if mode == estweight.ModeKeys.EVAL:
    return estweight.EstimatorSpec(mode, loss=loss)
  # Define the optimizer (estweight: the v1 twin of keras Adam's defaults)
  optimizer = _v1.train.AdamOptimizer(learning_rate=0.001, epsilon=1e-7)
  train_op = optimizer.minimize(loss, global_step=_v1.train.get_global_step())
  return estweight.EstimatorSpec(mode, loss=loss, train_op=train_op)


class BatchLossHook(_v1.train.SessionRunHook):
  """Records the training loss of every step (fetched with the step)."""

  def __init__(self):
    self.losses = []

  def begin(self):
    self._loss = _v1.get_collection(LOSS_COLLECTION)[0]

  def before_run(self, run_context):
    return _v1.train.SessionRunArgs(self._loss)

  def after_run(self, run_context, run_values):
    self.losses.append(float(run_values.results))


def run(model_dir, epochs=5, seed=0, verbose=False):
  """Trains `epochs` passes; returns (estimator, [last-batch loss per epoch]).
  """
  estimator = estweight.Estimator(
      model_fn, model_dir=model_dir,
      config=estweight.RunConfig(tf_random_seed=seed))
  hook = BatchLossHook()
  # Custom training loop: `epochs` passes over the 10 batches of 10.
  estimator.train(lambda: create_dataset_with_weights(seed=seed).repeat(
      epochs), hooks=[hook])
  losses = hook.losses[9::10]  # the last batch of each epoch
  if verbose:
    for epoch, loss in enumerate(losses):
      print(f"Epoch {epoch+1}, Loss: {loss}")
  return estimator, losses


def run_seed_loop(epochs=5, seed=0):
  """The seed's eager custom loop (same data and model); returns
  ({variable name: value}, [last-batch loss per epoch])."""
  dataset = create_dataset_with_weights(seed=seed)
  model = build_model(seed)
  optimizer = keras.optimizers.Adam()
  losses = []
  for _ in range(epochs):
    for features, labels, weights in dataset:
      with tf.GradientTape() as tape:
        predictions = model(features)
        loss = loss_fn(labels, predictions, sample_weight=weights)

      gradients = tape.gradient(loss, model.trainable_variables)
      optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    losses.append(float(loss))
  names = {id(v): f"{layer.name}/{v.name}" for layer in model.layers
           for v in layer.weights}
  return {names[id(v)]: v.numpy() for v in model.trainable_variables}, losses


if __name__ == "__main__":
  import tempfile
  run(tempfile.mkdtemp(), verbose=True)
