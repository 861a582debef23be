"""estweight.cli.data: config.data -> Table (real files in tmp_path)."""
import gzip
import re

import numpy as np
import pytest
import tensorflow as tf

import estweight
from estweight.cli import data

HEADER = "age,color,height,label,w"
# label: yes in rows 0 2 4 5 7 9 (6), no in rows 1 3 6 8 (4); row 1 has no
# height. The 9 heights have mean 1.5 and std 0.5:
# deviations 0 .25 .5 -.25 -1 .75 -.5 0 .25, squares sum 2.25, 2.25/9 = .25.
ROWS = [
    (30, "red", 1.5, "yes", 1.0),
    (41, "blue", None, "no", 2.0),
    (25, "green", 1.75, "yes", 0.5),
    (33, "red", 2.0, "no", 1.0),
    (50, "blue", 1.25, "yes", 3.0),
    (28, "green", 0.5, "yes", 1.0),
    (61, "red", 2.25, "no", 0.0),
    (45, "blue", 1.0, "yes", 1.0),
    (38, "green", 1.5, "no", 2.0),
    (52, "red", 1.75, "yes", 1.0),
]
EVAL_ROWS = [(35, "purple", 1.0, "no", 1.0), (47, "red", 2.0, "yes", 1.0)]


def write_csv(path, rows=ROWS, header=HEADER):
  lines = [header] + [",".join("" if v is None else str(v) for v in row)
                      for row in rows]
  path.write_text("\n".join(lines) + "\n")
  return str(path)


def write_tfrecord(path, rows=ROWS):
  with tf.io.TFRecordWriter(str(path)) as writer:
    for age, color, height, label, w in rows:
      feature = {
          "age": tf.train.Feature(int64_list=tf.train.Int64List(value=[age])),
          "color": tf.train.Feature(
              bytes_list=tf.train.BytesList(value=[color.encode()])),
          "height": tf.train.Feature(float_list=tf.train.FloatList(
              value=[np.nan if height is None else height])),
          "label": tf.train.Feature(
              bytes_list=tf.train.BytesList(value=[label.encode()])),
          "w": tf.train.Feature(float_list=tf.train.FloatList(value=[w])),
      }
      writer.write(tf.train.Example(features=tf.train.Features(
          feature=feature)).SerializeToString())
  return str(path)


def write_npz(path, rows=ROWS):
  age, color, height, label, w = zip(*rows)
  np.savez(path, age=np.array(age), color=np.array(color),
           height=np.array([np.nan if h is None else h for h in height]),
           label=np.array(label), w=np.array(w))
  return str(path)


def config(**fields):
  cfg = data.default_data_config()
  cfg.update(dict(label="label", weight_column="w"))
  cfg.update(fields)
  return cfg


def first_batch(input_fn):
  return next(iter(input_fn()))


def as_numpy(structure):
  return tf.nest.map_structure(lambda t: t.numpy(), structure)


# ----------------------------------------------------------- CSV and types
def test_default_config_fields():
  cfg = data.default_data_config()
  assert cfg.to_dict() == {
      "train": "", "eval": "", "format": "auto", "label": "target",
      "features": [], "schema": {}, "weight_column": "", "task": "auto",
      "label_vocabulary": [], "eval_fraction": 0.2, "split_seed": 0,
      "minority_keep_fraction": 1.0, "normalize": True, "batch_size": 32,
      "eval_batch_size": 256, "shuffle_buffer": 1000, "shuffle_seed": 0,
      "balance_weights_by": ""}


def test_balance_weights_by_a_group_column(tmp_path):
  path = tmp_path / "d.csv"
  # Training groups a, a, a, b: weights 4 / (2 * 3) = 2/3 and 4 / (2 * 1) = 2.
  path.write_text("g,x,target\na,1,0.5\na,2,1.5\na,3,2.5\nb,4,3.5\n")
  evals = tmp_path / "e.csv"
  evals.write_text("g,x,target\nb,1,1.0\na,2,2.0\n")
  table = data.load(config(train=str(path), eval=str(evals),
                           label="target", weight_column="",
                           balance_weights_by="g"))
  assert table.weight_column == "balance_weight"
  np.testing.assert_allclose(table.rows("train")["balance_weight"],
                             [2 / 3, 2 / 3, 2 / 3, 2.0], rtol=1e-6)
  np.testing.assert_allclose(table.rows("eval")["balance_weight"],
                             [2.0, 2 / 3], rtol=1e-6)
  features, _ = next(iter(table.input_fn("eval")()))
  np.testing.assert_allclose(features["balance_weight"], [2.0, 2 / 3],
                             rtol=1e-6)
  with pytest.raises(data.DataError, match="balance_weights_by='gg'.*Did you "
                     "mean 'g'"):
    data.load(config(train=str(path), eval=str(evals), label="target",
                     weight_column="",
                     balance_weights_by="gg"))


