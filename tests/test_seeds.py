"""The user's seed programs and the TF getting-started custom Estimator."""
import json
import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "examples", "seeds"))
sys.path.insert(0, os.path.join(HERE, "oracle"))


def test_seed000_custom_weighted_model_fn_runs_unchanged(tmp_path):
  import seed000_custom_weighted as seed  # pylint: disable=g-import-not-at-top
  estimator, metrics = seed.run(str(tmp_path), steps=300)
  assert metrics["global_step"] == 300
  assert set(metrics) == {"accuracy", "loss", "global_step"}
  # The rule is learnable: far above the 50% of a constant guess.
  assert metrics["accuracy"] > 0.85
  names = estimator.get_variable_names()
  assert {"dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias",
          "dense/kernel/Adam", "beta1_power", "global_step"} <= set(names)


def test_seed000_weights_change_the_loss(tmp_path):
  """The weights in features really weight the loss."""
  import seed000_custom_weighted as seed  # pylint: disable=g-import-not-at-top
  import tensorflow.compat.v1 as tf  # pylint: disable=g-import-not-at-top
  X, y, weights = seed.make_data()
  # With a seed, each evaluate initialises the same (untrained) model.
  est = tf.estimator.Estimator(seed.model_fn, model_dir=str(tmp_path),
                               params={"learning_rate": 0.01},
                               config=tf.estimator.RunConfig(tf_random_seed=1))
  base = est.evaluate(lambda: seed.weighted_input_fn(
      {"x": X, "weights": np.ones_like(weights)}, y, 100, repeat=False))
  doubled = est.evaluate(lambda: seed.weighted_input_fn(
      {"x": X, "weights": 2 * np.ones_like(weights)}, y, 100, repeat=False))
  # Same (initial) model: loss is linear in the weights.
  assert doubled["loss"] == pytest.approx(2 * base["loss"], rel=1e-6)


def test_iris_custom_estimator_matches_tf_estimator_2_15(tmp_path):
  import estweight  # pylint: disable=g-import-not-at-top
  estweight.install()
  import iris_custom  # pylint: disable=g-import-not-at-top
  with open(os.path.join(HERE, "golden", "iris_custom.json")) as f:
    golden = json.load(f)
  ours = iris_custom.run(str(tmp_path))
  # Same seed, data and steps: tf.estimator 2.15's numbers. Predictions are
  # equal; the loss after 400 float32 steps within 1e-5 (the golden's CPU and
  # an AVX-512 one differ there by 1.2e-6 relative: other summation orders).
  assert ours["global_step"] == golden["global_step"] == 400
  assert ours["accuracy"] == golden["accuracy"]
  assert ours["class_ids"] == golden["class_ids"]
  np.testing.assert_allclose(ours["loss"], golden["loss"], rtol=1e-5)
  np.testing.assert_allclose(ours["first_probabilities"],
                             golden["first_probabilities"], rtol=1e-5,
                             atol=1e-9)
  np.testing.assert_allclose(ours["first_kernel"], golden["first_kernel"],
                             rtol=1e-6)


# --------------------------------------------------- seed counterparts


def _params(est):
  """{name: value} of the model's variables (no optimizer slots, no step)."""
  return {n: est.get_variable_value(n) for n in est.get_variable_names()
          if "Adam" not in n and "beta" not in n and n != "global_step"}


def test_seed000_linear_regressor_fits_the_weighted_least_squares_line(
    tmp_path):
  import seed000_linear_regressor as seed  # pylint: disable=g-import-not-at-top
  est, metrics, (X, y, w) = seed.run(str(tmp_path / "weighted"))
  slope = est.get_variable_value("linear/linear_model/x/weights")[0, 0]
  bias = est.get_variable_value("linear/linear_model/bias_weights")[0]
  p, r = slope * X[:, 0] + bias, y[:, 0]
  # The eval input is one batch of all 100 examples, so on this checkpoint
  # loss = Σw(p-y)²/100 ('sum_over_batch_size'), average_loss =
  # Σw(p-y)²/Σw, label/mean = Σwy/Σw, prediction/mean = Σwp/Σw.
  assert metrics["global_step"] == 1000
  assert metrics["loss"] == pytest.approx((w * (p - r)**2).sum() / 100,
                                          rel=1e-5)
  assert metrics["average_loss"] == pytest.approx(
      (w * (p - r)**2).sum() / w.sum(), rel=1e-5)
  assert metrics["label/mean"] == pytest.approx((w * r).sum() / w.sum(),
                                                rel=1e-5)
  assert metrics["prediction/mean"] == pytest.approx(
      (w * p).sum() / w.sum(), rel=1e-5)
  # Effect: the weighted run lands near the weighted least-squares line
  # (≈ 1.855x + 1.240) and the unweighted run near ordinary least squares
  # (≈ 1.968x + 1.111); each is closer to its own solution than to the other.
  design = np.hstack([X, np.ones_like(X)])
  ols = np.linalg.lstsq(design, r, rcond=None)[0]
  root_w = np.sqrt(w)
  wls = np.linalg.lstsq(design * root_w[:, None], r * root_w, rcond=None)[0]
  est_1, _, _ = seed.run(str(tmp_path / "unweighted"), weights=np.ones(100))
  unweighted = np.array([
      est_1.get_variable_value("linear/linear_model/x/weights")[0, 0],
      est_1.get_variable_value("linear/linear_model/bias_weights")[0]])
  weighted = np.array([slope, bias])
  dist = lambda a, b: np.linalg.norm(a - b)
  assert dist(weighted, wls) < dist(weighted, ols) / 2
  assert dist(unweighted, ols) < dist(unweighted, wls) / 2


