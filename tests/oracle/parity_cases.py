"""Canned-estimator parity cases, importable on tf.estimator 2.15 and estweight.

Uses only `tensorflow`, `tf.estimator.*`, `tf.compat.v1.estimator.*`,
`tf.feature_column.*` and numpy, so the same code builds the oracle's
estimators (oracle venv) and estweight's (after `estweight.install()`).

Data are small and deterministic (numpy RandomState(0)): 64 training and
20 evaluation examples with features `x` (float32, shape [3]), `cat`
(string in {'a', 'b', 'c'}) and the weight `w` (in [0.5, 3]). Training
input repeats and batches by 16 without shuffling; evaluation batches by 8
over one epoch (8 + 8 + 4, so the last batch is partial); prediction gives
the evaluation features only.

`CASES` maps a case name to `build(model_dir, config) -> estimator`;
`LABELS[name]` names the label set the case trains on and `FEATURES[name]`
the feature keys its input_fns give. Baseline cases see only `x` (and `w`):
tf.estimator 2.15's v2 Baseline estimators create their bias under control
dependencies on batch-size checks between features, so with two or more
non-weight features its variable initializer reads the not yet initialized
input iterator and training fails (FailedPreconditionError).
BaselineRegressor (v2) does not even skip its weight column in those checks,
so its case sees the weight `w` alone.
"""
import hashlib
import random

import numpy as np
import tensorflow as tf

SEED = 17
N_TRAIN = 64
N_EVAL = 20
TRAIN_BATCH = 16
EVAL_BATCH = 8
START_STEPS = 3  # steps trained from scratch: the golden start checkpoint
MORE_STEPS = 4  # steps trained on top of it: compared variable by variable


def _make_data():
  """Features and every label set, for train and eval, from one RandomState."""
  rng = np.random.RandomState(0)
  n = N_TRAIN + N_EVAL
  x = rng.normal(size=(n, 3)).astype(np.float32)
  cat_ids = rng.randint(0, 3, size=n)
  cat = np.array(["a", "b", "c"], dtype=object)[cat_ids].astype(bytes)
  w = rng.uniform(0.5, 3.0, size=n).astype(np.float32)
  cat_effect = np.array([-0.5, 0.0, 0.7], np.float32)[cat_ids]
  score = x @ np.array([1.0, -2.0, 0.5], np.float32) + cat_effect
  binary = (score + 0.3 * rng.normal(size=n) > 0).astype(np.int64)
  logits3 = x @ rng.normal(size=(3, 3)).astype(np.float32)
  logits3[np.arange(n), cat_ids] += 0.5
  multi = np.argmax(logits3 + 0.3 * rng.normal(size=(n, 3)), axis=1)
  reg2 = (x @ rng.normal(size=(3, 2)) + cat_effect[:, None]
          + 0.1 * rng.normal(size=(n, 2))).astype(np.float32)
  labels = {
      "binary": binary.reshape(n, 1),
      "multiclass": multi.astype(np.int64).reshape(n, 1),
      "vocab2": np.array(["no", "yes"], dtype=object)[binary]
                .astype(bytes).reshape(n, 1),
      "vocab3": np.array(["p", "q", "r"], dtype=object)[multi]
                .astype(bytes).reshape(n, 1),
      "reg1": reg2[:, :1].copy(),
      "reg2": reg2,
  }
  features = {"x": x, "cat": cat, "w": w}
  split = lambda d, s: {k: v[s] for k, v in d.items()}
  train, ev = slice(0, N_TRAIN), slice(N_TRAIN, n)
  return (split(features, train), split(labels, train),
          split(features, ev), split(labels, ev))


TRAIN_X, TRAIN_Y, EVAL_X, EVAL_Y = _make_data()


def data_fingerprint():
  """sha256 of all arrays: goldens are only valid for the very same data."""
  h = hashlib.sha256()
  for arrays in (TRAIN_X, TRAIN_Y, EVAL_X, EVAL_Y):
    for key in sorted(arrays):
      h.update(key.encode())
      h.update(str(arrays[key].dtype).encode())
      h.update(arrays[key].tobytes())
  return h.hexdigest()


