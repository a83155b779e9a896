"""Argument checks shared by the sequence-model ops (trigonometry, prod, GELU, LayerNorm, embedding,
attention): a Tensor where one is expected, with an error that names the op and the argument."""

from minidl.errors import ArgumentTypeError, DTypeError
from minidl.tensor import Tensor


def tensor_arg(op, name, x):
    """`x` itself when it is a Tensor; a TypeError naming `op` and `name` otherwise (a NumPy array has no
    graph to record a gradient in: wrap it with mdl.tensor first)."""
    if not isinstance(x, Tensor):
        kind = type(x).__name__ if type(x).__module__ == "builtins" else f"{type(x).__module__}.{type(x).__name__}"
        raise ArgumentTypeError(f"{op}: expected {name} as a Tensor, got {kind}; wrap it with mdl.tensor(...)")
    return x


def float_arg(op, name, x):
    """`x` as `tensor_arg`, and of a floating dtype (the op's formula is defined on real numbers)."""
    x = tensor_arg(op, name, x)
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: {name} must be floating point, got {x.dtype}; convert it first, "
                         f"e.g. x.astype(mdl.float32)")
    return x
