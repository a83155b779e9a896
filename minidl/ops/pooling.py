"""2-d max and average pooling over (N, C, H, W), as PyTorch's max_pool2d and avg_pool2d.

Max pooling copies every window into a row (N, C, Ho, Wo, kh*kw), takes each row's maximum and
remembers where it was (the argmax); backward routes dL/dy to that place and adds the windows back
(col2im, as the convolution's). Average pooling adds the kh*kw strided slices of the padded input.

These are the references: they run on every backend. Faster siblings (two-stage tiled pooling and
offset-by-offset running maxima on the CPU, a scatter-add col2im on the GPU, ReLU and pooling as one
node) are in minidl/ops/fast/, chosen by `fast.choose` in the functions below.
"""

from minidl.arguments import tensor_argument
from minidl.autograd import Function, is_grad_enabled
from minidl.errors import ArgumentError, DTypeError, ShapeError
from minidl.ops import fast
from minidl.ops.activation import relu
from minidl.ops.conv import col2im, crop_spatial, int_pair, pad_spatial, window


def _offsets(kernel_size):
    kh, kw = kernel_size
    return [(i, j) for i in range(kh) for j in range(kw)]


class MaxPool2d(Function):
    """y = max over each window of xpad;   dL/dx = dL/dy routed to the window's (first) maximum

    y[n, c, r, s] = max_k rows[n, c, r, s, k], rows = the kh*kw elements of the window at (r*sh, s*sw)
    of x padded with -inf; index = the position k of the first maximum (row-major in the window).
    dL/dx = col2im(onehot(index) * dL/dy): overlapping windows add up. Saves the index.
    keep_index=False (inference) lets fast paths skip the argmax; the reference always computes it.
    """

    def __init__(self, kernel_size, stride, padding, keep_index=True):
        self.kernel_size, self.stride, self.padding, self.keep_index = kernel_size, stride, padding, keep_index

    def forward(self, x):
        (kh, kw), xp = self.kernel_size, self.xp
        xpad = pad_spatial(xp, x, self.padding, fill=-float("inf"))
        windows = self.backend.sliding_windows(xpad, self.kernel_size, self.stride)  # (N, C, kh, kw, Ho, Wo)
        n, c, _, _, ho, wo = windows.shape
        rows = xp.ascontiguousarray(windows.transpose(0, 1, 4, 5, 2, 3)).reshape(n, c, ho, wo, kh * kw)
        self.saved = (rows.argmax(axis=-1),)
        self.shapes = (x.shape, xpad.shape)
        return rows.max(axis=-1)

    def backward(self, gy):
        (index,) = self.saved
        x_shape, padded_shape = self.shapes
        kh, kw = self.kernel_size
        routed = (index[..., None] == self.xp.arange(kh * kw)) * gy[..., None]  # (N, C, Ho, Wo, kh*kw)
        windows = routed.reshape(index.shape + (kh, kw)).transpose(0, 1, 4, 5, 2, 3)  # (N, C, kh, kw, Ho, Wo)
        return crop_spatial(col2im(self.xp, windows, padded_shape, self.stride), self.padding, x_shape)


class AvgPool2d(Function):
    """y = mean over each window of xpad;   dL/dx = dL/dy / (kh*kw) added to every element of its window

    y[n, c, r, s] = Σ_i,j xpad[n, c, r*sh + i, s*sw + j] / (kh*kw): zero padding counted (PyTorch's default).
    """

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
    kernel_size = int_pair(kernel_size, "kernel_size", op, minimum=1)
    stride = kernel_size if stride is None else int_pair(stride, "stride", op, minimum=1)
    padding = int_pair(padding, "padding", op)
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
    One node, MaxPool2d or a fast sibling with its values and gradients: never fused with the op before it.
    """
    x, kernel_size, stride, padding = _pool_arguments("max_pool2d", x, kernel_size, stride, padding)
    keep_index = x.requires_grad and is_grad_enabled()  # inference lets fast paths skip the argmax
    op = fast.choose("max_pool2d", x._backend, x_shape=x.shape, kernel_size=kernel_size, stride=stride,
                     padding=padding) or MaxPool2d
    return op(kernel_size, stride, padding, keep_index)(x)


def relu_max_pool2d(z, kernel_size, stride=None, padding=0):
    """max_pool2d(relu(z)), asked for by name (nn.fuse's ReLUMaxPool2d): one node where a fast path takes
    it (fast.ReLUMaxPool2d: the pool runs on z and the ReLU on the pooled output, a kh*kw-th of the
    size), else the two reference ops. Same values and gradients either way."""
    z, kernel_size, stride, padding = _pool_arguments("max_pool2d", z, kernel_size, stride, padding)
    op = fast.choose("relu_max_pool2d", z._backend, x_shape=z.shape, kernel_size=kernel_size, stride=stride,
                     padding=padding)
    if op is None:
        return max_pool2d(relu(z), kernel_size, stride, padding)
    return op(kernel_size, stride, padding, z.requires_grad and is_grad_enabled())(z)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Average pooling of x (N, C, H, W); stride defaults to kernel_size; zero padding, counted in the
    average (PyTorch's count_include_pad=True). Returns (N, C, Ho, Wo)."""
    x, kernel_size, stride, padding = _pool_arguments("avg_pool2d", x, kernel_size, stride, padding)
    return AvgPool2d(kernel_size, stride, padding)(x)