# Weights estweight takes in forms tf.estimator 2.15 lacks (class_weight,
# a third input element) are checked against 2.15 given the same weights by
# hand as a weight_column: `cw` = CLASS_WEIGHT[label], `cww` = cw * w.
CLASS_WEIGHT = {0: 1.0, 1: 3.0}
TUPLE_WEIGHT_CASES = set()  # estweight side: w comes as (features, labels, w)


def on_estweight():
  """True when tf.estimator is estweight (after estweight.install())."""
  return getattr(tf.estimator, "__name__", "").startswith("estweight")


def _select(features, name, labels=None):
  out = {k: features[k] for k in FEATURES[name] if k in features}
  if labels is not None and ({"cw", "cww"} & set(FEATURES[name])):
    ids = np.asarray(labels).reshape(-1)
    cw = np.array([CLASS_WEIGHT[int(i)] for i in ids], np.float32)
    if "cw" in FEATURES[name]:
      out["cw"] = cw
    if "cww" in FEATURES[name]:
      out["cww"] = cw * features["w"]
  return out


def _dataset(name, features_all, labels_all):
  labels = labels_all[LABELS[name]]
  features = _select(features_all, name, labels)
  if name in TUPLE_WEIGHT_CASES:
    if on_estweight():
      return tf.data.Dataset.from_tensor_slices(
          (features, labels, features_all["w"]))
    features = dict(features, w=features_all["w"])  # 2.15: weight_column
  return tf.data.Dataset.from_tensor_slices((features, labels))


def train_input_fn(name):
  """Repeats and batches by 16, in order (no shuffle)."""
  def input_fn():
    return _dataset(name, TRAIN_X, TRAIN_Y).repeat().batch(TRAIN_BATCH)
  return input_fn


def eval_input_fn(name):
  """One epoch of the 20 evaluation examples in batches of 8 (8, 8, 4)."""
  def input_fn():
    return _dataset(name, EVAL_X, EVAL_Y).batch(EVAL_BATCH)
  return input_fn


def predict_input_fn(name):
  """The evaluation features, without labels (nor hand-made weights)."""
  features = {k: v for k, v in _select(EVAL_X, name).items()}

  def input_fn():
    return tf.data.Dataset.from_tensor_slices(features).batch(EVAL_BATCH)
  return input_fn


def make_config(model_dir=None):
  """Fixed graph seed; checkpoints only at the start and end of a train()."""
  return tf.estimator.RunConfig(model_dir=model_dir, tf_random_seed=SEED,
                                save_checkpoints_steps=1000)


def train_from_scratch(estimator, name, steps=START_STEPS):
  """Seeds Python's `random` (v1 layer/Keras initializers draw from it)."""
  random.seed(SEED)
  return estimator.train(train_input_fn(name), steps=steps)


def train_more(estimator, name, steps=MORE_STEPS):
  """Continues from the latest checkpoint; the input restarts at batch 0."""
  random.seed(SEED)  # restored values win; seeded only to be alike anyway
  return estimator.train(train_input_fn(name), steps=steps)


# ---------------------------------------------------------------- columns

fc = tf.feature_column


def _x():
  return fc.numeric_column("x", shape=(3,))


def _cat():
  return fc.categorical_column_with_vocabulary_list("cat", ["a", "b", "c"])


def _linear_columns():
  return [_x(), _cat()]


def _dnn_columns():
  return [_x(), fc.indicator_column(_cat())]


def _embedding_columns():
  return [_x(), fc.embedding_column(_cat(), dimension=2)]


# ---------------------------------------------------------------- cases

CASES = {}
LABELS = {}
FEATURES = {}
ALL_FEATURES = ("x", "cat", "w")


def case(name, labels, features=ALL_FEATURES):
  """Registers `build(model_dir, config)` as CASES[name]."""
  def register(build):
    assert name not in CASES, name
    CASES[name] = build
    LABELS[name] = labels
    FEATURES[name] = tuple(features)
    return build
  return register


