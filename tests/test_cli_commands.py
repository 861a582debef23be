"""evaluate, predict and export after one `estweight train`, in process.

One model is trained (module fixture) on a CSV with an int, a float (with
missing values) and a string feature, and a separate evaluation file. Its
evaluations (seed 7): loss 0.6521, 0.5133, 0.3827, 0.3922 at steps 10..40,
so the best checkpoint (step 30) is not the latest (step 40).
"""
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from estweight.cli import app

CONFIG = '''
def get_config():
  return {{
      "data": {{"train": {train!r}, "eval": {eval!r}, "batch_size": 8}},
      "model": {{"name": "DNNClassifier", "hidden_units": [4],
                "optimizer": "Adam", "learning_rate": 0.05}},
      "run": {{"tf_random_seed": 7, "log_step_count_steps": 10}},
      "driver": {{"steps_per_iteration": 10, "max_steps": 40}},
  }}
'''


def write_rows(path, n, seed, *, label=True):
  """age (int), x (float, missing in every 7th row from the 4th), color
  (string), target (0/1)."""
  rng = np.random.RandomState(seed)
  lines = ["age,x,color" + (",target" if label else "")]
  for i in range(n):
    age, x = rng.randint(20, 70), rng.normal()
    color = rng.choice(["red", "blue", "green"])
    target = int(0.05 * (age - 45) + x + 0.7 * (color == "red") +
                 0.5 * rng.normal() > 0)
    shown = "" if i % 7 == 3 else "%.4f" % x
    lines.append(f"{age},{shown},{color}" + (f",{target}" if label else ""))
  path.write_text("\n".join(lines) + "\n")
  return str(path)


def run(*args):
  return app.run(["estweight", *args])


@pytest.fixture(name="trained", scope="module")
def fixture_trained(tmp_path_factory):
  root = tmp_path_factory.mktemp("commands")
  train = write_rows(root / "train.csv", 80, seed=0)
  evals = write_rows(root / "eval.csv", 30, seed=1)
  write_rows(root / "new.csv", 30, seed=1, label=False)  # eval, no label
  config = root / "config.py"
  config.write_text(CONFIG.format(train=train, eval=evals))
  model_dir = str(root / "run")
  assert run("train", f"--config={config}", f"--model_dir={model_dir}") == 0
  return root, model_dir


def _eval_steps(directory):
  with open(os.path.join(directory, "metrics.jsonl")) as f:
    return [json.loads(line)["global_step"] for line in f]


def test_train_prints_the_best_checkpoint_and_its_evaluation(trained, capsys):
  root, model_dir = trained
  # A rerun trains nothing and prints the same summary.
  assert run("train", f"--config={root / 'config.py'}",
             f"--model_dir={model_dir}") == 0
  out = capsys.readouterr().out
  assert out.startswith(
      "Trained to step 40; 4 evaluations.\n"
      f"Best checkpoint: {model_dir}/best/model.ckpt-30 (step 30, best loss);"
      " evaluate, predict and export use it.\n"
      "Evaluation at step 30 (best):\n")
  assert "\nglobal_step           30\n" in out
  assert "\nloss                  0.3827\n" in out


def test_evaluate_uses_the_best_checkpoint_and_keeps_eval_forward(trained,
                                                                  capsys):
  _, model_dir = trained
  eval_dir = os.path.join(model_dir, "eval")
  before = _eval_steps(eval_dir)
  assert before == [10, 20, 30, 40]
  assert run("evaluate", f"--model_dir={model_dir}") == 0
  out = capsys.readouterr().out
  assert out.startswith(
      f"Using checkpoint {model_dir}/best/model.ckpt-30 (best, step 30; the "
      "latest is step 40)\n")
  assert "\nloss                  0.3827\n" in out  # train's step-30 number
  assert _eval_steps(eval_dir) == before  # recorded under eval_best/
  assert _eval_steps(os.path.join(model_dir, "eval_best")) == [30]

  older = os.path.join(model_dir, "model.ckpt-20")
  assert run("evaluate", f"--model_dir={model_dir}",
             f"--checkpoint={older}") == 0
  out = capsys.readouterr().out
  assert out.startswith(f"Using checkpoint {older} (--checkpoint, step 20; "
                        "the latest is step 40)\n")
  assert "\nloss                  0.5133\n" in out
  assert _eval_steps(os.path.join(model_dir, "eval_model.ckpt-20")) == [20]

  assert run("evaluate", f"--model_dir={model_dir}",
             "--checkpoint=latest") == 0
  out = capsys.readouterr().out
  assert out.startswith(
      f"Using checkpoint {model_dir}/model.ckpt-40 (latest, step 40)\n")
  assert "\nloss                  0.3922\n" in out
  assert _eval_steps(eval_dir) == [10, 20, 30, 40, 40]


