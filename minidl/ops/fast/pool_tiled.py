"""Max pooling on the CPU without copying the windows: two stages on long runs where the windows tile
the input (MaxPool2dTiled), a running maximum offset by offset otherwise (MaxPool2dOffsets). Same values
and gradients as the reference MaxPool2d (minidl/ops/pooling.py), ties included.

Both loop over the kh*kw offsets of a window (never over the batch): the elements at offset (i, j)
of every window form one strided slice of the padded input, so a pool is kh*kw elementwise
operations on whole arrays. (A reduction over a reshaped (..., kh, ..., kw) view is ~35x slower in
NumPy: its inner loops are only kw long.) The argmax is uint8 and is its own mask in backward.
"""

from minidl.ops.conv import crop_spatial, pad_spatial, window
from minidl.ops.pooling import MaxPool2d, _offsets


class MaxPool2dTiled(MaxPool2d):
    """y = max over each window of x;   dL/dx = dL/dy routed to the window's (first) maximum   (tiled windows, CPU)

    Windows that tile x exactly (stride = kernel, no padding, sizes divisible): the pool runs in two
    stages on long runs, the maximum over each row's kw neighbours, then over kh neighbouring rows.
    Saves the two stages' argmax (uint8), only when a gradient will be needed (keep_index).
    """

    name = "MaxPool2d"  # the op it computes, as graphs, traces and parity show it

    @staticmethod
    def applies(backend, x_shape, kernel_size, stride, padding):
        (kh, kw), (h, w) = kernel_size, x_shape[2:]
        return (not backend.launch_bound and stride == kernel_size and padding == (0, 0)
                and h % kh == 0 and w % kw == 0 and kh * kw > 1)

    def forward(self, x):
        """Max over each row's kw neighbours (views x[..., j], one long strided loop each), then over kh
        neighbouring rows (runs of Wo). The first maximum in row-major order wins: the first column
        within the first row that holds the maximum. Split along N*C across threads when large."""
        xp = self.xp
        (kh, kw), (n, c, h, w) = self.kernel_size, x.shape
        ho, wo = h // kh, w // kw
        x5 = xp.ascontiguousarray(x).reshape(n * c, ho, kh, wo, kw)
        keep = self.keep_index
        y = xp.empty((n * c, ho, wo), dtype=x.dtype)
        col = xp.empty((n * c, ho, kh, wo), dtype="uint8") if keep else None  # argmax within the row
        row = xp.empty(y.shape, dtype="uint8") if keep else None             # which row holds the maximum

        def pool(a, b):
            tiled_max(xp, x5[a:b], y[a:b], row[a:b] if keep else None, col[a:b] if keep else None)

        self.backend.parallel(pool, n * c, x.size)
        if keep:
            self.saved = (row, col)
            self.shapes = (x.shape, (ho, wo))
        return y.reshape(n, c, ho, wo)

    def backward(self, gy):
        xp = self.xp
        row, col = self.saved
        (n, c, h, w), (ho, wo) = self.shapes
        kh, kw = self.kernel_size
        g = gy.reshape(n * c, ho, wo)
        grow = xp.empty((n * c, ho, kh, wo), dtype=gy.dtype)  # dL/d(row maxima)
        gx = xp.empty((n * c, ho, kh, wo, kw), dtype=gy.dtype)

        def route(a, b):
            route_by_index(xp, g[a:b], row[a:b], [grow[a:b, :, i] for i in range(kh)])
            route_by_index(xp, grow[a:b], col[a:b], [gx[a:b, ..., j] for j in range(kw)])

        self.backend.parallel(route, n * c, gx.size)
        return gx.reshape(n, c, h, w)