def test_csv_infers_schema_vocabulary_and_string_label(tmp_path):
  table = data.load(config(train=write_csv(tmp_path / "train.csv"),
                           eval=write_csv(tmp_path / "eval.csv", EVAL_ROWS)))
  assert table.schema == {"age": "int", "color": "string", "height": "float",
                          "label": "string", "w": "float"}
  assert table.task == "classification"
  assert table.feature_names == ["age", "color", "height"]  # not label, w
  assert table.weight_column == "w"
  assert table.n_classes == 2
  assert table.label_vocabulary == ["no", "yes"]
  assert table.class_counts == {"no": 4, "yes": 6}
  # 'purple' is only in eval: vocabularies come from the training rows.
  assert table.vocabularies == {"color": ["blue", "green", "red"]}
  assert (table.num_rows("train"), table.num_rows("eval")) == (10, 2)


def test_first_train_batch_is_the_first_rows_in_file_order(tmp_path):
  table = data.load(config(train=write_csv(tmp_path / "train.csv"),
                           eval=write_csv(tmp_path / "eval.csv", EVAL_ROWS)))
  features, labels = as_numpy(first_batch(
      table.input_fn("train", shuffle=False, batch_size=4)))
  np.testing.assert_array_equal(features["age"], [30, 41, 25, 33])
  assert features["age"].dtype == np.int64
  np.testing.assert_array_equal(features["color"],
                                [b"red", b"blue", b"green", b"red"])
  np.testing.assert_array_equal(features["height"],
                                np.float32([1.5, np.nan, 1.75, 2.0]))
  np.testing.assert_array_equal(features["w"], np.float32([1, 2, 0.5, 1]))
  np.testing.assert_array_equal(labels, [b"yes", b"no", b"yes", b"no"])


def test_weights_are_a_feature_unless_left_out(tmp_path):
  table = data.load(config(train=write_csv(tmp_path / "train.csv"),
                           eval=write_csv(tmp_path / "eval.csv", EVAL_ROWS)))
  features, _ = first_batch(table.input_fn("eval"))
  assert sorted(features) == ["age", "color", "height", "w"]
  np.testing.assert_array_equal(features["w"].numpy(), [1.0, 1.0])
  features, _ = first_batch(table.input_fn("eval", with_weights=False))
  assert sorted(features) == ["age", "color", "height"]
  features = first_batch(table.input_fn("eval", with_labels=False))
  assert isinstance(features, dict) and "w" in features


def test_batch_size_defaults_and_params_batch_size_for_training(tmp_path):
  table = data.load(config(train=write_csv(tmp_path / "train.csv"),
                           eval=write_csv(tmp_path / "eval.csv", EVAL_ROWS),
                           batch_size=3, eval_batch_size=1))
  sizes = lambda ds: [len(l) for _, l in ds]
  assert sizes(table.input_fn("train")()) == [3, 3, 3, 1]
  assert sizes(table.input_fn("train")(params={"batch_size": 5})) == [5, 5]
  # eval keeps eval_batch_size, so trials evaluate alike.
  assert sizes(table.input_fn("eval")(params={"batch_size": 5})) == [1, 1]
  assert sizes(table.input_fn("train", batch_size=4)(
      params={"batch_size": 5})) == [4, 4, 2]


def test_training_shuffles_reproducibly_and_eval_keeps_order(tmp_path):
  table = data.load(config(train=write_csv(tmp_path / "train.csv"),
                           eval=write_csv(tmp_path / "eval.csv", EVAL_ROWS)))
  ages = lambda fn: first_batch(fn)[0]["age"].numpy().tolist()
  shuffled = ages(table.input_fn("train"))
  assert shuffled == ages(table.input_fn("train"))
  assert sorted(shuffled) == sorted(r[0] for r in ROWS)
  assert shuffled != [r[0] for r in ROWS]
  assert ages(table.input_fn("eval")) == [35, 47]
  unshuffled = data.load(config(train=write_csv(tmp_path / "train.csv"),
                                eval=write_csv(tmp_path / "e.csv", EVAL_ROWS),
                                shuffle_buffer=0))
  assert ages(unshuffled.input_fn("train", shuffle=True)) == [
      r[0] for r in ROWS]


