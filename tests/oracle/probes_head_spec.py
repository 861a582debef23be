"""Probes of the heads' public methods called directly: create_estimator_spec
with trainable_variables, update_ops and regularization, numpy inputs."""
import tempfile

import numpy as np

from probe_cases import probe  # pylint: disable=g-import-not-at-top

def _keras_sgd(tf, learning_rate):
  """A legacy Keras SGD, the kind both sides' heads apply in a graph:
  tf.keras 2.15's, tf_keras's on TF 2.21 (Keras 3 optimizers have no
  graph-mode get_updates; neither has tf.keras 2.15's new one)."""
  if tf.__version__.startswith("2.15."):
    return tf.keras.optimizers.legacy.SGD(learning_rate)
  import tf_keras  # pylint: disable=g-import-not-at-top
  return tf_keras.optimizers.legacy.SGD(learning_rate)


def _spec_probe(use_optimizer):
  """Two training steps through `head.create_estimator_spec`: regularization,
  update_ops (a counter), and either a legacy Keras optimizer limited to
  `trainable_variables` (the bias must not move) or a v1 `train_op_fn`."""
  def fn(tf):
    v1 = tf.compat.v1
    x = np.array([[0.5], [-1.0], [2.0], [0.1]], np.float32)
    y = np.array([[1], [0], [1], [0]], np.int64)

    def model_fn(features, labels, mode):
      head = tf.estimator.BinaryClassHead()
      kernel = v1.get_variable("k", [1, 1],
                               initializer=v1.constant_initializer(0.7))
      bias = v1.get_variable("b", [1], initializer=v1.constant_initializer(0.3))
      counter = v1.get_variable("counter", [], trainable=False,
                                initializer=v1.zeros_initializer())
      logits = tf.matmul(features["x"], kernel) + bias
      kwargs = {"regularization_losses": [0.01 * tf.reduce_sum(kernel**2)],
                "update_ops": [v1.assign_add(counter, 1.0)]}
      if use_optimizer:
        optimizer = _keras_sgd(tf, 0.1)
        # Heads leave the global step to the caller (2.15 too): without this,
        # training never counts a step and the end saves nothing.
        optimizer.iterations = v1.train.get_global_step()
        kwargs.update(optimizer=optimizer, trainable_variables=[kernel])
      else:
        kwargs.update(train_op_fn=lambda loss: v1.train.GradientDescentOptimizer(
            0.1).minimize(loss, global_step=v1.train.get_global_step()))
      return head.create_estimator_spec(features=features, mode=mode,
                                        logits=logits, labels=labels, **kwargs)

    def input_fn():
      return tf.data.Dataset.from_tensor_slices(({"x": x}, y)).batch(2)
    est = tf.estimator.Estimator(model_fn, model_dir=tempfile.mkdtemp())
    est.train(input_fn, steps=2)
    out = {name: np.round(est.get_variable_value(name), 5).tolist()
           for name in ("k", "b", "counter", "global_step")}
    out["loss"] = round(float(est.evaluate(input_fn)["loss"]), 5)
    return out
  return fn


probe("BinaryClassHead.create_estimator_spec: Keras optimizer, "
      "trainable_variables, update_ops, regularization")(_spec_probe(True))
probe("BinaryClassHead.create_estimator_spec: train_op_fn, update_ops, "
      "regularization")(_spec_probe(False))


@probe("MultiClassHead.loss and predictions on numpy inputs in a graph")
def _(tf):
  v1 = tf.compat.v1
  with tf.Graph().as_default():
    head = tf.estimator.MultiClassHead(3)
    logits = np.array([[1., 0., -1.], [0.5, 0.5, 2.]], np.float32)
    loss = head.loss(labels=np.array([[0], [2]]), logits=logits, features={})
    predictions = head.predictions(logits)
    with v1.Session() as session:
      loss_value, class_ids = session.run((loss, predictions["class_ids"]))
  return {"loss": round(float(loss_value), 5), "keys": sorted(predictions),
          "class_ids": class_ids.tolist()}
