"""Counting classes over one pass of an input that repeats
(runtime/preparation.one_pass, weights.count_classes, 'balanced').

Labels: 7 of class 0, 2 of class 1, 1 of class 2 (10 examples).
"""
import json
import logging
import os

import numpy as np
import pytest
import tensorflow as tf

import estweight
from estweight import weights

X = np.arange(10, dtype=np.float32)
Y = np.array([0] * 7 + [1] * 2 + [2])


def _base():
  return tf.data.Dataset.from_tensor_slices(({"x": X}, Y))


def _keep_all(features, label):
  del features, label
  return True


@pytest.mark.parametrize("input_fn, counts", [
    (lambda: _base().shuffle(10, seed=1).repeat().batch(4), [7, 2, 1]),
    (lambda: _base().batch(3).repeat(), [7, 2, 1]),
    (lambda: _base().repeat().shuffle(4, seed=2).batch(4).prefetch(1),
     [7, 2, 1]),
    # size unknown (filter) after the repeat
    (lambda: _base().repeat().filter(_keep_all).batch(4), [7, 2, 1]),
    # a repeat inside an interleave function: 2 files of one pass each
    (lambda: tf.data.Dataset.range(2).interleave(
        lambda _: _base().repeat(), cycle_length=2).batch(4), [14, 4, 2]),
    # finite repeats are the data as given: counted as they are
    (lambda: _base().repeat(2).batch(4), [14, 4, 2]),
    (lambda: _base().repeat(3).repeat().batch(4), [21, 6, 3]),
    # not repeating: unchanged
    (lambda: _base().batch(4), [7, 2, 1]),
])
def test_a_repeating_input_is_counted_over_one_pass(input_fn, counts):
  assert weights.count_classes(input_fn, 3).tolist() == counts


def _count_lines(caplog):
  return [m for m in caplog.messages if m.startswith("count_classes")]


def test_the_log_states_the_pass_and_the_count(caplog):
  caplog.set_level(logging.INFO, logger="absl")
  weights.count_classes(lambda: _base().repeat().batch(4), 3)
  assert _count_lines(caplog) == [
      "count_classes: the training input repeats forever; counting one pass "
      "of its data (1 repeat() made to run once, 3 batches).",
      "count_classes: counted 10 examples in one pass of the input: "
      "[7, 2, 1] per class."]


def test_an_endless_input_that_cannot_be_rewritten_is_refused_at_once():
  def endless():
    while True:
      yield 1.0, 0

  def input_fn():
    return tf.data.Dataset.from_generator(endless, output_signature=(
        tf.TensorSpec([], tf.float32), tf.TensorSpec([], tf.int64))).map(
            lambda x, y: ({"x": x}, y)).repeat().batch(4)

  with pytest.raises(ValueError, match=(
      r"^count_classes needs one pass over the training input, but the "
      r"Dataset its input_fn returns never ends and cannot be made to \(its "
      r"graph cannot be rewritten: it holds Python state or resources from "
      r"outside, e.g. from_generator\)\. To fix, pass counts you know: "
      r"class_weight=estweight\.weights\.balanced_class_weight\(counts\)")):
    weights.count_classes(input_fn, 2)


def test_an_infinite_source_without_repeat_is_refused_at_once():
  def input_fn():
    return tf.data.Dataset.random(seed=1).map(
        lambda r: ({"x": tf.cast(r, tf.float32)}, r % 2)).batch(4)

  with pytest.raises(ValueError, match=r"never ends and cannot be made to "
                     r"\(it has no repeat\(\) without a count\)"):
    weights.count_classes(input_fn, 2)


def test_a_bounded_sample_counts_the_first_examples(caplog):
  caplog.set_level(logging.INFO, logger="absl")
  # Unshuffled: 25 examples are 2 passes (14, 4, 2) and 0..4 of the third.
  counts = weights.count_classes(lambda: _base().repeat().batch(4), 3,
                                 max_examples=25)
  assert counts.tolist() == [19, 4, 2]
  assert _count_lines(caplog) == [
      "count_classes: counted a sample of the first 25 examples of the input "
      "(max_examples=25): [19, 4, 2] per class."]


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_a_bad_max_examples_is_refused(bad):
  with pytest.raises(ValueError, match=rf"`max_examples` must be a positive "
                     rf"integer or None\. Received: max_examples={bad!r}\."):
    weights.count_classes(lambda: _base().batch(4), 3, max_examples=bad)


def test_balanced_training_on_a_repeating_input_counts_one_epoch(tmp_path):
  est = estweight.LinearClassifier(
      [tf.feature_column.numeric_column("x")], n_classes=3,
      class_weight="balanced", model_dir=str(tmp_path),
      config=estweight.RunConfig(tf_random_seed=1))
  est.train(lambda: _base().shuffle(10, seed=1).repeat().batch(4), steps=2)
  with open(os.path.join(str(tmp_path), "class_weights.json")) as f:
    cached = json.load(f)
  assert cached["counts"] == [7, 2, 1]
  # n / (n_classes * count) = 10/21, 10/6, 10/3
  np.testing.assert_allclose(cached["class_weight"],
                             [10 / 21, 10 / 6, 10 / 3], rtol=1e-6)
  assert est.get_variable_value("global_step") == 2
