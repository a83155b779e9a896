"""2-d max and average pooling over (N, C, H, W), as PyTorch's max_pool2d and avg_pool2d.

Both loop over the kh*kw offsets of a window (never over the batch): the elements at offset (i, j)
of every window form one strided slice of the padded input, so a pool is kh*kw elementwise
operations on whole arrays. (A reduction over a reshaped (..., kh, ..., kw) view is ~35x slower in
NumPy: its inner loops are only kw long.)
"""

from minidl.arguments import tensor_argument
from minidl.autograd import Function, is_grad_enabled
from minidl.ops.activation import ReLU, relu_grad
from minidl.errors import ArgumentError, DTypeError, ShapeError
from minidl.ops.conv import _pair, add_windows_back, crop_spatial, pad_spatial, window


WINDOW_ROWS = (0, 1, 4, 5, 2, 3)  # the window view (N, C, kh, kw, Ho, Wo) as (N, C, Ho, Wo, kh, kw)


# MaxPool2d's routing on launch-bound devices as one kernel where the device compiles them:
#     routed[m, k] = dL/dy[m] if k is the argmax of window m, else 0   (m: flat window index, k < kh*kw)
_ROUTE_TO_ARGMAX = ("max_pool_route", "raw I index, raw T g, int64 size", "T routed",
                    "ptrdiff_t m = i / size; routed = index[m] == i % size ? g[m] : (T)0;")


def _offsets(kernel_size):
    kh, kw = kernel_size
    return [(i, j) for i in range(kh) for j in range(kw)]


class MaxPool2d(Function):
    """y[n, c, r, s] = max of the window of xpad (padded with -inf) at (r*sh, s*sw);
    dL/dx = dL/dy routed to the window's maximum (the first one, in row-major order, on ties).
    Saves, per output element, the offset k = i*kw + j of its maximum in the window (computed in
    forward only when a gradient will be needed)."""

    def __init__(self, kernel_size, stride, padding, keep_index):
        self.kernel_size, self.stride, self.padding, self.keep_index = kernel_size, stride, padding, keep_index

    def tiled(self, x):
        """True when the windows tile x exactly (stride = kernel, no padding, sizes divisible): then the
        pool runs in two stages on long runs (columns within each row, then rows), see `_forward_tiled`."""
        (kh, kw), (n, c, h, w) = self.kernel_size, x.shape
        return (self.stride == self.kernel_size and self.padding == (0, 0) and h % kh == 0 and w % kw == 0
                and kh * kw > 1)

    def _forward_tiled(self, x):
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
            self.shapes = (x.shape, None, (ho, wo))
        return y.reshape(n, c, ho, wo)

    def _backward_tiled(self, gy):
        xp = self.xp
        row, col = self.saved
        (n, c, h, w), _, (ho, wo) = self.shapes
        kh, kw = self.kernel_size
        g = gy.reshape(n * c, ho, wo)
        grow = xp.empty((n * c, ho, kh, wo), dtype=gy.dtype)  # dL/d(row maxima)
        gx = xp.empty((n * c, ho, kh, wo, kw), dtype=gy.dtype)

        def route(a, b):
            route_by_index(xp, g[a:b], row[a:b], [grow[a:b, :, i] for i in range(kh)])
            route_by_index(xp, grow[a:b], col[a:b], [gx[a:b, ..., j] for j in range(kw)])

        self.backend.parallel(route, n * c, gx.size)
        return gx.reshape(n, c, h, w)

    def _forward_windows(self, x):
        """For devices where each array call is a launch (Backend.launch_bound): every window copied
        into a row of (N, C, Ho, Wo, kh*kw), then one max and one argmax (the first maximum) per row."""
        xp, (kh, kw) = self.xp, self.kernel_size
        xpad = pad_spatial(xp, x, self.padding, fill=-float("inf"))
        windows = self.backend.sliding_windows(xpad, self.kernel_size, self.stride)  # (N, C, kh, kw, Ho, Wo)
        n, c, _, _, ho, wo = windows.shape
        rows = xp.ascontiguousarray(windows.transpose(WINDOW_ROWS)).reshape(n, c, ho, wo, kh * kw)
        if self.keep_index:
            self.saved = (rows.argmax(axis=-1),)
            self.shapes = (x.shape, xpad.shape, (ho, wo))
        return rows.max(axis=-1)

    def _backward_windows(self, gy):
        """dL/dy to the argmax of each window's row, then one scatter-add back onto the input."""
        xp, (kh, kw) = self.xp, self.kernel_size
        (index,) = self.saved
        x_shape, padded_shape, _ = self.shapes
        kernel = self.backend.elementwise_kernel(*_ROUTE_TO_ARGMAX)
        if kernel is None:
            routed = (index[..., None] == xp.arange(kh * kw)) * gy[..., None]  # (N, C, Ho, Wo, kh*kw)
        else:
            routed = kernel(index, gy, kh * kw, xp.empty(index.shape + (kh * kw,), gy.dtype))
        routed = routed.reshape(index.shape + (kh, kw))
        gpad = add_windows_back(self.backend, routed, padded_shape, self.kernel_size, self.stride, WINDOW_ROWS)
        return crop_spatial(gpad, self.padding, x_shape)

    def forward(self, x):
        if self.backend.launch_bound:
            return self._forward_windows(x)
        if self.tiled(x):
            return self._forward_tiled(x)
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
        if self.backend.launch_bound:
            return self._backward_windows(gy)
        if self.shapes[1] is None:
            return self._backward_tiled(gy)
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


