"""2-d convolution (cross-correlation, as PyTorch's conv2d) via im2col and one matrix product.

im2col copies every kh×kw window of the padded input into one column of a matrix, so that the whole
convolution is one matrix product with the flattened weight. Backward is two more matrix products
and col2im, which adds each column back onto the window it came from (kh*kw strided slice-adds).
"""

import numbers

from minidl.autograd import Function
from minidl.errors import ArgumentError, DTypeError, ShapeError


def _pair(value, name, op="conv2d", minimum=0):
    """An int or a pair of ints -> a pair of ints (>= minimum)."""
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


def window(a, i, j, stride, out_hw):
    """The elements at offset (i, j) of every window of a (..., Hp, Wp): a strided slice (..., Ho, Wo)."""
    (sh, sw), (ho, wo) = stride, out_hw
    return a[..., i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]


class Conv2d(Function):
    """y[n, o] = Σ_c,i,j w[o, c, i, j] * xpad[n, c, r*sh + i, s*sw + j] + b[o]   (as one matrix product):

        cols = im2col(xpad): (C*kh*kw, positions),   Y = W @ cols,   W = w as (O, C*kh*kw)
        dL/dW = dY @ colsᵀ,   dL/db = Σ dY over N, Ho, Wo,   dL/dx = col2im(Wᵀ @ dY)
    Saves the columns and the weight.

    Layout (stride 1, the common case): "wide rows". With the image flattened to H*W, the window
    offset (i, j) of output position (r, s) reads element (r*W + s) + (i*W + j): one shift for every
    position. So im2col, for each offset, copies one contiguous run of L = (Ho-1)*W + Wo elements per
    image and channel (positions p = r*W + s, s running over the full width W), and col2im adds one such
    run back per offset. The W - Wo extra columns per row are junk in forward (dropped when the output
    is extracted) and exact zeros in backward (dY is zero there, so they add nothing). Compared with
    (C, kh, kw, N, Ho, Wo) columns, whose innermost runs are Wo elements long, this does 1.2-1.5x the
    matrix-product work but makes im2col ~3x and col2im ~4x faster (NumPy pays per inner loop).
    The columns are built a few images at a time (CHUNK_BYTES: they stay in cache) and not saved:
    backward builds them again, chunk by chunk, for dL/dW (saves the padded input and the weight).
    Columns of a whole batch are tens of MB: writing them out and reading them back from memory cost
    more than building them twice in cache. Other strides use (C, kh, kw, N, Ho, Wo) columns, saved.
    """

    CHUNK_BYTES = 2 << 20  # the stride-1 path builds this many bytes of columns at a time

    def __init__(self, stride, padding):
        self.stride, self.padding = stride, padding

    def forward(self, x, w, b=None):
        if self.stride == (1, 1):
            return self._forward_wide(x, w, b)
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

    def _chunks(self, n, k, length, itemsize):
        step = max(1, self.CHUNK_BYTES // (k * length * itemsize))
        return [(start, min(step, n - start)) for start in range(0, n, step)]

    def _columns(self, xpad, start, m, kernel):
        """im2col of images [start, start + m): cols[c, i, j, n, p] = xflat[n, c, p + i*W + j], as
        (C*kh*kw, m*L): one strided view of the input, one copy (split across threads)."""
        xp, backend = self.xp, self.backend
        c, hp, wp = xpad.shape[1:]
        kh, kw = kernel
        length = (hp - kh) * wp + wp - kw + 1
        it = xpad.itemsize
        windows = backend.strided_view(xpad[start:start + m], (c, kh, kw, m, length),
                                       (hp * wp * it, wp * it, it, c * hp * wp * it, it))
        cols = xp.empty((c, kh, kw, m, length), dtype=xpad.dtype)
        backend.parallel(lambda a, e: xp.copyto(cols[:, :, :, a:e], windows[:, :, :, a:e]), m, cols.size)
        return cols.reshape(c * kh * kw, m * length)

    def _forward_wide(self, x, w, b):
        xp, backend = self.xp, self.backend
        n, c = x.shape[:2]
        o, _, kh, kw = w.shape
        xpad = xp.ascontiguousarray(pad_spatial(xp, x, self.padding))
        hp, wp = xpad.shape[2:]
        ho, wo = hp - kh + 1, wp - kw + 1
        length = (ho - 1) * wp + wo  # positions p = r*W + s, up to the last real output
        k = c * kh * kw
        it = xpad.itemsize
        w2 = w.reshape(o, k)
        y = xp.empty((n, o, ho, wo), dtype=x.dtype)
        bias = None if b is None else b.reshape(1, o, 1, 1)
        chunks = self._chunks(n, k, length, it)

        def run(first, last):  # chunks [first, last): im2col, product, output (one thread's share)
            for start, m in chunks[first:last]:
                cols = self._columns(xpad, start, m, (kh, kw))
                if k <= 32:  # few rows: OpenBLAS does better with one small product per image: (m, O, L)
                    yw = xp.matmul(w2, cols.reshape(k, m, length).transpose(1, 0, 2))
                    real = backend.strided_view(yw, (m, o, ho, wo), (o * length * it, length * it, wp * it, it))
                else:        # one product, giving (O, m, L)
                    yw = w2 @ cols
                    real = backend.strided_view(yw, (o, m, ho, wo), (m * length * it, length * it, wp * it, it))
                    real = real.transpose(1, 0, 2, 3)
                if bias is None:
                    xp.copyto(y[start:start + m], real)
                else:
                    xp.add(real, bias, out=y[start:start + m])

        backend.parallel_blocks(run, len(chunks), n * k * length)
        self.saved = (xpad, w)
        self.shapes = (x.shape, xpad.shape, (ho, wo))
        return y

    def backward(self, gy):
        if self.stride == (1, 1):
            return self._backward_wide(gy)
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

    def _backward_wide(self, gy):
        """dL/dW from columns rebuilt chunk by chunk; dL/dx by col2im on whole image planes: dY is
        widened to every position of the padded plane (p < H*W, zero where no output is), so that the
        columns Wᵀ @ dY of one offset (i, j) and one channel are a single contiguous run over all images
        of the chunk, added at shift i*W + j into a channel-major (C, N*H*W) gradient (~50x fewer NumPy
        inner loops than adding rows of L; the price is ~1.5x the work in the product Wᵀ @ dY). Each
        chunk's adds stop where its last image's (zero) columns would spill into the next chunk, so chunks
        run on separate threads without touching each other's images."""
        xp, backend = self.xp, self.backend
        xpad, w = self.saved
        (n, c, h, wd), (_, _, hp, wp), (ho, wo) = self.shapes
        o, _, kh, kw = w.shape
        k = c * kh * kw
        plane = hp * wp
        length = (ho - 1) * wp + wo
        it = gy.itemsize
        needs = self.needs_grad
        w2 = w.reshape(o, k)
        gxc = xp.zeros((c, n * plane), dtype=gy.dtype) if needs[0] else None  # channel-major dL/dx
        chunks = self._chunks(n, k, plane if needs[0] else length, it)
        partial_gw = {}

        def run(first, last):  # chunks [first, last): one thread's share
            gwt = xp.zeros((k, o), dtype=gy.dtype) if needs[1] else None  # its part of dL/dWᵀ
            for start, m in chunks[first:last]:
                gyt = gy[start:start + m].transpose(1, 0, 2, 3)
                if needs[1]:  # dL/dWᵀ += cols @ dYᵀ (the faster operand order in OpenBLAS), dY as (O, m*L)
                    g = self._widen(gyt, (o, m, length), (ho, wo), wp)
                    gwt += self._columns(xpad, start, m, (kh, kw)) @ g.reshape(o, m * length).T
                if needs[0]:
                    g = self._widen(gyt, (o, m, plane), (ho, wo), wp)
                    gcols = (w2.T @ g.reshape(o, m * plane)).reshape(c, kh, kw, m * plane)
                    for i in range(kh):  # one contiguous add per offset (and channel)
                        for j in range(kw):
                            shift = i * wp + j
                            # the last `shift` columns would land on the next chunk's images: they are
                            # zeros (no output reads that far), so they are left out; chunks never overlap
                            at = start * plane + shift
                            gxc[:, at:at + m * plane - shift] += gcols[:, i, j, :m * plane - shift]
            partial_gw[first] = gwt

        backend.parallel_blocks(run, len(chunks), n * k * plane)
        gwt = None
        for part in partial_gw.values():
            gwt = part if gwt is None else gwt + part
        gx = gw = gb = None
        if needs[0]:
            gpad = gxc[:, :n * plane].reshape(c, n, hp, wp)
            ph, pw = self.padding
            gx = xp.ascontiguousarray(gpad[:, :, ph:ph + h, pw:pw + wd].transpose(1, 0, 2, 3))
        if needs[1]:
            gw = gwt.T.reshape(w.shape)
        if len(needs) > 2 and needs[2]:
            gb = gy.sum(axis=(0, 2, 3))
        return (gx, gw) if len(needs) == 2 else (gx, gw, gb)

    def _widen(self, gyt, shape, out_hw, wp):
        """dY (O, m, Ho, Wo) into a zeroed (O, m, P) array at positions r*W + s: the wide layout."""
        xp, backend = self.xp, self.backend
        o, m, positions = shape
        ho, wo = out_hw
        it = gyt.itemsize
        g = xp.zeros(shape, dtype=gyt.dtype)
        real = backend.strided_view(g, (o, m, ho, wo), (m * positions * it, positions * it, wp * it, it),
                                    writeable=True)
        backend.parallel(lambda a, e: xp.copyto(real[:, a:e], gyt[:, a:e]), m, g.size)
        return g


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
