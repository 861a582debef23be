"""Small probes of tf.estimator's public behaviour, run on both sides.

Each probe takes the `tensorflow` module (whose `tf.estimator` is
tf.estimator 2.15 in the oracle venv and estweight after `install()`) and
returns a JSON-able outcome; an exception becomes {"error": its type name}.
`gen_probes.py` records the oracle's outcomes in tests/golden/probes.json;
tests/test_probes.py runs the same probes on estweight and compares.
"""
import contextlib
import json
import os

import numpy as np

PROBES = {}


def probe(name):
  def register(fn):
    assert name not in PROBES, name
    PROBES[name] = fn
    return fn
  return register


def run(tf, name):
  try:
    return PROBES[name](tf)
  except Exception as e:  # pylint: disable=broad-except
    return {"error": type(e).__name__}


def run_all(tf):
  return {name: run(tf, name) for name in sorted(PROBES)}


@contextlib.contextmanager
def tf_config(value):
  old = os.environ.get("TF_CONFIG")
  os.environ["TF_CONFIG"] = value if isinstance(value, str) else json.dumps(
      value)
  try:
    yield
  finally:
    if old is None:
      del os.environ["TF_CONFIG"]
    else:
      os.environ["TF_CONFIG"] = old


# ------------------------------------------------------------- RunConfig
_FIELDS = ("model_dir", "tf_random_seed", "save_summary_steps",
           "save_checkpoints_steps", "save_checkpoints_secs",
           "keep_checkpoint_max", "keep_checkpoint_every_n_hours",
           "log_step_count_steps", "session_creation_timeout_secs",
           "protocol", "task_type", "task_id", "master", "evaluation_master",
           "is_chief", "num_ps_replicas", "num_worker_replicas",
           "global_id_in_cluster", "service")


def describe(config):
  out = {f: getattr(config, f) for f in _FIELDS}
  out["cluster_spec"] = config.cluster_spec.as_dict() if (
      config.cluster_spec) else {}
  session = config.session_config
  out["device_filters"] = (list(session.device_filters)
                           if session is not None else None)
  return out


_RUN_CONFIG_VALUES = {
    "save_summary_steps": [0, 10, None, -1, 1.5, "10", True],
    "save_checkpoints_steps": [0, 5, -1, 2.0, True, None],
    "save_checkpoints_secs": [0, 60, -1, 1.5, None, "60"],
    "keep_checkpoint_max": [0, None, -1, 3, 2.0],
    "keep_checkpoint_every_n_hours": [None, 0, 2, 0.5, -1, "2"],
    "log_step_count_steps": [None, 0, 1, -1, 2.5],
    "tf_random_seed": [None, 0, 42, 1.5, "1"],
    "session_creation_timeout_secs": [1, 0, -1, 30.0],
    "protocol": [None, "grpc", "grpc+verbs", "bad"],
    "model_dir": ["", "some/dir"],
    "experimental_max_worker_delay_secs": [None, -1, 5],
    "session_config": ["bad"],
    "train_distribute": ["bad"],
    "eval_distribute": ["bad"],
    "checkpoint_save_graph_def": [False],
}


def _run_config_probe(field, value):
  def fn(tf):
    return describe(tf.estimator.RunConfig(**{field: value}))
  return fn


for _field, _values in _RUN_CONFIG_VALUES.items():
  for _value in _values:
    probe(f"RunConfig({_field}={_value!r})")(
        _run_config_probe(_field, _value))


@probe("RunConfig()")
def _(tf):
  return describe(tf.estimator.RunConfig())


@probe("RunConfig(steps and secs)")
def _(tf):
  return describe(tf.estimator.RunConfig(save_checkpoints_steps=5,
                                         save_checkpoints_secs=5))


@probe("RunConfig(device_fn=op)")
def _(tf):
  return describe(tf.estimator.RunConfig(device_fn=lambda op: None))


@probe("RunConfig(device_fn=x)")
def _(tf):
  return describe(tf.estimator.RunConfig(device_fn=lambda x: None))


@probe("RunConfig.replace(save_checkpoints_steps) keeps secs")
def _(tf):
  return describe(tf.estimator.RunConfig().replace(save_checkpoints_steps=7))


@probe("RunConfig.replace(unknown)")
def _(tf):
  return describe(tf.estimator.RunConfig().replace(unknown=1))


@probe("RunConfig.replace(model_dir)")
def _(tf):
  return describe(tf.estimator.RunConfig().replace(model_dir="a/b"))


@probe("RunConfig(train_distribute=v1 MirroredStrategy) is accepted")
def _(tf):
  config = tf.estimator.RunConfig(
      train_distribute=tf.compat.v1.distribute.MirroredStrategy(["/cpu:0"]))
  return {"has_strategy": config.train_distribute is not None}


