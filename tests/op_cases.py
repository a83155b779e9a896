"""The core ops as one table: how to call each in minidl, in NumPy and in PyTorch, and what inputs to draw.

Shared by tests/test_ops_gradcheck.py (backward against finite differences) and
tests/test_ops_reference.py (forward against NumPy; forward and backward against PyTorch; dtypes).

Every case is an `Op`:
    inputs   a hypothesis strategy drawing `(arrays, kwargs)`: a tuple of float64 NumPy arrays (the
             differentiable inputs) and the op's other arguments (axis, index, condition, ...)
    mdl      `mdl(*tensors, **kwargs)`: the minidl call under test
    numpy    `numpy(*arrays, **kwargs)`: the same computation in plain NumPy
    torch    `torch(T, *tensors, **kwargs)` with T the torch module: the same in PyTorch
             (None where PyTorch has no direct counterpart)

Inputs stay small (at most 3 or 4 axes of at most 4 elements) so that the suite stays fast, and keep
away from kinks (|x| at 0, clip at its bounds, ties of max/min), where finite differences fail.
"""

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minidl as mdl
from minidl.testing import arrays, axes, broadcastable_shapes, shapes

MAX_SIDE, MAX_DIMS = 4, 3


@dataclass(frozen=True, repr=False)
class Op:
    name: str
    inputs: st.SearchStrategy
    mdl: Callable
    numpy: Callable
    torch: Optional[Callable]
    eps: float = 1e-6                  # finite-difference step for gradcheck
    out_dtype: Optional[type] = None   # an output dtype fixed by the op (astype), else the inputs' dtype

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


def mdl_attention(q, k, v, *mask, attn_mask=None, is_causal=False):
    if mask:
        attn_mask = mask[0]
    elif attn_mask is not None:
        attn_mask = on_device_of(q, attn_mask)
    return mdl.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, is_causal=is_causal)


def torch_attention(T, q, k, v, *mask, attn_mask=None, is_causal=False):
    if mask:
        attn_mask = mask[0]
    elif attn_mask is not None:
        attn_mask = T.as_tensor(attn_mask)
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])  # PyTorch's kernels want one batch shape
    q, k, v = (t.expand(*batch, *t.shape[-2:]) for t in (q, k, v))
    return T.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, is_causal=is_causal)


# -- NumPy references that NumPy does not have under one name -------------------------------------------------
def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def np_softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def np_log_softmax(x, axis=-1):
    return x - np_logsumexp(x, axis=axis, keepdims=True)


def np_gelu(x):
    from scipy.special import erf

    return 0.5 * x * (1 + erf(x / np.sqrt(2)))


def np_gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def np_layer_norm(x, weight, bias, normalized_shape):
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    xhat = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + 1e-5)
    return xhat * weight + bias


def np_attention(q, k, v, *mask, attn_mask=None, is_causal=False):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask:
        attn_mask = mask[0]
    if is_causal:
        attn_mask = np.tri(q.shape[-2], k.shape[-2], dtype=bool)
    if attn_mask is not None:
        scores = np.where(attn_mask, scores, -np.inf) if attn_mask.dtype == bool else scores + attn_mask
    m = scores.max(axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isfinite(m), m, 0))
    total = e.sum(axis=-1, keepdims=True)
    return (e / np.where(total == 0, 1, total)) @ v  # a row with every key forbidden: zeros (PyTorch >= 2.5)


# -- PyTorch spellings of NumPy's arguments ---------------------------------------------------------------
def dims(axis, ndim):
    """NumPy's axis (None, an int or a tuple) as torch's dim (None means every axis)."""
    return tuple(range(ndim)) if axis is None else axis


def torch_reduce(name):
    """T.sum / T.mean / T.amax / T.amin / T.logsumexp with NumPy's axis and keepdims."""
    return lambda T, x, axis, keepdims: getattr(T, name)(x, dim=dims(axis, x.ndim), keepdim=keepdims)


