"""TPUConfig, InputPipelineConfig and the TPU RunConfig (2.15's fields)."""
from __future__ import annotations

import collections
from typing import Any

from estweight import run_config as run_config_lib
from estweight import validation


class InputPipelineConfig:
  """How input is sharded over TPU hosts (recorded; one host off TPU)."""
  PER_SHARD_V1 = 1
  PER_HOST_V1 = 2
  PER_HOST_V2 = 3
  BROADCAST = 4
  SLICED = 5


class TPUConfig(
    collections.namedtuple("TPUConfig", [
        "iterations_per_loop", "num_shards", "num_cores_per_replica",
        "per_host_input_for_training", "tpu_job_name",
        "initial_infeed_sleep_secs", "input_partition_dims",
        "eval_training_input_configuration",
        "experimental_host_call_every_n_steps",
        "experimental_allow_per_host_v2_parallel_get_next",
        "experimental_feed_hook"
    ])):
  """TPU settings. Off TPU, `iterations_per_loop` and the shard settings are
  kept (programs read them back) but steps run one at a time, so hooks,
  checkpoints and summaries land on the same steps as on CPU Estimators."""

  def __new__(
      cls,
      iterations_per_loop=2,
      num_shards=None,
      num_cores_per_replica=None,
      per_host_input_for_training=True,
      tpu_job_name=None,
      initial_infeed_sleep_secs=None,
      input_partition_dims=None,
      eval_training_input_configuration=(InputPipelineConfig.PER_HOST_V1),
      experimental_host_call_every_n_steps=1,
      experimental_allow_per_host_v2_parallel_get_next=False,
      experimental_feed_hook=None):
    iterations_per_loop = validation.integer("iterations_per_loop",
                                             iterations_per_loop,
                                             minimum=1,
                                             allow_none=False)
    num_shards = validation.integer("num_shards", num_shards, minimum=1)
    num_cores_per_replica = validation.integer("num_cores_per_replica",
                                               num_cores_per_replica,
                                               minimum=1)
    return super().__new__(cls, iterations_per_loop, num_shards,
                           num_cores_per_replica, per_host_input_for_training,
                           tpu_job_name, initial_infeed_sleep_secs,
                           input_partition_dims,
                           eval_training_input_configuration,
                           experimental_host_call_every_n_steps,
                           experimental_allow_per_host_v2_parallel_get_next,
                           experimental_feed_hook)


class RunConfig(run_config_lib.RunConfig):
  """An estweight RunConfig with a `tpu_config` (and 2.15's `cluster`).

  Args:
    tpu_config: a TPUConfig (None: the defaults).
    evaluation_master, master: session targets (off TPU, usually unset).
    cluster: a TPU cluster resolver; refused (no TPU here).
    **kwargs: the RunConfig arguments.
  """

  def __init__(self,
               tpu_config: TPUConfig | None = None,
               evaluation_master: str | None = None,
               master: str | None = None,
               cluster: Any = None,
               **kwargs: Any):
    super().__init__(**kwargs)
    if tpu_config is not None and not isinstance(tpu_config, TPUConfig):
      raise TypeError("`tpu_config` must be a TPUConfig. Received: "
                      f"tpu_config={tpu_config!r}.")
    if cluster is not None:
      raise ValueError(
          "`cluster` (a TPU cluster resolver) needs a TPU; estweight runs "
          "TPUEstimator with use_tpu=False only. Received: "
          f"cluster={cluster!r}.")
    self._tpu_config = tpu_config or TPUConfig()
    if master is not None:
      self._master = master
    if evaluation_master is not None:
      self._evaluation_master = evaluation_master
    self._cluster = None

  @property
  def tpu_config(self) -> TPUConfig:
    """The TPUConfig (its batch and loop settings; no TPU is used)."""
    return self._tpu_config

  @property
  def cluster(self) -> None:
    """None: there is no TPU cluster resolver (TPUs are not supported)."""
    return self._cluster

  def replace(self, **kwargs: Any) -> "RunConfig":
    """A copy with `kwargs` replaced (`tpu_config` among them).

    Args:
      **kwargs: new values of fields, by name: `tpu_config` or any field
        `estweight.RunConfig.replace` accepts.

    Returns:
      The new RunConfig; this one is unchanged.
    """
    tpu_config = kwargs.pop("tpu_config", self._tpu_config)
    new = super().replace(**kwargs)
    new._tpu_config = tpu_config  # type: ignore[attr-defined]  # pylint: disable=protected-access
    return new  # type: ignore[return-value]