# -------------------------------------------------------------- TF_CONFIG
_CHIEF_CLUSTER = {"chief": ["h:1"], "worker": ["h:2", "h:3"], "ps": ["h:4"]}
_MASTER_CLUSTER = {"master": ["h:1"], "worker": ["h:2"], "ps": ["h:4"]}

_TF_CONFIGS = {
    "empty": {},
    "workers without chief": {"cluster": {"worker": ["h:1", "h:2"]},
                              "task": {"type": "worker", "index": 0}},
    "chief": {"cluster": _CHIEF_CLUSTER, "task": {"type": "chief",
                                                  "index": 0}},
    "worker 0": {"cluster": _CHIEF_CLUSTER, "task": {"type": "worker",
                                                     "index": 0}},
    "worker 1": {"cluster": _CHIEF_CLUSTER, "task": {"type": "worker",
                                                     "index": 1}},
    "ps 0": {"cluster": _CHIEF_CLUSTER, "task": {"type": "ps", "index": 0}},
    "evaluator 0": {"cluster": _CHIEF_CLUSTER,
                    "task": {"type": "evaluator", "index": 0}},
    "evaluator 12": {"cluster": _CHIEF_CLUSTER,
                     "task": {"type": "evaluator", "index": 12}},
    "evaluator with master": {"cluster": _MASTER_CLUSTER,
                              "task": {"type": "evaluator", "index": 0}},
    "evaluator without cluster": {"task": {"type": "evaluator",
                                           "index": 0}},
    "master": {"cluster": _MASTER_CLUSTER,
               "task": {"type": "master", "index": 0}},
    "master worker": {"cluster": _MASTER_CLUSTER,
                      "task": {"type": "worker", "index": 0}},
    "service not a dict": {"service": "x"},
    "service dict": {"service": {"a": 1}},
    "index out of range": {"cluster": _CHIEF_CLUSTER,
                           "task": {"type": "worker", "index": 2}},
    "negative index": {"cluster": _CHIEF_CLUSTER,
                       "task": {"type": "worker", "index": -1}},
    "type not in cluster": {"cluster": _CHIEF_CLUSTER,
                            "task": {"type": "master", "index": 0}},
    "two chiefs": {"cluster": {"chief": ["h:1", "h:2"]},
                   "task": {"type": "chief", "index": 0}},
    "chief and master": {"cluster": {"chief": ["h:1"], "master": ["h:2"]},
                         "task": {"type": "chief", "index": 0}},
    "cluster without task": {"cluster": _CHIEF_CLUSTER},
    "task without index": {"cluster": _CHIEF_CLUSTER,
                           "task": {"type": "worker"}},
    "only chief": {"cluster": {"chief": ["h:1"]},
                   "task": {"type": "chief", "index": 0}},
    "session_master": {"cluster": _CHIEF_CLUSTER,
                       "task": {"type": "worker", "index": 1},
                       "session_master": "grpc://elsewhere:9"},
    "eval_session_master": {"eval_session_master": "grpc://e:1"},
    "worker without cluster": {"task": {"type": "worker", "index": 0}},
    "worker 1 without cluster": {"task": {"type": "worker", "index": 1}},
    "chief without cluster": {"task": {"type": "chief", "index": 0}},
    "index as string": {"cluster": _CHIEF_CLUSTER,
                        "task": {"type": "worker", "index": "1"}},
    "model_dir in TF_CONFIG": {"model_dir": "from/tf_config"},
    "not json": "{not json",
    "json list": "[1, 2]",
}


def _tf_config_probe(value):
  def fn(tf):
    with tf_config(value):
      return describe(tf.estimator.RunConfig())
  return fn


for _name, _value in _TF_CONFIGS.items():
  probe(f"TF_CONFIG {_name}")(_tf_config_probe(_value))


@probe("TF_CONFIG model_dir conflicts with argument")
def _(tf):
  with tf_config({"model_dir": "from/tf_config"}):
    return describe(tf.estimator.RunConfig(model_dir="other"))


@probe("TF_CONFIG model_dir equals argument")
def _(tf):
  with tf_config({"model_dir": "same"}):
    return describe(tf.estimator.RunConfig(model_dir="same"))


# ------------------------------------------------------ TrainSpec/EvalSpec
def _spec_fields(spec, names):
  out = {}
  for n in names:
    value = getattr(spec, n)
    out[n] = value if isinstance(value, (int, float, str, type(None))) else (
        type(value).__name__)
  return out


_TRAIN_SPECS = {"max_steps=20.0": {"max_steps": 20.0},
                "max_steps=20": {"max_steps": 20},
                "max_steps=0": {"max_steps": 0},
                "max_steps=-1": {"max_steps": -1},
                "max_steps=2.5": {"max_steps": 2.5},
                "max_steps=None": {"max_steps": None},
                "hooks=[1]": {"hooks": [1]}}

for _name, _kwargs in _TRAIN_SPECS.items():
  def _train_spec_probe(tf, kwargs=_kwargs):
    spec = tf.estimator.TrainSpec(lambda: None, **kwargs)
    return _spec_fields(spec, ("max_steps",))
  probe(f"TrainSpec({_name})")(_train_spec_probe)