def _read_jsonl(path):
  with open(path) as f:
    return [json.loads(line) for line in f]


def test_predict_scores_an_unlabeled_file_like_the_eval_split(trained,
                                                              capsys):
  root, model_dir = trained
  split_out = str(root / "split.json")
  assert run("predict", f"--model_dir={model_dir}",
             f"--output={split_out}") == 0
  out = capsys.readouterr().out
  assert out == (
      f"Using checkpoint {model_dir}/best/model.ckpt-30 (best, step 30; the "
      "latest is step 40)\n"
      f"Wrote 30 predictions of predict.split='eval' to {split_out}\n")
  with open(split_out) as f:
    split = json.load(f)  # .json: one array
  new_out = str(root / "new.jsonl")
  assert run("predict", f"--model_dir={model_dir}",
             f"--input={root / 'new.csv'}", f"--output={new_out}") == 0
  assert capsys.readouterr().out.endswith(
      f"Wrote 30 predictions of --input='{root / 'new.csv'}' to {new_out}\n")
  new = _read_jsonl(new_out)  # .jsonl: one object per line
  assert [r["row"] for r in new] == list(range(30))
  assert "label" not in new[0] and split[0]["label"] in (0, 1)
  # The same rows without their label: the same predictions, exactly.
  assert new == [{k: v for k, v in r.items() if k != "label"} for r in split]

  csv_out = str(root / "new.csv.out.csv")
  assert run("predict", f"--model_dir={model_dir}",
             f"--input={root / 'new.csv'}", f"--output={csv_out}") == 0
  with open(csv_out) as f:
    lines = f.read().splitlines()
  assert lines[0] == ("row,all_class_ids_0,all_class_ids_1,all_classes_0,"
                      "all_classes_1,class_ids,classes,logistic,logits,"
                      "probabilities_0,probabilities_1")
  first = new[0]
  assert lines[1].split(",")[-1] == repr(first["probabilities"][1])


def test_predict_input_without_a_feature_is_refused(trained, tmp_path,
                                                    capsys):
  _, model_dir = trained
  path = tmp_path / "partial.csv"
  path.write_text("age,color\n30,red\n")
  assert run("predict", f"--model_dir={model_dir}", f"--input={path}",
             f"--output={tmp_path / 'p.csv'}") == 1
  assert capsys.readouterr().err == (
      f"estweight predict: error: --input={str(path)!r} lacks the feature "
      "columns ['x'] the model was trained on. Columns: ['age', 'color'].\n")
  assert not os.path.exists(tmp_path / "p.csv")


def _training_mean_of_x(root):
  with open(root / "train.csv") as f:
    values = [line.split(",")[1] for line in f.read().splitlines()[1:]]
  return float(np.mean([float(v) for v in values if v]))


def _example(age, x, color):
  feature = {
      "age": tf.train.Feature(int64_list=tf.train.Int64List(value=[age])),
      "color": tf.train.Feature(bytes_list=tf.train.BytesList(
          value=[color.encode()]))}
  if x is not None:
    feature["x"] = tf.train.Feature(float_list=tf.train.FloatList(value=[x]))
  return tf.train.Example(features=tf.train.Features(
      feature=feature)).SerializeToString()