def test_stratified_split_counts_are_exact(tmp_path):
  table = data.load(config(train=write_csv(tmp_path / "train.csv"),
                           eval_fraction=0.25))
  # per class round(0.25 * count): yes round(1.5) = 2, no round(1.0) = 1.
  assert (table.num_rows("train"), table.num_rows("eval")) == (7, 3)
  assert table.class_counts == {"no": 3, "yes": 4}
  eval_labels = table.rows("eval")["label"].tolist()
  assert sorted(eval_labels) == ["no", "yes", "yes"]
  ages = lambda t, split: t.rows(split)["age"].tolist()
  assert sorted(ages(table, "train") + ages(table, "eval")) == sorted(
      r[0] for r in ROWS)
  again = data.load(config(train=write_csv(tmp_path / "train.csv"),
                           eval_fraction=0.25))
  assert ages(again, "eval") == ages(table, "eval")


def test_normalizer_uses_training_mean_and_std_and_fills_missing(tmp_path):
  table = data.load(config(train=write_csv(tmp_path / "train.csv"),
                           eval=write_csv(tmp_path / "eval.csv", EVAL_ROWS)))
  height = table.feature_columns("linear")[2]
  # mean 1.5, std 0.5: (2.5 - 1.5) / 0.5 = 2; NaN -> the mean -> 0.
  np.testing.assert_allclose(
      height.normalizer_fn(tf.constant([1.5, np.nan, 2.5])).numpy(),
      [0.0, 0.0, 2.0])
  raw = table.feature_columns("linear", normalize=False)[2]
  np.testing.assert_allclose(
      raw.normalizer_fn(tf.constant([np.nan, 2.5])).numpy(), [1.5, 2.5])


def test_feature_columns_by_kind(tmp_path):
  table = data.load(config(train=write_csv(tmp_path / "train.csv"),
                           eval=write_csv(tmp_path / "eval.csv", EVAL_ROWS)))
  dnn = table.feature_columns("dnn")
  linear = table.feature_columns("linear")
  assert [c.name for c in dnn] == ["age", "color_indicator", "height"]
  assert [c.name for c in linear] == ["age", "color", "height"]
  assert linear[0].dtype == tf.int64 and linear[2].dtype == tf.float32
  assert linear[1].vocabulary_list == ("blue", "green", "red")


def test_parse_spec_and_raw_serving_features_cover_features_only(tmp_path):
  table = data.load(config(train=write_csv(tmp_path / "train.csv")))
  spec = table.parse_spec()
  assert sorted(spec) == ["age", "color", "height"]
  assert spec["age"] == tf.io.FixedLenFeature((1,), tf.int64)
  # A float feature left out of an Example parses as NaN, which the feature
  # column fills with the training mean, as in training.
  height = spec["height"]
  assert (height.shape, height.dtype) == ((1,), tf.float32)
  assert np.isnan(height.default_value).tolist() == [True]
  assert spec["color"] == tf.io.VarLenFeature(tf.string)
  raw = table.raw_serving_features()
  assert {k: (v.shape.as_list(), v.dtype) for k, v in raw.items()} == {
      "age": ([None], tf.int64), "color": ([None], tf.string),
      "height": ([None], tf.float32)}


def test_feature_columns_train_a_canned_estimator(tmp_path):
  table = data.load(config(train=write_csv(tmp_path / "train.csv"),
                           eval_fraction=0.25))
  est = estweight.DNNClassifier(
      [4], table.feature_columns("dnn"), model_dir=str(tmp_path / "model"),
      n_classes=table.n_classes, label_vocabulary=table.label_vocabulary,
      weight_column=table.weight_column)
  est.train(table.input_fn("train", repeat=True), steps=2)
  metrics = est.evaluate(table.input_fn("eval"))
  assert metrics["global_step"] == 2 and np.isfinite(metrics["loss"])


def test_describe_names_rows_label_classes_weights_and_features(tmp_path):
  table = data.load(config(train=write_csv(tmp_path / "train.csv"),
                           eval_fraction=0.25))
  text = table.describe()
  assert text.splitlines()[0] == "rows: train 7, eval 3"
  for part in ("'no' (id 0): 3", "'yes' (id 1): 4", "weight column: 'w'",
               "features: 3 (1 float, 1 int, 1 string)",
               "string  color [3 values]"):
    assert part in text