_EVAL_SPECS = {"defaults": {}, "steps=None": {"steps": None},
               "steps=0": {"steps": 0}, "steps=5.0": {"steps": 5.0},
               "start_delay_secs=-1": {"start_delay_secs": -1},
               "throttle_secs=-1": {"throttle_secs": -1},
               "throttle_secs=0": {"throttle_secs": 0},
               "name=1": {"name": 1}, "name='x'": {"name": "x"},
               "exporters=1": {"exporters": 1},
               "hooks=[1]": {"hooks": [1]}}

for _name, _kwargs in _EVAL_SPECS.items():
  def _eval_spec_probe(tf, kwargs=_kwargs):
    spec = tf.estimator.EvalSpec(lambda: None, **kwargs)
    return _spec_fields(spec, ("steps", "name", "start_delay_secs",
                               "throttle_secs"))
  probe(f"EvalSpec({_name})")(_eval_spec_probe)


# ------------------------------------------------------------------ heads
def _loss_value(tf, head_fn, labels, logits, features=None):
  with tf.Graph().as_default():
    head = head_fn(tf)
    loss = head.loss(labels=labels, logits=logits, features=features or {},
                     mode=tf.estimator.ModeKeys.TRAIN)
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.local_variables_initializer())
      return {"loss": round(float(session.run(loss)), 6)}


_LOGITS2 = np.array([[0.5], [-1.0], [2.0]], np.float32)
_LABELS2 = np.array([[1], [0], [0]], np.int64)


# tf.losses.Reduction's values (Keras 2's ReductionV2; TF 2.21 has no such
# class) and the v1 enum's.
for _reduction in ("auto", "sum", "sum_over_batch_size", "none",
                   "weighted_sum_over_batch_size", "weighted_mean",
                   "weighted_sum_by_nonzero_weights", "bogus"):
  def _binary_reduction(tf, reduction=_reduction):
    return _loss_value(
        tf, lambda tf: tf.estimator.BinaryClassHead(loss_reduction=reduction),
        _LABELS2, _LOGITS2)
  probe(f"BinaryClassHead(loss_reduction={_reduction}).loss")(
      _binary_reduction)


@probe("MultiClassHead(3).loss weighted")
def _(tf):
  return _loss_value(
      tf, lambda tf: tf.estimator.MultiClassHead(3, weight_column="w"),
      np.array([[0], [2], [1]], np.int64),
      np.array([[1., 0., -1.], [0.5, 0.5, 2.], [0., 3., 0.]], np.float32),
      {"w": np.array([[1.], [2.], [0.5]], np.float32)})


@probe("RegressionHead(2).loss")
def _(tf):
  return _loss_value(
      tf, lambda tf: tf.estimator.RegressionHead(label_dimension=2),
      np.array([[1., 2.], [3., 4.]], np.float32),
      np.array([[1.5, 2.], [2., 5.]], np.float32))


@probe("BinaryClassHead.predictions keys")
def _(tf):
  with tf.Graph().as_default():
    head = tf.estimator.BinaryClassHead()
    return {"keys": sorted(head.predictions(_LOGITS2))}


@probe("BinaryClassHead.metrics keys")
def _(tf):
  with tf.Graph().as_default():
    head = tf.estimator.BinaryClassHead()
    return {"keys": sorted(head.metrics())}


@probe("MultiClassHead.metrics keys")
def _(tf):
  with tf.Graph().as_default():
    head = tf.estimator.MultiClassHead(3)
    return {"keys": sorted(head.metrics())}


@probe("RegressionHead.metrics keys")
def _(tf):
  with tf.Graph().as_default():
    head = tf.estimator.RegressionHead()
    return {"keys": sorted(head.metrics())}


for _n in (1, 2, 3):
  def _bad_multiclass(tf, n=_n):
    return {"n_classes": tf.estimator.MultiClassHead(n).logits_dimension}
  probe(f"MultiClassHead(n_classes={_n})")(_bad_multiclass)


# ------------------------------------------------------------ public names
_MODULES = ("estimator", "estimator.experimental", "estimator.export",
            "compat.v1.estimator", "compat.v1.estimator.experimental",
            "compat.v1.estimator.export", "compat.v1.estimator.inputs",
            "compat.v1.estimator.tpu")


def public_names(tf):
  """{module: sorted public names reachable by attribute access}."""
  out = {}
  for path in _MODULES:
    module = tf
    try:
      for part in path.split("."):
        module = getattr(module, part)
    except AttributeError:
      out[path] = None
      continue
    out[path] = sorted(n for n in dir(module) if not n.startswith("_"))
  return out


# ------------------------------------------- constructors: accept or refuse
def _ok(fn):
  def run_ok(tf):
    fn(tf)
    return {"ok": True}
  return run_ok


