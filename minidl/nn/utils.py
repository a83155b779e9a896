"""Utilities on parameters' gradients: `clip_grad_norm_`."""

import math

from minidl.errors import ArgumentError, ArgumentTypeError
from minidl.tensor import Tensor


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale the gradients of `parameters` so that their joint norm is at most `max_norm`.

    The total norm is the `norm_type`-norm of all gradients seen as one vector (2: Euclidean,
    float("inf"): largest |g|). When it exceeds max_norm, every gradient is multiplied by
    max_norm / (total + 1e-6), as in PyTorch. Parameters without a gradient are ignored.

    Returns the total norm before clipping, as a Python float (0.0 when no parameter has a gradient).
    The scaled gradient replaces `p.grad.data` (same Tensor, new array): the old array is not written
    to, since the autograd engine may share it.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    params = [p for p in parameters if p.grad is not None]
    max_norm, norm_type = _number("max_norm", max_norm), _number("norm_type", norm_type)
    if not (norm_type > 0 or math.isinf(norm_type)) or norm_type == -math.inf:
        raise ArgumentError(f"clip_grad_norm_: norm_type must be > 0 or float('inf'), got {norm_type}")
    if not max_norm >= 0:
        raise ArgumentError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm}")
    if not params:
        return 0.0
    total = total_norm([p.grad.data for p in params], norm_type, params[0].backend)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of the gradients is {total}; the gradients "
                           f"hold NaN or infinity (pass error_if_nonfinite=False to clip anyway)")
    coefficient = max_norm / (total + 1e-6)
    if coefficient < 1.0:
        for p in params:
            p.grad.data = p.grad.data * coefficient  # Python float: keeps the gradient's dtype
    return total


def _number(name, value):
    """float(value) for a number (or a one-element Tensor); ArgumentTypeError for a string, None, ..."""
    if isinstance(value, (str, bytes, bool)):
        raise ArgumentTypeError(f"clip_grad_norm_: {name} must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ArgumentTypeError(f"clip_grad_norm_: {name} must be a number, got {value!r}") from None


def total_norm(arrays, norm_type, backend):
    """The `norm_type`-norm of `arrays` seen as one vector, as a Python float (one host transfer)."""
    xp = backend.xp
    if math.isinf(norm_type):
        norms = [xp.max(xp.abs(a)) if a.size else xp.zeros((), a.dtype) for a in arrays]
        return float(xp.max(xp.stack(norms)))
    if norm_type == 2.0:
        norms = [xp.sqrt(xp.sum(a * a)) for a in arrays]
        return float(xp.sqrt(xp.sum(xp.stack(norms) ** 2)))
    norms = [xp.sum(xp.abs(a) ** norm_type) ** (1.0 / norm_type) for a in arrays]
    return float(xp.sum(xp.stack(norms) ** norm_type) ** (1.0 / norm_type))
