"""Inverted dropout: zero each element with probability p while training, scale the rest by 1/(1-p).

Scaling at training time keeps every element's expected value, so evaluation is the identity.
"""

import numbers

from minidl.arguments import tensor_argument
from minidl.autograd import Function
from minidl.errors import ArgumentError, DTypeError


class Dropout(Function):
    """y = x * mask / (1 - p),  mask ~ Bernoulli(1 - p) elementwise;   dL/dx = dL/dy * mask / (1 - p).
    The mask comes from the device's seeded generator (`mdl.manual_seed`). Saves the scaled mask."""

    def __init__(self, p):
        self.p = p

    def forward(self, x):
        keep = self.backend.bernoulli(x.shape, 1.0 - self.p)
        scaled_mask = keep.astype(x.dtype)
        scaled_mask *= 0.0 if self.p == 1 else 1.0 / (1.0 - self.p)  # a Python float: no float64 creep
        self.saved = (scaled_mask,)
        return x * scaled_mask

    def backward(self, gy):
        (scaled_mask,) = self.saved
        return gy * scaled_mask


def dropout(x, p=0.5, training=True):
    """Inverted dropout of x with drop probability p in [0, 1]; x itself when not training or p == 0."""
    x = tensor_argument("dropout", "x", x)
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ArgumentError(f"dropout: p is the probability of zeroing an element and must be in [0, 1], got {p!r}")
    if not training or p == 0:
        return x
    if x.dtype.kind != "f":
        raise DTypeError(f"dropout: training needs a floating-point tensor (it scales by 1 / (1 - p)), got {x.dtype}")
    return Dropout(float(p))(x)
