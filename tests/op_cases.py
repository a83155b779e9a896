"""The core ops of minidl/op_table.py (the one table `minidl gradcheck` also runs), each with a hypothesis
strategy that draws its inputs.

Shared by tests/test_ops_gradcheck.py (backward against finite differences), tests/test_ops_reference.py
(forward against NumPy; forward and backward against PyTorch; dtypes) and tests/test_dtype_creep.py.
How to call each op in minidl, NumPy and PyTorch lives in the table; what is added here is `inputs`:

    inputs   a hypothesis strategy drawing `(arrays, kwargs)`: a tuple of float64 NumPy arrays (the
             differentiable inputs) and the op's other arguments (axis, index, condition, ...)

Inputs stay small (at most 3 or 4 axes of at most 4 elements) so that the suite stays fast, and keep
away from kinks (|x| at 0, clip at its bounds, ties of max/min), where finite differences fail.
Table rows without a strategy here (layers' functions, losses, fixed variants) are checked on their
fixed example by tests/test_op_table.py.
"""

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minidl.op_table import OPS as TABLE
from minidl.testing import arrays, axes, broadcastable_shapes, shapes

MAX_SIDE, MAX_DIMS = 4, 3


@dataclass(frozen=True, repr=False)
class Op:
    """A table row (minidl/op_table.py: OpCase) with the strategy that draws its inputs."""
    name: str
    inputs: st.SearchStrategy
    mdl: Callable
    numpy: Callable
    torch: Optional[Callable]
    eps: float = 1e-6
    out_dtype: Optional[type] = None

    def __repr__(self):
        return self.name


# -- input strategies: each draws (arrays, kwargs) ---------------------------------------------------------
def small_shapes(min_dims=0, max_dims=MAX_DIMS, max_side=MAX_SIDE):
    return shapes(min_dims=min_dims, max_dims=max_dims, max_side=max_side)


def well_separated(a, gap=1e-3):
    """No two elements closer than `gap` (so that a finite-difference step cannot swap their order)."""
    values = np.sort(np.asarray(a).ravel())
    return bool(np.all(np.diff(values) > gap))


def unary(min_dims=0, **values):
    """One array of any small shape; `values` go to minidl.testing.arrays (min_value, away_from, ...)."""
    return arrays(small_shapes(min_dims), **values).map(lambda a: ((a,), {}))


def binary(**values):
    """Two arrays whose shapes broadcast together (every binary op is tested under broadcasting)."""
    return broadcastable_shapes(max_dims=MAX_DIMS, max_side=MAX_SIDE).flatmap(
        lambda pair: st.tuples(arrays(pair[0], **values), arrays(pair[1], **values))).map(lambda ab: (ab, {}))


@st.composite
def binary_positive_base(draw):
    """(base, exponent) for a ** b with a tensor exponent: positive bases, as log(a) is in dL/db."""
    sa, sb = draw(broadcastable_shapes(max_dims=MAX_DIMS, max_side=MAX_SIDE))
    return (draw(arrays(sa, min_value=0.5, max_value=3.0)), draw(arrays(sb, min_value=-2.0, max_value=2.0))), {}


@st.composite
def binary_no_ties(draw):
    """Two broadcastable arrays that never tie elementwise (for maximum and minimum)."""
    sa, sb = draw(broadcastable_shapes(max_dims=MAX_DIMS, max_side=MAX_SIDE))
    na, nb = int(np.prod(sa)), int(np.prod(sb))
    pool = draw(arrays((na + nb,), unique=True).filter(well_separated))
    return (pool[:na].reshape(sa), pool[na:].reshape(sb)), {}


@st.composite
def reduction(draw, unique=False, ddof=False):
    """One array, a reduction axis (None, an int or a tuple) and keepdims (and ddof for var)."""
    shape = draw(small_shapes())
    values = arrays(shape, unique=unique)
    x = draw(values.filter(well_separated) if unique else values)
    kwargs = {"axis": draw(axes(len(shape))), "keepdims": draw(st.booleans())}
    if ddof:
        axis = kwargs["axis"]
        reduced = range(len(shape)) if axis is None else (axis,) if isinstance(axis, int) else axis
        n = int(np.prod([shape[a] for a in reduced]))
        kwargs["ddof"] = draw(st.integers(0, 1)) if n > 1 else 0  # n - ddof must stay positive
    return (x,), kwargs


