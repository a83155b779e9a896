"""Softmax, log-softmax and log-sum-exp over a short last axis, on the CPU.

NumPy reduces a short last axis one row at a time (~40 ns a row: 37 µs for the row maxima of a
(512, 10) array); over the first axis of a transposed copy the same reduction is C contiguous passes
(5 µs, the copy included). Where the last axis has at most `tuning.short_axis` elements and there are
at least `tuning.short_axis_rows` rows, these siblings reduce that way. Same values and gradients as
the references Softmax, LogSoftmax (minidl/ops/activation.py) and LogSumExp (minidl/ops/reduction.py).
"""

from minidl.ops.activation import LogSoftmax, Softmax
from minidl.ops.reduction import LogSumExp


def reduce_last_axis(xp, x, method):
    """x.<method>(axis=-1, keepdims=True) ("max" or "sum"), reduced over the first axis of xᵀ."""
    by_columns = xp.ascontiguousarray(x.T)  # no copy when x is column-major
    return getattr(by_columns, method)(axis=0).T[..., None]


def _short_last_axis(backend, x_shape, axes):
    """True on the CPU (a backend with `tuning`) for a reduction over a short last axis of many rows."""
    tuning = getattr(backend, "tuning", None)
    last = len(x_shape) - 1
    if tuning is None or axes != (last,) or last == 0:
        return False
    size = 1
    for d in x_shape:
        size *= d
    return 0 < x_shape[last] <= tuning.short_axis and size >= tuning.short_axis_rows * x_shape[last]


class SoftmaxShortAxis(Softmax):
    """y = exp(x - max) / Σ exp(x - max) along the last axis;   dL/dx = y * (dL/dy - Σ(dL/dy * y))   (short axis)"""

    name = "Softmax"  # the op it computes, as graphs, traces and parity show it

    applies = staticmethod(_short_last_axis)

    def forward(self, x):
        xp = self.xp
        e = xp.exp(x - reduce_last_axis(xp, x, "max"))
        y = e / reduce_last_axis(xp, e, "sum")
        self.saved = (y,)
        return y

    def backward(self, gy):
        (y,) = self.saved
        return y * (gy - reduce_last_axis(self.xp, gy * y, "sum"))


class LogSoftmaxShortAxis(LogSoftmax):
    """y = x - logsumexp(x) along the last axis;   dL/dx = dL/dy - softmax(x) * Σ dL/dy   (short axis, CPU)"""

    name = "LogSoftmax"  # the op it computes, as graphs, traces and parity show it

    applies = staticmethod(_short_last_axis)

    def forward(self, x):
        xp = self.xp
        shifted = x - reduce_last_axis(xp, x, "max")
        y = shifted - xp.log(reduce_last_axis(xp, xp.exp(shifted), "sum"))
        self.saved = (y,)
        return y

    def backward(self, gy):
        (y,) = self.saved
        return gy - self.xp.exp(y) * reduce_last_axis(self.xp, gy, "sum")


class LogSumExpShortAxis(LogSumExp):
    """y = m + log Σ exp(x - m), m = max x, along the last axis;   dL/dx = dL/dy * exp(x - y)   (short axis, CPU)"""

    name = "LogSumExp"  # the op it computes, as graphs, traces and parity show it

    applies = staticmethod(_short_last_axis)

    def forward(self, x):
        xp = self.xp
        self.in_shape = x.shape
        m = reduce_last_axis(xp, x, "max")
        m = xp.where(xp.isfinite(m), m, 0)  # all -inf (or inf) rows: avoid inf - inf
        y = m + xp.log(reduce_last_axis(xp, xp.exp(x - m), "sum"))
        self.saved = (x, y)
        return y if self.keepdims else y[..., 0]
