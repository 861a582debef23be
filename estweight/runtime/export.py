"""Writes SavedModels: one MetaGraph per mode, variables from a checkpoint.

The layout is tf.estimator's: `export_dir_base/<unix seconds>/` with
`saved_model.pb` (or `.pbtxt`), `variables/`, `assets/` (vocabulary files
the graphs use) and `assets.extra/` (files the caller adds). The export is
written under a `temp-<seconds>` directory first and renamed at the end, so
a reader (TF Serving polling export_dir_base) never sees half an export,
and a failed export leaves nothing behind.
"""
from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

import tensorflow as tf
from estweight import _logging as logging

from estweight import _tf_private
from estweight.mode_keys import ModeKeys

if TYPE_CHECKING:
  from estweight.runtime.graph import ExportGraph

_v1 = tf.compat.v1

# TRAIN first: its graph holds every variable a checkpoint has (slots too),
# and the first MetaGraph added saves the variables for all of them.
MODE_ORDER = (ModeKeys.TRAIN, ModeKeys.EVAL, ModeKeys.PREDICT)
# TF's own map: TRAIN 'train', EVAL 'eval', PREDICT 'serve'.
TAGS = {
    mode: list(_tf_private.export_utils.EXPORT_TAG_MAP[mode])
    for mode in MODE_ORDER
}

DEFAULT_SIGNATURE = "serving_default"


def signature_defs(export_graph: ExportGraph) -> dict[str, Any]:
  """The SignatureDefs of one built export graph.

  A receiver with a `default_signature` (see
  `build_raw_serving_input_receiver_fn`) gets that signature as
  `serving_default` too when the model's own default was not exported.
  """
  spec, receiver = export_graph.spec, export_graph.receiver
  with export_graph.graph.as_default():
    outputs = _tf_private.export_utils.export_outputs_for_mode(
        mode=spec.mode,
        serving_export_outputs=spec.export_outputs,
        predictions=spec.predictions,
        loss=spec.loss,
        metrics=spec.eval_metric_ops)
    signatures = _tf_private.export_utils.build_all_signature_defs(
        receiver.receiver_tensors,
        outputs,
        getattr(receiver, "receiver_tensors_alternatives", None),
        serving_only=spec.mode == ModeKeys.PREDICT)
  default = getattr(receiver, "default_signature", None)
  if default is not None and DEFAULT_SIGNATURE not in signatures:
    if default not in signatures:
      raise ValueError(
          f"The receiver's default_signature={default!r} is not among the "
          f"exported signatures {sorted(signatures)}.")
    signatures[DEFAULT_SIGNATURE] = signatures[default]
    logging.info(
        "Exporting signature %r as %r too (the receiver's "
        "default_signature).", default, DEFAULT_SIGNATURE)
  _explain_dropped(outputs, signatures, receiver.receiver_tensors)
  return signatures


def _explain_dropped(outputs, signatures, receiver_tensors):
  """Says why Classify/Regress signatures are missing (a common surprise)."""
  dropped = sorted(set(outputs) - set(signatures))
  if not dropped:
    return
  logging.warning(
      "Signatures %s are not exported: TF Serving's Classify and Regress "
      "APIs take a single input of serialized tf.Examples, and this "
      "receiver has inputs %s. For them, export with "
      "build_parsing_serving_input_receiver_fn; the Predict signatures "
      "(%s) are exported.%s", dropped, sorted(receiver_tensors),
      sorted(signatures), "" if "serving_default" in signatures else
      " There is no 'serving_default', so clients must name a signature.")


def _add_meta_graph(builder, export_graph, *, checkpoint_path, save_variables,
                    session_config, strip_default_attrs):
  spec = export_graph.spec
  signatures = signature_defs(export_graph)
  if not signatures:
    raise ValueError(
        f"The {export_graph.mode} export has no signature: model_fn's "
        "predictions/export_outputs give no output the receiver's inputs "
        "can feed.")
  with export_graph.graph.as_default():
    local_init_op = (spec.scaffold.local_init_op or
                     _v1.train.Scaffold.default_local_init_op())
    saver = spec.scaffold.saver or _v1.train.Saver(sharded=True)
    with _v1.Session(graph=export_graph.graph,
                     config=session_config) as session:
      try:
        saver.restore(session, checkpoint_path)
      except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError) as e:
        raise ValueError(
            f"Could not restore the {export_graph.mode} graph's variables from "
            f"checkpoint {checkpoint_path}: the model_fn builds variables (or "
            "shapes) the checkpoint does not have. Check that the export uses "
            "the model_fn and params that trained it.\n"
            f"{type(e).__name__}: {e.message}") from None
      # The train op goes in as an extra collection, as tf.estimator did;
      # a no-op for PREDICT and EVAL where it is None.
      _tf_private.add_train_op(builder, spec.train_op)
      kwargs = dict(tags=TAGS[export_graph.mode],
                    signature_def_map=signatures,
                    assets_collection=_v1.get_collection(
                        _v1.GraphKeys.ASSET_FILEPATHS),
                    main_op=local_init_op,
                    saver=saver,
                    strip_default_attrs=strip_default_attrs)
      if save_variables:
        builder.add_meta_graph_and_variables(session, **kwargs)
      else:
        builder.add_meta_graph(**kwargs)


