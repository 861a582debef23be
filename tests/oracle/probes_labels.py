"""Probes of label checks on canned classifiers (float labels)."""
import tempfile

import numpy as np

from probe_cases import probe  # pylint: disable=g-import-not-at-top


def _train_with_labels(tf, make, labels):
  def input_fn():
    x = np.array([[1.0], [2.0], [3.0], [4.0]], np.float32)
    return tf.data.Dataset.from_tensor_slices(
        ({"x": x}, np.array(labels, np.float32))).batch(2)
  est = make(tf, [tf.feature_column.numeric_column("x")], tempfile.mkdtemp())
  est.train(input_fn, steps=2)
  return {"global_step": int(est.get_variable_value("global_step"))}


probe("DNNClassifier(n_classes=3) with float labels")(
    lambda tf: _train_with_labels(
        tf, lambda tf, fc, d: tf.estimator.DNNClassifier(
            [2], fc, n_classes=3, model_dir=d), [0.0, 1.7, 2.0, 1.0]))
probe("LinearClassifier(n_classes=3) with whole float labels")(
    lambda tf: _train_with_labels(
        tf, lambda tf, fc, d: tf.estimator.LinearClassifier(
            fc, n_classes=3, model_dir=d), [0.0, 1.0, 2.0, 0.0]))
probe("LinearClassifier (binary) with float labels in [0, 1]")(
    lambda tf: _train_with_labels(
        tf, lambda tf, fc, d: tf.estimator.LinearClassifier(
            fc, model_dir=d), [0.0, 1.0, 1.0, 0.0]))
