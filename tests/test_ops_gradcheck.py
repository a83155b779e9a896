"""Every differentiable core op passes `mdl.gradcheck`: its backward agrees with central finite
differences, in float64, on hypothesis-drawn shapes, on the CPU and on the strict stand-in device.

The ops live in one table, minidl/op_table.py, their input strategies in tests/op_cases.py. Below the table-driven
test come a few cases spelled out by hand: reductions over every kind of axis, the broadcasting pairs
of every binary op, negative-step slices and repeated indices (whose gradients must add up), and a
check that gradcheck itself catches a wrong backward.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minidl as mdl
from minidl.autograd import Function

from op_cases import OPS

# The `device` fixture is the same for every example hypothesis draws, so sharing it is safe.
FIXTURES_OK = settings(suppress_health_check=[*settings.default.suppress_health_check,
                                              HealthCheck.function_scoped_fixture])


def leaf(array, device):
    return mdl.tensor(np.asarray(array, dtype=np.float64), device=device, requires_grad=True)


@pytest.mark.parametrize("op", OPS, ids=str)
@FIXTURES_OK
@given(data=st.data())
def test_gradcheck(op, device, data):
    arrays, kwargs = data.draw(op.inputs, label="(arrays, kwargs)")
    inputs = tuple(leaf(a, device) for a in arrays)
    assert mdl.gradcheck(lambda *xs: op.mdl(*xs, **kwargs), inputs, eps=op.eps)


# -- reductions: every kind of axis, with and without keepdims ---------------------------------------------
REDUCTIONS = {
    "sum": mdl.sum, "mean": mdl.mean, "max": mdl.max, "min": mdl.min, "logsumexp": mdl.logsumexp,
    "var": mdl.var, "var_ddof1": lambda x, axis, keepdims: mdl.var(x, axis=axis, ddof=1, keepdims=keepdims),
}


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2), (2, 0), (-1, 0, 1)])
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_gradcheck_over_axes(name, axis, keepdims, device):
    # a permutation of well separated values: no ties for max and min
    x = leaf(np.random.default_rng(0).permutation(24).reshape(2, 3, 4) * 0.37 - 4.0, device)
    reduce = REDUCTIONS[name]
    assert mdl.gradcheck(lambda t: reduce(t, axis=axis, keepdims=keepdims), (x,))


# -- broadcasting pairs for every binary op ---------------------------------------------------------------
BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a ** b, "maximum": mdl.maximum, "minimum": mdl.minimum,
    "where": lambda a, b: mdl.where(a > 1.2, a, b),
}
PAIRS = [((3, 1), (2, 1, 4)), ((), (2, 3)), ((2, 3), ()), ((4,), (3, 1)), ((1, 1), (2, 3)), ((2, 3), (2, 3))]


@pytest.mark.parametrize("shapes", PAIRS, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_gradcheck_broadcasting(name, shapes, device):
    rng = np.random.default_rng(1)
    sa, sb = shapes
    # positive and distinct: fine for div, for pow's log(a), and for ties of maximum/minimum
    a = leaf(rng.uniform(0.5, 2.0, sa), device)
    b = leaf(rng.uniform(2.5, 4.0, sb) * rng.choice([-1, 1], sb) / 2, device)
    assert mdl.gradcheck(BINARY[name], (a, b))


# -- indexing: negative steps, repeated indices -----------------------------------------------------------
def test_negative_step_slices_move_gradients_back(device):
    x = leaf(np.arange(6.0), device)
    (x[::-1] * mdl.tensor([1.0, 2, 3, 4, 5, 6], dtype=mdl.float64, device=device)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6, 5, 4, 3, 2, 1])

    x = leaf(np.arange(6.0), device)
    (x[3:0:-2] * mdl.tensor([10.0, 20.0], dtype=mdl.float64, device=device)).sum().backward()  # x[3], x[1]
    np.testing.assert_array_equal(x.grad.numpy(), [0, 20, 0, 10, 0, 0])


def test_repeated_indices_add_their_gradients(device):
    x = leaf(np.arange(5.0), device)
    (x[[0, 0, 2]] * mdl.tensor([1.0, 10.0, 100.0], dtype=mdl.float64, device=device)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [11, 0, 100, 0, 0])

    x = leaf(np.arange(12.0).reshape(3, 4), device)
    x[[2, 0, 2], [1, 1, 1]].sum().backward()  # element (2, 1) twice, (0, 1) once
    expected = np.zeros((3, 4))
    expected[2, 1], expected[0, 1] = 2, 1
    np.testing.assert_array_equal(x.grad.numpy(), expected)


@pytest.mark.parametrize("index", [np.s_[::-1], np.s_[3:0:-2], np.s_[[0, 0, 2]], np.s_[[[1, 1], [0, 3]]],
                                   np.s_[[3, 3], ::-1], np.s_[..., None, 1], np.s_[-1]], ids=str)
def test_indexing_gradcheck(index, device):
    x = leaf(np.random.default_rng(2).standard_normal((4, 3)), device)
    assert mdl.gradcheck(lambda t: t[index], (x,))


# -- graphs that reuse tensors -------------------------------------------------------------------------------
def test_gradcheck_through_a_composite_graph(device):
    rng = np.random.default_rng(3)
    x, w, b = (leaf(rng.standard_normal(s), device) for s in [(3, 4), (4, 2), (2,)])

    def net(x, w, b):
        h = (x @ w + b).tanh()                     # x, w, b each used once here ...
        return (h * h + x.sum(axis=1, keepdims=True) * h).logsumexp(axis=0) + (w * w).mean()  # ... and again

    assert mdl.gradcheck(net, (x, w, b))


# -- gradcheck must be able to fail ----------------------------------------------------------------------------
class _WrongSquare(Function):
    """y = x², with the backward off by a factor of 2 (x instead of 2x)."""

    def forward(self, x):
        self.saved = (x,)
        return x * x

    def backward(self, gy):
        (x,) = self.saved
        return gy * x


def test_gradcheck_catches_a_wrong_backward(device):
    x = leaf([1.0, -2.0, 3.0], device)
    with pytest.raises(mdl.GradcheckError, match="input 0"):
        mdl.gradcheck(lambda t: _WrongSquare()(t), (x,))