def _x(tf):
  return [tf.feature_column.numeric_column("x")]


def _model_fn(features, labels, mode):
  del features, labels, mode


_CONSTRUCTORS = {
    "ModeKeys values": lambda tf: {"modes": [tf.estimator.ModeKeys.TRAIN,
                                             tf.estimator.ModeKeys.EVAL,
                                             tf.estimator.ModeKeys.PREDICT]},
    "Estimator(model_fn=None)": _ok(
        lambda tf: tf.estimator.Estimator(None)),
    "Estimator(model_fn without features)": _ok(
        lambda tf: tf.estimator.Estimator(lambda labels, mode: None)),
    "Estimator(model_fn with extra arg)": _ok(
        lambda tf: tf.estimator.Estimator(
            lambda features, labels, mode, extra: None)),
    "Estimator(params without params arg)": _ok(
        lambda tf: tf.estimator.Estimator(_model_fn, params={"a": 1})),
    "Estimator(config='x')": _ok(
        lambda tf: tf.estimator.Estimator(_model_fn, config="x")),
    "Estimator(model_dir differs from config)": _ok(
        lambda tf: tf.estimator.Estimator(
            _model_fn, model_dir="a",
            config=tf.estimator.RunConfig(model_dir="b"))),
    "Estimator(model_dir same as config)": _ok(
        lambda tf: tf.estimator.Estimator(
            _model_fn, model_dir="a",
            config=tf.estimator.RunConfig(model_dir="a"))),
    "WarmStartSettings('')": _ok(
        lambda tf: tf.estimator.WarmStartSettings("")),
    "WarmStartSettings(dir)": _ok(
        lambda tf: tf.estimator.WarmStartSettings("some/dir")),
    "VocabInfo fields": lambda tf: {"fields": list(
        tf.estimator.VocabInfo("v.txt", 3, 0)._fields)},
    "BinaryClassHead(thresholds=[1.5])": _ok(
        lambda tf: tf.estimator.BinaryClassHead(thresholds=[1.5])),
    "BinaryClassHead(thresholds=[0.3])": _ok(
        lambda tf: tf.estimator.BinaryClassHead(thresholds=[0.3])),
    "BinaryClassHead(label_vocabulary=3 names)": _ok(
        lambda tf: tf.estimator.BinaryClassHead(
            label_vocabulary=["a", "b", "c"])),
    "MultiClassHead(label_vocabulary=2 of 3)": _ok(
        lambda tf: tf.estimator.MultiClassHead(
            3, label_vocabulary=["a", "b"])),
    "RegressionHead(label_dimension=0)": _ok(
        lambda tf: tf.estimator.RegressionHead(label_dimension=0)),
    "MultiLabelHead(n_classes=1)": _ok(
        lambda tf: tf.estimator.MultiLabelHead(1)),
    "MultiLabelHead(n_classes=3)": _ok(
        lambda tf: tf.estimator.MultiLabelHead(3)),
    "LinearClassifier(n_classes=1)": _ok(
        lambda tf: tf.estimator.LinearClassifier(_x(tf), n_classes=1)),
    "LinearClassifier(n_classes=3)": _ok(
        lambda tf: tf.estimator.LinearClassifier(_x(tf), n_classes=3)),
    "LinearRegressor(label_dimension=2)": _ok(
        lambda tf: tf.estimator.LinearRegressor(_x(tf), label_dimension=2)),
    "DNNClassifier(hidden_units=[4])": _ok(
        lambda tf: tf.estimator.DNNClassifier([4], _x(tf))),
    "DNNRegressor(optimizer='Nope')": _ok(
        lambda tf: tf.estimator.DNNRegressor([4], _x(tf), optimizer="Nope")),
    "LinearRegressor(sparse_combiner='max')": _ok(
        lambda tf: tf.estimator.LinearRegressor(
            _x(tf), sparse_combiner="max")),
    "LatestExporter(name='')": _ok(
        lambda tf: tf.estimator.LatestExporter("", lambda: None)),
    "LatestExporter(exports_to_keep=0)": _ok(
        lambda tf: tf.estimator.LatestExporter("a", lambda: None,
                                               exports_to_keep=0)),
    "LatestExporter(exports_to_keep=None)": _ok(
        lambda tf: tf.estimator.LatestExporter("a", lambda: None,
                                               exports_to_keep=None)),
    "BestExporter(compare_fn=1)": _ok(
        lambda tf: tf.estimator.BestExporter(
            serving_input_receiver_fn=lambda: None, compare_fn=1)),
    "BestExporter(serving_input_receiver_fn=None)": _ok(
        lambda tf: tf.estimator.BestExporter()),
    "BestExporter(exports_to_keep=0)": _ok(
        lambda tf: tf.estimator.BestExporter(
            serving_input_receiver_fn=lambda: None, exports_to_keep=0)),
    "FinalExporter(name=None)": _ok(
        lambda tf: tf.estimator.FinalExporter(None, lambda: None)),
    "EstimatorSpec(TRAIN without train_op)": _ok(
        lambda tf: tf.estimator.EstimatorSpec(
            tf.estimator.ModeKeys.TRAIN, loss=tf.constant(1.0))),
    "EstimatorSpec(EVAL without loss)": _ok(
        lambda tf: tf.estimator.EstimatorSpec(tf.estimator.ModeKeys.EVAL)),
    "EstimatorSpec(PREDICT with predictions)": _ok(
        lambda tf: tf.estimator.EstimatorSpec(
            tf.estimator.ModeKeys.PREDICT, predictions=tf.constant([1.0]))),
    "EstimatorSpec(mode='bogus')": _ok(
        lambda tf: tf.estimator.EstimatorSpec("bogus")),
}

