"""Layer normalisation (Ba, Kiros and Hinton, 2016) over the trailing axes, as PyTorch's F.layer_norm.

Unlike batch norm, each sample is normalised with its own statistics (mean and biased variance over
its last k axes, the `normalized_shape`), in training and evaluation alike: no running statistics.
"""

import numbers

from minidl.arguments import exact_tensor_argument, float_tensor_argument
from minidl.autograd import Function
from minidl.errors import ArgumentError, DeviceError, ShapeError
from minidl.ops import fast


class LayerNorm(Function):
    """y = weight * xhat + bias,  xhat = (x - mean) * inv_std;   dL/dx = inv_std * (dxhat - mean(dxhat) - ...
    ... xhat * mean(dxhat * xhat)),  with dxhat = dL/dy * weight.

    mean, biased var and the means in dL/dx: over the last k axes of each sample; inv_std = 1 / sqrt(var + eps);
        dL/dweight = Σ dL/dy * xhat,    dL/dbias = Σ dL/dy                    (Σ: over the leading axes)
    x: (..., *normalized_shape); weight, bias: normalized_shape or absent. Saves xhat, inv_std, weight.
    """

    def __init__(self, n_axes, eps, has_weight, has_bias):
        self.n_axes, self.eps, self.has_weight, self.has_bias = n_axes, eps, has_weight, has_bias

    def forward(self, x, *affine):
        xp = self.xp
        self.normalized = tuple(range(x.ndim - self.n_axes, x.ndim))  # the last k axes
        self.leading = tuple(range(x.ndim - self.n_axes))
        xhat = x - x.mean(axis=self.normalized, keepdims=True)
        var = (xhat * xhat).mean(axis=self.normalized, keepdims=True)
        inv_std = 1.0 / xp.sqrt(var + self.eps)
        xhat *= inv_std
        weight = affine[0] if self.has_weight else None
        y = xhat if weight is None else xhat * weight
        if self.has_bias:
            if y is xhat or y.dtype != affine[-1].dtype:  # xhat is saved; a float64 bias promotes y
                y = y + affine[-1]
            else:
                y += affine[-1]
        self.saved = (xhat, inv_std, weight)
        return y

    def backward(self, gy):
        xhat, inv_std, weight = self.saved
        dxhat = gy if weight is None else gy * weight
        gx = None
        if self.needs_grad[0]:
            mean_dxhat = dxhat.mean(axis=self.normalized, keepdims=True)
            mean_dxhat_xhat = (dxhat * xhat).mean(axis=self.normalized, keepdims=True)
            gx = dxhat - mean_dxhat
            gx -= xhat * mean_dxhat_xhat
            gx *= inv_std
            gx = gx.astype(self.inputs[0].dtype, copy=False)
        grads = [gx]
        if self.has_weight:
            grads.append(self.affine_grad(len(grads), gy * xhat))
        if self.has_bias:
            grads.append(self.affine_grad(len(grads), gy))
        return tuple(grads)

    def affine_grad(self, k, per_element):
        """Σ over the leading axes, in input k's dtype (a float32 weight on float64 x); None if not needed."""
        if not self.needs_grad[k]:
            return None
        return per_element.sum(axis=self.leading).astype(self.inputs[k].dtype, copy=False)


def normalized_shape_of(owner, normalized_shape):
    """An int or a sequence of ints (each >= 1) -> a tuple of ints; an error naming `owner` otherwise."""
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else normalized_shape
    try:
        shape = tuple(shape)
    except TypeError:
        shape = None
    if not shape or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 1 for n in shape):
        raise ArgumentError(f"{owner}: normalized_shape must be an int or a non-empty tuple of ints >= 1, got "
                            f"{normalized_shape!r}")
    return tuple(int(n) for n in shape)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise x (..., *normalized_shape) over its last len(normalized_shape) axes, then scale by
    `weight` and shift by `bias` (each of shape normalized_shape, or None), as PyTorch's F.layer_norm."""
    x = float_tensor_argument("layer_norm", "input", x)
    shape = normalized_shape_of("layer_norm", normalized_shape)
    if x.shape[x.ndim - len(shape):] != shape or x.ndim < len(shape):
        raise ShapeError(f"layer_norm: input of shape {x.shape} does not end in normalized_shape {shape}")
    affine = []
    for name, t in (("weight", weight), ("bias", bias)):
        if t is None:
            continue
        exact_tensor_argument("layer_norm", name, t)
        if t.shape != shape:
            raise ShapeError(f"layer_norm: {name} must have shape {shape} (normalized_shape), got {t.shape}")
        if t._backend is not x._backend:
            raise DeviceError(f"layer_norm: input is on '{x.device}' but {name} is on '{t.device}'")
        affine.append(t)
    norm = fast.choose("layer_norm", x._backend, n_axes=len(shape), dtypes=[t.dtype for t in (x, *affine)])
    return (norm or LayerNorm)(len(shape), eps, weight is not None, bias is not None)(x, *affine)
