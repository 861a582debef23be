"""The CLI's data on disk: prepared rows streamed from TFRecord files.

Graphs hold a file name, not the data; the streamed batches are exactly
those `from_tensor_slices` gave over the same rows (so seeded runs keep
their numbers); infinite values are refused with their file, row and
column.
"""
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from estweight.cli import app
from estweight.cli import data
from estweight.cli import records


def write_csv(path, lines):
  path.write_text("\n".join(lines) + "\n")
  return str(path)


def small_table(tmp_path, **fields):
  rng = np.random.RandomState(3)
  lines = ["age,x,color,label"] + [
      f"{20 + i},{'' if i % 5 == 2 else '%.3f' % rng.normal()},"
      f"{'red' if i % 3 else 'blue'},{'yes' if i % 2 else 'no'}"
      for i in range(40)]
  cfg = dict(train=write_csv(tmp_path / "d.csv", lines), label="label",
             eval_fraction=0.25, batch_size=4)
  cfg.update(fields)
  return data.load(cfg, data_dir=str(tmp_path / "data"))


def _batches(dataset, n):
  return [tf.nest.map_structure(lambda t: t.numpy(), b)
          for b in dataset.take(n)]


def test_batches_are_those_of_from_tensor_slices_over_the_same_rows(
    tmp_path):
  table = small_table(tmp_path)
  rows = table.rows("train")
  features = {"age": rows["age"], "x": rows["x"].astype(np.float32),
              "color": rows["color"].astype(str)}
  labels = rows["label"].astype(str)
  # The in-memory pipeline the CLI used before (arrays as graph constants).
  reference = tf.data.Dataset.from_tensor_slices((features, labels)).shuffle(
      1000, seed=0, reshuffle_each_iteration=True).repeat().batch(4)
  streamed = table.input_fn("train", repeat=True)()
  for got, want in zip(_batches(streamed, 20), _batches(reference, 20)):
    tf.nest.map_structure(np.testing.assert_array_equal, got, want)
  # Eval: file order, one pass; label_ids gives the class ids.
  evals = _batches(table.input_fn("eval", label_ids=True)(), 10)
  np.testing.assert_array_equal(
      np.concatenate([b[0]["age"] for b in evals]), table.rows("eval")["age"])
  np.testing.assert_array_equal(
      np.concatenate([b[1] for b in evals]),
      (table.rows("eval")["label"] == "yes").astype(np.int64))


def test_records_are_written_once_per_content(tmp_path):
  table = small_table(tmp_path)
  table.input_fn("train")
  table.input_fn("eval", with_labels=False)
  names = sorted(os.listdir(tmp_path / "data"))
  assert [n.split("-")[0] for n in names] == ["eval", "train"]
  stamps = [os.stat(tmp_path / "data" / n).st_mtime_ns for n in names]
  again = small_table(tmp_path)  # the same data: the same files, untouched
  again.input_fn("train")
  again.input_fn("eval")
  assert sorted(os.listdir(tmp_path / "data")) == names
  assert [os.stat(tmp_path / "data" / n).st_mtime_ns for n in names] == stamps
  other = small_table(tmp_path, split_seed=1)  # other rows: another file
  other.input_fn("train")
  assert len(os.listdir(tmp_path / "data")) == 3
  # The file holds tf.Examples: features, weight (none here) and class id.
  first = next(iter(tf.data.TFRecordDataset(str(
      tmp_path / "data" / names[1]))))
  example = tf.train.Example.FromString(first.numpy())
  assert sorted(example.features.feature) == ["age", "color", "label", "x"]


def test_write_false_names_the_file_without_writing(tmp_path):
  table = small_table(tmp_path)
  table.input_fn("eval", write=False)
  assert not os.path.exists(tmp_path / "data")


def test_the_graph_holds_no_data(tmp_path):
  sizes = []
  for n in (50, 5000):
    lines = ["x,y"] + [f"{i * 0.001:.3f},{i % 2}" for i in range(n)]
    table = data.load({"train": write_csv(tmp_path / f"{n}.csv", lines),
                       "label": "y"}, data_dir=str(tmp_path / "data"))
    with tf.Graph().as_default() as graph:
      table.input_fn("train", repeat=True)()
    sizes.append(graph.as_graph_def().ByteSize())
  assert sizes[0] == sizes[1]  # 100 times the rows, the same graph


def test_an_infinite_feature_is_refused_with_file_row_and_column(tmp_path):
  path = write_csv(tmp_path / "d.csv",
                   ["x,z,y", "1.0,2,0", "2.0,3,1", "inf,4,0", "1.5,-1e999,1"])
  with pytest.raises(data.DataError) as e:
    data.load({"train": path, "label": "y"})
  assert str(e.value) == (
      f"data.train={path!r} column 'x' has the value inf in row 3; features "
      "must be finite (leave a missing value empty or write 'nan').")
  evals = write_csv(tmp_path / "e.csv", ["x,z,y", "1.0,-inf,0"])
  with pytest.raises(data.DataError) as e:
    data.load({"train": write_csv(tmp_path / "t.csv", ["x,z,y", "1,2,0",
                                                       "2,3,1"]),
               "eval": evals, "label": "y"})
  assert str(e.value) == (
      f"data.eval={evals!r} column 'z' has the value -inf in row 1; features"
      " must be finite (leave a missing value empty or write 'nan').")
  regression = write_csv(tmp_path / "r.csv", ["x,y", "1,0.5", "2,inf"])
  with pytest.raises(data.DataError) as e:
    data.load({"train": regression, "label": "y"})
  assert str(e.value) == (
      f"data.label='y' has the value inf in row 2 of data.train="
      f"{regression!r}; labels must be finite.")


