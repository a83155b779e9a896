"""The core ops against independent references, on the CPU and on the strict stand-in device:

- forward results equal NumPy's on the same inputs;
- forward and backward equal PyTorch's in float64 (skipped with a reason where PyTorch is missing);
- float32 inputs give float32 outputs and float32 gradients (Python scalars are weak, NumPy 2's NEP 50);
  mixed float32/float64 operands give float64 outputs while each gradient keeps its input's dtype;
- no op changes its inputs (checked after forward and backward in every test here).

The ops come from one table, minidl/op_table.py, and their input strategies from tests/op_cases.py; one helper,
`run_minidl`, runs an op forward and backward, and `compare_with_torch` runs the same inputs
through PyTorch (in the spirit of tinygrad's helper_test_op).
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import minidl as mdl

from op_cases import OPS

FIXTURES_OK = settings(suppress_health_check=[*settings.default.suppress_health_check,
                                              HealthCheck.function_scoped_fixture])
MULTI_INPUT = [op for op in OPS if op.name in {"add", "sub", "mul", "div", "pow", "matmul", "maximum", "minimum",
                                               "where", "where_scalar", "concatenate", "stack"}]


def assert_close(actual, expected, what):
    """Equal shapes, and values to ~1e-10 relative in float64 (to float32's precision in float32)."""
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    tight = actual.dtype == np.float64 and expected.dtype == np.float64
    rtol, atol = (1e-10, 1e-12) if tight else (1e-5, 1e-5)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def run_minidl(op, arrays, kwargs, device, dtypes=None):
    """Run `op` forward and backward in minidl; return (output, gradients, upstream gradient) on the host.

    Inputs are made in `dtypes` (float64 by default); the upstream gradient is random, in the
    output's dtype. Also checks that neither forward nor backward changed the inputs.
    """
    dtypes = dtypes or [np.float64] * len(arrays)
    inputs = [mdl.tensor(a.astype(dt), device=device, requires_grad=True) for a, dt in zip(arrays, dtypes)]
    before = [x.numpy() for x in inputs]

    out = op.mdl(*inputs, **kwargs)
    upstream = np.random.default_rng(0).standard_normal(out.shape).astype(out.dtype)
    out.backward(mdl.tensor(upstream, device=device))

    for i, (x, original) in enumerate(zip(inputs, before)):
        np.testing.assert_array_equal(x.numpy(), original, err_msg=f"{op.name} changed its input {i}")
    grads = [np.zeros(x.shape, x.dtype) if x.grad is None else x.grad.numpy() for x in inputs]
    for i, (x, g) in enumerate(zip(inputs, grads)):
        assert g.dtype == x.dtype, f"{op.name}: gradient of input {i} is {g.dtype}, the input is {x.dtype}"
    return out, grads, upstream


def compare_with_torch(torch, op, arrays, kwargs, device):
    """The same float64 inputs through minidl and PyTorch: outputs and gradients must agree."""
    out, grads, upstream = run_minidl(op, arrays, kwargs, device)

    inputs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    expected = op.torch(torch, *inputs, **kwargs)
    expected.backward(torch.from_numpy(upstream).to(expected.dtype))

    assert_close(out.numpy(), expected.detach().numpy(), f"{op.name} forward")
    for i, (g, x) in enumerate(zip(grads, inputs)):
        expected_grad = np.zeros(x.shape) if x.grad is None else x.grad.numpy()
        assert_close(g, expected_grad, f"{op.name} gradient of input {i}")


@pytest.mark.parametrize("op", OPS, ids=str)
@FIXTURES_OK
@given(data=st.data())
def test_forward_matches_numpy(op, device, data):
    arrays, kwargs = data.draw(op.inputs, label="(arrays, kwargs)")
    out = op.mdl(*[mdl.tensor(a, device=device) for a in arrays], **kwargs)
    assert out.device == device
    assert_close(out.numpy(), op.numpy(*arrays, **kwargs), f"{op.name} forward")


@pytest.mark.parametrize("op", OPS, ids=str)
@FIXTURES_OK
@given(data=st.data())
def test_forward_and_backward_match_torch(op, device, data, torch):
    arrays, kwargs = data.draw(op.inputs, label="(arrays, kwargs)")
    compare_with_torch(torch, op, arrays, kwargs, device)


@pytest.mark.parametrize("op", OPS, ids=str)
@FIXTURES_OK
@given(data=st.data())
def test_float32_stays_float32(op, device, data):
    arrays, kwargs = data.draw(op.inputs, label="(arrays, kwargs)")
    arrays = tuple(a.astype(np.float32) for a in arrays)
    out, grads, _ = run_minidl(op, arrays, kwargs, device, dtypes=[np.float32] * len(arrays))
    assert out.dtype == (op.out_dtype or np.float32)
    assert all(g.dtype == np.float32 for g in grads)  # run_minidl checked each against its input too
    assert_close(out.numpy(), op.numpy(*arrays, **kwargs), f"{op.name} forward in float32")


@pytest.mark.parametrize("op", MULTI_INPUT, ids=str)
@FIXTURES_OK
@given(data=st.data())
def test_mixed_float32_float64_promote(op, device, data):
    arrays, kwargs = data.draw(op.inputs, label="(arrays, kwargs)")
    assume(len(arrays) > 1)
    single = data.draw(st.integers(0, len(arrays) - 1), label="the float32 input")  # the others are float64
    dtypes = [np.float32 if i == single else np.float64 for i in range(len(arrays))]
    arrays = tuple(a.astype(dt) for a, dt in zip(arrays, dtypes))
    out, grads, _ = run_minidl(op, arrays, kwargs, device, dtypes=dtypes)  # checks each gradient's dtype
    assert out.dtype == np.float64
    expected = op.numpy(*arrays, **kwargs)
    assert expected.dtype == np.float64  # NumPy promotes the same way
    assert_close(out.numpy(), expected, f"{op.name} forward, mixed dtypes")


# -- a few fixed cases that read as documentation ---------------------------------------------------------------
def test_max_with_an_axis_returns_values_only_as_numpy(device):
    x = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    t = mdl.tensor(x, device=device)
    assert_close(t.max(axis=1).numpy(), x.max(axis=1), "max(axis=1)")
    assert_close(t.min(axis=(0, 1), keepdims=True).numpy(), x.min(axis=(0, 1), keepdims=True), "min")


@pytest.mark.parametrize("scalar", [2, 2.5, np.float64(2.5)], ids=["int", "float", "np.float64"])
def test_scalars_follow_nep50(scalar, device):
    """A Python number is weak: it never promotes float32. A NumPy float64 scalar is not weak."""
    x = mdl.tensor(np.ones(3, np.float32), device=device)
    expected = (np.ones(3, np.float32) * scalar).dtype  # NumPy's own answer
    for result in (x * scalar, scalar * x, x + scalar, x - scalar, scalar / x, x ** scalar):
        assert result.dtype == expected


def test_full_reduction_ties_share_the_gradient_as_torch(torch, device):
    x = np.array([[3.0, 1.0, 3.0], [0.0, 3.0, 2.0]])
    t = mdl.tensor(x, device=device, requires_grad=True)
    t.max().backward()
    ref = torch.tensor(x, requires_grad=True)
    torch.amax(ref).backward()
    assert_close(t.grad.numpy(), ref.grad.numpy(), "max() gradient with ties")