for _name, _fn in _CONSTRUCTORS.items():
  probe(_name)(_fn)


# -------------------------------------------------------------- receivers
def _raw_receiver(make_features):
  def fn(tf):
    with tf.Graph().as_default():
      receiver = tf.estimator.export.build_raw_serving_input_receiver_fn(
          make_features(tf))()
      return {k: [v.dtype.name, v.shape.as_list()]
              for k, v in receiver.receiver_tensors.items()}
  return fn


for _name, _make in {
    "scalar tensor": lambda tf: {"x": tf.constant(1.0)},
    "vector tensor": lambda tf: {"x": tf.constant([1.0])},
    "matrix tensor": lambda tf: {"x": tf.constant([[1.0, 2.0]])},
    "int64 matrix": lambda tf: {"x": tf.constant([[1, 2]], tf.int64)},
    "two features": lambda tf: {"a": tf.constant([1.0]),
                                "b": tf.constant([["s"]])},
}.items():
  probe(f"build_raw_serving_input_receiver_fn({_name})")(_raw_receiver(_make))


@probe("build_parsing_serving_input_receiver_fn receiver keys")
def _(tf):
  with tf.Graph().as_default():
    spec = {"x": tf.io.FixedLenFeature([2], tf.float32)}
    receiver = tf.estimator.export.build_parsing_serving_input_receiver_fn(
        spec)()
    return {"receiver": sorted(receiver.receiver_tensors),
            "features": sorted(receiver.features),
            "alternatives": sorted(receiver.receiver_tensors_alternatives or
                                   {})}


# ------------------------------------------------- TPUEstimator off TPU
@probe("TPUEstimator(use_tpu=False) train/evaluate/predict")
def _(tf):
  import tempfile  # pylint: disable=g-import-not-at-top
  v1 = tf.compat.v1
  seen = {"input": [], "model": []}

  def input_fn(params):
    seen["input"].append([sorted(params), params["batch_size"]])
    x = np.arange(16, dtype=np.float32)
    return tf.data.Dataset.from_tensor_slices(({"x": x}, 2 * x)).repeat(
    ).batch(params["batch_size"], drop_remainder=True)

  def model_fn(features, labels, mode, params):
    seen["model"].append([sorted(params), params["batch_size"]])
    w = v1.get_variable("w", [], initializer=v1.zeros_initializer())
    pred = w * features["x"]
    if mode == tf.estimator.ModeKeys.PREDICT:
      return v1.estimator.tpu.TPUEstimatorSpec(mode, predictions={"p": pred})
    loss = tf.reduce_mean(tf.square(pred - labels))
    opt = v1.train.GradientDescentOptimizer(0.01)

    def metric_fn(labels, pred):
      return {"mae": v1.metrics.mean_absolute_error(labels, pred)}
    return v1.estimator.tpu.TPUEstimatorSpec(
        mode, loss=loss,
        train_op=opt.minimize(loss, v1.train.get_global_step()),
        eval_metrics=(metric_fn, [labels, pred]))

  model_dir = tempfile.mkdtemp()
  config = v1.estimator.tpu.RunConfig(
      model_dir=model_dir, save_checkpoints_steps=5,
      tpu_config=v1.estimator.tpu.TPUConfig(iterations_per_loop=3))
  est = v1.estimator.tpu.TPUEstimator(
      model_fn=model_fn, config=config, use_tpu=False, train_batch_size=4,
      eval_batch_size=2, predict_batch_size=8, params={"p": 1})
  est.train(input_fn, max_steps=7)
  metrics = est.evaluate(input_fn, steps=3)
  predictions = []
  for prediction in est.predict(lambda params: input_fn(params).take(1)):
    predictions.append(round(float(prediction["p"]), 5))
  return {"metrics": {k: round(float(v), 5) for k, v in metrics.items()},
          "seen": seen, "predictions": predictions,
          "checkpoints": sorted(f for f in os.listdir(model_dir)
                                if f.endswith(".index")),
          "iterations_per_loop": config.tpu_config.iterations_per_loop}