@st.composite
def along_one_axis(draw):
    """One array with at least one axis and a single int axis (softmax, log_softmax)."""
    shape = draw(small_shapes(min_dims=1))
    return (draw(arrays(shape)),), {"axis": draw(st.integers(-len(shape), len(shape) - 1))}


@st.composite
def clip_inputs(draw):
    a_min, a_max = draw(st.sampled_from([(-1.0, 2.0), (None, 0.5), (-0.5, None), (0.0, 0.0)]))
    bounds = tuple(b for b in (a_min, a_max) if b is not None)
    return (draw(arrays(small_shapes(), min_value=-3.0, max_value=3.0, away_from=bounds)),), \
        {"a_min": a_min, "a_max": a_max}


@st.composite
def leaky_relu_inputs(draw):
    x = draw(arrays(small_shapes(), away_from=(0.0,)))
    return (x,), {"negative_slope": draw(st.sampled_from([0.01, 0.2, 1.5]))}


@st.composite
def matmul_inputs(draw):
    """a @ b with NumPy's rules: each side 1-d or a (batch of) matrix, batch axes broadcasting."""
    n, k, m = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch_a, batch_b = draw(broadcastable_shapes(max_dims=2, max_side=3))
    sa = (k,) if draw(st.booleans()) else (*batch_a, n, k)
    sb = (k,) if draw(st.booleans()) else (*batch_b, k, m)
    return (draw(arrays(sa)), draw(arrays(sb))), {}


@st.composite
def where_inputs(draw):
    """cond, a, b of three mutually broadcastable shapes."""
    s_cond, sa, sb = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=MAX_DIMS,
                                                            max_side=MAX_SIDE)).input_shapes
    cond = draw(hnp.arrays(np.bool_, s_cond))
    return (draw(arrays(sa)), draw(arrays(sb))), {"cond": cond}


@st.composite
def reshape_inputs(draw):
    shape = draw(small_shapes())
    size = int(np.prod(shape))
    targets = [(size,), (-1,), tuple(reversed(shape)), (1,) + shape, shape + (1,)]
    if shape:
        targets.append((shape[0], -1))
    return (draw(arrays(shape)),), {"shape": draw(st.sampled_from(targets))}


@st.composite
def transpose_inputs(draw):
    shape = draw(small_shapes(max_dims=4))
    return (draw(arrays(shape)),), {"axes": tuple(draw(st.permutations(range(len(shape)))))}


@st.composite
def expand_dims_inputs(draw):
    shape = draw(small_shapes())
    ndim = len(shape)
    if draw(st.booleans()):
        axis = draw(st.integers(-ndim - 1, ndim))
    else:  # a tuple of positions in the result, which has ndim + len(axis) axes
        count = draw(st.integers(1, 2))
        axis = tuple(draw(st.lists(st.integers(0, ndim + count - 1), min_size=count, max_size=count, unique=True)))
    return (draw(arrays(shape)),), {"axis": axis}


@st.composite
def squeeze_inputs(draw):
    shape = draw(small_shapes(max_dims=4, max_side=2))  # sides of 1 and 2: plenty of axes to squeeze
    ones = [i for i, n in enumerate(shape) if n == 1]
    options = [st.none()]
    if ones:
        options.append(st.sampled_from(ones))
        options.append(st.lists(st.sampled_from(ones), min_size=1, unique=True).map(tuple))
    return (draw(arrays(shape)),), {"axis": draw(st.one_of(*options))}


