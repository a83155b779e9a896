"""Activations: relu, leaky_relu, sigmoid, tanh, and the fused, stable softmax and log_softmax.

These are the references; fast siblings (a compiled ReLU backward on the GPU, softmax over a short last
axis on the CPU) are in minidl/ops/fast/, chosen by `fast.choose` in the functions below.
"""

from minidl.arguments import tensor_argument
from minidl.autograd import Function
from minidl.ops import fast
from minidl.habits import keyword_error
from minidl.ops.broadcast import normalize_axes


class ReLU(Function):
    """y = max(x, 0);   dL/dx = dL/dy where x > 0, else 0.   Saves y (y > 0 exactly where x > 0)."""

    def forward(self, x):
        y = self.xp.maximum(x, 0)
        self.saved = (y,)
        return y

    def backward(self, gy):
        (y,) = self.saved
        return gy * (y > 0)


def relu(x):
    x = tensor_argument("relu", "x", x)
    return (fast.choose("relu", x._backend) or ReLU)()(x)


class LeakyReLU(Function):
    """y = x if x > 0 else s*x;   dL/dx = dL/dy * (1 if x > 0 else s).   Saves x."""

    def __init__(self, negative_slope=0.01):
        self.slope = negative_slope

    def forward(self, x):
        self.saved = (x,)
        return self.xp.where(x > 0, x, x * self.slope)

    def backward(self, gy):
        (x,) = self.saved
        return self.xp.where(x > 0, gy, gy * self.slope)


def leaky_relu(x, negative_slope=0.01):
    return LeakyReLU(negative_slope)(x)


def stable_sigmoid(xp, x):
    """1 / (1 + exp(-x)) for an array x, without overflow: exp(-|x|) is in (0, 1]."""
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x)), computed without overflow;   dL/dx = dL/dy * y * (1 - y).   Saves y."""

    def forward(self, x):
        y = stable_sigmoid(self.xp, x)
        self.saved = (y,)
        return y

    def backward(self, gy):
        (y,) = self.saved
        return gy * y * (1 - y)


def sigmoid(x):
    return Sigmoid()(x)


class Tanh(Function):
    """y = tanh(x);   dL/dx = dL/dy * (1 - y²).   Saves y."""

    def forward(self, x):
        y = self.xp.tanh(x)
        self.saved = (y,)
        return y

    def backward(self, gy):
        (y,) = self.saved
        return gy * (1 - y * y)


def tanh(x):
    return Tanh()(x)


class Softmax(Function):
    """y = exp(x - max) / Σ exp(x - max) along `axis`;   dL/dx = y * (dL/dy - Σ(dL/dy * y)).   Saves y."""

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        if x.size == 0:  # an empty axis has no max to shift by: an empty result, as PyTorch's
            self.saved = (x,)
            return x.copy()
        e = self.xp.exp(x - x.max(axis=self.axis, keepdims=True))
        y = e / e.sum(axis=self.axis, keepdims=True)
        self.saved = (y,)
        return y

    def backward(self, gy):
        (y,) = self.saved
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))


def softmax(x, axis=-1, **torch_keywords):
    if torch_keywords:  # F.softmax(x, dim=1): PyTorch's keyword, answered with NumPy's
        raise keyword_error("softmax", torch_keywords)
    x = tensor_argument("softmax", "x", x)
    axes = normalize_axes(axis, x.ndim, "softmax")
    return (fast.choose("softmax", x._backend, x_shape=x.shape, axes=axes) or Softmax)(axes)(x)


class LogSoftmax(Function):
    """y = x - logsumexp(x) along `axis`;   dL/dx = dL/dy - softmax(x) * Σ dL/dy.   Saves y."""

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        xp = self.xp
        if x.size == 0:  # an empty axis has no max to shift by: an empty result, as PyTorch's
            self.saved = (x,)
            return x.copy()
        shifted = x - x.max(axis=self.axis, keepdims=True)
        y = shifted - xp.log(xp.exp(shifted).sum(axis=self.axis, keepdims=True))
        self.saved = (y,)
        return y

    def backward(self, gy):
        (y,) = self.saved
        return gy - self.xp.exp(y) * gy.sum(axis=self.axis, keepdims=True)


def log_softmax(x, axis=-1, **torch_keywords):
    if torch_keywords:  # F.log_softmax(x, dim=1): PyTorch's keyword, answered with NumPy's
        raise keyword_error("log_softmax", torch_keywords)
    x = tensor_argument("log_softmax", "x", x)
    axes = normalize_axes(axis, x.ndim, "log_softmax")
    return (fast.choose("log_softmax", x._backend, x_shape=x.shape, axes=axes) or LogSoftmax)(axes)(x)