def test_the_cli_refuses_an_infinite_feature_before_any_step(tmp_path,
                                                             capsys):
  path = write_csv(tmp_path / "d.csv", ["x,y"] + [f"{i},{i % 2}" for i in
                                                  range(9)] + ["inf,1"])
  config = tmp_path / "c.py"
  config.write_text("def get_config():\n"
                    f"  return {{'data': {{'train': {path!r}, 'label': 'y'}}}}\n")
  model_dir = tmp_path / "run"
  assert app.run(["estweight", "train", f"--config={config}",
                  f"--model_dir={model_dir}"]) == 1
  assert capsys.readouterr().err == (
      f"estweight train: error: data.train={path!r} column 'x' has the value "
      "inf in row 10; features must be finite (leave a missing value empty "
      "or write 'nan').\n")
  assert not os.path.exists(model_dir)


def test_read_inputs_types_features_and_keeps_a_label_if_present(tmp_path):
  table = small_table(tmp_path)
  path = write_csv(tmp_path / "new.csv", ["color,x,age,extra",
                                          "red,,31,z", "green,0.5,40,z"])
  columns = data.read_inputs(table, path)
  assert sorted(columns) == ["age", "color", "x"]  # no label, no extra
  assert columns["age"].tolist() == [31, 40]
  assert columns["age"].dtype == np.int64
  np.testing.assert_array_equal(columns["x"], [np.nan, 0.5])
  assert columns["color"].tolist() == ["red", "green"]
  fn = table.features_input_fn(columns, name="new",
                               directory=str(tmp_path / "tmp"))
  batch = next(iter(fn()))
  assert sorted(batch) == ["age", "color", "x"]
  assert batch["age"].numpy().tolist() == [31, 40]
  bad = write_csv(tmp_path / "bad.csv", ["color,x,age", "red,1e999,31"])
  with pytest.raises(data.DataError, match=(
      r"--input='.*bad.csv' column 'x' has the value inf in row 1")):
    data.read_inputs(table, bad)
  wrong = write_csv(tmp_path / "w.csv", ["color,x,age", "red,1,31.5"])
  with pytest.raises(data.DataError, match=(
      r"column 'age' value '31.5' \(row 1\) is not an int \(the feature's "
      r"type in training\)")):
    data.read_inputs(table, wrong)


def test_fingerprint_depends_on_values_names_and_types():
  base = {"a": np.array([1.0, 2.0]), "s": np.array(["x", "y"], object)}
  same = {"s": np.array(["x", "y"], object), "a": np.array([1.0, 2.0])}
  assert records.fingerprint(base) == records.fingerprint(same)
  for other in ({"a": np.array([1.0, 2.5]), "s": base["s"]},
                {"b": base["a"], "s": base["s"]},
                {"a": np.array([1, 2]), "s": base["s"]},
                {"a": base["a"], "s": np.array(["x", "z"], object)}):
    assert records.fingerprint(other) != records.fingerprint(base)


@pytest.mark.slow
def test_a_100k_row_csv_trains_with_a_small_graph(tmp_path):
  rng = np.random.RandomState(0)
  n = 100_000
  x = rng.normal(size=(n, 4))
  color = rng.choice(["red", "green", "blue"], size=n)
  target = (x[:, 0] + x[:, 1] * 0.5 + (color == "red") > 0.3).astype(int)
  lines = ["a,b,c,d,color,target"] + [
      "%.6f,%.6f,%.6f,%.6f,%s,%d" % (*x[i], color[i], target[i])
      for i in range(n)]
  path = write_csv(tmp_path / "big.csv", lines)
  assert os.path.getsize(path) > 4_000_000
  config = tmp_path / "c.py"
  config.write_text(
      "def get_config():\n"
      f"  return {{'data': {{'train': {path!r}, 'batch_size': 64}},\n"
      "          'model': {'hidden_units': [8]},\n"
      "          'driver': {'steps_per_iteration': 50, 'max_steps': 100,\n"
      "                     'eval_steps': 5}}\n")
  model_dir = tmp_path / "run"
  assert app.run(["estweight", "train", f"--config={config}",
                  f"--model_dir={model_dir}"]) == 0
  with open(model_dir / "driver" / "state.json") as f:
    assert [h["global_step"] for h in json.load(f)["history"]] == [50, 100]
  assert os.path.getsize(model_dir / "graph.pbtxt") < 1_000_000
  assert os.path.getsize(model_dir / "model.ckpt-100.meta") < 1_000_000
  events = [n for n in os.listdir(model_dir) if "tfevents" in n]
  assert all(os.path.getsize(model_dir / n) < 2_000_000 for n in events)