# --------------------------------------------------- other formats, labels
def test_tfrecord_and_npz_load_like_the_csv(tmp_path):
  tables = [data.load(config(train=path, eval_fraction=0.25)) for path in (
      write_csv(tmp_path / "d.csv"), write_tfrecord(tmp_path / "d.tfrecord"),
      write_npz(tmp_path / "d.npz"))]
  csv_table = tables[0]
  for table in tables[1:]:
    for attr in ("task", "feature_names", "schema", "n_classes",
                 "label_vocabulary", "class_counts", "vocabularies"):
      assert getattr(table, attr) == getattr(csv_table, attr), attr
    for split in ("train", "eval"):
      got, want = table.rows(split), csv_table.rows(split)
      assert list(got) == list(want)
      for name in want:
        np.testing.assert_array_equal(got[name], want[name])
        assert got[name].dtype == want[name].dtype
      tf.nest.map_structure(
          np.testing.assert_array_equal,
          as_numpy(first_batch(table.input_fn(split, shuffle=False))),
          as_numpy(first_batch(csv_table.input_fn(split, shuffle=False))))


def test_gzipped_csv_reads_like_the_plain_one(tmp_path):
  path = tmp_path / "d.csv.gz"
  with gzip.open(path, "wt") as f:
    f.write(open(write_csv(tmp_path / "plain.csv")).read())
  table = data.load(config(train=str(path)))
  assert table.num_rows("train") + table.num_rows("eval") == 10


def test_int_labels_are_class_ids_when_0_to_n_minus_1(tmp_path):
  path = write_csv(tmp_path / "d.csv", [(i, i % 3) for i in range(9)],
                   header="x,y")
  table = data.load(config(train=path, label="y", weight_column="",
                           eval_fraction=0.34))
  assert table.task == "classification" and table.n_classes == 3
  assert table.label_vocabulary is None
  assert table.class_counts == {0: 2, 1: 2, 2: 2}
  _, labels = first_batch(table.input_fn("train", shuffle=False))
  assert labels.dtype == tf.int64


def test_other_int_labels_become_string_classes_in_numeric_order(tmp_path):
  path = write_csv(tmp_path / "d.csv",
                   [(i, [2, 10, -1][i % 3]) for i in range(9)], header="x,y")
  table = data.load(config(train=path, label="y", weight_column="",
                           eval_fraction=0.34))
  assert table.label_vocabulary == ["-1", "2", "10"]
  assert table.class_counts == {"-1": 2, "2": 2, "10": 2}
  _, labels = first_batch(table.input_fn("train", shuffle=False))
  assert labels.numpy().tolist() == [
      str(v).encode() for v in table.rows("train")["y"]]


def test_label_vocabulary_sets_the_class_order(tmp_path):
  table = data.load(config(train=write_csv(tmp_path / "d.csv"),
                           label_vocabulary=["yes", "no"]))
  assert table.label_vocabulary == ["yes", "no"]
  assert list(table.class_counts) == ["yes", "no"]


def test_float_label_is_regression_and_task_can_force_it(tmp_path):
  path = write_csv(tmp_path / "d.csv")
  table = data.load(config(train=path, label="w", weight_column=""))
  assert table.task == "regression" and table.n_classes is None
  # age: ints with 10 distinct values (<= 20) are classes unless forced.
  evals = write_csv(tmp_path / "e.csv", EVAL_ROWS)
  assert data.load(config(train=path, eval=evals, label="age")
                   ).task == "classification"
  forced = data.load(config(train=path, eval=evals, label="age",
                            task="regression"))
  assert forced.task == "regression"
  _, labels = first_batch(forced.input_fn("eval"))
  assert labels.dtype == tf.float32


def test_sklearn_breast_cancer_has_malignant_as_label_1():
  table = data.load({"train": "sklearn:breast_cancer"})
  assert table.num_rows("train") + table.num_rows("eval") == 569
  assert len(table.feature_names) == 30 and "mean_radius" in table.feature_names
  # 212 malignant, 357 benign; eval per class round(0.2 * count): 42, 71.
  assert table.class_counts == {0: 357 - 71, 1: 212 - 42}
  assert int(table.rows("eval")["target"].sum()) == 42
  assert table.n_classes == 2 and table.label_vocabulary is None