class MaxPool2dOffsets(MaxPool2d):
    """y = max over each window of xpad;   dL/dx = dL/dy routed to the window's (first) maximum   (CPU)

    A running maximum over the kh*kw strided slices of xpad, one per window offset, with the argmax
    updated where an offset is strictly greater (the first maximum keeps its place). Saves the argmax
    only when a gradient will be needed (keep_index).
    """

    name = "MaxPool2d"  # the op it computes, as graphs, traces and parity show it

    @staticmethod
    def applies(backend, x_shape, kernel_size, stride, padding):
        return not backend.launch_bound

    def forward(self, x):
        xp = self.xp
        kh, kw = self.kernel_size
        xpad = pad_spatial(xp, x, self.padding, fill=-float("inf"))
        out_hw = ((xpad.shape[2] - kh) // self.stride[0] + 1, (xpad.shape[3] - kw) // self.stride[1] + 1)
        offsets = _offsets(self.kernel_size)
        y = window(xpad, 0, 0, self.stride, out_hw).copy()
        if not self.keep_index:
            for i, j in offsets[1:]:
                xp.maximum(y, window(xpad, i, j, self.stride, out_hw), out=y)
            return y
        index = xp.zeros(y.shape, dtype="uint8" if kh * kw < 256 else "int32")
        for k, (i, j) in enumerate(offsets[1:], start=1):
            v = window(xpad, i, j, self.stride, out_hw)
            xp.copyto(index, k, where=v > y)  # strictly greater: the first maximum keeps its place
            xp.maximum(y, v, out=y)
        self.saved = (index,)
        self.shapes = (x.shape, xpad.shape, out_hw)
        return y

    def backward(self, gy):
        xp = self.xp
        (index,) = self.saved
        (n, c, h, w), padded_shape, out_hw = self.shapes
        gpad = xp.zeros(padded_shape, dtype=gy.dtype)
        targets = [window(gpad, i, j, self.stride, out_hw) for i, j in _offsets(self.kernel_size)]
        if self.stride[0] < self.kernel_size[0] or self.stride[1] < self.kernel_size[1]:  # windows overlap
            for k, target in enumerate(targets):
                target += gy * (index == k)
        else:  # each input element lies in at most one window: write, do not add
            route_by_index(xp, gy, index, targets)
        return crop_spatial(gpad, self.padding, (n, c, h, w))


def route_by_index(xp, g, index, outs):
    """outs[j] = g where index == j, else 0, for each view outs[j] (index: a uint8 argmax in
    [0, len(outs)), g's shape). Two outputs take two passes: outs[1] = g * index, outs[0] = g - outs[1]
    (the index is its own mask), instead of a comparison and a product per output."""
    if len(outs) == 2:
        xp.multiply(g, index, out=outs[1])
        xp.subtract(g, outs[1], out=outs[0])
        return
    for j, out in enumerate(outs):
        xp.multiply(g, index == j, out=out)


def tiled_max(xp, x5, y, row, col):
    """y (M, Ho, Wo) = the maximum of each kh×kw tile of x5 (M, Ho, kh, Wo, kw); row (M, Ho, Wo) and
    col (M, Ho, kh, Wo), uint8 or None, = where the first maximum is. Two stages on long runs: the
    maximum over each row's kw neighbours, then over the kh rows (see MaxPool2dTiled.forward)."""
    kh, kw = x5.shape[2], x5.shape[4]
    m = xp.empty(x5.shape[:4], dtype=x5.dtype)  # row maxima
    _running_max(xp, [x5[..., j] for j in range(kw)], m, col)
    _running_max(xp, [m[:, :, i] for i in range(kh)], y, row)


def _running_max(xp, views, out, index):
    """out = the elementwise maximum of `views`; index (uint8, or None) = the position in `views` of the
    first maximum (strictly greater ones replace it). The first two views take one pass each, not two."""
    if len(views) == 1:
        xp.copyto(out, views[0])
        if index is not None:
            index[...] = 0
        return
    if index is not None:
        xp.greater(views[1], views[0], out=index.view("bool"))  # 1 where the second wins: the argmax of two
    xp.maximum(views[0], views[1], out=out)
    for k in range(2, len(views)):
        if index is not None:
            _update_argmax(xp, index, views[k] > out, k)
        xp.maximum(out, views[k], out=out)


def _update_argmax(xp, index, greater, k):
    """index <- k where `greater` (strictly: the first maximum keeps its place), in place. Offsets only
    grow, so this is max(index, k * greater) (a masked copyto is ~20x slower)."""
    xp.maximum(index, greater.view("uint8") * k, out=index)