@probe("TPUEstimator(params with batch_size)")
def _(tf):
  tf.compat.v1.estimator.tpu.TPUEstimator(
      model_fn=lambda features, labels, mode, params: None, use_tpu=False,
      train_batch_size=4, params={"batch_size": 3})
  return {"ok": True}


@probe("TPUEstimator.predict without predict_batch_size")
def _(tf):
  est = tf.compat.v1.estimator.tpu.TPUEstimator(
      model_fn=lambda features, labels, mode, params: None, use_tpu=False,
      train_batch_size=4)
  next(est.predict(lambda params: None))
  return {"ok": True}


# ----------------------------------------- heads' public methods in a model_fn
def _head_model_fn_probe(make_head, labels, n_out):
  def fn(tf):
    import tempfile  # pylint: disable=g-import-not-at-top
    v1 = tf.compat.v1
    x = np.array([[0.5], [-1.0], [2.0], [0.1]], np.float32)
    w = np.array([[1.0], [2.0], [0.5], [1.0]], np.float32)

    def model_fn(features, labels, mode):
      head = make_head(tf)
      kernel = v1.get_variable("k", [1, n_out], initializer=(
          v1.constant_initializer(0.7)))
      logits = tf.matmul(features["x"], kernel)
      reg = [0.01 * tf.reduce_sum(tf.square(kernel))]
      if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode,
                                          predictions=head.predictions(logits))
      loss = head.loss(labels=labels, logits=logits, features=features,
                       mode=mode, regularization_losses=reg)
      if mode == tf.estimator.ModeKeys.EVAL:
        metrics = head.metrics(regularization_losses=reg)
        metrics = head.update_metrics(metrics, features, logits, labels,
                                      regularization_losses=reg)
        return tf.estimator.EstimatorSpec(mode, loss=loss,
                                          eval_metric_ops=metrics)
      return tf.estimator.EstimatorSpec(
          mode, loss=loss, train_op=v1.assign_add(
              v1.train.get_or_create_global_step(), 1))

    def input_fn():
      return tf.data.Dataset.from_tensor_slices(
          ({"x": x, "w": w}, labels)).batch(2)
    est = tf.estimator.Estimator(model_fn, model_dir=tempfile.mkdtemp())
    est.train(input_fn, steps=1)
    return {k: round(float(v), 5) for k, v in est.evaluate(input_fn).items()}
  return fn


probe("BinaryClassHead metrics()/update_metrics() in a model_fn")(
    _head_model_fn_probe(
        lambda tf: tf.estimator.BinaryClassHead(weight_column="w"),
        np.array([[1], [0], [1], [0]], np.int64), 1))
probe("MultiClassHead metrics()/update_metrics() in a model_fn")(
    _head_model_fn_probe(
        lambda tf: tf.estimator.MultiClassHead(3, weight_column="w"),
        np.array([[2], [0], [1], [0]], np.int64), 3))
probe("RegressionHead metrics()/update_metrics() in a model_fn")(
    _head_model_fn_probe(
        lambda tf: tf.estimator.RegressionHead(weight_column="w"),
        np.array([[1.0], [0.0], [2.0], [0.5]], np.float32), 1))
probe("MultiLabelHead metrics()/update_metrics() in a model_fn")(
    _head_model_fn_probe(
        lambda tf: tf.estimator.MultiLabelHead(2, weight_column="w"),
        np.array([[1, 0], [0, 1], [1, 1], [0, 0]], np.int64), 2))


# --------------------------------------------------- eval_metric_ops forms
@probe("eval_metric_ops: v1 tuples and tf.keras metric objects")
def _(tf):
  import tempfile  # pylint: disable=g-import-not-at-top
  v1 = tf.compat.v1

  def model_fn(features, labels, mode):
    w = v1.get_variable("w", [], initializer=v1.constant_initializer(0.5))
    x = features["x"]
    pred = w * x
    loss = tf.reduce_mean(tf.square(pred - labels))
    mean = tf.keras.metrics.Mean()
    mean.update_state(x)
    total = tf.keras.metrics.Sum()
    total.update_state(labels)
    mse = tf.keras.metrics.MeanSquaredError()
    mse.update_state(labels, pred)
    return tf.estimator.EstimatorSpec(
        mode, loss=loss,
        train_op=v1.assign_add(v1.train.get_or_create_global_step(), 1),
        eval_metric_ops={
            "v1_mean": v1.metrics.mean(x),
            "v1_rmse": v1.metrics.root_mean_squared_error(labels, pred),
            "keras_mean": mean, "keras_sum": total, "keras_mse": mse})

  def input_fn():
    x = np.arange(4, dtype=np.float32)
    return tf.data.Dataset.from_tensor_slices(({"x": x}, 2 * x + 1)).batch(1)
  est = tf.estimator.Estimator(model_fn, model_dir=tempfile.mkdtemp())
  est.train(input_fn, steps=1)
  first = est.evaluate(input_fn)
  second = est.evaluate(input_fn, steps=2)
  return {"all": {k: round(float(v), 5) for k, v in first.items()},
          "two_batches": {k: round(float(v), 5) for k, v in second.items()}}