def test_seed000_dnn_classifier_weight_column_pulls_toward_class_0(tmp_path):
  import seed000_dnn_classifier as seed  # pylint: disable=g-import-not-at-top
  est, metrics, (X, y, _) = seed.run(str(tmp_path / "weighted"))
  est_1, metrics_1, _ = seed.run(str(tmp_path / "unweighted"),
                                 weighted=False)
  assert np.bincount(y).tolist() == [54, 46]
  # Weighted label mean: 46 positives weigh 1, 54 negatives weigh 2:
  # 46 / (46 + 2*54) = 46/154; accuracy_baseline = 108/154.
  assert metrics["label/mean"] == pytest.approx(46 / 154, rel=1e-6)
  assert metrics["accuracy_baseline"] == pytest.approx(108 / 154, rel=1e-6)
  assert metrics_1["label/mean"] == pytest.approx(0.46, rel=1e-6)
  # One eval batch of 100: loss = Σwl/100, average_loss = Σwl/Σw, so
  # loss / average_loss = Σw/100 = 154/100 (1.0 unweighted).
  assert metrics["loss"] / metrics["average_loss"] == pytest.approx(
      1.54, rel=1e-5)
  assert metrics_1["loss"] == pytest.approx(metrics_1["average_loss"],
                                            rel=1e-6)
  # Effect: labels are random, so the net learns the (weighted) prior;
  # doubling class 0 lowers P(class 1) and the recall of class 1 (whose
  # examples weigh 1 in both runs, so recall is comparable).
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  def mean_probability(estimator):
    return np.mean([p["logistic"][0] for p in estimator.predict(
        lambda: tf.data.Dataset.from_tensor_slices({"x": X}).batch(100))])
  assert mean_probability(est) < mean_probability(est_1)
  assert metrics["recall"] < metrics_1["recall"]


def test_seed001_batch_with_weight_2_counts_twice(tmp_path):
  import seed001_batch_weight as seed  # pylint: disable=g-import-not-at-top
  est, metrics = seed.run(str(tmp_path / "adam"))
  assert metrics["global_step"] == 50  # 5 epochs x 10 batches
  # Exact loss arithmetic on this checkpoint. evaluate() averages the 10
  # batch losses Σ_b(w·l)/10; weight 2 on batch 1 adds its loss once more:
  # L(w1=2) = L(w1=1) + F/10, F = loss of batch 1 alone at weight 1.
  with_2 = est.evaluate(lambda: seed.create_dataset(first_batch_weight=2.0))
  with_1 = est.evaluate(lambda: seed.create_dataset(first_batch_weight=1.0))
  first = est.evaluate(
      lambda: seed.create_dataset(first_batch_weight=1.0).take(1))
  assert with_2["loss"] == pytest.approx(with_1["loss"] + first["loss"] / 10,
                                         rel=1e-6)
  # Σw = 2*10 + 90 = 110: loss = Σwl/100 = 1.1 * average_loss (Σwl/Σw).
  assert metrics["loss"] == pytest.approx(1.1 * metrics["average_loss"],
                                          rel=1e-5)
  # Training: one SGD step on batch 1 from the same seeded start. Its
  # gradient is linear in the weight, so weight 2 moves every variable
  # exactly twice as far as weight 1 (weight 0 leaves the start values).
  moved = {}
  for w in (0.0, 1.0, 2.0):
    one_step, _ = seed.run(str(tmp_path / f"sgd{w}"), steps=1,
                           first_batch_weight=w, optimizer="SGD",
                           learning_rate=0.1)
    moved[w] = _params(one_step)
  for name, start in moved[0.0].items():
    np.testing.assert_allclose(moved[2.0][name] - start,
                               2 * (moved[1.0][name] - start), atol=1e-7)
  assert max(np.abs(moved[1.0][n] - s).max()
             for n, s in moved[0.0].items()) > 1e-3  # it did move


