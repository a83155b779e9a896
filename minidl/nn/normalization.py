"""Batch normalisation: BatchNorm1d on (N, C) or (N, C, L), BatchNorm2d on (N, C, H, W).

    y = (x - mean) / √(var + eps) * weight + bias, per channel C.
Training uses the batch's mean and (biased) variance and updates the running statistics:
    running = (1 - momentum) * running + momentum * batch_statistic
with the unbiased batch variance for running_var (PyTorch's convention: `momentum` is the weight of
the new batch; Keras' `momentum` is the weight of the old value, i.e. 1 - this). Evaluation uses the
running statistics. Training needs more than one value per channel (N > 1, or N·L > 1, ...), as in
PyTorch: the variance of a single value is 0 and its unbiased estimate undefined.
"""

from minidl.arguments import tensor_argument
from minidl.creation import ones, tensor, zeros
from minidl.errors import ShapeError
from minidl.nn import functional as F
from minidl.nn.checks import size
from minidl.nn.module import Module
from minidl.nn.parameter import Parameter


class _BatchNorm(Module):
    expected_ndims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, dtype=None, device="cpu"):
        super().__init__()
        self.num_features = size(type(self).__name__, "num_features", num_features)
        self.eps, self.momentum = eps, momentum
        if affine:
            self.weight = Parameter(ones(self.num_features, dtype=dtype, device=device))
            self.bias = Parameter(zeros(self.num_features, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.register_buffer("running_mean", zeros(self.num_features, dtype=dtype, device=device))
        self.register_buffer("running_var", ones(self.num_features, dtype=dtype, device=device))
        self.register_buffer("num_batches_tracked", tensor(0, device=device))

    def forward(self, x):
        x = tensor_argument(type(self).__name__, "x", x)
        if x.ndim not in self.expected_ndims or x.shape[1] != self.num_features:
            raise ShapeError(f"{self!r} expects inputs of shape {self.expected_shapes} with C = {self.num_features}, "
                             f"got {x.shape}")
        if self.training:
            if x.size <= self.num_features:
                raise ShapeError(f"{self!r} in training expects more than 1 value per channel, got input of "
                                 f"shape {x.shape} ({x.size // self.num_features} per channel); use .eval() "
                                 f"to normalise a single sample with the running statistics")
            self.num_batches_tracked.data += 1
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            training=self.training, momentum=self.momentum, eps=self.eps)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L): statistics per feature C, over N (and L)."""

    expected_ndims = (2, 3)
    expected_shapes = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W): statistics per channel C, over N, H and W."""

    expected_ndims = (4,)
    expected_shapes = "(N, C, H, W)"
