"""Tests for estweight.run_config (RunConfig, TaskType, default session config).

Expected TF_CONFIG values were checked against tf.estimator 2.15.0
(tensorflow-cpu 2.15.1) by running the same TF_CONFIG through
`tf.estimator.RunConfig()`.
"""
import json
import pathlib

import pytest
import tensorflow as tf
from tensorflow.core.protobuf import rewriter_config_pb2

from estweight.run_config import RunConfig
from estweight.run_config import TaskType
from estweight.run_config import get_default_session_config

_CLUSTER = {
    "chief": ["h0:2222"],
    "ps": ["h1:2222", "h2:2222"],
    "worker": ["h3:2222", "h4:2222", "h5:2222"],
}


@pytest.fixture(autouse=True)
def _no_tf_config(monkeypatch):
  monkeypatch.delenv("TF_CONFIG", raising=False)


def _set_tf_config(monkeypatch, tf_config):
  monkeypatch.setenv("TF_CONFIG", json.dumps(tf_config))


def _device_fn(op):
  del op
  return "/cpu:0"


# ------------------------------------------------------------------ defaults
def test_default_fields_match_tf_estimator():
  config = RunConfig()
  assert config.model_dir is None
  assert config.tf_random_seed is None
  assert config.save_summary_steps == 100
  assert config.save_checkpoints_steps is None
  assert config.save_checkpoints_secs == 600
  assert config.session_config is None
  assert config.keep_checkpoint_max == 5
  assert config.keep_checkpoint_every_n_hours == 10000
  assert config.log_step_count_steps == 100
  assert config.train_distribute is None
  assert config.eval_distribute is None
  assert config.experimental_distribute is None
  assert config.device_fn is None
  assert config.protocol is None
  assert config.experimental_max_worker_delay_secs is None
  assert config.session_creation_timeout_secs == 7200
  assert config.checkpoint_save_graph_def is True


def test_default_cluster_properties_describe_a_single_local_worker():
  config = RunConfig()
  assert config.cluster_spec.as_dict() == {}
  assert not config.cluster_spec.jobs
  assert config.task_type == "worker"
  assert config.task_id == 0
  assert config.master == ""
  assert config.evaluation_master == ""
  assert config.is_chief is True
  assert config.num_ps_replicas == 0
  assert config.num_worker_replicas == 1
  assert config.global_id_in_cluster == 0
  assert config.service is None


def test_task_type_constants():
  assert TaskType.MASTER == "master"
  assert TaskType.PS == "ps"
  assert TaskType.WORKER == "worker"
  assert TaskType.CHIEF == "chief"
  assert TaskType.EVALUATOR == "evaluator"


def test_setting_only_checkpoint_steps_nulls_checkpoint_secs():
  config = RunConfig(save_checkpoints_steps=10)
  assert config.save_checkpoints_steps == 10
  assert config.save_checkpoints_secs is None


def test_setting_only_checkpoint_secs_keeps_steps_none():
  config = RunConfig(save_checkpoints_secs=5)
  assert config.save_checkpoints_secs == 5
  assert config.save_checkpoints_steps is None


@pytest.mark.parametrize("kwargs", [
    dict(save_checkpoints_steps=None, save_checkpoints_secs=None),
    dict(save_checkpoints_steps=None),
    dict(save_checkpoints_secs=None),
])
def test_explicit_none_checkpoint_settings_disable_checkpointing(kwargs):
  config = RunConfig(**kwargs)
  assert config.save_checkpoints_steps is None
  assert config.save_checkpoints_secs is None


def test_valid_non_default_values_are_kept():
  config = RunConfig(model_dir=pathlib.Path("/tmp/rc_model"),
                     tf_random_seed=3, save_summary_steps=0,
                     save_checkpoints_steps=0, log_step_count_steps=None,
                     keep_checkpoint_max=0, protocol="grpc",
                     device_fn=_device_fn)
  assert config.model_dir == "/tmp/rc_model"  # PathLike -> str
  assert config.tf_random_seed == 3
  assert config.save_summary_steps == 0
  assert config.save_checkpoints_steps == 0
  assert config.log_step_count_steps is None
  assert config.keep_checkpoint_max == 0
  assert config.protocol == "grpc"
  assert config.device_fn is _device_fn