def test_seed001_inverse_frequency_weights_raise_the_minority(tmp_path):
  import seed001_class_weights as seed  # pylint: disable=g-import-not-at-top
  weights, labels = [], []
  for _, y, w in seed.create_imbalanced_dataset().as_numpy_iterator():
    weights.append(w)
    labels.append(y)
  w, y = np.concatenate(weights), np.concatenate(labels)
  # total/count: 1000/800 = 1.25 (class 0), 1000/200 = 5.0 (class 1); the
  # weighted share of class 1 is 200*5 / (200*5 + 800*1.25) = 0.5.
  assert sorted(set(w.tolist())) == [1.25, 5.0]
  assert (w * y).sum() / w.sum() == 0.5
  _, m_w, p_w = seed.run(str(tmp_path / "weighted"))
  _, m_u, p_u = seed.run(str(tmp_path / "unweighted"), weighted=False)
  assert m_w["global_step"] == m_u["global_step"] == 320  # 10 x 32 batches
  # Features are noise: each model learns its (weighted) prior, P(1) ≈ 0.2
  # unweighted and ≈ 0.5 weighted.
  assert abs(p_u.mean() - 0.2) < 0.1
  assert abs(p_w.mean() - 0.5) < 0.1
  assert p_w.mean() > p_u.mean() + 0.15
  # Unweighted never predicts the minority; weighted sometimes does.
  assert m_u["recall"] == 0.0
  assert m_w["recall"] > m_u["recall"]


def test_seed001_custom_loop_model_fn_matches_the_eager_loop(tmp_path):
  import seed001_custom_loop as seed  # pylint: disable=g-import-not-at-top
  est, losses = seed.run(str(tmp_path))
  eager_vars, eager_losses = seed.run_seed_loop()
  # The model_fn gets the dataset's third element as `weights` and gives it
  # to the same Keras loss as sample_weight; same data, init and Adam rule:
  # the seed's printed losses and final variables, to float rounding.
  assert est.get_variable_value("global_step") == 50
  np.testing.assert_allclose(losses, eager_losses, rtol=1e-5)
  for name, value in eager_vars.items():
    np.testing.assert_allclose(est.get_variable_value("model/" + name),
                               value, atol=2e-6)


def test_seed002_custom_weighted_cce_equals_class_weight_and_helps_recall(
    tmp_path):
  import seed002_weighted_cce as seed  # pylint: disable=g-import-not-at-top
  est, metrics = seed.run(str(tmp_path / "seed_loss"))
  factory, factory_metrics = seed.run(str(tmp_path / "factory"),
                                      use_factory=True)
  _, plain = seed.run(str(tmp_path / "plain"), weights={0: 1.0, 1: 1.0})
  # The seed's loss, mean(CE * class_weight[label]), is
  # make_weighted_model_fn's class_weight with 'sum_over_batch_size': the
  # two train the same variables (up to the seed's 1e-7 clipping/rounding).
  ours, theirs = _params(est), _params(factory)
  assert set(ours) == set(theirs) == {"hidden/kernel", "hidden/bias",
                                      "logits/kernel", "logits/bias"}
  for name in ours:
    np.testing.assert_allclose(ours[name], theirs[name], atol=1e-6)
  assert factory_metrics["recall"] == pytest.approx(metrics["recall"])
  # Effect: weight 5 on the ~10% minority class raises its recall a lot.
  assert plain["recall"] < 0.2
  assert metrics["recall"] > 0.8


def test_seed002_class_weight_times_importance_equals_product(tmp_path):
  import seed002_class_x_importance as seed  # pylint: disable=g-import-not-at-top
  # class x importance: [1*.5, 3*.7, 1*1.2, 3*.9, 1*.8, 5*1.1, 3*1.5, 5*1.3]
  np.testing.assert_allclose(seed.sample_weights,
                             [0.5, 2.1, 1.2, 2.7, 0.8, 5.5, 4.5, 6.5])
  product = _params(seed.run(str(tmp_path / "product"), mode="product"))
  factored_est = seed.run(str(tmp_path / "factored"), mode="factored")
  factored = _params(factored_est)
  importance = _params(seed.run(str(tmp_path / "imp"),
                                mode="importance_only"))
  # Same variables after 100 steps. Not bit-identical only because numpy
  # rounds 3*0.9 in float64 before float32, estweight multiplies float32s
  # (1 ulp on one weight); dropping the class weights moves them ~0.1.
  for name in product:
    np.testing.assert_allclose(factored[name], product[name], atol=1e-6)
  assert max(np.abs(importance[n] - product[n]).max()
             for n in product) > 0.05
  # Evaluation also multiplies: one batch of 8, loss = Σwl/8 and
  # average_loss = Σwl/Σw with Σw = 23.8, so loss/average_loss = 23.8/8.
  m = factored_est.evaluate(lambda: seed.input_fn(seed.importance_scores, 1))
  assert m["loss"] / m["average_loss"] == pytest.approx(23.8 / 8, rel=1e-5)


