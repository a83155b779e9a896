"""Batch normalisation over the channel axis 1 of (N, C), (N, C, L) or (N, C, H, W), as PyTorch's.

Training normalises with the batch's own statistics (one fused op with a hand-derived backward) and
moves the running statistics towards them; evaluation normalises with the running statistics.

Momentum follows PyTorch: running = (1 - momentum) * running + momentum * batch_statistic (Keras
and TensorFlow call 1 - momentum the "decay"). The running variance uses the unbiased batch variance
(divided by n - 1); the normalisation itself uses the biased one (divided by n).
"""

from minidl.arguments import as_tensor_arguments
from minidl.autograd import Function
from minidl.errors import ArgumentError, DeviceError, DTypeError, ShapeError


class BatchNormTrain(Function):
    """y = weight * xhat + bias, xhat = (x - mean) * inv_std;   dL/dx = inv_std (dxhat - mean(dxhat) - xhat mean(dxhat xhat))

    inv_std = 1 / sqrt(var + eps), with the mean and biased var of each channel over the
    n = N*H*W (or N*L, N) elements of the batch;

        dxhat = dL/dy * weight
        dL/dx = inv_std / n * (n * dxhat - Σ dxhat - xhat * Σ(dxhat * xhat))
        dL/dweight = Σ dL/dy * xhat,    dL/dbias = Σ dL/dy         (Σ: over all axes but the channel)
    Saves xhat, inv_std and weight. Keeps the batch mean and biased variance (per channel) as
    `batch_mean`, `batch_var` for the running-statistics update.
    """

    def __init__(self, eps, has_weight, has_bias):
        self.eps, self.has_weight, self.has_bias = eps, has_weight, has_bias

    def forward(self, x, *affine):
        xp = self.xp
        self.axes = (0,) + tuple(range(2, x.ndim))
        mean = x.mean(axis=self.axes, keepdims=True)
        xhat = x - mean
        var = (xhat * xhat).mean(axis=self.axes, keepdims=True)
        inv_std = 1.0 / xp.sqrt(var + self.eps)
        xhat *= inv_std
        weight = affine[0].reshape(mean.shape) if self.has_weight else None
        bias = affine[-1].reshape(mean.shape) if self.has_bias else None
        y = xhat if weight is None else xhat * weight
        if bias is not None:
            y = y + bias
        self.batch_mean, self.batch_var = mean.reshape(-1), var.reshape(-1)
        self.saved = (xhat, inv_std, weight)
        return y

    def backward(self, gy):
        xhat, inv_std, weight = self.saved
        n = xhat.size // xhat.shape[1]
        dxhat = gy if weight is None else gy * weight
        gx = None
        if self.needs_grad[0]:
            sum_dxhat = dxhat.sum(axis=self.axes, keepdims=True)
            sum_dxhat_xhat = (dxhat * xhat).sum(axis=self.axes, keepdims=True)
            gx = (dxhat * n - sum_dxhat - xhat * sum_dxhat_xhat) * (inv_std * (1.0 / n))
        return (gx,) + _affine_gradients(self, gy, xhat)


class BatchNormEval(Function):
    """y = weight * xhat + bias, xhat = (x - running_mean) * inv_std;   dL/dx = dL/dy * weight * inv_std

    inv_std = 1 / sqrt(running_var + eps);   dL/dweight = Σ dL/dy * xhat,   dL/dbias = Σ dL/dy.
    The running statistics are constants here. Saves xhat and weight * inv_std."""

    def __init__(self, running_mean, running_var, eps, has_weight, has_bias):
        self.running_mean, self.running_var = running_mean, running_var
        self.eps, self.has_weight, self.has_bias = eps, has_weight, has_bias

    def forward(self, x, *affine):
        xp = self.xp
        self.axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        mean = self.running_mean.astype(x.dtype, copy=False).reshape(shape)
        inv_std = 1.0 / xp.sqrt(self.running_var.astype(x.dtype, copy=False).reshape(shape) + self.eps)
        xhat = (x - mean) * inv_std
        scale = inv_std if not self.has_weight else inv_std * affine[0].reshape(shape)
        y = xhat if not self.has_weight else xhat * affine[0].reshape(shape)
        if self.has_bias:
            y = y + affine[-1].reshape(shape)
        self.saved = (xhat, scale)
        return y

    def backward(self, gy):
        xhat, scale = self.saved
        return (gy * scale if self.needs_grad[0] else None,) + _affine_gradients(self, gy, xhat)


