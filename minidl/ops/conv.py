"""2-d convolution (cross-correlation, as PyTorch's conv2d) via im2col and one matrix product.

im2col copies every kh×kw window of the padded input into one column of a matrix, so that the whole
convolution is one matrix product with the flattened weight. Backward is two more matrix products
and col2im, which adds each column back onto the window it came from (kh*kw strided slice-adds).

This is the reference: it runs on every backend. Faster siblings (row-blocked columns on the CPU, one
scatter-add col2im on the GPU) are in minidl/ops/fast/, chosen by `fast.choose` in `conv2d` below.
"""

import numbers

from minidl.arguments import as_tensor_arguments
from minidl.autograd import Function
from minidl.errors import ArgumentError, DTypeError, ShapeError
from minidl.ops import fast


def int_pair(value, name, op="conv2d", minimum=0):
    """An int or a pair of ints -> a pair of ints (>= minimum): 3 -> (3, 3) for a kernel, stride, padding.
    (Not `as_tensor_pair` in ops/elementwise.py, which turns a binary op's two operands into Tensors.)"""
    pair = (value, value) if isinstance(value, numbers.Integral) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in pair) \
            or min(pair) < minimum:
        raise ArgumentError(f"{op}: {name} must be an int or a pair of ints >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def pad_spatial(xp, x, padding, fill=0):
    """x (N, C, H, W) with `padding` (ph, pw) rows/columns of `fill` around H and W (a copy)."""
    ph, pw = padding
    if not ph and not pw:
        return x
    n, c, h, w = x.shape
    padded = xp.full((n, c, h + 2 * ph, w + 2 * pw), fill, dtype=x.dtype)
    padded[:, :, ph:ph + h, pw:pw + w] = x
    return padded


def crop_spatial(gpad, padding, x_shape):
    """The inverse of pad_spatial for gradients: gpad (N, C, Hp, Wp) without its `padding` rows and
    columns, as x_shape (N, C, H, W) (a view)."""
    (ph, pw), (h, w) = padding, x_shape[2:]
    return gpad[:, :, ph:ph + h, pw:pw + w] if (ph or pw) else gpad


def window(a, i, j, stride, out_hw):
    """The elements at offset (i, j) of every window of a (..., Hp, Wp): a strided slice (..., Ho, Wo)."""
    (sh, sw), (ho, wo) = stride, out_hw
    return a[..., i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]


def im2col(backend, xpad, kernel_size, stride):
    """Every kh×kw window of xpad (N, C, Hp, Wp) as a column: (C*kh*kw, N*Ho*Wo), and (Ho, Wo).
    Row (c, i, j), column (n, r, s) holds xpad[n, c, r*sh + i, s*sw + j]."""
    windows = backend.sliding_windows(xpad, kernel_size, stride)  # (N, C, kh, kw, Ho, Wo), a view
    n, c, kh, kw, ho, wo = windows.shape
    cols = backend.xp.ascontiguousarray(windows.transpose(1, 2, 3, 0, 4, 5))  # (C, kh, kw, N, Ho, Wo)
    return cols.reshape(c * kh * kw, n * ho * wo), (ho, wo)


def col2im(xp, windows, padded_shape, stride):
    """The transpose of the window view: a zero array of padded_shape (N, C, Hp, Wp) with every element
    of windows (N, C, kh, kw, Ho, Wo) added back where it was read (overlapping windows add up)."""
    kh, kw, ho, wo = windows.shape[2:]
    grad = xp.zeros(padded_shape, dtype=windows.dtype)
    for i in range(kh):
        for j in range(kw):
            target = window(grad, i, j, stride, (ho, wo))
            target += windows[:, :, i, j]
    return grad


class Conv2d(Function):
    """Y = W @ cols + b;   dL/dW = dY @ colsᵀ,   dL/db = Σ dY,   dL/dx = col2im(Wᵀ @ dY)

    y[n, o, r, s] = Σ_c,i,j w[o, c, i, j] * xpad[n, c, r*sh + i, s*sw + j] + b[o] as one matrix product:
    cols = im2col(xpad) (C*kh*kw, N*Ho*Wo), W = w as (O, C*kh*kw), Y and dY = dL/dy as (O, N*Ho*Wo).
    Saves the columns and the weight.
    """

    def __init__(self, stride, padding):
        self.stride, self.padding = stride, padding

    def forward(self, x, w, b=None):
        n, o = x.shape[0], w.shape[0]
        xpad = pad_spatial(self.xp, x, self.padding)
        cols, (ho, wo) = im2col(self.backend, xpad, w.shape[2:], self.stride)
        y = w.reshape(o, -1) @ cols                                   # (O, N*Ho*Wo)
        if b is not None:
            y += b.reshape(o, 1)
        self.saved = (cols, w)
        self.shapes = (x.shape, xpad.shape)
        return self.xp.ascontiguousarray(y.reshape(o, n, ho, wo).transpose(1, 0, 2, 3))  # (N, O, Ho, Wo)

    def backward(self, gy):
        cols, w = self.saved
        x_shape, padded_shape = self.shapes
        n, o, ho, wo = gy.shape
        gy2 = gy.transpose(1, 0, 2, 3).reshape(o, n * ho * wo)      # dY (O, N*Ho*Wo)
        gx = gw = gb = None
        if self.needs_grad[0]:
            gcols = (w.reshape(o, -1).T @ gy2).reshape(x_shape[1], *w.shape[2:], n, ho, wo)  # (C, kh, kw, N, Ho, Wo)
            gpad = col2im(self.xp, gcols.transpose(3, 0, 1, 2, 4, 5), padded_shape, self.stride)
            gx = crop_spatial(gpad, self.padding, x_shape)
        if self.needs_grad[1]:
            gw = (gy2 @ cols.T).reshape(w.shape)
        if len(self.needs_grad) > 2 and self.needs_grad[2]:
            gb = gy2.sum(axis=1)
        return (gx, gw) if len(self.needs_grad) == 2 else (gx, gw, gb)


def conv2d(x, w, b=None, stride=1, padding=0):
    """2-d convolution (PyTorch's conv2d, a cross-correlation) of x (N, C, H, W) with w (O, C, kh, kw).

    b: optional bias (O,). stride, padding: an int or a pair (rows, columns); zero padding.
    Returns (N, O, Ho, Wo) with Ho = (H + 2*ph - kh) // sh + 1 (Wo alike).
    """
    x, w, b = as_tensor_arguments("conv2d", ("x", "w", "b"), (x, w, b), required=("x", "w"))
    stride, padding = check_conv2d(x, w, b, stride, padding)
    op = fast.choose("conv2d", x._backend, stride=stride) or Conv2d
    fn = op(stride, padding)
    return fn(x, w) if b is None else fn(x, w, b)


def check_conv2d(x, w, b, stride, padding):
    """conv2d's arguments checked (a clear error for each mistake); returns stride and padding as pairs."""
    stride = int_pair(stride, "stride", minimum=1)
    padding = int_pair(padding, "padding")
    if x.ndim != 4:
        raise ShapeError(f"conv2d: expected input of shape (N, C, H, W), got shape {x.shape}")
    if w.ndim != 4:
        raise ShapeError(f"conv2d: expected weight of shape (out_channels, in_channels, kh, kw), got shape {w.shape}")
    if x.shape[1] != w.shape[1]:
        raise ShapeError(f"conv2d: input has {x.shape[1]} channels (shape {x.shape}) but the weight expects "
                         f"{w.shape[1]} input channels (weight shape {w.shape} is (out, in, kh, kw))")
    if b is not None and b.shape != (w.shape[0],):
        raise ShapeError(f"conv2d: bias must have shape ({w.shape[0]},) (one per output channel), got {b.shape}")
    for name, t in (("input", x), ("weight", w), ("bias", b)):
        if t is not None and t.dtype.kind != "f":
            raise DTypeError(f"conv2d: {name} must be floating point, got {t.dtype}")
    if w.dtype != x.dtype or (b is not None and b.dtype != x.dtype):
        raise DTypeError(f"conv2d: input ({x.dtype}), weight ({w.dtype})"
                         f"{'' if b is None else f' and bias ({b.dtype})'} must have one dtype; convert with .astype")
    h, wd = x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1]
    if h < w.shape[2] or wd < w.shape[3]:
        raise ShapeError(f"conv2d: kernel {w.shape[2]}x{w.shape[3]} is larger than the padded input "
                         f"{h}x{wd} (input shape {x.shape}, padding {padding})")
    return stride, padding
