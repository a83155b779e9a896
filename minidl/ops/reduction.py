"""Reductions: sum, mean, max, min, var, logsumexp (differentiable); argmax, argmin (not).

`axis` is None (all axes), an int or a tuple of ints; `keepdims` as in NumPy. Each backward first
puts the reduced axes back (size 1), then broadcasts the gradient over them.
"""

import numbers

from minidl.arguments import tensor_argument
from minidl.autograd import Function
from minidl.errors import ArgumentTypeError, ShapeError
from minidl.ops import fast
from minidl.ops.broadcast import kept_dims_shape, normalize_axes
from minidl.tensor import Tensor


class _Reduction(Function):
    """y = reduce(x, axes);   dL/dx = dL/dy broadcast back over the reduced axes (times each subclass's ∂y/∂x).

    Shared set-up: the axes reduced and the input shape, and how to undo the reduction's shape."""

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def expand(self, gy):
        """dL/dy with the reduced axes put back as size 1, ready to broadcast against the input."""
        return gy if self.keepdims else gy.reshape(kept_dims_shape(self.in_shape, self.axes))

    def count(self):
        """How many input elements went into each output element."""
        n = 1
        for a in self.axes:
            n *= self.in_shape[a]
        return n


class Sum(_Reduction):
    """y = Σ x over axes;   dL/dx = dL/dy broadcast back to x's shape."""

    def forward(self, x):
        self.in_shape = x.shape
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        return self.xp.broadcast_to(self.expand(gy), self.in_shape)


def sum(x, axis=None, keepdims=False):
    x = tensor_argument("sum", "x", x)
    return Sum(normalize_axes(axis, x.ndim, "sum"), keepdims)(x)


class Mean(_Reduction):
    """y = Σ x / n over axes;   dL/dx = dL/dy / n broadcast back to x's shape."""

    def forward(self, x):
        self.in_shape = x.shape
        return x.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        return self.xp.broadcast_to(self.expand(gy) / self.count(), self.in_shape)


def mean(x, axis=None, keepdims=False):
    x = tensor_argument("mean", "x", x)
    return Mean(normalize_axes(axis, x.ndim, "mean"), keepdims)(x)


class Max(_Reduction):
    """y = max of x over axes;   dL/dx = dL/dy at the maximum (shared equally among ties), else 0.

    Saves x and y."""

    find = "max"

    def forward(self, x):
        self.in_shape = x.shape
        y = getattr(x, self.find)(axis=self.axes, keepdims=True)
        self.saved = (x, y)
        return y if self.keepdims else y.reshape(tuple(n for i, n in enumerate(x.shape) if i not in self.axes))

    def backward(self, gy):
        x, y = self.saved
        at_extreme = x == y
        ties = at_extreme.sum(axis=self.axes, keepdims=True).astype(gy.dtype)
        return at_extreme * (self.expand(gy) / ties)


class Min(Max):
    """y = min of x over axes;   dL/dx = dL/dy at the minimum (shared equally among ties), else 0."""

    find = "min"


def _nonempty_axes(name, x, axis):
    """normalize_axes, plus: max, min, argmax and logsumexp of an empty axis have no value (NumPy refuses)."""
    axes = normalize_axes(axis, x.ndim, name)
    if x.size == 0 and any(x.shape[a] == 0 for a in axes):
        over = "all axes" if axis is None else f"axis {axis!r}"
        raise ShapeError(f"{name} of an empty axis: the tensor has shape {x.shape}, reduced over {over} "
                         f"(sum and mean of empty axes are defined, {name} is not)")
    return axes


def max(x, axis=None, keepdims=False):
    """Largest values over `axis` (values only, as NumPy's max)."""
    x = tensor_argument("max", "x", x)
    return Max(_nonempty_axes("max", x, axis), keepdims)(x)


def min(x, axis=None, keepdims=False):
    """Smallest values over `axis` (values only, as NumPy's min)."""
    x = tensor_argument("min", "x", x)
    return Min(_nonempty_axes("min", x, axis), keepdims)(x)


class Var(_Reduction):
    """y = Σ (x - mean)² / (n - ddof);   dL/dx = dL/dy * 2 (x - mean) / (n - ddof).   Saves x - mean."""

    def __init__(self, axes, ddof, keepdims):
        super().__init__(axes, keepdims)
        self.ddof = ddof

    def forward(self, x):
        self.in_shape = x.shape
        centered = x - x.mean(axis=self.axes, keepdims=True)
        self.saved = (centered,)
        return (centered * centered).sum(axis=self.axes, keepdims=self.keepdims) / (self.count() - self.ddof)

    def backward(self, gy):
        (centered,) = self.saved
        return self.expand(gy) * centered * (2 / (self.count() - self.ddof))


def var(x, axis=None, ddof=0, keepdims=False):
    """Variance over `axis`, dividing by n - ddof (NumPy's default ddof=0: the biased estimate)."""
    x = tensor_argument("var", "x", x)
    return Var(normalize_axes(axis, x.ndim, "var"), ddof, keepdims)(x)


class LogSumExp(_Reduction):
    """y = log Σ exp(x);   dL/dx = dL/dy * exp(x - y) = dL/dy * softmax(x)

    Computed as m + log Σ exp(x - m) with m = max x (no overflow). Saves x and y."""

    def forward(self, x):
        xp = self.xp
        self.in_shape = x.shape
        m = x.max(axis=self.axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)  # all -inf (or inf) rows: avoid inf - inf
        y = m + xp.log(xp.exp(x - m).sum(axis=self.axes, keepdims=True))
        self.saved = (x, y)
        return y if self.keepdims else y.reshape(tuple(n for i, n in enumerate(x.shape) if i not in self.axes))

    def backward(self, gy):
        x, y = self.saved
        return self.expand(gy) * self.xp.exp(x - y)


def logsumexp(x, axis=None, keepdims=False):
    x = tensor_argument("logsumexp", "x", x)
    axes = _nonempty_axes("logsumexp", x, axis)
    return (fast.choose("logsumexp", x._backend, x_shape=x.shape, axes=axes) or LogSumExp)(axes, keepdims)(x)


def _arg(name, x, axis, keepdims):
    x = tensor_argument(name, "x", x)
    if axis is not None and not isinstance(axis, numbers.Integral):
        raise ArgumentTypeError(f"{name}: axis must be a single int or None, got {axis!r}")
    axes = _nonempty_axes(name, x, axis)
    if axis is not None:
        axis = axes[0] if axes else None  # axis 0 of a 0-d tensor: the tensor itself (as NumPy)
    result = getattr(x.data, name)(axis=axis, keepdims=keepdims)
    return Tensor._make(x._backend.xp.asarray(result, dtype="int64"), x._backend, False, None)


def argmax(x, axis=None, keepdims=False):
    """Indices of the largest values (int64, no gradient); over the flattened tensor when axis is None."""
    return _arg("argmax", x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    """Indices of the smallest values (int64, no gradient)."""
    return _arg("argmin", x, axis, keepdims)
