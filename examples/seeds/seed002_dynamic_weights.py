"""Seed 002, example 3: dynamic weights, with DynamicClassWeights.

The seed makes one weight per training example a variable and, after each
model update, takes a gradient-descent step on those weights against the
same loss, clipped to [0, 10]. That is unsound: the loss is
mean(w_i · l_i) and l_i >= 0, so ∂loss/∂w_i = l_i / batch_size >= 0 for
every example, always. Every step lowers every weight it touches (hard
examples, with large l_i, fastest), so all weights fall until they reach
the lower clip 0; then the loss is 0 and the model stops learning. "Weights
that minimise the loss" is simply "ignore the data". (`run_seed_scheme`
reproduces it; see tests/test_seeds.py.)

`estweight.weights.DynamicClassWeights` adapts weights in the opposite,
useful direction: it keeps a moving average of each class's unweighted
training loss and weights class c by ema_c / mean_k ema_k (clipped to
[min_weight, max_weight]). Classes the model fits worse, typically the
rarer ones, get weights above 1, well-fit classes below 1; the weights are
not trained by gradients and live in the checkpoint.

The counterpart keeps the seed's data (100 examples, 10 normal features,
labels uniform in {0, 1, 2}: 28/39/33 with seed 0), batches of 10 in order,
10 epochs, Adam at 0.001 and the seed's clip range (except that
DynamicClassWeights needs min_weight > 0). Adaptations, marked
`# estweight:`: data from `np.random.RandomState` (the seed draws with
`tf.random` in eager mode, which an Estimator's graphs do not share); the
seed's elided `Sequential(...)` becomes two named, seeded Keras 3 Dense
layers returning logits (unnamed Keras 3 layers get new names in each
Estimator graph and miss the checkpoint; unseeded initialisers ignore
`tf_random_seed`).
"""
import keras
import numpy as np
import tensorflow as tf

import estweight

_v1 = tf.compat.v1


def make_data(seed=0, num_samples=100, n_classes=3):
  # estweight: numpy instead of tf.random.normal / tf.random.uniform
  rng = np.random.RandomState(seed)
  x_train = rng.randn(num_samples, 10).astype(np.float32)
  y_train = rng.randint(0, n_classes, num_samples).astype(np.int32)
  return x_train, y_train


def network_fn(features, config, n_classes=3):
  # estweight: the seed's "Sequential(...)": named, seeded, logits out.
  seed = config.tf_random_seed
  hidden = keras.layers.Dense(
      16, activation="relu", name="hidden",
      kernel_initializer=keras.initializers.GlorotUniform(seed=seed))
  output = keras.layers.Dense(
      n_classes, name="logits",
      kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1))
  return output(hidden(features["x"]))


def input_fn(x_train, y_train, num_epochs=10, batch_size=10, with_index=False):
  features = {"x": x_train}
  if with_index:  # the seed scheme looks up each example's own weight
    features["index"] = np.arange(len(y_train), dtype=np.int32)
  dataset = tf.data.Dataset.from_tensor_slices((features, y_train))
  return dataset.batch(batch_size).repeat(num_epochs)


def run(model_dir, num_epochs=10, momentum=0.9, seed=0):
  """Trains with DynamicClassWeights; returns (estimator, class weights,
  class counts). The class weights are the ones the next step would use."""
  x_train, y_train = make_data(seed)
  dynamic = estweight.weights.DynamicClassWeights(
      momentum=momentum, power=1.0,
      min_weight=0.1,  # estweight: the seed clips at 0; must be > 0 here
      max_weight=10.0)
  model_fn = estweight.weights.make_weighted_model_fn(
      network_fn, loss="sparse_softmax_cross_entropy", class_weight=dynamic,
      reduction="sum_over_batch_size",  # the seed's tf.reduce_mean(l * w)
      optimizer="Adam", learning_rate=0.001)
  estimator = estweight.Estimator(
      model_fn, model_dir=model_dir,
      config=estweight.RunConfig(tf_random_seed=seed))
  estimator.train(lambda: input_fn(x_train, y_train, num_epochs))
  ema = estimator.get_variable_value("dynamic_class_weights/loss_ema")
  weights = np.clip(ema / ema.mean(), dynamic.min_weight, dynamic.max_weight)
  return estimator, weights, np.bincount(y_train, minlength=3)


# ---------------------------------------------------------------------------
# The seed's scheme, for comparison (do not use it to train models).


def seed_scheme_model_fn(features, labels, mode, params, config):
  """The seed's dynamic_sample_weights_loss as a model_fn: Adam on the
  model, then `w <- clip(w - learning_rate * ∂loss/∂w, 0, 10)` on the
  weights of the batch's examples."""
  logits = network_fn(features, config)
  if mode != estweight.ModeKeys.TRAIN:
    raise ValueError("seed_scheme_model_fn only trains.")
  trainable_sample_weights = _v1.get_variable(
      "sample_weights", [params["num_samples"]], trainable=False,
      initializer=_v1.ones_initializer())
  batch_weights = tf.gather(trainable_sample_weights, features["index"])
  loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
      labels=labels, logits=logits) * batch_weights)
  optimizer = _v1.train.AdamOptimizer(learning_rate=0.001, epsilon=1e-7)
  train_op = optimizer.minimize(loss, _v1.train.get_global_step())
  weights_grad = tf.gradients(loss, batch_weights)[0]
  updated_weights = batch_weights - params["learning_rate"] * weights_grad
  with tf.control_dependencies([train_op]):
    update = _v1.scatter_update(trainable_sample_weights, features["index"],
                                tf.clip_by_value(updated_weights, 0.0, 10.0))
  return estweight.EstimatorSpec(mode, loss=loss,
                                 train_op=tf.group(train_op, update))


def run_seed_scheme(model_dir, num_epochs=10, learning_rate=0.01, seed=0):
  """Trains with the seed's scheme; returns (estimator, sample weights)."""
  x_train, y_train = make_data(seed)
  estimator = estweight.Estimator(
      seed_scheme_model_fn, model_dir=model_dir,
      params={"num_samples": len(y_train), "learning_rate": learning_rate},
      config=estweight.RunConfig(tf_random_seed=seed))
  estimator.train(lambda: input_fn(x_train, y_train, num_epochs,
                                   with_index=True))
  return estimator, estimator.get_variable_value("sample_weights")


if __name__ == "__main__":
  import tempfile
  _, weights, counts = run(tempfile.mkdtemp())
  print("class counts", counts.tolist(), "dynamic class weights",
        [round(float(w), 3) for w in weights])
  _, sample_weights = run_seed_scheme(tempfile.mkdtemp())
  print("seed scheme: sample weights after 10 epochs: min",
        sample_weights.min(), "max", sample_weights.max())