# ---------------------------------------------- numpy and pandas input fns
def _identity_estimator(tf):
  import tempfile  # pylint: disable=g-import-not-at-top
  v1 = tf.compat.v1

  def model_fn(features, labels, mode):
    w = v1.get_variable("w", [], initializer=v1.zeros_initializer())
    x = tf.cast(features["x"], tf.float32)
    if mode == tf.estimator.ModeKeys.PREDICT:
      return tf.estimator.EstimatorSpec(mode, predictions={"x": x + w})
    loss = tf.reduce_mean(tf.square(x * w - tf.cast(labels, tf.float32)))
    return tf.estimator.EstimatorSpec(
        mode, loss=loss, train_op=v1.assign_add(
            v1.train.get_or_create_global_step(), 1),
        eval_metric_ops={"n": v1.metrics.mean(tf.ones_like(x)),
                         "sum_x": (tf.constant(0.0), tf.no_op())})
  est = tf.estimator.Estimator(model_fn, model_dir=tempfile.mkdtemp())
  est.train(lambda: tf.data.Dataset.from_tensors(
      ({"x": [1.0]}, [1.0])), steps=1)
  return est


def _inputs_probe(make_input_fn):
  def fn(tf):
    est = _identity_estimator(tf)
    predictions = [float(p["x"]) for p in est.predict(make_input_fn(tf))]
    return {"predictions": predictions}
  return fn


_X10 = np.arange(10, dtype=np.float32)
for _name, _make in {
    "numpy batch 3 one epoch": lambda tf: tf.compat.v1.estimator.inputs.
    numpy_input_fn({"x": _X10}, batch_size=3, num_epochs=1, shuffle=False),
    "numpy batch 4 two epochs": lambda tf: tf.compat.v1.estimator.inputs.
    numpy_input_fn({"x": _X10}, batch_size=4, num_epochs=2, shuffle=False),
    "numpy with y": lambda tf: tf.compat.v1.estimator.inputs.numpy_input_fn(
        {"x": _X10}, y=_X10 * 2, batch_size=5, num_epochs=1, shuffle=False),
    "numpy int64 x": lambda tf: tf.compat.v1.estimator.inputs.
    numpy_input_fn({"x": np.arange(5)}, batch_size=2, num_epochs=1,
                   shuffle=False),
}.items():
  probe(f"numpy_input_fn {_name} through predict")(_inputs_probe(_make))


def _pandas_input(tf, **kwargs):
  import pandas as pd  # pylint: disable=g-import-not-at-top
  frame = pd.DataFrame({"x": _X10[:7]}, index=np.arange(100, 107))
  return tf.compat.v1.estimator.inputs.pandas_input_fn(
      frame, shuffle=False, **kwargs)


probe("pandas_input_fn batch 3 one epoch through predict")(
    _inputs_probe(lambda tf: _pandas_input(tf, batch_size=3, num_epochs=1)))
probe("pandas_input_fn batch 2 two epochs through predict")(
    _inputs_probe(lambda tf: _pandas_input(tf, batch_size=2, num_epochs=2)))


@probe("numpy_input_fn(shuffle=None)")
def _(tf):
  tf.compat.v1.estimator.inputs.numpy_input_fn({"x": _X10}, shuffle=None)
  return {"ok": True}


@probe("numpy_input_fn(x=array)")
def _(tf):
  tf.compat.v1.estimator.inputs.numpy_input_fn(_X10, shuffle=False)()
  return {"ok": True}


@probe("numpy_input_fn(x and y lengths differ)")
def _(tf):
  with tf.Graph().as_default():
    tf.compat.v1.estimator.inputs.numpy_input_fn(
        {"x": _X10}, y=_X10[:3], shuffle=False)()
  return {"ok": True}


@probe("numpy_input_fn(y key also in x)")
def _(tf):
  with tf.Graph().as_default():
    tf.compat.v1.estimator.inputs.numpy_input_fn(
        {"x": _X10}, y={"x": _X10}, shuffle=False)()
  return {"ok": True}


# ------------------------------------- early stopping and exporters in t&e
def _line_estimator(tf, model_dir, learning_rate, save_steps):
  v1 = tf.compat.v1

  def model_fn(features, labels, mode):
    w = v1.get_variable("w", [], initializer=v1.zeros_initializer())
    pred = w * features["x"]
    if mode == tf.estimator.ModeKeys.PREDICT:
      return tf.estimator.EstimatorSpec(mode, predictions={"p": pred})
    loss = tf.reduce_mean(tf.square(pred - labels))
    opt = v1.train.GradientDescentOptimizer(learning_rate)
    return tf.estimator.EstimatorSpec(
        mode, loss=loss, predictions={"p": pred},
        train_op=opt.minimize(loss, v1.train.get_global_step()))
  return tf.estimator.Estimator(
      model_fn, model_dir=model_dir,
      config=tf.estimator.RunConfig(save_checkpoints_steps=save_steps))


