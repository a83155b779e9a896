"""`nn.init`: fill a weight tensor in place (PyTorch's formulas, the device's seeded generator).

fan_in = in_features (Linear) or in_channels * kh * kw (Conv2d); fan_out likewise with the output side.
Filling a tensor with no elements is a no-op (as in PyTorch), even where its fan is 0.
"""

import math

from minidl.autograd import no_grad
from minidl.errors import ArgumentError, ShapeError


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for an activation (PyTorch's table): relu √2, tanh 5/3, leaky_relu √(2/(1+a²))."""
    if nonlinearity in ("linear", "conv2d", "sigmoid", "identity"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ArgumentError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight of shape (out, in) or (out, in, kh, kw, ...)."""
    if tensor.ndim < 2:
        raise ShapeError(f"fan in/out needs a weight with at least 2 dimensions, got shape {tensor.shape}")
    receptive = 1
    for n in tensor.shape[2:]:
        receptive *= n
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fill(tensor, array):
    with no_grad():
        tensor.data[...] = array
    return tensor


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with samples from U[a, b)."""
    return _fill(tensor, tensor.backend.uniform(tensor.shape, a, b, dtype=tensor.dtype))


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with samples from N(mean, std²)."""
    return _fill(tensor, tensor.backend.normal(tensor.shape, mean, std, dtype=tensor.dtype))


def constant_(tensor, val):
    with no_grad():
        tensor.data[...] = val
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0)


def ones_(tensor):
    return constant_(tensor, 1)


def xavier_uniform_(tensor, gain=1.0):
    """Glorot: U[-b, b] with b = gain * √(6 / (fan_in + fan_out))."""
    if tensor.size == 0:
        return tensor
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    """Glorot: N(0, std²) with std = gain * √(2 / (fan_in + fan_out))."""
    if tensor.size == 0:
        return tensor
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ArgumentError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He: U[-b, b] with b = gain * √(3 / fan), gain = calculate_gain(nonlinearity, a)."""
    if tensor.size == 0:
        return tensor
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He: N(0, std²) with std = gain / √fan."""
    if tensor.size == 0:
        return tensor
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode)))


def default_weight_and_bias_(weight, bias):
    """PyTorch's default for Linear and Conv2d: kaiming_uniform_(a=√5), i.e. U[-1/√fan_in, 1/√fan_in]
    for the weight, and the same bound for the bias."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        bound = 1 / math.sqrt(fan_in_and_fan_out(weight)[0]) if weight.size else 0.0
        uniform_(bias, -bound, bound)