@st.composite
def concatenate_inputs(draw):
    """1 to 3 arrays that agree on every axis but `axis`."""
    shape = draw(small_shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    count = draw(st.integers(1, 3))
    parts = []
    for _ in range(count):
        part_shape = list(shape)
        part_shape[axis] = draw(st.integers(1, 3))
        parts.append(draw(arrays(tuple(part_shape))))
    return tuple(parts), {"axis": axis}


@st.composite
def stack_inputs(draw):
    shape = draw(small_shapes())
    count = draw(st.integers(1, 3))
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    return tuple(draw(arrays(shape)) for _ in range(count)), {"axis": axis}


@st.composite
def pad_inputs(draw):
    """NumPy's pad_width forms: an int, one (before, after) pair, or a pair per axis."""
    shape = draw(small_shapes(min_dims=1))
    width = st.integers(0, 2)
    pad_width = draw(st.one_of(width, st.tuples(width, width),
                               st.lists(st.tuples(width, width), min_size=len(shape), max_size=len(shape))))
    return (draw(arrays(shape)),), {"pad_width": pad_width}


@st.composite
def index_inputs(draw):
    """x and an index: basic (ints, slices with any step, None, ...), integer arrays (with repeats and
    negative entries), an integer array with a slice, or a boolean mask."""
    shape = draw(small_shapes(min_dims=1))
    x = draw(arrays(shape))
    basic = hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True)
    integer = hnp.integer_array_indices(shape, result_shape=small_shapes(min_dims=1, max_dims=2))
    first_axis = hnp.arrays(np.int64, st.integers(1, 5), elements=st.integers(-shape[0], shape[0] - 1)).map(
        lambda idx: (idx, slice(None, None, -1)))  # x[idx, ::-1] mixes an array with a slice
    mask = hnp.arrays(np.bool_, shape)
    index = draw(st.one_of(basic, integer, mask, *([first_axis] if len(shape) > 1 else [])))
    return (x,), {"index": index}


def fixed_index(index, min_side=4):
    """x[index] for one fixed index, e.g. x[::-1], on arrays with at least `min_side` rows."""
    shape = st.tuples(st.integers(min_side, MAX_SIDE + 1)).flatmap(
        lambda first: small_shapes(max_dims=2).map(lambda rest: first + rest))
    return arrays(shape).map(lambda x: ((x,), {"index": index}))


# -- inputs of the sequence-model ops (issue 21): prod with zeros, GELU, LayerNorm, embedding, attention -------
@st.composite
def prod_inputs(draw):
    """One array with some exact zeros (none, one or several per slice), an axis and keepdims. Values stay
    in [-2, 2]: the product is linear in each element, so central differences are exact even at 0."""
    shape = draw(small_shapes())
    values = st.one_of(st.floats(-2.0, 2.0, allow_nan=False), st.just(0.0))
    return (draw(hnp.arrays(np.float64, shape, elements=values)),), \
        {"axis": draw(axes(len(shape))), "keepdims": draw(st.booleans())}


@st.composite
def layer_norm_inputs(draw):
    """x (..., *normalized_shape) with 1 or 2 normalized trailing axes, weight and bias of that shape; the
    affine arrays are always drawn (the op's no-affine form is tested in tests/test_sequence_ops.py)."""
    shape = draw(small_shapes(min_dims=1))
    k = draw(st.integers(1, min(2, len(shape))))
    normalized = shape[len(shape) - k:]
    x = draw(arrays(shape, min_value=-3.0, max_value=3.0).filter(lambda a: a.size < 2 or np.ptp(a) > 0.1))
    return (x, draw(arrays(normalized, min_value=-2.0, max_value=2.0)),
            draw(arrays(normalized, min_value=-2.0, max_value=2.0))), {"normalized_shape": normalized}


@st.composite
def embedding_inputs(draw):
    """A weight (num, dim) and integer indices of any small shape, repeats likely. No padding_idx here: its
    row gets no gradient by convention, which is not the derivative gradcheck measures (its own tests are in
    tests/test_sequence_ops.py)."""
    num, dim = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    indices = draw(hnp.arrays(np.int64, small_shapes(max_dims=2), elements=st.integers(0, num - 1)))
    return (draw(arrays((num, dim))),), {"indices": indices}


@st.composite
def attention_inputs(draw, float_mask_input=False):
    """q (..., L, E), k (..., S, E), v (..., S, Ev) with broadcasting batch axes, and one of: no mask, a
    boolean mask (True = may attend; some rows maybe all False), a float mask, is_causal. With
    `float_mask_input`, a finite float mask (..., L, S) is a fourth differentiable input."""
    l, s, e, ev = (draw(st.integers(1, 4)) for _ in range(4))
    bq, bk, bv = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=2, max_side=3)).input_shapes
    values = {"min_value": -2.0, "max_value": 2.0}
    arrays_ = [draw(arrays(bq + (l, e), **values)), draw(arrays(bk + (s, e), **values)),
               draw(arrays(bv + (s, ev), **values))]
    if float_mask_input:
        arrays_.append(draw(arrays((l, s), **values)))
        return tuple(arrays_), {}
    kind = draw(st.sampled_from(["none", "bool", "float", "causal"]))
    kwargs = {}
    if kind == "bool":
        kwargs["attn_mask"] = draw(hnp.arrays(np.bool_, st.sampled_from([(l, s), (1, l, s), (l, 1)])))
    elif kind == "float":
        mask = draw(arrays((l, s), **values))
        kwargs["attn_mask"] = np.where(draw(hnp.arrays(np.bool_, (l, s))), mask, -np.inf)
    elif kind == "causal":
        kwargs["is_causal"] = True
    return tuple(arrays_), kwargs


