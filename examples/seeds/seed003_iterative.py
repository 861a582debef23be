"""Seed 003: Estimators used iteratively (three examples), and the driver.

The seed's three loops run as written with `estweight.install()` added;
what the seed leaves out (`# ...`) is filled in, marked `# estweight:`:

- data: scikit-learn's breast-cancer set, standardised (569 tumours, 30
  features; 1 = malignant), split 400 / 169, as float32 arrays;
- `my_model_fn`: one hidden layer of `tf.compat.v1.layers` (the seed's "model
  definition using tf.layers"; `tf.layers` itself left TensorFlow in 2.0),
  sigmoid cross entropy, Adam at params['learning_rate'];
- `steps`: the seed's 1000 and 2000 steps become `steps` (small for tests);
  its dataset is not repeated, so one train() call is at most one epoch
  (tf.estimator stopped at the end of the input too);
- a model_dir per estimator, so runs do not share checkpoints.

`driver_versions()` does the same three jobs with `estweight.driver`:
`run_iterations` (loop + early stopping, resumable) and `grid_search`.
"""
from itertools import product

import numpy as np

import estweight

estweight.install()
import tensorflow as tf  # noqa: E402


def load_data(seed=0):
  from sklearn import datasets  # pylint: disable=g-import-not-at-top
  x, y = datasets.load_breast_cancer(return_X_y=True)
  x = ((x - x.mean(0)) / x.std(0)).astype(np.float32)
  y = (y == 0).astype(np.float32)
  order = np.random.RandomState(seed).permutation(len(y))
  x, y = x[order], y[order]
  return x[:400], y[:400], x[400:], y[400:]


train_data, train_labels, eval_data, eval_labels = load_data()


def my_input_fn(data, labels, batch_size):
  # ... data loading and preprocessing logic ...
  dataset = tf.data.Dataset.from_tensor_slices((data, labels))
  dataset = dataset.shuffle(buffer_size=len(data), seed=0).batch(batch_size)  # estweight: seeded
  return dataset


def my_model_fn(features, labels, mode, params):
  # estweight: the seed's "model definition using tf.layers".
  layers = tf.compat.v1.layers
  hidden = layers.dense(features, 16, activation=tf.nn.relu)
  logits = tf.squeeze(layers.dense(hidden, 1), axis=1)
  if mode == tf.estimator.ModeKeys.PREDICT:
    return tf.estimator.EstimatorSpec(mode, predictions=tf.sigmoid(logits))
  loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
      labels=labels, logits=logits))
  train_op = tf.compat.v1.train.AdamOptimizer(
      params["learning_rate"]).minimize(
          loss, global_step=tf.compat.v1.train.get_global_step())
  return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)


def _config(model_dir):
  return tf.estimator.RunConfig(model_dir=model_dir, tf_random_seed=1,
                                log_step_count_steps=None)


def example1(model_dir, epochs=10, steps=1000):
  """Basic iterative training: train, evaluate, print, per epoch."""
  estimator = tf.estimator.Estimator(model_fn=my_model_fn,
                                     params={'learning_rate': 0.001},
                                     config=_config(model_dir))
  losses = []
  for epoch in range(epochs):
    estimator.train(input_fn=lambda: my_input_fn(train_data, train_labels, 64), steps=steps)  # Train for 1000 steps per epoch
    eval_result = estimator.evaluate(input_fn=lambda: my_input_fn(eval_data, eval_labels, 64))
    print(f"Epoch {epoch+1}: Loss = {eval_result['loss']}")
    losses.append(eval_result['loss'])
  return losses


def example2(model_dir, max_epochs=100, steps=1000, learning_rate=0.001):
  """Iterative training with early stopping (patience 3)."""
  estimator = tf.estimator.Estimator(model_fn=my_model_fn,
                                     params={'learning_rate': learning_rate},
                                     config=_config(model_dir))
  best_loss = float('inf')
  patience = 3  # Number of epochs to wait before stopping
  epochs_no_improve = 0
  losses = []
  for epoch in range(max_epochs):
    estimator.train(input_fn=lambda: my_input_fn(train_data, train_labels, 64), steps=steps)
    eval_result = estimator.evaluate(input_fn=lambda: my_input_fn(eval_data, eval_labels, 64))
    loss = eval_result['loss']
    print(f"Epoch {epoch+1}: Loss = {loss}")
    losses.append(loss)

    if loss < best_loss:
      best_loss = loss
      epochs_no_improve = 0
    else:
      epochs_no_improve += 1

    if epochs_no_improve >= patience:
      print("Early stopping triggered.")
      break
  return losses


def example3(model_dir, steps=2000, learning_rates=(0.001, 0.01, 0.1),
             batch_sizes=(32, 64, 128)):
  """Grid search over learning rate x batch size."""
  best_loss = float('inf')
  best_params = {}
  for i, (lr, batch_size) in enumerate(product(learning_rates, batch_sizes)):
    estimator = tf.estimator.Estimator(model_fn=my_model_fn, params={'learning_rate': lr},
                                       config=_config(f"{model_dir}/{i}"))  # estweight: own dir
    estimator.train(input_fn=lambda: my_input_fn(train_data, train_labels, batch_size), steps=steps)
    eval_result = estimator.evaluate(input_fn=lambda: my_input_fn(eval_data, eval_labels, batch_size))
    loss = eval_result['loss']
    print(f"Learning rate: {lr}, Batch size: {batch_size}, Loss: {loss}")
    if loss < best_loss:
      best_loss = loss
      best_params = {'learning_rate': lr, 'batch_size': batch_size}
  print(f"Best parameters: {best_params}, Best loss: {best_loss}")
  return best_params, best_loss


def driver_versions(model_dir, steps=50, max_steps=500):
  """Examples 2 and 3 with estweight.driver: resumable, no graph rebuilds."""
  def train_input_fn(params=None):
    batch_size = (params or {}).get("batch_size", 64)
    return my_input_fn(train_data, train_labels, batch_size).repeat()

  def eval_input_fn():
    return my_input_fn(eval_data, eval_labels, 64)

  estimator = estweight.Estimator(my_model_fn, params={"learning_rate": 0.01},
                                  config=_config(f"{model_dir}/loop"))
  loop = estweight.driver.run_iterations(
      estimator, train_input_fn, eval_input_fn, steps_per_iteration=steps,
      max_steps=max_steps,
      early_stopping=estweight.driver.EarlyStopping("loss", "min",
                                                    patience=3))
  grid = estweight.driver.grid_search(
      lambda params, run_config: estweight.Estimator(
          my_model_fn, params={"learning_rate": params["learning_rate"]},
          config=_config(run_config.model_dir)),
      {"learning_rate": [0.001, 0.01], "batch_size": [32, 128]},
      train_input_fn, eval_input_fn, model_dir=f"{model_dir}/grid",
      metric="loss", mode="min", steps_per_iteration=steps,
      max_steps=2 * steps)
  return loop, grid