def _torch_prod(T, x, axis, keepdims):
    """prod over NumPy's axes: torch.prod takes one dim at a time (the last first keeps the numbering)."""
    if x.ndim == 0:
        return x.clone()
    for a in sorted(dims(axis, x.ndim) if isinstance(axis, tuple) or axis is None else (axis,),
                    key=lambda a: a % x.ndim, reverse=True):
        x = T.prod(x, dim=a, keepdim=keepdims)
    return x


def torch_pad(T, x, pad_width):
    per_axis = np.broadcast_to(np.asarray(pad_width), (x.ndim, 2))  # NumPy's rule for pad_width
    flat = [int(w) for pair in reversed(per_axis) for w in pair]     # torch lists the last axis first
    return T.nn.functional.pad(x, flat)


def torch_index(T, x, index):
    """x[index] in PyTorch through a flat integer index (PyTorch has no negative-step slices)."""
    positions = np.arange(x.numel()).reshape(tuple(x.shape))[index]
    return x.reshape(-1)[T.as_tensor(np.array(positions))]  # a contiguous copy


def on_device_of(like, array):
    return mdl.tensor(array, device=like.device)


# -- the table ---------------------------------------------------------------------------------------------
POSITIVE = {"min_value": 0.5, "max_value": 10.0}
NONZERO = {"away_from": (0.0,), "margin": 0.5}