def test_seed002_dynamic_weights_favour_minority_seed_scheme_collapses(
    tmp_path):
  import seed002_dynamic_weights as seed  # pylint: disable=g-import-not-at-top
  est, weights, counts = seed.run(str(tmp_path / "dynamic"))
  assert est.get_variable_value("global_step") == 100  # 10 epochs x 10
  assert counts.tolist() == [28, 39, 33]
  # weight_c = ema_c / mean(ema) (no clipping here), so they average 1.
  assert weights.mean() == pytest.approx(1.0, rel=1e-6)
  assert weights[0] > 1.0 > weights[1]  # minority class 0, majority class 1
  # The seed's gradient descent on the weights: ∂loss/∂w_i = l_i/10 > 0,
  # so every step lowers every weight it touches (seed's rate 0.01) ...
  _, sample_weights = seed.run_seed_scheme(str(tmp_path / "seed"))
  assert sample_weights.max() < 1.0
  # ... and, given time (rate 1.0, 30 epochs), they sit at the 0 clip.
  _, sample_weights = seed.run_seed_scheme(str(tmp_path / "seed_fast"),
                                           num_epochs=30, learning_rate=1.0)
  assert (sample_weights == 0.0).sum() >= 90
  assert sample_weights.max() < 1.0


def test_seed004_premade_linear_classifier_four_steps(tmp_path):
  import seed004_keras_to_estimator as seed  # pylint: disable=g-import-not-at-top
  _, metrics = seed.premade(str(tmp_path), steps=200)
  assert metrics["global_step"] == 200
  # Three measurements of 30 already separate most tumours.
  assert metrics["accuracy"] > 0.85


def test_seed004_keras_model_to_estimator_trains_and_evaluates(tmp_path):
  import seed004_keras_to_estimator as seed  # pylint: disable=g-import-not-at-top
  est, keras_model, metrics = seed.from_keras(str(tmp_path), steps=300)
  # The keys the seed's evaluate printed: {'accuracy', 'loss', 'global_step'}.
  assert set(metrics) == {"accuracy", "loss", "global_step"}
  assert metrics["global_step"] == 300
  assert metrics["accuracy"] > 0.9
  # "The initial model state of the Keras model is preserved": the warm-start
  # checkpoint holds the compiled model's first kernel as it was.
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  reader = tf.train.load_checkpoint(os.path.join(est.model_dir, "keras"))
  [name] = [n for n, shape in reader.get_variable_to_shape_map().items()
            if shape == [30, 16]]
  np.testing.assert_array_equal(reader.get_tensor(name),
                                keras_model.layers[0].kernel.numpy())


def test_seed003_example1_basic_loop(tmp_path):
  import seed003_iterative as seed  # pylint: disable=g-import-not-at-top
  losses = seed.example1(str(tmp_path), epochs=3, steps=20)
  assert len(losses) == 3 and losses[2] < losses[1] < losses[0]


def test_seed003_example2_early_stopping_loop(tmp_path):
  import seed003_iterative as seed  # pylint: disable=g-import-not-at-top
  losses = seed.example2(str(tmp_path), max_epochs=30, learning_rate=0.05)
  # It stopped before 30 epochs, and by its own rule: none of the last 3
  # evaluations beat the best before them, every earlier stretch did.
  assert len(losses) < 30
  assert min(losses[-3:]) >= min(losses[:-3])


def test_seed003_example3_grid_loop(tmp_path):
  import seed003_iterative as seed  # pylint: disable=g-import-not-at-top
  best_params, best_loss = seed.example3(
      str(tmp_path), steps=20, learning_rates=(0.001, 0.1),
      batch_sizes=(32, 128))
  assert best_params["learning_rate"] in (0.001, 0.1)
  assert best_params["batch_size"] in (32, 128)
  assert best_loss < 0.2  # the lr=0.1 runs; lr=0.001 stays near 0.5


def test_seed003_driver_does_the_same_jobs(tmp_path):
  import seed003_iterative as seed  # pylint: disable=g-import-not-at-top
  loop, grid = seed.driver_versions(str(tmp_path), steps=50, max_steps=500)
  losses = [h["metrics"]["loss"] for h in loop.history]
  if loop.stopped_early:  # patience 3, as the seed's loop
    assert min(losses[-3:]) >= min(losses[:-3])
  assert loop.best["metrics"]["loss"] == min(losses)
  scores = [t["score"] for t in grid.trials]
  assert len(scores) == 4 and grid.best_metrics["loss"] == min(scores)