# ---------------------------------------------------------------- validation
def test_both_checkpoint_steps_and_secs_raises():
  with pytest.raises(ValueError, match="save_checkpoints_steps") as e:
    RunConfig(save_checkpoints_steps=10, save_checkpoints_secs=5)
  assert "save_checkpoints_steps=10" in str(e.value)
  assert "save_checkpoints_secs=5" in str(e.value)


@pytest.mark.parametrize("kwargs, needle", [
    (dict(save_summary_steps=-1), "save_summary_steps=-1"),
    (dict(tf_random_seed=1.5), "tf_random_seed=1.5"),
    (dict(tf_random_seed="1"), "tf_random_seed='1'"),
    (dict(session_config={}), "session_config={}"),
    (dict(log_step_count_steps=0), "log_step_count_steps=0"),
    (dict(keep_checkpoint_every_n_hours=0), "keep_checkpoint_every_n_hours=0"),
    (dict(keep_checkpoint_max=-1), "keep_checkpoint_max=-1"),
    (dict(protocol="http"), "protocol='http'"),
    (dict(session_creation_timeout_secs=0), "session_creation_timeout_secs=0"),
    (dict(model_dir=""), "model_dir=''"),
])
def test_invalid_argument_raises_naming_argument_and_value(kwargs, needle):
  (name,) = kwargs
  with pytest.raises(ValueError) as e:
    RunConfig(**kwargs)
  message = str(e.value)
  assert f"`{name}`" in message
  assert f"Received: {needle}" in message


def test_session_config_of_wrong_proto_type_raises():
  with pytest.raises(ValueError, match="session_config"):
    RunConfig(session_config=tf.compat.v1.GraphOptions())


def test_session_config_proto_is_accepted():
  proto = tf.compat.v1.ConfigProto(log_device_placement=True)
  assert RunConfig(session_config=proto).session_config is proto


def test_device_fn_whose_argument_is_not_named_op_raises():
  def bad_device_fn(x):
    del x

  with pytest.raises(ValueError, match="`device_fn`") as e:
    RunConfig(device_fn=bad_device_fn)
  assert "Received: device_fn=" in str(e.value)
  assert "bad_device_fn" in str(e.value)


def test_device_fn_with_extra_arguments_raises():
  with pytest.raises(ValueError, match="`device_fn`"):
    RunConfig(device_fn=lambda op, other: None)


# ------------------------------------------------------------------ replace()
def test_replace_returns_a_copy_and_leaves_original_unchanged():
  config = RunConfig(model_dir="/tmp/rc_a", save_summary_steps=7)
  new = config.replace(model_dir="/tmp/rc_b", save_summary_steps=3,
                       session_creation_timeout_secs=5,
                       checkpoint_save_graph_def=False)
  assert new is not config
  assert new.model_dir == "/tmp/rc_b"
  assert new.save_summary_steps == 3
  assert new.session_creation_timeout_secs == 5
  assert new.checkpoint_save_graph_def is False
  assert config.model_dir == "/tmp/rc_a"
  assert config.save_summary_steps == 7
  assert config.session_creation_timeout_secs == 7200
  assert config.checkpoint_save_graph_def is True


def test_replace_keeps_fields_that_were_not_replaced():
  config = RunConfig(tf_random_seed=11, keep_checkpoint_max=2)
  new = config.replace(log_step_count_steps=9)
  assert new.log_step_count_steps == 9
  assert new.tf_random_seed == 11
  assert new.keep_checkpoint_max == 2
  assert new.save_checkpoints_secs == 600