OPS = [
    # arithmetic operators, broadcasting pairs
    Op("add", binary(), lambda a, b: a + b, np.add, lambda T, a, b: a + b),
    Op("sub", binary(), lambda a, b: a - b, np.subtract, lambda T, a, b: a - b),
    Op("mul", binary(), lambda a, b: a * b, np.multiply, lambda T, a, b: a * b),
    Op("div", binary(**NONZERO), lambda a, b: a / b, np.divide, lambda T, a, b: a / b),
    Op("pow", binary_positive_base(), lambda a, b: a ** b, np.power, lambda T, a, b: a ** b),
    Op("matmul", matmul_inputs(), lambda a, b: a @ b, np.matmul, lambda T, a, b: a @ b),
    Op("maximum", binary_no_ties(), mdl.maximum, np.maximum, lambda T, a, b: T.maximum(a, b)),
    Op("minimum", binary_no_ties(), mdl.minimum, np.minimum, lambda T, a, b: T.minimum(a, b)),
    Op("where", where_inputs(), lambda a, b, cond: mdl.where(on_device_of(a, cond), a, b),
       lambda a, b, cond: np.where(cond, a, b), lambda T, a, b, cond: T.where(T.as_tensor(cond), a, b)),
    # with Python numbers: weak scalars (NEP 50), float32 stays float32
    Op("neg", unary(), lambda x: -x, np.negative, lambda T, x: -x),
    Op("add_scalar", unary(), lambda x: x + 2.5, lambda x: x + 2.5, lambda T, x: x + 2.5),
    Op("radd_int", unary(), lambda x: 3 + x, lambda x: 3 + x, lambda T, x: 3 + x),
    Op("sub_scalar", unary(), lambda x: x - 2.5, lambda x: x - 2.5, lambda T, x: x - 2.5),
    Op("rsub_scalar", unary(), lambda x: 3.0 - x, lambda x: 3.0 - x, lambda T, x: 3.0 - x),
    Op("mul_scalar", unary(), lambda x: x * -1.5, lambda x: x * -1.5, lambda T, x: x * -1.5),
    Op("rmul_int", unary(), lambda x: 3 * x, lambda x: 3 * x, lambda T, x: 3 * x),
    Op("div_scalar", unary(), lambda x: x / 4.0, lambda x: x / 4.0, lambda T, x: x / 4.0),
    Op("rdiv_scalar", unary(**NONZERO), lambda x: 2.0 / x, lambda x: 2.0 / x, lambda T, x: 2.0 / x),
    Op("pow_int", unary(), lambda x: x ** 3, lambda x: x ** 3, lambda T, x: x ** 3),
    Op("pow_float", unary(**POSITIVE), lambda x: x ** -1.5, lambda x: x ** -1.5, lambda T, x: x ** -1.5),
    Op("rpow_scalar", unary(), lambda x: 2.0 ** x, lambda x: 2.0 ** x, lambda T, x: 2.0 ** x),
    Op("maximum_scalar", unary(away_from=(0.5,)), lambda x: mdl.maximum(x, 0.5), lambda x: np.maximum(x, 0.5),
       lambda T, x: T.clamp(x, min=0.5)),
    Op("where_scalar", where_inputs(), lambda a, b, cond: mdl.where(on_device_of(a, cond), a + b, 0.0),
       lambda a, b, cond: np.where(cond, a + b, 0.0), lambda T, a, b, cond: T.where(T.as_tensor(cond), a + b, 0.0)),
    # elementwise functions
    Op("exp", unary(), mdl.exp, np.exp, lambda T, x: T.exp(x)),
    Op("log", unary(**POSITIVE), mdl.log, np.log, lambda T, x: T.log(x)),
    Op("sqrt", unary(**POSITIVE), mdl.sqrt, np.sqrt, lambda T, x: T.sqrt(x)),
    Op("abs", unary(away_from=(0.0,)), mdl.abs, np.abs, lambda T, x: T.abs(x)),
    Op("clip", clip_inputs(), mdl.clip, np.clip,
       lambda T, x, a_min, a_max: T.clamp(x, min=a_min, max=a_max)),
    # activations
    Op("relu", unary(away_from=(0.0,)), mdl.relu, lambda x: np.maximum(x, 0.0), lambda T, x: T.relu(x)),
    Op("leaky_relu", leaky_relu_inputs(), mdl.leaky_relu,
       lambda x, negative_slope: np.where(x > 0, x, negative_slope * x),
       lambda T, x, negative_slope: T.nn.functional.leaky_relu(x, negative_slope)),
    Op("sigmoid", unary(min_value=-30.0, max_value=30.0), mdl.sigmoid, np_sigmoid, lambda T, x: T.sigmoid(x)),
    Op("tanh", unary(), mdl.tanh, np.tanh, lambda T, x: T.tanh(x)),
    Op("softmax", along_one_axis(), mdl.softmax, np_softmax, lambda T, x, axis: T.softmax(x, dim=axis)),
    Op("log_softmax", along_one_axis(), mdl.log_softmax, np_log_softmax,
       lambda T, x, axis: T.log_softmax(x, dim=axis)),
    # reductions: None, an int or a tuple of axes, with and without keepdims
    Op("sum", reduction(), mdl.sum, np.sum, torch_reduce("sum")),
    Op("mean", reduction(), mdl.mean, np.mean, torch_reduce("mean")),
    Op("max", reduction(unique=True), mdl.max, np.max, torch_reduce("amax")),
    Op("min", reduction(unique=True), mdl.min, np.min, torch_reduce("amin")),
    Op("var", reduction(ddof=True), mdl.var, np.var,
       lambda T, x, axis, keepdims, ddof: T.var(x, dim=dims(axis, x.ndim), correction=ddof, keepdim=keepdims)),
    Op("logsumexp", reduction(), mdl.logsumexp, np_logsumexp, torch_reduce("logsumexp")),
    # shape
    Op("reshape", reshape_inputs(), lambda x, shape: x.reshape(shape), np.reshape,
       lambda T, x, shape: x.reshape(shape)),
    Op("transpose", transpose_inputs(), lambda x, axes: mdl.transpose(x, *axes),
       lambda x, axes: np.transpose(x, axes), lambda T, x, axes: x.permute(tuple(axes))),
    Op("T", unary(), lambda x: x.T, lambda x: x.T, lambda T, x: x.permute(tuple(reversed(range(x.ndim))))),
    Op("flatten", unary(), mdl.flatten, lambda x: x.flatten(), lambda T, x: T.flatten(x)),
    Op("expand_dims", expand_dims_inputs(), mdl.expand_dims, np.expand_dims,
       lambda T, x, axis: x.reshape(np.expand_dims(np.empty(tuple(x.shape)), axis).shape)),
    Op("squeeze", squeeze_inputs(), mdl.squeeze, np.squeeze,
       lambda T, x, axis: T.squeeze(x) if axis is None else T.squeeze(x, dim=axis)),
    Op("concatenate", concatenate_inputs(), lambda *xs, axis: mdl.concatenate(xs, axis=axis),
       lambda *xs, axis: np.concatenate(xs, axis=axis), lambda T, *xs, axis: T.cat(xs, dim=axis)),
    Op("stack", stack_inputs(), lambda *xs, axis: mdl.stack(xs, axis=axis),
       lambda *xs, axis: np.stack(xs, axis=axis), lambda T, *xs, axis: T.stack(xs, dim=axis)),
    Op("pad", pad_inputs(), mdl.pad, np.pad, torch_pad),
    # indexing: basic and integer-array; repeated indices add their gradients
    Op("getitem", index_inputs(), lambda x, index: x[index], lambda x, index: x[index], torch_index),
    Op("getitem_reversed", fixed_index(slice(None, None, -1)), lambda x, index: x[index],
       lambda x, index: x[index], torch_index),
    Op("getitem_step_back", fixed_index(slice(3, 0, -2)), lambda x, index: x[index], lambda x, index: x[index],
       torch_index),
    Op("getitem_repeated", fixed_index([0, 0, 2]), lambda x, index: x[index], lambda x, index: x[index],
       torch_index),
    # sequence-model ops (issue 21)
    Op("sin", unary(), mdl.sin, np.sin, lambda T, x: T.sin(x)),
    Op("cos", unary(), mdl.cos, np.cos, lambda T, x: T.cos(x)),
    Op("prod", prod_inputs(), mdl.prod, np.prod, lambda T, x, axis, keepdims: _torch_prod(T, x, axis, keepdims)),
    Op("gelu", unary(), lambda x: mdl.nn.functional.gelu(x), np_gelu, lambda T, x: T.nn.functional.gelu(x)),
    Op("gelu_tanh", unary(), lambda x: mdl.nn.functional.gelu(x, approximate="tanh"), np_gelu_tanh,
       lambda T, x: T.nn.functional.gelu(x, approximate="tanh")),
    Op("layer_norm", layer_norm_inputs(),
       lambda x, w, b, normalized_shape: mdl.nn.functional.layer_norm(x, normalized_shape, w, b), np_layer_norm,
       lambda T, x, w, b, normalized_shape: T.nn.functional.layer_norm(x, normalized_shape, w, b)),
    Op("embedding", embedding_inputs(),
       lambda w, indices: mdl.nn.functional.embedding(indices, w), lambda w, indices: w[indices],
       lambda T, w, indices: T.nn.functional.embedding(T.as_tensor(indices), w)),
    Op("scaled_dot_product_attention", attention_inputs(), mdl_attention, np_attention, torch_attention),
    Op("scaled_dot_product_attention_float_mask", attention_inputs(float_mask_input=True), mdl_attention,
       np_attention, torch_attention),
    # casts between floating dtypes (the output dtype is the one asked for)
    Op("astype_float32", unary(), lambda x: x.astype(mdl.float32), lambda x: x.astype(np.float32),
       lambda T, x: x.to(T.float32), eps=1e-2, out_dtype=np.float32),
    Op("astype_float64", unary(), lambda x: x.astype(mdl.float64), lambda x: x.astype(np.float64),
       lambda T, x: x.to(T.float64), out_dtype=np.float64),
]