def test_export_writes_prints_and_serves_its_schema(trained, capsys):
  root, model_dir = trained
  assert run("export", f"--model_dir={model_dir}") == 0
  out = capsys.readouterr().out.splitlines()
  path = out[-1]
  mean = _training_mean_of_x(root)
  assert out[0] == (f"Using checkpoint {model_dir}/best/model.ckpt-30 (best, "
                    "step 30; the latest is step 40)")
  x_missing = f"left out of the tf.Example, or NaN -> training mean {mean:.6g}"
  assert out[1:9] == [
      "Serving signatures: serving_default, classification, predict, "
      "regression",
      "Input 'examples': a [batch_size] string tensor of serialized "
      "tf.train.Example, one per row, with features:",
      "feature  dtype    tf.Example list  when missing",
      "-------  -------  ---------------  " + "-" * len(x_missing),
      "age      int64    int64_list       required (int64_list; a float_list "
      "is refused)",
      f"x        float32  float_list       {x_missing}",
      "color    string   bytes_list       optional: no category",
      f"Schema: {path}/assets.extra/serving_schema.json"]
  with open(os.path.join(path, "assets.extra", "serving_schema.json")) as f:
    schema = json.load(f)
  assert schema["receiver"] == "parsing"
  assert schema["features"]["age"] == {
      "dtype": "int64", "shape": [None], "example_list": "int64_list",
      "required": True}
  assert schema["features"]["x"]["fill_value"] == pytest.approx(mean,
                                                                rel=1e-12)
  assert schema["features"]["color"]["vocabulary_size"] == 3
  assert schema["label"] == {"name": "target", "task": "classification",
                             "classes": [0, 1]}

  # Row 4 of the eval file has no x: served, it scores as predict scored it
  # (the training mean filled in both times).
  assert run("predict", f"--model_dir={model_dir}",
             f"--output={root / 'for_export.json'}") == 0
  with open(root / "for_export.json") as f:
    predicted = json.load(f)
  with open(root / "eval.csv") as f:
    row = f.read().splitlines()[4].split(",")
  assert row[1] == ""
  predict_fn = tf.saved_model.load(path).signatures["predict"]
  served = predict_fn(examples=tf.constant([
      _example(int(row[0]), None, row[2]),
      _example(int(row[0]), np.float32(mean), row[2])]))
  probabilities = served["probabilities"].numpy()
  np.testing.assert_array_equal(probabilities[0], probabilities[1])
  # Within a float32 ulp: a batch of 2 here, of 30 in predict.
  np.testing.assert_allclose(probabilities[0], predicted[3]["probabilities"],
                             rtol=3e-7)
  bad = tf.train.Example()
  bad.CopyFrom(tf.train.Example.FromString(_example(30, 0.5, "red")))
  bad.features.feature["age"].Clear()
  bad.features.feature["age"].float_list.value.append(30.0)
  with pytest.raises(tf.errors.InvalidArgumentError, match="age"):
    predict_fn(examples=tf.constant([bad.SerializeToString()]))


def test_a_raw_export_serves_predict_as_serving_default(trained, capsys):
  root, model_dir = trained
  assert run("export", f"--model_dir={model_dir}", "--checkpoint=latest",
             "--config.export.receiver=raw") == 0
  out = capsys.readouterr().out.splitlines()
  assert out[0] == (f"Using checkpoint {model_dir}/model.ckpt-40 (latest, "
                    "step 40)")
  assert out[1] == "Serving signatures: serving_default, predict"
  assert out[2] == "Inputs: one [batch_size] tensor per feature:"
  assert out[6] == "x        float32  NaN -> training mean " + (
      f"{_training_mean_of_x(root):.6g}")
  signatures = tf.saved_model.load(out[-1]).signatures
  inputs = dict(age=tf.constant([30, 30], tf.int64),
                x=tf.constant([np.nan, _training_mean_of_x(root)],
                              tf.float32),
                color=tf.constant(["red", "red"]))
  default = signatures["serving_default"](**inputs)["probabilities"].numpy()
  np.testing.assert_array_equal(
      default, signatures["predict"](**inputs)["probabilities"].numpy())
  np.testing.assert_array_equal(default[0], default[1])  # NaN = the mean
