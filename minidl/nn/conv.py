"""`Conv2d`: 2-D convolution (cross-correlation, as in every deep-learning library)."""

from minidl.errors import ShapeError
from minidl.nn import functional as F
from minidl.nn import init
from minidl.nn.module import Module
from minidl.nn.parameter import empty_parameter


def pair(value, name="value"):
    """3 -> (3, 3); (3, 5) -> (3, 5)."""
    if isinstance(value, int):
        return (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int) for v in value):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return value


class Conv2d(Module):
    """y[n, o] = bias[o] + Σ_c Σ_ij weight[o, c, i, j] * x_padded[n, c, s*h + i, s*w + j].

    x: (N, in_channels, H, W) -> y: (N, out_channels, H_out, W_out) with
    H_out = (H + 2 * padding - kh) // stride + 1 (likewise W_out).
    weight: (out_channels, in_channels, kh, kw); bias: (out_channels,); PyTorch's default init.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, dtype=None,
                 device="cpu"):
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")
        self.padding = pair(padding, "padding")
        self.weight = empty_parameter((self.out_channels, self.in_channels) + self.kernel_size, dtype, device)
        if bias:
            self.bias = empty_parameter((self.out_channels,), dtype, device)
        else:
            self.register_parameter("bias", None)
        init.default_weight_and_bias_(self.weight, self.bias)

    def forward(self, x):
        expected = f"{self!r} expects inputs of shape (N, {self.in_channels}, H, W), got {x.shape}"
        if x.ndim != 4:
            raise ShapeError(f"{expected} ({x.ndim} dimensions)")
        if x.shape[1] != self.in_channels:
            raise ShapeError(f"{expected}: {x.shape[1]} channel(s) instead of {self.in_channels}")
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
                + (f", padding={self.padding}" if self.padding != (0, 0) else "")
                + ("" if self.bias is not None else ", bias=False"))
