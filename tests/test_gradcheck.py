"""`mdl.gradcheck` itself: it passes correct backwards, and it catches wrong ones with a useful message."""

import re

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


def test_gradcheck_names_input_element_output_element_and_both_partial_derivatives():
    a = mdl.tensor([[1.0, 2.0, 3.0]], dtype=mdl.float64, requires_grad=True)
    b = mdl.tensor([[0.5, 0.5, 0.5]], dtype=mdl.float64, requires_grad=True)
    with pytest.raises(mdl.GradcheckError) as info:
        mdl.gradcheck(lambda a, b: a * Cube(wrong=True)(b), (a, b))
    # out[0, j] = a[0, j] * b[0, j]³: ∂out[0, 2]/∂b[0, 2] = 3 a b² = 3 * 3 * 0.25 = 2.25 by hand; the wrong
    # backward gives 1.5 times that. The entries are the Jacobian's own, not a random projection of it.
    message = str(info.value)
    assert message.startswith("gradcheck failed for input 1 at element (0, 2) (value 0.5), output element (0, 2): ")
    analytic, numeric = map(float, re.search(r"analytic (\S+), numeric (\S+) for", message).groups())
    assert analytic == pytest.approx(1.5 * 2.25) and numeric == pytest.approx(2.25, rel=1e-8)
    assert "∂out[0, 2]/∂x[0, 2]" in message
    assert "1 of 9 Jacobian entries" in message  # 3 outputs x 3 elements of b


def test_gradcheck_on_a_scalar_output_reports_the_plain_derivative():
    # f(a, b) = Σ a*b + detach(b[1, 2]³): backward sees ∂f/∂b[1, 2] = a[1, 2] = 1, while finite differences
    # also see the detached term: 1 + 3 b[1, 2]² = 13.
    a = mdl.tensor(np.ones((2, 3)), dtype=mdl.float64, requires_grad=True)
    b = mdl.tensor(np.full((2, 3), 2.0), dtype=mdl.float64, requires_grad=True)
    with pytest.raises(mdl.GradcheckError) as info:
        mdl.gradcheck(lambda a, b: (a * b).sum() + (b[1, 2] ** 3).detach(), (a, b))
    assert str(info.value) == ("gradcheck failed for input 1 at element (1, 2) (value 2): analytic 1, numeric 13 "
                               "for ∂out/∂x[1, 2] (1 of 6 Jacobian entries outside atol + rtol * |numeric|)")


def test_gradcheck_reports_a_wrong_derivative_of_a_vector_output_unscaled():
    class WrongSigmoid(Function):
        """y = σ(x); dL/dx = dL/dy σ(x) — wrong: the true local derivative is σ(x)(1 - σ(x))."""

        def forward(self, x):
            self.saved = (1 / (1 + np.exp(-x)),)
            return self.saved[0]

        def backward(self, gy):
            return gy * self.saved[0]

    x = mdl.tensor([-1.0, 0.0, 1.3], dtype=mdl.float64, requires_grad=True)
    with pytest.raises(mdl.GradcheckError) as info:
        mdl.gradcheck(lambda t: WrongSigmoid()(t), (x,))
    message = str(info.value)
    j = int(re.search(r"output element \((\d),\)", message).group(1))
    s = 1 / (1 + np.exp(-x.numpy()[j]))
    analytic, numeric = map(float, re.search(r"analytic (\S+), numeric (\S+) for", message).groups())
    assert analytic == pytest.approx(s, rel=1e-7) and numeric == pytest.approx(s * (1 - s), rel=1e-7)
    assert f"at element ({j},)" in message and "3 of 9 Jacobian entries" in message


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