def test_minority_keep_fraction_cuts_training_minority_only():
  table = data.load({"train": "sklearn:breast_cancer",
                     "minority_keep_fraction": 0.1})
  # malignant in training: 212 - 42 = 170, round(0.1 * 170) = 17 kept.
  assert table.class_counts == {0: 286, 1: 17}
  assert table.num_rows("train") == 303
  eval_labels = table.rows("eval")["target"]
  assert (len(eval_labels), int(eval_labels.sum())) == (113, 42)


def test_sklearn_diabetes_is_regression():
  table = data.load({"train": "sklearn:diabetes"})
  assert table.task == "regression"
  assert (table.n_classes, table.label_vocabulary, table.class_counts) == (
      None, None, None)
  assert (table.num_rows("train"), table.num_rows("eval")) == (354, 88)
  _, labels = first_batch(table.input_fn("eval"))
  assert labels.dtype == tf.float32


# ----------------------------------------------------------------- errors
def load_error(cfg):
  with pytest.raises(data.DataError) as info:
    data.load(cfg)
  message = str(info.value)
  assert "\n" not in message
  assert isinstance(info.value, ValueError)
  return message


def test_missing_train_raises():
  assert "`data.train` is required" in load_error({"train": ""})


def test_missing_file_raises(tmp_path):
  path = str(tmp_path / "x.csv")
  assert load_error(config(train=path)) == (
      f"data.train={path!r} does not exist.")


def test_unreadable_file_raises(tmp_path):
  path = tmp_path / "x.csv.gz"
  path.write_text("not gzip")
  assert re.match(rf"data.train={re.escape(repr(str(path)))} cannot be read "
                  r"as csv: BadGzipFile", load_error(config(train=str(path))))


def test_label_not_a_column_lists_the_columns(tmp_path):
  path = write_csv(tmp_path / "d.csv")
  assert load_error(config(train=path, label="y")) == (
      f"data.label='y' is not a column of data.train={path!r}. Columns: "
      "['age', 'color', 'height', 'label', 'w'].")


def test_feature_not_a_column_suggests_the_nearest(tmp_path):
  path = write_csv(tmp_path / "d.csv")
  assert load_error(config(train=path, features=["agee"])) == (
      f"data.features entry 'agee' is not a column of data.train={path!r}. "
      "Did you mean 'age'? Columns: ['age', 'color', 'height', 'label', 'w'].")


def test_weight_column_errors(tmp_path):
  path = write_csv(tmp_path / "d.csv")
  assert load_error(config(train=path, weight_column="wt")).startswith(
      "data.weight_column='wt' is not a column of")
  assert load_error(config(train=path, weight_column="color")) == (
      "data.weight_column='color' must be numeric, but it holds strings in "
      f"data.train={path!r} (e.g. 'red').")
  bad = write_csv(tmp_path / "neg.csv", ROWS[:2] + [(1, "red", 1.0, "no",
                                                     -0.5)])
  assert load_error(config(train=bad)) == (
      "data.weight_column='w' has the weight -0.5 in row 3 of "
      f"data.train={bad!r}; weights must be finite and >= 0.")


def test_unknown_format_raises(tmp_path):
  path = write_csv(tmp_path / "d.csv")
  assert load_error(config(train=path, format="parquet")) == (
      "`data.format` must be one of ['auto', 'csv', 'tfrecord', 'npz']. "
      "Received: data.format='parquet'.")
  other = tmp_path / "d.parquet"
  other.write_text("x")
  assert "cannot tell the format from the file name" in load_error(
      config(train=str(other)))


def test_unknown_sklearn_source_lists_the_known():
  assert load_error({"train": "sklearn:digits"}) == (
      "data.train='sklearn:digits' is not a built-in source; known: "
      "['sklearn:breast_cancer', 'sklearn:diabetes', 'sklearn:iris', "
      "'sklearn:wine'].")


def test_schema_type_must_be_known(tmp_path):
  assert load_error(config(train=write_csv(tmp_path / "d.csv"),
                           schema={"age": "double"})) == (
      "`data.schema['age']` must be one of ['float', 'int', 'string']. "
      "Received: data.schema['age']='double'.")


def test_schema_override_that_does_not_fit_names_the_value(tmp_path):
  path = write_csv(tmp_path / "d.csv")
  assert load_error(config(train=path, schema={"color": "float"})) == (
      f"data.train={path!r} column 'color' value 'red' (row 1) is not a "
      "float (data.schema['color']='float').")


