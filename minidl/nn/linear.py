"""Dense layers and the two shape-only layers: Linear, Identity, Flatten."""

from minidl.arguments import tensor_argument
from minidl.backend import get_backend
from minidl.errors import ShapeError
from minidl.nn import functional as F
from minidl.nn import init
from minidl.nn.checks import size
from minidl.nn.module import Module
from minidl.nn.parameter import empty_parameter


class Linear(Module):
    """y = x @ weightᵀ + bias.   x: (N, in_features), or (..., in_features) -> y: (N, out_features), (..., out_features).

    weight: (out_features, in_features), bias: (out_features,), both initialised as PyTorch's:
    U[-1/√in_features, 1/√in_features].
    Sizes are ints >= 0. A size of 0 makes an empty layer, as in PyTorch: Linear(0, k) maps (N, 0) to
    the bias, repeated (its bias starts at 0, the bound 1/√0 being undefined); Linear(k, 0) gives (N, 0).
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None, device="cpu"):
        super().__init__()
        self.in_features = size("Linear", "in_features", in_features, minimum=0)
        self.out_features = size("Linear", "out_features", out_features, minimum=0)
        self.weight = empty_parameter((self.out_features, self.in_features), dtype, device,
                                      order=get_backend(device).linear_weight_order(self.out_features,
                                                                                    self.in_features))
        self.bias = empty_parameter((self.out_features,), dtype, device) if bias else None
        if not bias:
            self.register_parameter("bias", None)
        init.default_weight_and_bias_(self.weight, self.bias)

    def forward(self, x):
        x = tensor_argument(type(self).__name__, "x", x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ShapeError(f"{self!r} expects inputs of shape (N, {self.in_features}), got {x.shape}: "
                             f"{x.shape[-1] if x.ndim else 'no'} features instead of {self.in_features}")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """y = x."""

    def forward(self, x):
        return x


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...): keeps the batch axis (unlike Tensor.flatten)."""

    def forward(self, x):
        x = tensor_argument(type(self).__name__, "x", x)
        if x.ndim < 1:
            raise ShapeError("Flatten expects at least a batch axis, got a 0-d tensor")
        return x.reshape(x.shape[0], -1)