def _line_input(tf):
  x = np.linspace(-1, 1, 8).astype(np.float32)
  return tf.data.Dataset.from_tensor_slices(({"x": x}, 2 * x)).repeat(
  ).batch(4)


@probe("stop_if_no_decrease_hook in train_and_evaluate (loss flat)")
def _(tf):
  import tempfile  # pylint: disable=g-import-not-at-top
  model_dir = tempfile.mkdtemp()
  est = _line_estimator(tf, model_dir, 0.0, 2)
  hook = tf.estimator.experimental.stop_if_no_decrease_hook(
      est, "loss", max_steps_without_decrease=4, run_every_secs=None,
      run_every_steps=1)
  metrics, _ = tf.estimator.train_and_evaluate(
      est, tf.estimator.TrainSpec(lambda: _line_input(tf), max_steps=40,
                                  hooks=[hook]),
      tf.estimator.EvalSpec(lambda: _line_input(tf), steps=1,
                            throttle_secs=0))
  return {"global_step": int(metrics["global_step"]),
          "final_checkpoint": os.path.basename(
              tf.train.latest_checkpoint(model_dir))}


@probe("LatestExporter in train_and_evaluate keeps exports_to_keep")
def _(tf):
  import tempfile  # pylint: disable=g-import-not-at-top
  model_dir = tempfile.mkdtemp()
  est = _line_estimator(tf, model_dir, 0.1, 3)

  def receiver():
    x = tf.compat.v1.placeholder(tf.float32, [None], name="x")
    return tf.estimator.export.ServingInputReceiver({"x": x}, {"x": x})
  exporter = tf.estimator.LatestExporter("latest", receiver,
                                         exports_to_keep=2)
  # Export dirs are named by the second; TF waits for a free name itself.
  metrics, exports = tf.estimator.train_and_evaluate(
      est, tf.estimator.TrainSpec(lambda: _line_input(tf), max_steps=9),
      tf.estimator.EvalSpec(lambda: _line_input(tf), steps=1,
                            throttle_secs=0, exporters=[exporter]))
  kept = os.listdir(os.path.join(model_dir, "export", "latest"))
  return {"global_step": int(metrics["global_step"]), "kept": len(kept),
          "returned_exports": len(exports)}


# ------------------------------------------- v1 logit function builders
def _builder_probe(make_logit_fn):
  def fn(tf):
    import tempfile  # pylint: disable=g-import-not-at-top
    v1 = tf.compat.v1

    def model_fn(features, labels, mode):
      with v1.variable_scope("m"):
        logits = make_logit_fn(tf)(features, mode)
      loss = tf.reduce_mean(tf.square(logits - labels))
      return tf.estimator.EstimatorSpec(
          mode, loss=loss, train_op=v1.train.GradientDescentOptimizer(
              0.1).minimize(loss, v1.train.get_global_step()))

    def input_fn():
      x = np.linspace(-1, 1, 8).astype(np.float32)
      return tf.data.Dataset.from_tensor_slices(
          ({"x": x}, 2 * x[:, None])).repeat().batch(4)
    est = tf.estimator.Estimator(
        model_fn, model_dir=tempfile.mkdtemp(),
        config=tf.estimator.RunConfig(tf_random_seed=3))
    est.train(input_fn, steps=3)
    return {"loss": round(float(est.evaluate(input_fn, steps=2)["loss"]), 4),
            "variables": sorted(n for n in est.get_variable_names()
                                if n.startswith("m/"))}
  return fn


probe("dnn_logit_fn_builder in a model_fn")(_builder_probe(
    lambda tf: tf.compat.v1.estimator.experimental.dnn_logit_fn_builder(
        units=1, hidden_units=[3], feature_columns=[
            tf.feature_column.numeric_column("x")],
        activation_fn=tf.nn.relu, dropout=None, input_layer_partitioner=None,
        batch_norm=False)))
probe("linear_logit_fn_builder in a model_fn")(_builder_probe(
    lambda tf: (lambda f, m, fn=tf.compat.v1.estimator.experimental.
                linear_logit_fn_builder(
                    units=1, feature_columns=[
                        tf.feature_column.numeric_column("x")]): fn(f))))


# Probes of one topic live in their own modules (tests/oracle/probes_*.py),
# registered with `probe` above; importing them here puts them in PROBES.
def _load_topic_modules():
  import glob  # pylint: disable=g-import-not-at-top
  import importlib  # pylint: disable=g-import-not-at-top
  here = os.path.dirname(os.path.abspath(__file__))
  for path in sorted(glob.glob(os.path.join(here, "probes_*.py"))):
    importlib.import_module(os.path.basename(path)[:-3])


_load_topic_modules()