def test_replace_checkpoint_steps_nulls_checkpoint_secs():
  config = RunConfig()
  new = config.replace(save_checkpoints_steps=7)
  assert new.save_checkpoints_steps == 7
  assert new.save_checkpoints_secs is None
  assert config.save_checkpoints_secs == 600
  assert config.save_checkpoints_steps is None


def test_replace_checkpoint_secs_nulls_checkpoint_steps():
  new = RunConfig(save_checkpoints_steps=7).replace(save_checkpoints_secs=9)
  assert new.save_checkpoints_secs == 9
  assert new.save_checkpoints_steps is None


def test_replace_checkpoint_steps_with_none_keeps_secs():
  new = RunConfig().replace(save_checkpoints_steps=None)
  assert new.save_checkpoints_steps is None
  assert new.save_checkpoints_secs == 600


def test_replace_with_both_checkpoint_settings_raises():
  with pytest.raises(ValueError, match="save_checkpoints_secs"):
    RunConfig().replace(save_checkpoints_steps=7, save_checkpoints_secs=9)


@pytest.mark.parametrize("key", ["foo", "master", "task_type", "is_chief"])
def test_replace_with_unknown_key_raises(key):
  with pytest.raises(ValueError, match=f"Replacing {key}"):
    RunConfig().replace(**{key: 1})


@pytest.mark.parametrize("kwargs", [
    dict(save_summary_steps=-1),
    dict(tf_random_seed=0.5),
    dict(log_step_count_steps=0),
    dict(keep_checkpoint_every_n_hours=-1),
    dict(protocol="udp"),
    dict(model_dir=""),
    dict(session_config="not a proto"),
])
def test_replace_reruns_validation(kwargs):
  (name,) = kwargs
  with pytest.raises(ValueError, match=f"`{name}`"):
    RunConfig().replace(**kwargs)


# ----------------------------------------------------------------- TF_CONFIG
def test_tf_config_without_cluster_allows_worker_zero(monkeypatch):
  _set_tf_config(monkeypatch, {"task": {"type": "worker", "index": 0}})
  config = RunConfig()
  assert config.task_type == "worker"
  assert config.task_id == 0
  assert config.is_chief is True
  assert config.master == ""
  assert config.num_ps_replicas == 0
  assert config.num_worker_replicas == 1
  assert config.global_id_in_cluster == 0
  assert config.session_config is None


@pytest.mark.parametrize("task", [
    {"type": "ps", "index": 0},
    {"type": "chief", "index": 0},
    {"type": "worker", "index": 1},
])
def test_tf_config_without_cluster_rejects_other_tasks(monkeypatch, task):
  _set_tf_config(monkeypatch, {"task": task})
  with pytest.raises(ValueError, match="cluster"):
    RunConfig()


def test_tf_config_without_cluster_uses_session_masters(monkeypatch):
  _set_tf_config(monkeypatch, {"session_master": "grpc://x:1",
                               "eval_session_master": "grpc://y:2"})
  config = RunConfig()
  assert config.master == "grpc://x:1"
  assert config.evaluation_master == "grpc://y:2"


def test_tf_config_service_is_exposed(monkeypatch):
  _set_tf_config(monkeypatch, {"service": {"addr": "s:1"}})
  assert RunConfig().service == {"addr": "s:1"}


# Values verified with tf.estimator 2.15 (see module docstring).
@pytest.mark.parametrize(
    "task_type, task_id, master, is_chief, num_ps, num_workers, global_id,"
    " device_filters", [
        ("chief", 0, "grpc://h0:2222", True, 2, 4, 0,
         ["/job:ps", "/job:chief"]),
        ("worker", 1, "grpc://h4:2222", False, 2, 4, 2,
         ["/job:ps", "/job:worker/task:1"]),
        ("ps", 0, "grpc://h1:2222", False, 2, 4, 4,
         ["/job:ps", "/job:worker", "/job:chief", "/job:master"]),
        ("evaluator", 0, "", False, 0, 0, None, None),
    ])
