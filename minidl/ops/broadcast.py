"""The helpers every op shares: undoing broadcasting, and normalising axes of reductions."""

import numbers

from minidl.errors import ArgumentTypeError, ShapeError


def unbroadcast(grad, shape, dtype=None):
    """Sum `grad` over the axes that broadcasting added or stretched, so it has `shape` again.

    If y = f(a, b) broadcast a of shape (3, 1) to (2, 3, 4), then dL/da = sum of dL/dy over axis 0
    (added) and axis 2 (stretched from 1), kept as (3, 1). `dtype`: cast to the input's dtype when an
    op promoted (float32 + float64 -> float64 output, but float32 gradient for the float32 input).
    """
    if grad.shape != shape:
        lead = grad.ndim - len(shape)
        stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
        axes = tuple(range(lead)) + stretched
        if axes:
            grad = grad.sum(axis=axes, keepdims=True)
        if lead:
            grad = grad.reshape(shape)
    if dtype is not None and grad.dtype != dtype:
        grad = grad.astype(dtype)
    return grad


def same_layout(a, b, out_shape=None):
    """None when arrays a and b have one shape and one dtype (their op's gradients need no unbroadcast),
    else ((a.shape, b.shape), (a.dtype, b.dtype)) for `unbroadcast_pair`. Every binary op saves this
    in forward and hands its two gradients to `unbroadcast_pair` in backward: the one idiom.
    `out_shape`: the output's shape when a third operand (where's cond) may broadcast beyond a and b."""
    sa, sb = a.shape, b.shape
    if sa == sb and a.dtype == b.dtype and (out_shape is None or out_shape == sa):
        return None
    return (sa, sb), (a.dtype, b.dtype)


def unbroadcast_pair(ga, gb, layout, needs_grad):
    """(ga, gb) summed back to the shapes and cast to the dtypes `same_layout` recorded; None where an
    input needs no gradient."""
    if layout is None:
        return (ga if needs_grad[0] else None), (gb if needs_grad[1] else None)
    (sa, sb), (da, db) = layout
    return (unbroadcast(ga, sa, da) if needs_grad[0] else None,
            unbroadcast(gb, sb, db) if needs_grad[1] else None)


def normalize_axes(axis, ndim, op="reduction"):
    """None, an int or a tuple of ints -> a sorted tuple of non-negative axes (None: all axes).

    A 0-d tensor has no axes, but an int axis 0 or -1 names the tensor itself (as NumPy's sum, max
    and squeeze, and PyTorch, accept it): it gives (), reduce nothing. A tuple of axes on it must be empty.
    """
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = tuple(axis)
    elif isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
        if ndim == 0 and axis in (0, -1):
            return ()
        axes = (axis,)
    else:
        raise ArgumentTypeError(f"{op}: axis must be None, an int or a tuple of ints, got {axis!r} "
                                f"({type(axis).__name__})")
    result = []
    for a in axes:
        if not isinstance(a, numbers.Integral) or isinstance(a, bool):
            raise ArgumentTypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ShapeError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
        result.append(int(a) % ndim)
    if len(set(result)) != len(result):
        raise ShapeError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(result))


def kept_dims_shape(shape, axes):
    """The shape a reduction over `axes` has with keepdims=True: reduced axes become 1."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))