HIDDEN = [8, 4]
# tf.estimator is looked up when a case is built, not at import: on TF 2.16+
# it exists only after `estweight.install()`.


def _est():
  return tf.estimator


def _v1():
  return tf.compat.v1.estimator


@case("linear_classifier_binary", "binary")
def _(model_dir, config):
  return _est().LinearClassifier(_linear_columns(), model_dir=model_dir,
                                 config=config)


@case("linear_classifier_binary_weighted", "binary")
def _(model_dir, config):
  return _est().LinearClassifier(_linear_columns(), model_dir=model_dir,
                                 weight_column="w", config=config)


@case("linear_classifier_3class_weighted", "multiclass")
def _(model_dir, config):
  return _est().LinearClassifier(_linear_columns(), model_dir=model_dir,
                                 n_classes=3, weight_column="w",
                                 config=config)


@case("linear_classifier_vocab", "vocab2")
def _(model_dir, config):
  return _est().LinearClassifier(_linear_columns(), model_dir=model_dir,
                                 label_vocabulary=["no", "yes"],
                                 config=config)


@case("linear_classifier_sgd", "binary")
def _(model_dir, config):
  return _est().LinearClassifier(_linear_columns(), model_dir=model_dir,
                                 weight_column="w", optimizer="SGD",
                                 config=config)


@case("linear_regressor_weighted", "reg1")
def _(model_dir, config):
  return _est().LinearRegressor(_linear_columns(), model_dir=model_dir,
                                weight_column="w", config=config)


@case("linear_regressor_dim2", "reg2")
def _(model_dir, config):
  return _est().LinearRegressor(_linear_columns(), model_dir=model_dir,
                                label_dimension=2, config=config)


@case("dnn_classifier_binary_weighted", "binary")
def _(model_dir, config):
  return _est().DNNClassifier(HIDDEN, _dnn_columns(), model_dir=model_dir,
                              weight_column="w", config=config)


@case("dnn_classifier_3class", "multiclass")
def _(model_dir, config):
  return _est().DNNClassifier(HIDDEN, _dnn_columns(), model_dir=model_dir,
                              n_classes=3, config=config)


@case("dnn_classifier_vocab3", "vocab3")
def _(model_dir, config):
  return _est().DNNClassifier(HIDDEN, _dnn_columns(), model_dir=model_dir,
                              n_classes=3, label_vocabulary=["p", "q", "r"],
                              config=config)


@case("dnn_classifier_adam", "binary")
def _(model_dir, config):
  return _est().DNNClassifier(HIDDEN, _dnn_columns(), model_dir=model_dir,
                              weight_column="w", optimizer="Adam",
                              config=config)


@case("dnn_classifier_batch_norm", "binary")
def _(model_dir, config):
  return _est().DNNClassifier(HIDDEN, _dnn_columns(), model_dir=model_dir,
                              weight_column="w", batch_norm=True,
                              config=config)


@case("dnn_classifier_embedding", "binary")
def _(model_dir, config):
  return _est().DNNClassifier(HIDDEN, _embedding_columns(),
                              model_dir=model_dir, weight_column="w",
                              config=config)


@case("dnn_regressor_weighted", "reg1")
def _(model_dir, config):
  return _est().DNNRegressor(HIDDEN, _dnn_columns(), model_dir=model_dir,
                             weight_column="w", config=config)


@case("dnn_regressor_dim2", "reg2")
def _(model_dir, config):
  return _est().DNNRegressor(HIDDEN, _dnn_columns(), model_dir=model_dir,
                             label_dimension=2, config=config)


@case("dnn_linear_combined_classifier_weighted", "binary")
def _(model_dir, config):
  return _est().DNNLinearCombinedClassifier(
      model_dir=model_dir, linear_feature_columns=[_cat(), _x()],
      dnn_feature_columns=_dnn_columns(), dnn_hidden_units=[4],
      weight_column="w", config=config)


