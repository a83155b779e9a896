"""Numerical gradient checking: does an operation's backward agree with finite differences?

    mdl.gradcheck(lambda a, b: (a * b).exp(), (a, b))

The Jacobian entry ∂out[j]/∂x[i] is estimated by central differences, in float64:

    ∂out[j]/∂x[i] ≈ (out(x + eps e_i)[j] - out(x - eps e_i)[j]) / (2 eps)

and compared with what `backward()` computes. Two passes:

1. Fast: for a random weighting w of the output (fixed seed), one backward gives the vector-Jacobian
   product w·J for every input, and the same finite differences give w·J numerically. Any wrong entry
   of J shows there with probability 1, so a correct op costs one backward.
2. Only when an input fails: its whole Jacobian, one backward per output element (seed = one-hot e_j)
   against the finite-difference columns, entry by entry, as PyTorch's slow-mode gradcheck does. The
   error names the worst entry: the input, its element and value, the output element (for a
   non-scalar output), and the analytic and numeric ∂out[j]/∂x[i] — numbers a learner can check by
   hand, never scaled by the hidden weighting w.
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
        atol, rtol: a Jacobian entry passes when |analytic - numeric| <= atol + rtol * |numeric|.
    Raises:
        GradcheckError naming, for the worst Jacobian entry, the input, its element index and value, the
        output element (non-scalar outputs), and the analytic and numeric ∂out[j]/∂in[i].
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
    weights = np.random.default_rng(seed).standard_normal(out.shape)
    analytic = _analytic_vjp(fn, xs, checked, weights)

    for i in checked:
        numeric_jacobian = _numerical_jacobian(fn, xs, i, eps)  # (out.size, x.size)
        numeric = (weights.reshape(-1) @ numeric_jacobian).reshape(xs[i].shape)
        if _excess(analytic[i], numeric, atol, rtol).max(initial=0.0) > 0:  # fast pass failed: look closer
            _check_jacobian(fn, xs, checked, i, out.shape, numeric_jacobian, atol, rtol)
    return True


def _float64_leaf(x):
    """A float64, C-contiguous copy of a floating Tensor (same requires_grad); others unchanged."""
    if not isinstance(x, Tensor) or x.dtype.kind != "f":
        return x
    xp = x.backend.xp
    copy = Tensor._make(xp.array(x.data, dtype=np.float64, order="C", copy=True), x.backend, False, None)
    copy.requires_grad = x.requires_grad
    return copy


def _analytic_vjp(fn, xs, checked, grad_output):
    """{i: dL/dxs[i] as a host float64 array} for L = Σ grad_output * fn(*xs): one fresh forward and backward."""
    for i in checked:
        xs[i].grad = None
    out = fn(*xs)
    out.backward(out.backend.from_host(np.asarray(grad_output, dtype=np.float64)).astype(out.dtype))
    grads = {}
    for i in checked:
        x = xs[i]
        grads[i] = np.zeros(x.shape) if x.grad is None else x.grad.numpy().astype(np.float64)
        x.grad = None
    return grads


def _numerical_jacobian(fn, xs, i, eps):
    """Central differences of every output element w.r.t. every element of xs[i]: (out.size, x.size)."""
    x = xs[i]
    flat = x.data.reshape(-1)  # a view: x.data is C-contiguous
    columns = []
    with no_grad():
        for k in range(x.size):
            original = float(flat[k])
            flat[k] = original + eps
            plus = fn(*xs).numpy().astype(np.float64).reshape(-1)
            flat[k] = original - eps
            minus = fn(*xs).numpy().astype(np.float64).reshape(-1)
            flat[k] = original
            columns.append((plus - minus) / (2 * eps))
    return np.stack(columns, axis=1)


def _excess(analytic, numeric, atol, rtol):
    """How far each entry is outside atol + rtol * |numeric| (> 0: fails; a NaN on one side only: inf)."""
    excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    return np.where(np.isnan(analytic) != np.isnan(numeric), np.inf, np.nan_to_num(excess, nan=0.0))


def _check_jacobian(fn, xs, checked, i, out_shape, numeric_jacobian, atol, rtol):
    """Compare input i's analytic Jacobian (one backward per output element) with the numeric one
    entry by entry; raise GradcheckError for the worst entry (or return if every entry passes)."""
    n_out = numeric_jacobian.shape[0]
    analytic_jacobian = np.empty_like(numeric_jacobian)
    for j in range(n_out):
        one_hot = np.zeros(n_out)
        one_hot[j] = 1.0
        analytic_jacobian[j] = _analytic_vjp(fn, xs, checked, one_hot.reshape(out_shape))[i].reshape(-1)
    excess = _excess(analytic_jacobian, numeric_jacobian, atol, rtol)
    if excess.max(initial=0.0) <= 0:
        return
    j, k = np.unravel_index(int(np.argmax(excess)), excess.shape)
    x = xs[i]
    element = _index(np.unravel_index(k, x.shape))
    value = float(x.data.reshape(-1)[k])
    failing = int((excess > 0).sum())
    if n_out == 1:  # a scalar output: the plain partial derivative
        where, partial = "", f"∂out/∂x{_brackets(element)}"
    else:
        output = _index(np.unravel_index(j, out_shape))
        where, partial = f", output element {output}", f"∂out{_brackets(output)}/∂x{_brackets(element)}"
    raise GradcheckError(
        f"gradcheck failed for input {i} at element {element} (value {value:.8g}){where}: "
        f"analytic {analytic_jacobian[j, k]:.8g}, numeric {numeric_jacobian[j, k]:.8g} for {partial} "
        f"({failing} of {excess.size} Jacobian entries outside atol + rtol * |numeric|)")


def _index(index):
    """A NumPy index as the tuple a learner types: (1, 2), (3,) or () for a 0-d tensor."""
    return tuple(int(k) for k in index)


def _brackets(index):
    """(1, 2) -> "[1, 2]" (how the partial derivative's subscript is written)."""
    return "[" + ", ".join(map(str, index)) + "]"