def _affine_gradients(fn, gy, xhat):
    """(dL/dweight, dL/dbias) for the affine inputs `fn` has: Σ dL/dy * xhat and Σ dL/dy over every
    axis but the channels, each in its input's dtype (None where no gradient is needed)."""
    grads, k = [], 1
    if fn.has_weight:
        grads.append((gy * xhat).sum(axis=fn.axes).astype(fn.inputs[k].dtype, copy=False) if fn.needs_grad[k] else None)
        k += 1
    if fn.has_bias:
        grads.append(gy.sum(axis=fn.axes).astype(fn.inputs[k].dtype, copy=False) if fn.needs_grad[k] else None)
    return tuple(grads)


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation of x (N, C), (N, C, L) or (N, C, H, W) per channel (axis 1), as PyTorch's.

    training=True: normalise with the batch mean and biased variance, and update running_mean and
    running_var (Tensors of shape (C,), or None to keep no statistics) IN PLACE:
        running_mean = (1 - momentum) * running_mean + momentum * batch_mean
        running_var  = (1 - momentum) * running_var  + momentum * batch_var * n / (n - 1)
    training=False: normalise with running_mean and running_var.
    weight, bias: optional (C,) Tensors: y = weight * xhat + bias.
    """
    names = ("x", "running_mean", "running_var", "weight", "bias")  # arrays: constants sharing their memory
    x, running_mean, running_var, weight, bias = as_tensor_arguments(
        "batch_norm", names, (x, running_mean, running_var, weight, bias), required=("x",))
    if x.ndim not in (2, 3, 4):
        raise ShapeError(f"batch_norm: expected input of shape (N, C), (N, C, L) or (N, C, H, W), got shape {x.shape}")
    if x.dtype.kind != "f":
        raise DTypeError(f"batch_norm: input must be floating point, got {x.dtype}")
    c = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is None:
            continue
        if t.shape != (c,):
            raise ShapeError(f"batch_norm: {name} must have shape ({c},) for input with {c} channels "
                             f"(shape {x.shape}), got {t.shape}")
        if t._backend is not x._backend:
            raise DeviceError(f"batch_norm: input is on '{x.device}' but {name} is on '{t.device}'")
        if t.dtype.kind != "f":  # the running statistics are updated in place with float values
            raise DTypeError(f"batch_norm: {name} must be floating point, got {t.dtype}")
    affine = tuple(t for t in (weight, bias) if t is not None)
    if not training:
        if running_mean is None or running_var is None:
            raise ArgumentError("batch_norm: evaluation (training=False) needs running_mean and running_var")
        return BatchNormEval(running_mean.data, running_var.data, eps, weight is not None, bias is not None)(x, *affine)
    n = x.size // c
    if n <= 1:
        raise ShapeError(f"batch_norm: training needs more than 1 value per channel, got input of shape {x.shape}")
    if momentum is None:
        raise ArgumentError("batch_norm: momentum=None (a cumulative average) is not supported; give a float")
    fn = BatchNormTrain(eps, weight is not None, bias is not None)
    y = fn(x, *affine)
    if running_mean is not None:
        running_mean.data *= 1.0 - momentum
        running_mean.data += momentum * fn.batch_mean
    if running_var is not None:
        running_var.data *= 1.0 - momentum
        running_var.data += (momentum * n / (n - 1)) * fn.batch_var
    return y
