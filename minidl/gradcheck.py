"""Numerical gradient checking: does an operation's backward agree with finite differences?

    mdl.gradcheck(lambda a, b: (a * b).exp(), (a, b))

For a random weighting w of the output (fixed seed), L = Σ w * fn(*inputs). The analytic gradient
dL/dx comes from `backward()`; the numerical one from central differences, in float64:

    dL/dx[i] ≈ (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)

A random w checks the whole vector-Jacobian product with one backward, and any wrong entry of the
Jacobian shows with probability 1.
"""

import numpy as np

from minidl.autograd import no_grad
from minidl.errors import GradcheckError
from minidl.tensor import Tensor


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check `fn`'s gradients w.r.t. every input Tensor that requires grad; True or GradcheckError.

    Args:
        fn:      callable taking `*inputs` and returning a Tensor of any shape.
        inputs:  a Tensor or a tuple of Tensors (and other arguments, passed through). Floating
                 Tensors are checked on float64 copies; the originals are not touched.
        eps:     finite-difference step.
        atol, rtol: an element passes when |analytic - numeric| <= atol + rtol * |numeric|.
    Raises:
        GradcheckError naming the input, the element index, and the analytic and numeric values of
        the worst element.
    """
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; create them with requires_grad=True")
    xs = [_float64_leaf(x) for x in inputs]

    out = fn(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, it returned {type(out).__name__}")
    if not out.requires_grad:
        raise GradcheckError("gradcheck: the output does not depend on any input that requires grad")
    backend = out.backend
    weights = backend.from_host(np.random.default_rng(seed).standard_normal(out.shape))
    (out * Tensor._make(weights, backend, False, None)).sum().backward()

    for i in checked:
        x = xs[i]
        analytic = np.zeros(x.shape) if x.grad is None else x.grad.numpy().astype(np.float64)
        numeric = _numerical_gradient(fn, xs, i, weights, eps)
        _compare(i, analytic, numeric, atol, rtol)
    return True


def _float64_leaf(x):
    """A float64, C-contiguous copy of a floating Tensor (same requires_grad); others unchanged."""
    if not isinstance(x, Tensor) or x.dtype.kind != "f":
        return x
    xp = x.backend.xp
    copy = Tensor._make(xp.array(x.data, dtype=np.float64, order="C", copy=True), x.backend, False, None)
    copy.requires_grad = x.requires_grad
    return copy


def _weighted_sum(out, weights):
    return float((out.data * weights).sum())


def _numerical_gradient(fn, xs, i, weights, eps):
    """Central differences of L = Σ w * fn(*xs) w.r.t. every element of xs[i] (on the host)."""
    x = xs[i]
    flat = x.data.reshape(-1)  # a view: x.data is C-contiguous
    grad = np.zeros(x.size)
    with no_grad():
        for k in range(x.size):
            original = float(flat[k])
            flat[k] = original + eps
            plus = _weighted_sum(fn(*xs), weights)
            flat[k] = original - eps
            minus = _weighted_sum(fn(*xs), weights)
            flat[k] = original
            grad[k] = (plus - minus) / (2 * eps)
    return grad.reshape(x.shape)


def _compare(i, analytic, numeric, atol, rtol):
    excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    excess = np.where(np.isnan(analytic) != np.isnan(numeric), np.inf, np.nan_to_num(excess, nan=0.0))
    if excess.size and excess.max() > 0:
        worst = np.unravel_index(int(np.argmax(excess)), excess.shape)
        failing = int((excess > 0).sum())
        raise GradcheckError(
            f"gradcheck failed for input {i} at element {tuple(int(k) for k in worst)}: "
            f"analytic {analytic[worst]:.8g}, numeric {numeric[worst]:.8g} "
            f"({failing} of {excess.size} elements outside atol + rtol * |numeric|)")