@st.composite
def self_attention_inputs(draw):
    """Packed projections qkv (B, T, 3E) with E = heads · d, causal or not."""
    b, t, heads, d = draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
    qkv = draw(arrays((b, t, 3 * heads * d), min_value=-2.0, max_value=2.0))
    return (qkv,), {"num_heads": heads, "is_causal": draw(st.booleans())}


# -- a strategy per core op of the table ---------------------------------------------------------------------
POSITIVE = {"min_value": 0.5, "max_value": 10.0}
NONZERO = {"away_from": (0.0,), "margin": 0.5}

STRATEGIES = {
    # arithmetic operators, broadcasting pairs
    "add": binary(), "sub": binary(), "mul": binary(), "div": binary(**NONZERO), "pow": binary_positive_base(),
    "matmul": matmul_inputs(), "maximum": binary_no_ties(), "minimum": binary_no_ties(), "where": where_inputs(),
    # with Python numbers: weak scalars (NEP 50), float32 stays float32
    "neg": unary(), "add_scalar": unary(), "radd_int": unary(), "sub_scalar": unary(), "rsub_scalar": unary(),
    "mul_scalar": unary(), "rmul_int": unary(), "div_scalar": unary(), "rdiv_scalar": unary(**NONZERO),
    "pow_int": unary(), "pow_float": unary(**POSITIVE), "rpow_scalar": unary(),
    "maximum_scalar": unary(away_from=(0.5,)), "where_scalar": where_inputs(),
    # elementwise functions and activations
    "exp": unary(), "log": unary(**POSITIVE), "sqrt": unary(**POSITIVE), "abs": unary(away_from=(0.0,)),
    "clip": clip_inputs(), "relu": unary(away_from=(0.0,)), "leaky_relu": leaky_relu_inputs(),
    "sigmoid": unary(min_value=-30.0, max_value=30.0), "tanh": unary(), "softmax": along_one_axis(),
    "log_softmax": along_one_axis(),
    # reductions: None, an int or a tuple of axes, with and without keepdims
    "sum": reduction(), "mean": reduction(), "max": reduction(unique=True), "min": reduction(unique=True),
    "var": reduction(ddof=True), "logsumexp": reduction(),
    # shape
    "reshape": reshape_inputs(), "transpose": transpose_inputs(), "T": unary(), "flatten": unary(),
    "expand_dims": expand_dims_inputs(), "squeeze": squeeze_inputs(), "concatenate": concatenate_inputs(),
    "stack": stack_inputs(), "pad": pad_inputs(),
    # indexing: basic and integer-array; repeated indices add their gradients
    "getitem": index_inputs(), "getitem_reversed": fixed_index(slice(None, None, -1)),
    "getitem_step_back": fixed_index(slice(3, 0, -2)), "getitem_repeated": fixed_index([0, 0, 2]),
    # sequence-model ops (issue 21)
    "sin": unary(), "cos": unary(), "prod": prod_inputs(), "gelu": unary(), "gelu_tanh": unary(),
    "layer_norm": layer_norm_inputs(), "embedding": embedding_inputs(),
    "scaled_dot_product_attention": attention_inputs(),
    "scaled_dot_product_attention_float_mask": attention_inputs(float_mask_input=True),
    "self_attention": self_attention_inputs(),
    # casts between floating dtypes (the output dtype is the one asked for)
    "astype_float32": unary(), "astype_float64": unary(),
}

OPS = [Op(case.name, STRATEGIES[case.name], case.mdl, case.numpy, case.torch, case.eps, case.out_dtype)
       for case in TABLE if case.name in STRATEGIES]