def test_empty_data_raises(tmp_path):
  path = write_csv(tmp_path / "d.csv", rows=[])
  assert load_error(config(train=path)) == f"data.train={path!r} has no rows."


def test_malformed_sources_raise(tmp_path):
  ragged = tmp_path / "r.csv"
  ragged.write_text("a,b\n1,2\n3\n")
  assert load_error(config(train=str(ragged), label="b")) == (
      f"data.train={str(ragged)!r} line 3 has 1 fields; the header has 2.")
  npz = tmp_path / "m.npz"
  np.savez(npz, x=np.zeros((3, 2)), target=np.zeros(3))
  assert "array 'x' has shape (3, 2); every column must be 1-D" in load_error(
      {"train": str(npz)})
  record = tmp_path / "m.tfrecord"
  with tf.io.TFRecordWriter(str(record)) as writer:
    writer.write(tf.train.Example(features=tf.train.Features(feature={
        "x": tf.train.Feature(float_list=tf.train.FloatList(value=[1, 2]))})
    ).SerializeToString())
  assert "feature 'x' has 2 values in record 1; only one value" in load_error(
      {"train": str(record)})


def test_label_and_task_errors(tmp_path):
  path = write_csv(tmp_path / "d.csv")
  assert load_error(config(train=path, label="height", weight_column="")) == (
      f"data.label='height' has no value in row 2 of data.train={path!r}; "
      "every row needs a label.")
  assert "data.task='regression' needs a numeric label" in load_error(
      config(train=path, task="regression"))
  one = write_csv(tmp_path / "one.csv", [r[:3] + ("yes", 1.0) for r in ROWS])
  assert "has a single class" in load_error(config(train=one))
  assert "`data.minority_keep_fraction` needs a classification label" in (
      load_error({"train": "sklearn:diabetes", "minority_keep_fraction": 0.5}))


def test_eval_file_without_a_used_column_raises(tmp_path):
  train = write_csv(tmp_path / "t.csv")
  evals = write_csv(tmp_path / "e.csv", [(1, "red", "yes")],
                    header="age,color,label")
  assert load_error(config(train=train, eval=evals)) == (
      f"data.eval={evals!r} has no column 'w', which data.train="
      f"{train!r} has. Columns: ['age', 'color', 'label'].")


def test_bad_config_values_raise():
  assert load_error({"train": "sklearn:iris", "batch_size": 0}) == (
      "`data.batch_size` must be a positive integer. Received: "
      "data.batch_size=0.")
  assert load_error({"train": "sklearn:iris", "eval_fraction": 1.0}) == (
      "`data.eval_fraction` must be a number in (0, 1) when data.eval is ''."
      " Received: data.eval_fraction=1.0.")
  assert "Received: data.task='ranking'" in load_error(
      {"train": "sklearn:iris", "task": "ranking"})


def test_feature_list_errors(tmp_path):
  path = write_csv(tmp_path / "d.csv")
  assert load_error(config(train=path, features=["age", "label"])) == (
      "data.features lists 'label', which is data.label; remove it from "
      "data.features.")
  assert load_error(config(train=path, schema={"colour": "string"})) == (
      f"data.schema key 'colour' is not a column of data.train={path!r}. "
      "Did you mean 'color'? Columns: ['age', 'color', 'height', 'label', "
      "'w'].")
  spaced = write_csv(tmp_path / "s.csv", [(1, 2.0, "a"), (2, 3.0, "b")],
                     header="id,body mass,y")
  assert load_error(config(train=spaced, label="y", weight_column="")) == (
      f"Feature 'body mass' of data.train={spaced!r} cannot name a TensorFlow"
      " input (letters, digits, '_', '.', '-'; not starting with '_'); "
      "rename the column, e.g. to 'body_mass', or leave it out of "
      "data.features.")


def test_classification_of_fractional_labels_raises(tmp_path):
  path = write_csv(tmp_path / "d.csv")
  assert load_error(config(train=path, label="w", weight_column="",
                           task="classification")) == (
      "data.task='classification' needs integer or string labels, but "
      "data.label='w' has 0.5.")


def test_fields_this_module_does_not_define_are_ignored(tmp_path):
  cfg = config(train=write_csv(tmp_path / "d.csv"))
  cfg.class_weight = "balanced"  # the CLI's own field
  assert data.load(cfg).n_classes == 2
