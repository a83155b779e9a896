"""`LayerNorm`: normalise each sample over its trailing axes (PyTorch's nn.LayerNorm).

    y = (x - mean) / √(var + eps) * weight + bias,  mean and biased var over the last
    len(normalized_shape) axes of each sample; the same in training and evaluation (no running
    statistics, unlike BatchNorm).
"""

from minidl.creation import ones, zeros
from minidl.nn import functional as F
from minidl.nn.module import Module
from minidl.nn.parameter import Parameter
from minidl.ops.layer_norm import normalized_shape_of


class LayerNorm(Module):
    """x (..., *normalized_shape) -> y of the same shape. `weight` (ones) and `bias` (zeros) of shape
    normalized_shape when elementwise_affine (bias=False drops the bias only, as PyTorch's)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=None, device="cpu"):
        super().__init__()
        self.normalized_shape = normalized_shape_of("LayerNorm", normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
        if elementwise_affine and bias:
            self.bias = Parameter(zeros(self.normalized_shape, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
