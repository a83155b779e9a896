"""2-d convolution (cross-correlation, as PyTorch's conv2d) via im2col and one matrix product.

im2col copies every kh×kw window of the padded input into one column of a matrix, so that the whole
convolution is one matrix product with the flattened weight. Backward is two more matrix products
and col2im, which adds each column back onto the window it came from (kh*kw strided slice-adds).
"""

import numbers

from minidl.autograd import Function
from minidl.errors import DTypeError, ShapeError


def _pair(value, name, op="conv2d", minimum=0):
    """An int or a pair of ints -> a pair of ints (>= minimum)."""
    pair = (value, value) if isinstance(value, numbers.Integral) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in pair) \
            or min(pair) < minimum:
        raise ValueError(f"{op}: {name} must be an int or a pair of ints >= {minimum}, got {value!r}")
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


def window(a, i, j, stride, out_hw):
    """The elements at offset (i, j) of every window of a (..., Hp, Wp): a strided slice (..., Ho, Wo)."""
    (sh, sw), (ho, wo) = stride, out_hw
    return a[..., i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]


class Conv2d(Function):
    """y[n, o] = Σ_c,i,j w[o, c, i, j] * xpad[n, c, r*sh + i, s*sw + j] + b[o]   (as one matrix product):

        cols = im2col(xpad): (C*kh*kw, N*Ho*Wo),   Y = W @ cols: (O, N*Ho*Wo),  W = w as (O, C*kh*kw)
        dL/dW = dY @ colsᵀ,   dL/db = Σ dY over N, Ho, Wo,   dL/dx = col2im(Wᵀ @ dY)
    Saves the columns and the weight.
    """

    def __init__(self, stride, padding):
        self.stride, self.padding = stride, padding

    def forward(self, x, w, b=None):
        xp = self.xp
        n, c, h, wd = x.shape
        o, _, kh, kw = w.shape
        xpad = pad_spatial(xp, x, self.padding)
        windows = self.backend.sliding_windows(xpad, (kh, kw), self.stride)  # (N, C, kh, kw, Ho, Wo)
        ho, wo = windows.shape[-2:]
        # im2col: one copy into (C, kh, kw, N, Ho, Wo); the innermost run stays a row of the image.
        cols = xp.empty((c, kh, kw, n, ho, wo), dtype=x.dtype)
        xp.copyto(cols, windows.transpose(1, 2, 3, 0, 4, 5))
        cols = cols.reshape(c * kh * kw, n * ho * wo)
        w2 = w.reshape(o, c * kh * kw)
        y2 = (w2 @ cols).reshape(o, n, ho * wo)
        # Back to (N, O, Ho, Wo), adding the bias in the same pass.
        y = xp.empty((n, o, ho, wo), dtype=y2.dtype)
        if b is None:
            xp.copyto(y.reshape(n, o, ho * wo), y2.transpose(1, 0, 2))
        else:
            xp.add(y2.transpose(1, 0, 2), b.reshape(1, o, 1), out=y.reshape(n, o, ho * wo))
        self.saved = (cols, w)
        self.shapes = (x.shape, xpad.shape, (ho, wo))
        return y

    def backward(self, gy):
        xp = self.xp
        cols, w = self.saved
        (n, c, h, wd), padded_shape, (ho, wo) = self.shapes
        o, _, kh, kw = w.shape
        gy2 = xp.empty((o, n, ho * wo), dtype=gy.dtype)
        xp.copyto(gy2, gy.reshape(n, o, ho * wo).transpose(1, 0, 2))
        gy2 = gy2.reshape(o, n * ho * wo)
        gx = gw = gb = None
        if self.needs_grad[1]:
            gw = (cols @ gy2.T).T.reshape(w.shape)  # this operand order is the faster one in OpenBLAS
        if len(self.needs_grad) > 2 and self.needs_grad[2]:
            gb = gy2.sum(axis=1)
        if self.needs_grad[0]:
            gcols = (w.reshape(o, c * kh * kw).T @ gy2).reshape(c, kh, kw, n, ho, wo)
            # col2im: add each window offset's slice back where it was read from (no scatter-add).
            gpad = xp.zeros(padded_shape, dtype=gy.dtype)
            for i in range(kh):
                for j in range(kw):
                    target = window(gpad, i, j, self.stride, (ho, wo))
                    target += gcols[:, i, j].transpose(1, 0, 2, 3)
            ph, pw = self.padding
            gx = gpad[:, :, ph:ph + h, pw:pw + wd] if (ph or pw) else gpad
        return (gx, gw) if len(self.needs_grad) == 2 else (gx, gw, gb)


def conv2d(x, w, b=None, stride=1, padding=0):
    """2-d convolution (PyTorch's conv2d, a cross-correlation) of x (N, C, H, W) with w (O, C, kh, kw).

    b: optional bias (O,). stride, padding: an int or a pair (rows, columns); zero padding.
    Returns (N, O, Ho, Wo) with Ho = (H + 2*ph - kh) // sh + 1 (Wo alike).
    """
    stride = _pair(stride, "stride", minimum=1)
    padding = _pair(padding, "padding")
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
    fn = Conv2d(stride, padding)
    return fn(x, w) if b is None else fn(x, w, b)
