"""Seed 004: a pre-made Estimator, and a compiled Keras model as an Estimator.

The seed's two programs with `estweight.install()` added, adapted where
marked `# estweight:`:

- data: the seed downloads cats_vs_dogs and MobileNetV2 weights; here
  scikit-learn's breast-cancer set (ships with the package, standardised,
  label 1 = malignant) stands in, with a small dense network in place of
  MobileNetV2, compiled exactly as the seed compiles its model;
- `tf.keras.estimator.model_to_estimator` runs as written: Keras 3 has no
  estimator module, and `estweight.install()` provides this one name
  (`estweight.model_to_estimator` is the same function);
- the pre-made example's feature columns (population, crime_rate,
  median_education with a normaliser) get three breast-cancer measurements
  under those names, so the seed's column code runs as written.
"""
import numpy as np

import estweight

estweight.install()
import tensorflow as tf  # noqa: E402


def load_data(seed=0):
  # estweight: offline data instead of tfds.load('cats_vs_dogs').
  from sklearn import datasets  # pylint: disable=g-import-not-at-top
  x, y = datasets.load_breast_cancer(return_X_y=True)
  x = ((x - x.mean(0)) / x.std(0)).astype(np.float32)
  y = (y == 0).astype(np.float32)  # 1 = malignant
  order = np.random.RandomState(seed).permutation(len(y))
  x, y = x[order], y[order]
  return (x[:400], y[:400]), (x[400:], y[400:])


# --- Pre-made Estimator: the seed's four steps.

def premade(model_dir, steps=200):
  (x, y), (x_test, y_test) = load_data()
  global_education_mean = float(x[:, 2].mean())

  def input_fn(features, labels, repeat):  # 1. dataset importing function
    ds = tf.data.Dataset.from_tensor_slices((features, labels))
    return ds.repeat().batch(32) if repeat else ds.batch(64)

  def feature_dict(data):  # estweight: three columns under the seed's names
    return {"population": data[:, 0], "crime_rate": data[:, 1],
            "median_education": data[:, 2]}

  # 2. Define three numeric feature columns.
  population = tf.feature_column.numeric_column('population')
  crime_rate = tf.feature_column.numeric_column('crime_rate')
  median_education = tf.feature_column.numeric_column(
      'median_education',
      normalizer_fn=lambda x: x - global_education_mean)

  # 3. Instantiate the relevant pre-made Estimator.
  estimator = tf.estimator.LinearClassifier(
      feature_columns=[population, crime_rate, median_education],
      model_dir=model_dir)

  # 4. Call a training method.
  my_training_set = lambda: input_fn(feature_dict(x), y, repeat=True)
  estimator.train(input_fn=my_training_set, steps=steps)
  return estimator, estimator.evaluate(
      lambda: input_fn(feature_dict(x_test), y_test, repeat=False))


# --- Create an Estimator from a Keras model.

def keras_model(seed=0):
  keras = tf.keras
  keras.utils.set_random_seed(seed)
  # estweight: a small dense network in place of MobileNetV2.
  estimator_model = keras.Sequential([
      keras.Input(shape=(30,)),
      keras.layers.Dense(16, activation="relu"),
      keras.layers.Dense(1)
  ])
  # Compile the model (as in the seed)
  estimator_model.compile(
      optimizer='adam',
      loss=keras.losses.BinaryCrossentropy(from_logits=True),
      metrics=['accuracy'])
  return estimator_model


def from_keras(model_dir, steps=500):
  (x, y), (x_test, y_test) = load_data()
  estimator_model = keras_model()
  est = tf.keras.estimator.model_to_estimator(keras_model=estimator_model,
                                             model_dir=model_dir)

  def train_input_fn(batch_size):
    data = tf.data.Dataset.from_tensor_slices((x, y[:, None]))
    return data.shuffle(500, seed=0).repeat().batch(batch_size)

  est.train(input_fn=lambda: train_input_fn(32), steps=steps)
  metrics = est.evaluate(
      input_fn=lambda: tf.data.Dataset.from_tensor_slices(
          (x_test, y_test[:, None])).batch(32), steps=10)
  return est, estimator_model, metrics


if __name__ == "__main__":
  import tempfile  # pylint: disable=g-import-not-at-top
  print(premade(tempfile.mkdtemp())[1])
  print(from_keras(tempfile.mkdtemp())[2])
