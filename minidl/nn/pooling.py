"""Pooling layers: MaxPool2d and AvgPool2d over (N, C, H, W)."""

from minidl.arguments import tensor_argument
from minidl.errors import ArgumentError, ShapeError
from minidl.nn import functional as F
from minidl.nn.checks import size_pair
from minidl.nn.module import Module


class _Pool2d(Module):
    """kernel_size and stride (default: kernel_size): ints or pairs >= 1; padding: at most half the kernel."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name = type(self).__name__
        kernel = size_pair(name, "kernel_size", kernel_size)
        if stride is not None:
            size_pair(name, "stride", stride)
        pad = size_pair(name, "padding", padding, minimum=0)
        if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
            raise ArgumentError(f"{name}: padding must be at most half the kernel size {kernel_size}, got {padding}")
        self.kernel_size = kernel_size  # as given (an int stays an int in the repr, as in PyTorch)
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def check(self, x):
        if x.ndim != 4:
            raise ShapeError(f"{self!r} expects inputs of shape (N, C, H, W), got {x.shape}")

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """y = the maximum of each kernel_size window (stride defaults to kernel_size; padding is -inf)."""

    def forward(self, x):
        x = tensor_argument(type(self).__name__, "x", x)
        self.check(x)
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """y = the mean of each kernel_size window (zero padding counted in the mean, as PyTorch's default)."""

    def forward(self, x):
        x = tensor_argument(type(self).__name__, "x", x)
        self.check(x)
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)