def test_tf_config_cluster_with_chief(monkeypatch, task_type, task_id, master,
                                      is_chief, num_ps, num_workers,
                                      global_id, device_filters):
  _set_tf_config(monkeypatch, {"cluster": _CLUSTER,
                               "task": {"type": task_type,
                                        "index": task_id}})
  config = RunConfig()
  assert config.task_type == task_type
  assert config.task_id == task_id
  assert config.master == master
  assert config.evaluation_master == ""
  assert config.is_chief is is_chief
  assert config.num_ps_replicas == num_ps
  assert config.num_worker_replicas == num_workers
  assert config.global_id_in_cluster == global_id
  if device_filters is None:
    assert config.session_config is None
  else:
    assert list(config.session_config.device_filters) == device_filters
    assert config.session_config.allow_soft_placement is True
    rewrite = config.session_config.graph_options.rewrite_options
    assert rewrite.meta_optimizer_iterations == 1
  if task_type == "evaluator":
    assert config.cluster_spec.as_dict() == {}
  else:
    assert config.cluster_spec.as_dict() == _CLUSTER


def test_tf_config_cluster_keeps_user_session_config(monkeypatch):
  _set_tf_config(monkeypatch, {"cluster": _CLUSTER,
                               "task": {"type": "chief", "index": 0}})
  proto = tf.compat.v1.ConfigProto()
  config = RunConfig(session_config=proto)
  assert config.session_config is proto
  assert list(config.session_config.device_filters) == []


def test_tf_config_one_node_cluster_has_empty_master(monkeypatch):
  _set_tf_config(monkeypatch, {"cluster": {"chief": ["h0:2222"]},
                               "task": {"type": "chief", "index": 0}})
  config = RunConfig()
  assert config.master == ""
  assert config.is_chief is True
  assert config.num_worker_replicas == 1
  assert config.num_ps_replicas == 0
  assert config.global_id_in_cluster == 0


def test_tf_config_model_dir_used_when_model_dir_is_none(monkeypatch):
  _set_tf_config(monkeypatch, {"model_dir": "/tmp/rc_env_dir"})
  assert RunConfig().model_dir == "/tmp/rc_env_dir"
  assert RunConfig(model_dir="/tmp/rc_env_dir").model_dir == "/tmp/rc_env_dir"


def test_tf_config_model_dir_mismatch_raises(monkeypatch):
  _set_tf_config(monkeypatch, {"model_dir": "/tmp/rc_env_dir"})
  with pytest.raises(ValueError, match="model_dir") as e:
    RunConfig(model_dir="/tmp/rc_other")
  assert "/tmp/rc_other" in str(e.value)
  assert "/tmp/rc_env_dir" in str(e.value)


def test_tf_config_empty_model_dir_raises(monkeypatch):
  _set_tf_config(monkeypatch, {"model_dir": ""})
  with pytest.raises(ValueError, match="model_dir"):
    RunConfig()


def test_tf_config_is_read_at_construction(monkeypatch):
  local = RunConfig()
  _set_tf_config(monkeypatch, {"cluster": _CLUSTER,
                               "task": {"type": "worker", "index": 2}})
  remote = RunConfig()
  assert local.task_type == "worker" and local.task_id == 0
  assert local.is_chief is True
  assert remote.task_id == 2
  assert remote.is_chief is False
  assert remote.global_id_in_cluster == 3


# ---------------------------------------------------- default session config
def test_default_session_config_allows_soft_placement():
  config = get_default_session_config()
  assert isinstance(config, tf.compat.v1.ConfigProto)
  assert config.allow_soft_placement is True


def test_default_session_config_runs_meta_optimizer_once():
  rewrite = get_default_session_config().graph_options.rewrite_options
  one = rewriter_config_pb2.RewriterConfig.ONE
  assert one == 1
  assert rewrite.meta_optimizer_iterations == one
  assert not get_default_session_config().device_filters


def test_default_session_config_returns_a_fresh_proto():
  first = get_default_session_config()
  first.device_filters.append("/job:ps")
  assert not get_default_session_config().device_filters