def _copy_assets_extra(assets_extra, export_dir):
  for dest, source in assets_extra.items():
    target = os.path.join(export_dir, "assets.extra", dest)
    tf.io.gfile.makedirs(os.path.dirname(target))
    tf.io.gfile.copy(source, target)


def check_assets_extra(assets_extra: dict[str, str] | None) -> None:
  """Raises before any graph is built when an assets_extra entry is bad."""
  if assets_extra is None:
    return
  if not isinstance(assets_extra, dict):
    raise ValueError("`assets_extra` must be a dict of destination path "
                     "(relative, under assets.extra/) to source file. "
                     f"Received: assets_extra={assets_extra!r}.")
  for dest, source in assets_extra.items():
    if not isinstance(dest,
                      str) or os.path.isabs(dest) or ".." in dest.split("/"):
      raise ValueError(
          "`assets_extra` keys must be relative paths inside assets.extra/. "
          f"Received: key {dest!r} in assets_extra={assets_extra!r}.")
    if not tf.io.gfile.exists(source):
      raise ValueError(f"`assets_extra[{dest!r}]` names a file that does not "
                       f"exist. Received: {source!r}.")


def write_saved_model(export_graphs: Iterable[ExportGraph],
                      *,
                      export_dir_base: str | os.PathLike,
                      checkpoint_path: str,
                      session_config: tf.compat.v1.ConfigProto | None,
                      assets_extra: Mapping[str, str] | None = None,
                      as_text: bool = False,
                      strip_default_attrs: bool = True) -> bytes:
  """Writes the built graphs (in MODE_ORDER) as one SavedModel.

  Returns:
    The final export directory, as bytes (tf.estimator's return type).
  """
  export_dir_base = os.fspath(export_dir_base)
  export_dir = _tf_private.export_utils.get_timestamped_export_dir(
      export_dir_base)
  temp_dir = _tf_private.export_utils.get_temp_export_dir(export_dir)
  builder = _v1.saved_model.Builder(temp_dir)
  try:
    for i, export_graph in enumerate(export_graphs):
      _add_meta_graph(builder,
                      export_graph,
                      checkpoint_path=checkpoint_path,
                      save_variables=i == 0,
                      session_config=session_config,
                      strip_default_attrs=strip_default_attrs)
    builder.save(as_text)
    if assets_extra:
      _copy_assets_extra(assets_extra, tf.compat.as_str(temp_dir))
    tf.io.gfile.rename(tf.compat.as_str(temp_dir), tf.compat.as_str(export_dir))
  except BaseException:
    shutil.rmtree(tf.compat.as_str(temp_dir), ignore_errors=True)
    raise
  logging.info("SavedModel written to: %s", tf.compat.as_str(export_dir))
  return export_dir


def check_export_args(
    export_dir_base: str | os.PathLike | None,
    input_receiver_fn_map: Mapping[str, Callable[..., Any]]) -> list[str]:
  """Refuses a bad export directory or receiver fn map before anything is
  built; returns the map's modes in MODE_ORDER."""
  if export_dir_base is None or not os.fspath(export_dir_base):
    raise ValueError("`export_dir_base` must be a directory path. Received: "
                     f"export_dir_base={export_dir_base!r}.")
  if not isinstance(input_receiver_fn_map, dict):
    raise ValueError("`input_receiver_fn_map` must be a dict of mode to "
                     "receiver fn. Received: "
                     f"input_receiver_fn_map={input_receiver_fn_map!r}.")
  unknown = set(input_receiver_fn_map) - set(MODE_ORDER)
  modes = [m for m in MODE_ORDER if input_receiver_fn_map.get(m)]
  if unknown or not modes:
    raise ValueError("`input_receiver_fn_map` must map some of "
                     f"{list(MODE_ORDER)} to receiver fns. Received: "
                     f"input_receiver_fn_map={input_receiver_fn_map!r}.")
  for mode in modes:
    if not callable(input_receiver_fn_map[mode]):
      raise TypeError(
          f"The receiver fn for mode {mode!r} must be callable. Received: "
          f"{input_receiver_fn_map[mode]!r}.")
  return modes
