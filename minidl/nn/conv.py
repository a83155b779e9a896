"""`Conv2d`: 2-D convolution (cross-correlation, as in every deep-learning library)."""

from minidl.arguments import tensor_argument
from minidl.errors import ShapeError
from minidl.nn import functional as F
from minidl.nn import init
from minidl.nn.checks import size, size_pair
from minidl.nn.module import Module
from minidl.nn.parameter import empty_parameter


class Conv2d(Module):
    """y[n, o] = bias[o] + Σ_c Σ_ij weight[o, c, i, j] * x_padded[n, c, s*h + i, s*w + j].

    x: (N, in_channels, H, W) -> y: (N, out_channels, H_out, W_out) with
    H_out = (H + 2 * padding - kh) // stride + 1 (likewise W_out).
    weight: (out_channels, in_channels, kh, kw); bias: (out_channels,); PyTorch's default init.
    Channels, kernel_size and stride are ints >= 1 (kernel_size and stride also pairs), padding >= 0.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, dtype=None,
                 device="cpu"):
        super().__init__()
        self.in_channels = size("Conv2d", "in_channels", in_channels)
        self.out_channels = size("Conv2d", "out_channels", out_channels)
        self.kernel_size = size_pair("Conv2d", "kernel_size", kernel_size)
        self.stride = size_pair("Conv2d", "stride", stride)
        self.padding = size_pair("Conv2d", "padding", padding, minimum=0)
        self.weight = empty_parameter((self.out_channels, self.in_channels) + self.kernel_size, dtype, device)
        if bias:
            self.bias = empty_parameter((self.out_channels,), dtype, device)
        else:
            self.register_parameter("bias", None)
        init.default_weight_and_bias_(self.weight, self.bias)

    def forward(self, x):
        x = tensor_argument(type(self).__name__, "x", x)
        self.check(x)
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding)

    def check(self, x):
        expected = f"{self!r} expects inputs of shape (N, {self.in_channels}, H, W), got {x.shape}"
        if x.ndim != 4:
            raise ShapeError(f"{expected} ({x.ndim} dimensions)")
        if x.shape[1] != self.in_channels:
            raise ShapeError(f"{expected}: {x.shape[1]} channel(s) instead of {self.in_channels}")

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
                + (f", padding={self.padding}" if self.padding != (0, 0) else "")
                + ("" if self.bias is not None else ", bias=False"))
