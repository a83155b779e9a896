"""The product reduction, prod(x, axis=None, keepdims=False), with exact gradients at zeros.

The textbook gradient dL/dx_i = dL/dy * y / x_i divides by zero when x_i = 0. The derivative of a
product by one factor is the product of the others, so, per reduced slice:
    no zero:         ∂y/∂x_i = y / x_i
    exactly one zero, at k:  ∂y/∂x_k = Π_{j≠k} x_j  (the product of the nonzero elements), 0 elsewhere
                     (every other product still contains the zero x_k)
    two or more zeros: 0 everywhere (every product of all but one still contains a zero)
These are PyTorch's values too.
"""

from minidl.arguments import exact_tensor_argument
from minidl.autograd import Function
from minidl.ops.broadcast import kept_dims_shape, normalize_axes


class Prod(Function):
    """y = Π x over axes;   dL/dx_i = dL/dy * Π_{j≠i} x_j.

    That is y / x_i in a slice without zeros; the module docstring gives slices with zeros.   Saves x."""

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        self.saved = (x,)
        return x.prod(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        (x,) = self.saved
        xp = self.xp
        zero = x == 0
        n_zeros = zero.sum(axis=self.axes, keepdims=True)
        nonzero_x = xp.where(zero, 1, x)
        product_of_nonzeros = nonzero_x.prod(axis=self.axes, keepdims=True)
        dy_dx = xp.where(n_zeros == 0, product_of_nonzeros / nonzero_x,               # no zero: y / x_i
                         xp.where(zero & (n_zeros == 1), product_of_nonzeros, 0))      # one zero: at it only
        if not self.keepdims:
            gy = gy.reshape(kept_dims_shape(x.shape, self.axes))
        return (gy * dy_dx).astype(x.dtype, copy=False)


def prod(x, axis=None, keepdims=False):
    """Product of the elements over `axis` (None: all; an int or a tuple), NumPy's semantics."""
    x = exact_tensor_argument("prod", "x", x)
    return Prod(normalize_axes(axis, x.ndim, "prod"), keepdims)(x)
