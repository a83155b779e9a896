"""Matrix product with NumPy's matmul rules (1-d operands, broadcast batch dimensions)."""

import math

import numpy as np

from minidl.arguments import as_tensor_arguments
from minidl.autograd import Function
from minidl.errors import ShapeError
from minidl.ops import fast
from minidl.ops.broadcast import unbroadcast


class MatMul(Function):
    """y = a @ b;   dL/da = dL/dy @ bᵀ,   dL/db = aᵀ @ dL/dy   (batch axes summed back).   Saves a, b.

    A 1-d `a` acts as a row (1, k) and a 1-d `b` as a column (k, 1), as in NumPy.
    """

    def forward(self, a, b):
        self.saved = (a, b)
        return a @ b

    def backward(self, gy):
        a, b = self.saved
        xp = self.xp
        a2 = a if a.ndim > 1 else a.reshape(1, -1)
        b2 = b if b.ndim > 1 else b.reshape(-1, 1)
        g = gy  # put back the axes that 1-d operands dropped: the column's first (1-d @ 1-d gives a 0-d y)
        if b.ndim == 1:
            g = xp.expand_dims(g, -1)
        if a.ndim == 1:
            g = xp.expand_dims(g, -2)
        ga = gb = None
        if self.needs_grad[0]:
            ga = unbroadcast(g @ xp.swapaxes(b2, -1, -2), a2.shape, a.dtype).reshape(a.shape)
        if self.needs_grad[1]:
            gb = unbroadcast(xp.swapaxes(a2, -1, -2) @ g, b2.shape, b.dtype).reshape(b.shape)
        return ga, gb


def matmul(a, b):
    """Matrix product `a @ b` (NumPy's matmul semantics), with a clear error on incompatible shapes."""
    a, b = as_tensor_arguments("matmul", ("a", "b"), (a, b), required=("a", "b"))
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: operands must have at least 1 dimension, got shapes {a.shape} and {b.shape} "
                         f"(use * to multiply by a scalar)")
    k_a = a.shape[-1]
    k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if k_a != k_b:
        raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} are not aligned: the last dimension of the "
                         f"first ({k_a}) must equal the {'second-to-last' if b.ndim > 1 else 'only'} dimension "
                         f"of the second ({k_b})")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError as exc:
        raise ShapeError(f"matmul: the batch dimensions of {a.shape} and {b.shape} do not broadcast") from exc
    return MatMul()(a, b)


class Linear(Function):
    """y = x @ Wᵀ + b;   dL/dx = dL/dy @ W,   dL/dW = dL/dyᵀ @ x,   dL/db = Σ_n dL/dy.   Saves x and W.

    A fused dense layer: one node instead of transpose, matmul and add. x: (..., in), its leading axes
    taken as the rows of one (N, in) matrix (a view when x is contiguous), y: (..., out); W: (out, in),
    b: (out,) or absent. The bias is added in place into the fresh product, and dL/dyᵀ @ x is the
    faster operand order for OpenBLAS's tall-skinny product. dL/dW is written in W's memory order
    (column-major for a narrowing CPU nn.Linear: Backend.linear_weight_order), so the optimizer's passes over W,
    dL/dW and its state all run in one order.
    """

    def forward(self, x, w, b=None):
        self.x_shape = x.shape
        rows = x.reshape(math.prod(x.shape[:-1]), x.shape[-1])  # (..., in) as rows (N, in)
        self.saved = (rows, w)
        y = rows @ w.T
        if b is not None:
            y += b
        return y.reshape(*x.shape[:-1], w.shape[0])

    def backward(self, gy):
        x, w = self.saved  # x: the rows (N, in)
        needs = self.needs_grad
        gy = gy.reshape(x.shape[0], w.shape[0])
        gx = (gy @ w).reshape(self.x_shape) if needs[0] else None
        gw = None
        if needs[1]:  # written in w's memory order
            # A batch of one makes dL/dW an outer product; NumPy's matmul runs an inner dimension of 1
            # through its own slow loop (559 us for 256x784 here), a broadcast product takes 103 us.
            product = self.xp.multiply if gy.shape[0] == 1 else self.xp.matmul
            gw = product(gy.T, x, out=self.xp.empty_like(w))
        if len(needs) == 2:
            return gx, gw
        return gx, gw, (self.bias_gradient(gy) if needs[2] else None)

    def bias_gradient(self, gy):
        """dL/db = Σ_n dL/dy, the sum over the rows (fast sibling: LinearBiasGemv, a matrix-vector product)."""
        return gy.sum(axis=0)


def linear(x, weight, bias=None):
    """y = x @ weightᵀ + bias for x (..., in), weight (out, in), bias (out,) -> (..., out): one fused node
    when the shapes and dtypes allow it, else the composition of matmul and add (same values, same
    gradients)."""
    x, weight, bias = as_tensor_arguments("linear", ("x", "weight", "bias"), (x, weight, bias), ("x", "weight"))
    if (x.ndim >= 1 and weight.ndim == 2 and x.shape[-1] == weight.shape[1] and x.dtype == weight.dtype
            and x.dtype.kind == "f" and (bias is None or (bias.shape == (weight.shape[0],) and bias.dtype == x.dtype))):
        if bias is None:
            return Linear()(x, weight)
        return (fast.choose("linear", x._backend) or Linear)()(x, weight, bias)
    y = matmul(x, weight.T)
    return y if bias is None else y + bias
