"""A NumPy array where a public function expects a Tensor: a constant Tensor or a TypeError naming the function.

The rule (API.md) has one home, minidl/arguments.py; this checks it over every public function
of API.md that takes tensors (tests/api_functions.py). The reference is the same call with Tensors.
"""

import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from api_functions import PUBLIC_FUNCTIONS, tensor_positions, with_values


def _example(api):
    return api.example(np.random.default_rng(0))  # a fresh copy each time: batch_norm updates its statistics


def _run(api, args, kwargs):
    mdl.manual_seed(0)  # dropout draws the same mask in every call
    out = api.fn(*args, **kwargs)
    return [t.numpy() if isinstance(t, mdl.Tensor) else np.asarray(t) for t in (out if isinstance(out, tuple) else (out,))]


def _places(api):
    args, kwargs = _example(api)
    places = tensor_positions(args, kwargs)
    return [[p] for p in places] + ([places] if len(places) > 1 else [])  # each one alone, then all of them


@pytest.mark.parametrize("api", PUBLIC_FUNCTIONS, ids=str)
def test_arrays_are_constants_or_a_type_error(api):
    args, kwargs = _example(api)
    expected = _run(api, *with_values(args, kwargs, mdl.tensor))
    for only in _places(api):
        args, kwargs = _example(api)
        call = with_values(args, kwargs, mdl.tensor, only=[p for p in tensor_positions(args, kwargs) if p not in only])
        try:
            got = _run(api, *call)
        except TypeError as exc:  # the other half of the rule: a clear TypeError from minidl
            assert isinstance(exc, mdl.MinidlError), f"{api}: {exc!r}"
            name, message = (s.lower().replace("_", "") for s in (api.name.split(".")[-1], str(exc)))
            assert name.split("2d")[0][:6] in message, f"{api}: the message names no function: {exc}"
            continue
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-12, err_msg=f"{api} with arrays at {only}")


def test_batch_norm_updates_array_statistics_in_place():
    """Running statistics given as arrays are updated in place, as Tensors' are (PyTorch's momentum rule)."""
    x = np.random.default_rng(1).standard_normal((8, 3))
    mean, var = np.zeros(3), np.ones(3)
    F.batch_norm(mdl.tensor(x), mean, var, training=True, momentum=0.1)
    np.testing.assert_allclose(mean, 0.1 * x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(var, 0.9 + 0.1 * x.var(axis=0, ddof=1), rtol=1e-12)


def test_array_input_is_a_constant_without_gradient():
    w = mdl.tensor(np.ones(3), requires_grad=True)
    y = F.linear(np.ones((2, 3)), w.reshape(1, 3))
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 2.0, 2.0])


@pytest.mark.parametrize("junk", [[1.0, 2.0], "abc", object()])
def test_other_objects_are_a_type_error_naming_the_argument(junk):
    with pytest.raises(TypeError, match=r"relu: argument 'x' is a"):
        F.relu(junk)
    with pytest.raises(TypeError, match=r"exp: argument 'x' is a"):
        mdl.exp(junk)


@pytest.mark.parametrize("junk", [None, [1.0, 2.0]])
def test_none_or_list_is_a_type_error_everywhere(junk):
    """None or a Python list where a Tensor goes: an ArgumentTypeError (minidl.arguments), never an internal
    error from reading x.ndim first. A list is refused, not taken as a constant (wrap it with mdl.tensor)."""
    for api in PUBLIC_FUNCTIONS:
        for only in _places(api):  # each tensor argument alone (the others Tensors), then all of them
            args, kwargs = _example(api)
            others = [p for p in tensor_positions(args, kwargs) if p not in only]
            args, kwargs = with_values(*with_values(args, kwargs, lambda a: junk, only=only), mdl.tensor, only=others)
            try:
                api.fn(*args, **kwargs)
            except mdl.MinidlError:
                pass


def test_batch_norm_integer_statistics_are_a_dtype_error():
    """Found by the fuzz: int64 running statistics leaked NumPy's casting error from the in-place update."""
    with pytest.raises(mdl.DTypeError, match="running_mean must be floating point"):
        F.batch_norm(mdl.randn(4, 3), np.zeros(3, np.int64), np.ones(3), training=True)
