"""Hypothesis strategies for testing operations, minidl's own and yours.

    from hypothesis import given
    from minidl.testing import tensors, broadcastable_shapes

    @given(tensors(shape=(3, 4)))
    def test_my_op(x):
        assert mdl.gradcheck(my_op, (x,))

Needs the `hypothesis` package (`pip install minidl[test]`).
"""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minidl.creation import tensor


def shapes(min_dims=0, max_dims=4, min_side=1, max_side=5):
    """Array shapes, e.g. (), (3,), (2, 1, 4)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(min_dims=0, max_dims=4, min_side=1, max_side=5):
    """Pairs (shape_a, shape_b) that broadcast together under NumPy's rules, e.g. ((3, 1), (2, 1, 4))."""
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=min_dims, max_dims=max_dims,
                                             min_side=min_side, max_side=max_side).map(lambda r: r.input_shapes)


def axes(ndim, allow_none=True):
    """Reduction axes for an `ndim`-dimensional array: None, an int (maybe negative) or a tuple."""
    options = []
    if allow_none:
        options.append(st.none())
    if ndim > 0:
        options.append(st.integers(-ndim, ndim - 1))
        options.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple))
    return st.one_of(*options)


def floats(min_value=-10.0, max_value=10.0, away_from=(), margin=1e-3, width=64):
    """Finite floats in [min_value, max_value], at least `margin` away from each value in `away_from`
    (kinks such as 0 for abs/relu, where finite differences are not defined)."""
    values = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=width)
    if away_from:
        values = values.filter(lambda v: all(abs(v - k) > margin for k in away_from))
    return values


def arrays(shape, dtype=np.float64, min_value=-10.0, max_value=10.0, away_from=(), margin=1e-3, unique=False):
    """NumPy arrays of `shape` (a tuple or a strategy) with bounded finite values.

    `unique=True` gives distinct elements (no ties for max/min); `away_from` keeps values off kinks.
    """
    width = 32 if np.dtype(dtype) == np.float32 else 64
    elements = floats(min_value, max_value, away_from, margin, width)
    return hnp.arrays(dtype, shape, elements=elements, unique=unique)


def tensors(shape=None, dtype=np.float64, min_value=-10.0, max_value=10.0, away_from=(), margin=1e-3,
            unique=False, requires_grad=True, device="cpu"):
    """minidl Tensors built from `arrays(...)`; float64 and requiring grad by default (for gradcheck)."""
    shape = shapes() if shape is None else shape
    return arrays(shape, dtype, min_value, max_value, away_from, margin, unique).map(
        lambda a: tensor(a, dtype=dtype, device=device, requires_grad=requires_grad))
