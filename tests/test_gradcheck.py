"""`mdl.gradcheck` itself: it passes correct backwards, and it catches wrong ones with a useful message."""

import numpy as np
import pytest

import minidl as mdl
from minidl.autograd import Function


class Cube(Function):
    """y = x³; dL/dx = 3x² dL/dy — or a deliberately wrong backward."""

    def __init__(self, wrong=False):
        self.wrong = wrong

    def forward(self, x):
        self.saved = (x,)
        return x ** 3

    def backward(self, gy):
        (x,) = self.saved
        g = gy * 3 * x ** 2
        if self.wrong:
            g = g.copy()
            g[..., -1] *= 1.5  # wrong in the last column only
        return g


def test_gradcheck_passes_a_correct_backward(device):
    x = mdl.tensor(np.linspace(-1, 1, 6).reshape(2, 3), dtype=mdl.float64, device=device, requires_grad=True)
    assert mdl.gradcheck(lambda t: Cube()(t), (x,))


def test_gradcheck_names_input_element_and_both_values():
    a = mdl.tensor([[1.0, 2.0, 3.0]], dtype=mdl.float64, requires_grad=True)
    b = mdl.tensor([[0.5, 0.5, 0.5]], dtype=mdl.float64, requires_grad=True)
    with pytest.raises(mdl.GradcheckError, match=r"input 1 at element \(0, 2\): analytic .*numeric") as info:
        mdl.gradcheck(lambda a, b: a * Cube(wrong=True)(b), (a, b))
    message = str(info.value)
    assert "1 of 3 elements" in message


def test_gradcheck_skips_inputs_without_grad_and_passes_other_arguments():
    x = mdl.tensor([1.0, 2.0], dtype=mdl.float64, requires_grad=True)
    c = mdl.tensor([3.0, 4.0], dtype=mdl.float64)
    assert mdl.gradcheck(lambda x, c, k: x * c * k, (x, c, 2.0))


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="no input requires grad"):
        mdl.gradcheck(lambda x: x * 2, (mdl.tensor([1.0]),))


def test_gradcheck_runs_in_float64_and_leaves_inputs_untouched():
    x = mdl.tensor([0.1, 0.2, 0.3], requires_grad=True)  # float32
    before = x.numpy().copy()
    seen = []
    mdl.gradcheck(lambda t: seen.append(t.dtype) or t.exp(), (x,))
    assert set(seen) == {np.dtype(np.float64)}
    np.testing.assert_array_equal(x.numpy(), before)
    assert x.grad is None


def test_gradcheck_error_is_an_assertion_error():
    x = mdl.tensor([1.0, 2.0], dtype=mdl.float64, requires_grad=True)
    with pytest.raises(AssertionError):
        mdl.gradcheck(lambda t: Cube(wrong=True)(t), (x,))
