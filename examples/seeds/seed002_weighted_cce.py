"""Seed 002, example 1: class weights inside a custom categorical cross-entropy.

The seed's `weighted_categorical_crossentropy(class_weights)` is used
verbatim as the loss of a custom model_fn (it is plain TensorFlow ops, so it
runs in an Estimator's graph as it does under `model.compile`). The seed
leaves the model and data out (`Sequential(...)`, `fit(...)`); here they
are two Dense layers (16 relu, 2 softmax) and 1000 examples of two normal
features whose class 1 (about 10%) lies beyond a noisy linear boundary,
trained like `model.fit(x, y_onehot, epochs=10)` (batch 32, reshuffled each
epoch). Adaptations, marked `# estweight:`: Keras 3 layers named and seeded
(Estimators rebuild the network per call; unnamed Keras 3 layers get new
names that miss the checkpoint, and unseeded initialisers ignore
`tf_random_seed`); `optimizer='adam'` becomes its graph-mode twin
`tf.compat.v1.train.AdamOptimizer` with Keras' defaults.

`run(..., use_factory=True)` trains the same network with the built-in
equivalent, `make_weighted_model_fn(loss='softmax_cross_entropy',
class_weight=class_weights, reduction='sum_over_batch_size')`.
"""
import keras
import numpy as np
import tensorflow as tf

import estweight

_v1 = tf.compat.v1


def weighted_categorical_crossentropy(class_weights):
  """
  Custom categorical crossentropy with class weights.

  Args:
    class_weights: A dictionary mapping class indices to weights.

  Returns:
    A function that calculates the weighted categorical crossentropy loss.
  """

  def loss(y_true, y_pred):
    """
    Calculates the weighted categorical crossentropy.

    Args:
      y_true: Ground-truth labels, one-hot encoded.
      y_pred: Predicted probabilities.

    Returns:
      The scalar loss value.
    """
    y_true = tf.cast(y_true, tf.float32) # Ensure type matches
    y_pred = tf.clip_by_value(y_pred, 1e-7, 1.0 - 1e-7)  # Numerical stability

    # Apply weights
    weights = tf.reduce_sum(y_true * tf.constant(list(class_weights.values()), dtype=tf.float32), axis=1)
    cross_entropy = -tf.reduce_sum(y_true * tf.math.log(y_pred), axis=1)
    weighted_loss = tf.reduce_mean(cross_entropy * weights)

    return weighted_loss
  return loss


# Example usage:
class_weights = {0: 1.0, 1: 5.0} # Increase weight for class 1


def make_data(seed=0, n=1000):
  """x: [n, 2] float32; y: one-hot [n, 2]; class 1 is about 10%."""
  rng = np.random.RandomState(seed)
  x = rng.randn(n, 2).astype(np.float32)
  y = (x[:, 0] + x[:, 1] + 0.8 * rng.randn(n) > 2.0).astype(np.int64)
  return x, np.eye(2, dtype=np.float32)[y]


def network_fn(features, config):
  # estweight: the seed's Sequential(...): named, seeded, logits out.
  seed = config.tf_random_seed
  hidden = keras.layers.Dense(
      16, activation="relu", name="hidden",
      kernel_initializer=keras.initializers.GlorotUniform(seed=seed))
  output = keras.layers.Dense(
      2, name="logits",
      kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1))
  return output(hidden(features["x"]))


def model_fn(features, labels, mode, params, config):
  logits = network_fn(features, config)
  y_pred = tf.nn.softmax(logits)  # the seed's softmax output layer
  class_ids = tf.argmax(logits, axis=-1)
  if mode == estweight.ModeKeys.PREDICT:
    return estweight.EstimatorSpec(mode, predictions={
        "probabilities": y_pred, "class_ids": class_ids})
  # Compile with the custom loss:
  loss = weighted_categorical_crossentropy(params["class_weights"])(labels,
                                                                    y_pred)
  if mode == estweight.ModeKeys.EVAL:
    return estweight.EstimatorSpec(mode, loss=loss,
                                   eval_metric_ops=_metrics(labels, class_ids))
  # estweight: optimizer='adam' as the v1 twin of Keras' Adam defaults
  optimizer = _v1.train.AdamOptimizer(learning_rate=0.001, epsilon=1e-7)
  train_op = optimizer.minimize(loss, _v1.train.get_global_step())
  return estweight.EstimatorSpec(mode, loss=loss, train_op=train_op)


def _metrics(labels, class_ids):
  true_ids = tf.argmax(labels, axis=-1)
  return {"accuracy": _v1.metrics.accuracy(true_ids, class_ids),
          # recall of the minority class 1
          "recall": _v1.metrics.recall(tf.equal(true_ids, 1),
                                       tf.equal(class_ids, 1))}


def train_input_fn(x, y, epochs=10, batch_size=32):
  # model.fit(x, y, epochs=10): batches of 32, reshuffled every epoch
  dataset = tf.data.Dataset.from_tensor_slices(({"x": x}, y))
  return dataset.shuffle(len(y)).batch(batch_size).repeat(epochs)


def eval_input_fn(x, y):
  return tf.data.Dataset.from_tensor_slices(({"x": x}, y)).batch(len(y))


def run(model_dir, weights=None, use_factory=False, epochs=10, seed=0):
  """Trains; returns (estimator, metrics on the training set, unweighted).

  weights: class weights (default: the seed's {0: 1.0, 1: 5.0}).
  use_factory: train make_weighted_model_fn's built-in equivalent instead.
  """
  weights = dict(class_weights if weights is None else weights)
  config = estweight.RunConfig(tf_random_seed=seed)
  if use_factory:
    estimator = estweight.Estimator(
        estweight.weights.make_weighted_model_fn(
            network_fn, loss="softmax_cross_entropy", class_weight=weights,
            reduction="sum_over_batch_size", optimizer="Adam"),
        model_dir=model_dir, config=config)
  else:
    estimator = estweight.Estimator(model_fn, model_dir=model_dir,
                                    params={"class_weights": weights},
                                    config=config)
  x, y = make_data(seed)
  estimator.train(lambda: train_input_fn(x, y, epochs))
  # Unweighted metrics: class weights 1 for the custom loss; the factory's
  # metrics are weighted by class weight, so evaluate with a twin without.
  if use_factory:
    evaluator = estweight.Estimator(
        estweight.weights.make_weighted_model_fn(
            network_fn, loss="softmax_cross_entropy",
            metrics=["accuracy", "per_class_recall"]),
        model_dir=model_dir, config=config)
  else:
    evaluator = estweight.Estimator(
        model_fn, model_dir=model_dir,
        params={"class_weights": {0: 1.0, 1: 1.0}}, config=config)
  metrics = evaluator.evaluate(lambda: eval_input_fn(x, y))
  if use_factory:
    metrics["recall"] = metrics["recall/class_1"]
  return estimator, metrics


if __name__ == "__main__":
  import tempfile
  for weights in ({0: 1.0, 1: 1.0}, class_weights):
    _, metrics = run(tempfile.mkdtemp(), weights=weights)
    print(weights, f"minority recall {metrics['recall']:.3f}",
          f"accuracy {metrics['accuracy']:.3f}")