@case("dnn_linear_combined_regressor_weighted", "reg1")
def _(model_dir, config):
  return _est().DNNLinearCombinedRegressor(
      model_dir=model_dir, linear_feature_columns=[_cat(), _x()],
      dnn_feature_columns=_dnn_columns(), dnn_hidden_units=[4],
      weight_column="w", config=config)


@case("baseline_classifier_binary_weighted", "binary", ("x", "w"))
def _(model_dir, config):
  return _est().BaselineClassifier(model_dir=model_dir, weight_column="w",
                                   config=config)


@case("baseline_classifier_3class", "multiclass", ("x",))
def _(model_dir, config):
  return _est().BaselineClassifier(model_dir=model_dir, n_classes=3,
                                   config=config)


@case("baseline_regressor_weighted", "reg1", ("w",))
def _(model_dir, config):
  return _est().BaselineRegressor(model_dir=model_dir, weight_column="w",
                                  config=config)


# tf.compat.v1.estimator: SUM loss reduction and tf.compat.v1.train optimizers.
@case("v1_dnn_classifier_binary_weighted", "binary")
def _(model_dir, config):
  return _v1().DNNClassifier(HIDDEN, _dnn_columns(), model_dir=model_dir,
                             weight_column="w", config=config)


@case("v1_linear_regressor_weighted", "reg1")
def _(model_dir, config):
  return _v1().LinearRegressor(_linear_columns(), model_dir=model_dir,
                               weight_column="w", config=config)


# Estimators taking a head.
@case("dnn_estimator_multiclass_head", "multiclass")
def _(model_dir, config):
  head = _est().MultiClassHead(3, weight_column="w")
  return _est().DNNEstimator(head, HIDDEN, _dnn_columns(),
                             model_dir=model_dir, config=config)


@case("linear_estimator_regression_head", "reg1")
def _(model_dir, config):
  head = _est().RegressionHead(weight_column="w")
  return _est().LinearEstimator(head, _linear_columns(), model_dir=model_dir,
                                config=config)


# Weighting forms only estweight has, against 2.15 fed the same weights.
def _class_weighted_metrics():
  # Metrics weighted by the class weights too (2.15's numbers for class x
  # example weights as a weight_column); estweight's default leaves them out.
  return _est().weights.ClassWeight(CLASS_WEIGHT,
                                    class_weighted_eval_metrics=True)


@case("dnn_classifier_class_weight", "binary", ("x", "cat", "cw"))
def _(model_dir, config):
  if on_estweight():
    return _est().DNNClassifier(HIDDEN, _dnn_columns(), model_dir=model_dir,
                                class_weight=_class_weighted_metrics(),
                                config=config)
  return _est().DNNClassifier(HIDDEN, _dnn_columns(), model_dir=model_dir,
                              weight_column="cw", config=config)


@case("linear_classifier_class_times_example_weight", "binary",
      ("x", "cat", "w", "cww"))
def _(model_dir, config):
  if on_estweight():
    return _est().LinearClassifier(_linear_columns(), model_dir=model_dir,
                                   weight_column="w",
                                   class_weight=_class_weighted_metrics(),
                                config=config)
  return _est().LinearClassifier(_linear_columns(), model_dir=model_dir,
                                 weight_column="cww", config=config)


@case("linear_regressor_tuple_weights", "reg1", ("x", "cat"))
def _(model_dir, config):
  if on_estweight():
    return _est().LinearRegressor(_linear_columns(), model_dir=model_dir,
                                  config=config)
  return _est().LinearRegressor(_linear_columns(), model_dir=model_dir,
                                weight_column="w", config=config)


@case("dnn_classifier_3class_tuple_weights", "multiclass", ("x", "cat"))
def _(model_dir, config):
  if on_estweight():
    return _est().DNNClassifier(HIDDEN, _dnn_columns(), model_dir=model_dir,
                                n_classes=3, config=config)
  return _est().DNNClassifier(HIDDEN, _dnn_columns(), model_dir=model_dir,
                              n_classes=3, weight_column="w", config=config)


TUPLE_WEIGHT_CASES.update({"linear_regressor_tuple_weights",
                           "dnn_classifier_3class_tuple_weights"})