class MaxPool2dReLU(MaxPool2d):
    """y = max(maxpool(z), 0);   dL/dz = maxpool's routing of dL/dy * (y > 0).   Saves y and the argmax.

    Fused max_pool2d(relu(z)) = relu(max_pool2d(z)) (max and ReLU commute), one node. The ReLU then
    runs on the pooled output (kh*kw times smaller), and its backward mask is applied to dL/dy before
    routing instead of to the full-size routed gradient. Gradients equal the unfused pair's: where the
    window's maximum is > 0 both route dL/dy to the same (first) maximum; where it is <= 0 both give 0.
    """

    def forward(self, z):
        y = super().forward(z)
        self.xp.maximum(y, 0, out=y)
        self.out = y
        return y

    def backward(self, gy):
        return super().backward(self.relu_backward(gy))

    def relu_backward(self, gy):
        """dL/dy * (y > 0): the ReLU's part of the backward (self.out is the output's own array: keeping
        it costs no memory)."""
        return relu_grad(self.backend, self.out, gy)


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
    maximum over each row's kw neighbours, then over the kh rows (see MaxPool2d._forward_tiled)."""
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


class AvgPool2d(Function):
    """y[n, c, r, s] = mean of the kh×kw window of xpad (zero padding counted, PyTorch's default);
    dL/dx = dL/dy / (kh*kw) added to every element of its window."""

    def __init__(self, kernel_size, stride, padding):
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x):
        kh, kw = self.kernel_size
        xpad = pad_spatial(self.xp, x, self.padding)
        out_hw = ((xpad.shape[2] - kh) // self.stride[0] + 1, (xpad.shape[3] - kw) // self.stride[1] + 1)
        offsets = _offsets(self.kernel_size)
        y = window(xpad, 0, 0, self.stride, out_hw).copy()
        for i, j in offsets[1:]:
            y += window(xpad, i, j, self.stride, out_hw)
        y *= 1.0 / (kh * kw)  # a Python float: float32 stays float32
        self.shapes = (x.shape, xpad.shape, out_hw)
        return y

    def backward(self, gy):
        (n, c, h, w), padded_shape, out_hw = self.shapes
        kh, kw = self.kernel_size
        g = gy * (1.0 / (kh * kw))
        gpad = self.xp.zeros(padded_shape, dtype=gy.dtype)
        for i, j in _offsets(self.kernel_size):
            target = window(gpad, i, j, self.stride, out_hw)
            target += g
        return crop_spatial(gpad, self.padding, (n, c, h, w))


def _pool_arguments(op, x, kernel_size, stride, padding):
    x = tensor_argument(op, "x", x)
    kernel_size = _pair(kernel_size, "kernel_size", op, minimum=1)
    stride = kernel_size if stride is None else _pair(stride, "stride", op, minimum=1)
    padding = _pair(padding, "padding", op)
    if x.ndim != 4:
        raise ShapeError(f"{op}: expected input of shape (N, C, H, W), got shape {x.shape}")
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: input must be floating point, got {x.dtype}")
    if padding[0] > kernel_size[0] // 2 or padding[1] > kernel_size[1] // 2:
        raise ArgumentError(f"{op}: padding {padding} must be at most half the kernel size {kernel_size}")
    h, w = x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1]
    if h < kernel_size[0] or w < kernel_size[1]:
        raise ShapeError(f"{op}: kernel {kernel_size[0]}x{kernel_size[1]} is larger than the padded input "
                         f"{h}x{w} (input shape {x.shape}, padding {padding})")
    return x, kernel_size, stride, padding


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max pooling of x (N, C, H, W); stride defaults to kernel_size; padding pads with -inf.

    kernel_size, stride, padding: an int or a pair. Returns (N, C, Ho, Wo), Ho = (H + 2*ph - kh) // sh + 1.
    When x is the output of a recorded relu (the usual conv -> ReLU -> pool), the pool runs on the
    ReLU's input with the ReLU applied after it, as one node (MaxPool2dReLU): same values, same
    gradients, a quarter of the ReLU backward's work. x.retain_grad() turns this off for x.
    """
    x, kernel_size, stride, padding = _pool_arguments("max_pool2d", x, kernel_size, stride, padding)
    keep_index = x.requires_grad and is_grad_enabled()  # inference skips the argmax bookkeeping
    source = x.grad_fn
    if keep_index and type(source) is ReLU and source.inputs is not None and not x._retains_grad:
        # x = relu(z) in a recorded graph: pool z and apply the ReLU after, in one fused node (see
        # MaxPool2dReLU). x's own ReLU node stays for any other use of x; this path no longer needs it.
        return MaxPool2dReLU(kernel_size, stride, padding, True)(source.inputs[0])
    return MaxPool2d(kernel_size, stride, padding, keep_index)(x)


def relu_max_pool2d(z, kernel_size, stride=None, padding=0):
    """max_pool2d(relu(z)) as one node (MaxPool2dReLU): the pool runs on z and the ReLU on the pooled
    output, a kh*kw-th of the size; the full-size relu(z) is never made. Same values and gradients as
    the two ops (nn.Sequential runs its ReLU -> MaxPool2d pairs through this)."""
    z, kernel_size, stride, padding = _pool_arguments("max_pool2d", z, kernel_size, stride, padding)
    return MaxPool2dReLU(kernel_size, stride, padding, z.requires_grad and is_grad_enabled())(z)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Average pooling of x (N, C, H, W); stride defaults to kernel_size; zero padding, counted in the
    average (PyTorch's count_include_pad=True). Returns (N, C, Ho, Wo)."""
    x, kernel_size, stride, padding = _pool_arguments("avg_pool2d", x, kernel_size, stride, padding)
    return AvgPool2d(kernel_size, stride, padding)(x)
