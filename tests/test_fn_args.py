"""runtime/fn_args.py: which arguments a user function takes, through
functools.partial and bound methods, and calls with just those."""
import functools

import pytest

from estweight.runtime import fn_args


def model_fn(features, labels, mode, params=None, config=None):
  return features, labels, mode, params, config


class Model:

  def model_fn(self, features, labels, mode):
    return features, labels, mode

  def __call__(self, features, mode, **kwargs):
    return features, mode, kwargs


def test_plain_function():
  assert fn_args.fn_args(model_fn) == ("features", "labels", "mode", "params",
                                       "config")
  assert fn_args.required_args(model_fn) == ("features", "labels", "mode")


def test_partial_bindings_are_left_out():
  bound = functools.partial(model_fn, 1, params={"a": 1})
  assert fn_args.fn_args(bound) == ("labels", "mode", "config")
  assert fn_args.required_args(bound) == ("labels", "mode")
  # partial of a partial
  twice = functools.partial(bound, 2)
  assert fn_args.fn_args(twice) == ("mode", "config")


def test_bound_method_and_callable_object():
  assert fn_args.fn_args(Model().model_fn) == ("features", "labels", "mode")
  assert fn_args.fn_args(Model()) == ("features", "mode", "**")


def test_call_with_available_passes_only_accepted_names():
  available = {"features": "f", "labels": "l", "mode": "m", "extra": "x"}
  assert fn_args.call_with_available(model_fn,
                                     available) == ("f", "l", "m", None, None)
  # **kwargs takes everything.
  assert fn_args.call_with_available(Model(), available) == ("f", "m", {
      "labels": "l",
      "extra": "x"
  })


def test_describe_names_the_function_and_its_arguments():
  assert fn_args.describe(model_fn) == (
      "model_fn(features, labels, mode, params, config)")
  assert fn_args.describe(functools.partial(
      model_fn, 1)) == ("model_fn(labels, mode, params, config)")
  assert fn_args.describe(
      Model().model_fn) == ("Model.model_fn(features, labels, mode)")


def test_not_callable_is_a_type_error():
  with pytest.raises(TypeError, match=r"^Expected a callable\. Received: 3\.$"):
    fn_args.fn_args(3)
