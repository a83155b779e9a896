"""Every differentiable op as one table: how to call it in minidl, in NumPy and in PyTorch, and a small
fixed float64 example input. One home for `minidl gradcheck` (minidl/cli/gradcheck.py runs every example)
and the test suite (tests/op_cases.py adds a hypothesis strategy per op; tests/test_ops_gradcheck.py,
tests/test_ops_reference.py, tests/test_dtype_creep.py and tests/test_op_table.py read the table).

Every row is an `OpCase`:
    name     unique; variants of one op get a suffix ("matmul_batched", "conv2d_stride2")
    mdl      `mdl(*tensors, **kwargs)`: the minidl call under test
    numpy    `numpy(*arrays, **kwargs)`: the same computation in plain NumPy (None: not a one-liner)
    torch    `torch(T, *tensors, **kwargs)` with T the torch module: the same in PyTorch (None: none)
    example  `example(rng) -> (arrays, kwargs)`: small float64 inputs away from kinks (|x| at 0, ties of
             max/min/pooling), where finite differences fail; None where a float64 check says little
    eps      the finite-difference step for gradcheck
    out_dtype  an output dtype fixed by the op (astype), else the inputs' dtype

Adding an op: one row here (with its example), and, for ops in the core table, its input strategy in
tests/op_cases.py (docs/ARCHITECTURE.md, "How to add an op").
"""

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

import minidl as mdl
import minidl.nn.functional as F


@dataclass(frozen=True, repr=False)
class OpCase:
    name: str
    mdl: Callable
    numpy: Optional[Callable]
    torch: Optional[Callable]
    example: Optional[Callable] = None
    eps: float = 1e-6
    out_dtype: Optional[type] = None

    def __repr__(self):
        return self.name


# -- example inputs: each maker takes a NumPy Generator and returns one float64 array ----------------------
def normal(*shape):
    return lambda rng: rng.standard_normal(shape)


def uniform(low, high, *shape):
    return lambda rng: rng.uniform(low, high, shape)


def away(*shape):
    """|x| in [0.5, 1.5]: no kink of abs, relu or clip at ±0.2 within a finite-difference step."""
    return lambda rng: rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


def distinct(*shape):
    """Values at least 0.09 apart: no ties for max, min and pooling."""
    return lambda rng: rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 + rng.uniform(0, 0.01, shape)


def example(*makers, **kwargs):
    """An `example`: the arrays the makers draw, and fixed keyword arguments."""
    return lambda rng: (tuple(make(rng) for make in makers), dict(kwargs))


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


def np_self_attention(qkv, num_heads, is_causal=False):
    b, t, three_e = qkv.shape
    heads = qkv.reshape(b, t, 3, num_heads, three_e // (3 * num_heads)).transpose(2, 0, 3, 1, 4)
    y = np_attention(heads[0], heads[1], heads[2], is_causal=is_causal)  # (B, heads, T, d)
    return y.transpose(0, 2, 1, 3).reshape(b, t, three_e // 3)


def torch_self_attention(T, qkv, num_heads, is_causal=False):
    b, t, three_e = qkv.shape
    q, k, v = (part.reshape(b, t, num_heads, -1).transpose(1, 2) for part in qkv.split(three_e // 3, dim=2))
    y = T.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=is_causal)
    return y.transpose(1, 2).reshape(b, t, three_e // 3)


# -- PyTorch spellings of NumPy's arguments ---------------------------------------------------------------
def dims(axis, ndim):
    """NumPy's axis (None, an int or a tuple) as torch's dim (None means every axis)."""
    return tuple(range(ndim)) if axis is None else axis


def torch_reduce(name):
    """T.sum / T.mean / T.amax / T.amin / T.logsumexp with NumPy's axis and keepdims."""
    return lambda T, x, axis, keepdims: getattr(T, name)(x, dim=dims(axis, x.ndim), keepdim=keepdims)


def torch_prod(T, x, axis, keepdims):
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
    """A constant (condition, labels, targets) as a tensor on the device and, if floating, dtype of `like`."""
    dtype = like.dtype if np.asarray(array).dtype.kind == "f" else None
    return mdl.tensor(array, device=like.device, dtype=dtype)


def stats_like(x, fill):
    """Fresh running statistics (C,) for batch_norm on x (N, C, ...): training updates them in place."""
    return mdl.full((x.shape[1],), fill, dtype=x.dtype, device=x.device)


def torch_batch_norm(T, x, *affine, training):
    n_channels = x.shape[1]
    mean, var = T.zeros(n_channels, dtype=x.dtype), T.ones(n_channels, dtype=x.dtype)
    return T.nn.functional.batch_norm(x, mean, var, *affine, training=training)


LABELS = np.array([0, 2, 1, 2])               # class indices for 4 rows of 3 logits
BINARY = np.array([0.0, 1.0, 1.0, 0.0])       # 0/1 targets for 4 probabilities
COND = np.array([[True, False, True, False], [False, True, True, False], [True, True, False, False]])

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


# -- the table ---------------------------------------------------------------------------------------------
OPS = [
    # arithmetic operators, broadcasting pairs
    OpCase("add", lambda a, b: a + b, np.add, lambda T, a, b: a + b, example(normal(3, 4), normal(4))),
    OpCase("sub", lambda a, b: a - b, np.subtract, lambda T, a, b: a - b, example(normal(3, 4), normal(3, 1))),
    OpCase("mul", lambda a, b: a * b, np.multiply, lambda T, a, b: a * b, example(normal(3, 4), normal(4))),
    OpCase("div", lambda a, b: a / b, np.divide, lambda T, a, b: a / b,
           example(normal(3, 4), uniform(0.5, 2.0, 3, 4))),
    OpCase("pow", lambda a, b: a ** b, np.power, lambda T, a, b: a ** b,
           example(uniform(0.5, 3.0, 3, 4), uniform(-2.0, 2.0, 4))),
    OpCase("matmul", lambda a, b: a @ b, np.matmul, lambda T, a, b: a @ b, example(normal(3, 4), normal(4, 5))),
    OpCase("matmul_batched", lambda a, b: a @ b, np.matmul, lambda T, a, b: a @ b,
           example(normal(2, 3, 4), normal(4, 2))),
    OpCase("maximum", mdl.maximum, np.maximum, lambda T, a, b: T.maximum(a, b),
           example(distinct(3, 4), normal(3, 4))),
    OpCase("minimum", mdl.minimum, np.minimum, lambda T, a, b: T.minimum(a, b),
           example(distinct(3, 4), normal(3, 4))),
    OpCase("where", lambda a, b, cond: mdl.where(on_device_of(a, cond), a, b),
           lambda a, b, cond: np.where(cond, a, b), lambda T, a, b, cond: T.where(T.as_tensor(cond), a, b),
           example(normal(3, 4), normal(3, 4), cond=COND)),
    # with Python numbers: weak scalars (NEP 50), float32 stays float32
    OpCase("neg", lambda x: -x, np.negative, lambda T, x: -x, example(normal(3, 4))),
    OpCase("add_scalar", lambda x: x + 2.5, lambda x: x + 2.5, lambda T, x: x + 2.5, example(normal(3, 4))),
    OpCase("radd_int", lambda x: 3 + x, lambda x: 3 + x, lambda T, x: 3 + x, example(normal(3, 4))),
    OpCase("sub_scalar", lambda x: x - 2.5, lambda x: x - 2.5, lambda T, x: x - 2.5, example(normal(3, 4))),
    OpCase("rsub_scalar", lambda x: 3.0 - x, lambda x: 3.0 - x, lambda T, x: 3.0 - x, example(normal(3, 4))),
    OpCase("mul_scalar", lambda x: x * -1.5, lambda x: x * -1.5, lambda T, x: x * -1.5, example(normal(3, 4))),
    OpCase("rmul_int", lambda x: 3 * x, lambda x: 3 * x, lambda T, x: 3 * x, example(normal(3, 4))),
    OpCase("div_scalar", lambda x: x / 4.0, lambda x: x / 4.0, lambda T, x: x / 4.0, example(normal(3, 4))),
    OpCase("rdiv_scalar", lambda x: 2.0 / x, lambda x: 2.0 / x, lambda T, x: 2.0 / x, example(away(3, 4))),
    OpCase("pow_int", lambda x: x ** 3, lambda x: x ** 3, lambda T, x: x ** 3, example(normal(3, 4))),
    OpCase("pow_float", lambda x: x ** -1.5, lambda x: x ** -1.5, lambda T, x: x ** -1.5,
           example(uniform(0.5, 2.0, 3, 4))),
    OpCase("rpow_scalar", lambda x: 2.0 ** x, lambda x: 2.0 ** x, lambda T, x: 2.0 ** x, example(normal(3, 4))),
    OpCase("maximum_scalar", lambda x: mdl.maximum(x, 0.5), lambda x: np.maximum(x, 0.5),
           lambda T, x: T.clamp(x, min=0.5), example(uniform(0.6, 2.0, 3, 4))),
    OpCase("where_scalar", lambda a, b, cond: mdl.where(on_device_of(a, cond), a + b, 0.0),
           lambda a, b, cond: np.where(cond, a + b, 0.0), lambda T, a, b, cond: T.where(T.as_tensor(cond), a + b, 0.0),
           example(normal(3, 4), normal(4), cond=COND)),
    # elementwise functions
    OpCase("exp", mdl.exp, np.exp, lambda T, x: T.exp(x), example(normal(3, 4))),
    OpCase("log", mdl.log, np.log, lambda T, x: T.log(x), example(uniform(0.5, 2.0, 3, 4))),
    OpCase("sqrt", mdl.sqrt, np.sqrt, lambda T, x: T.sqrt(x), example(uniform(0.5, 2.0, 3, 4))),
    OpCase("abs", mdl.abs, np.abs, lambda T, x: T.abs(x), example(away(3, 4))),
    OpCase("clip", mdl.clip, np.clip, lambda T, x, a_min, a_max: T.clamp(x, min=a_min, max=a_max),
           example(away(3, 4), a_min=-0.2, a_max=0.2)),
    # activations
    OpCase("relu", mdl.relu, lambda x: np.maximum(x, 0.0), lambda T, x: T.relu(x), example(away(3, 4))),
    OpCase("leaky_relu", mdl.leaky_relu, lambda x, negative_slope: np.where(x > 0, x, negative_slope * x),
           lambda T, x, negative_slope: T.nn.functional.leaky_relu(x, negative_slope),
           example(away(3, 4), negative_slope=0.1)),
    OpCase("sigmoid", mdl.sigmoid, np_sigmoid, lambda T, x: T.sigmoid(x), example(normal(3, 4))),
    OpCase("tanh", mdl.tanh, np.tanh, lambda T, x: T.tanh(x), example(normal(3, 4))),
    OpCase("softmax", mdl.softmax, np_softmax, lambda T, x, axis: T.softmax(x, dim=axis),
           example(normal(3, 4), axis=-1)),
    OpCase("log_softmax", mdl.log_softmax, np_log_softmax, lambda T, x, axis: T.log_softmax(x, dim=axis),
           example(normal(3, 4), axis=-1)),
    # reductions: None, an int or a tuple of axes, with and without keepdims
    OpCase("sum", mdl.sum, np.sum, torch_reduce("sum"), example(normal(2, 3, 4), axis=(0, 2), keepdims=False)),
    OpCase("mean", mdl.mean, np.mean, torch_reduce("mean"), example(normal(2, 3, 4), axis=1, keepdims=True)),
    OpCase("max", mdl.max, np.max, torch_reduce("amax"), example(distinct(3, 4), axis=1, keepdims=False)),
    OpCase("min", mdl.min, np.min, torch_reduce("amin"), example(distinct(3, 4), axis=0, keepdims=False)),
    OpCase("var", mdl.var, np.var,
           lambda T, x, axis, keepdims, ddof: T.var(x, dim=dims(axis, x.ndim), correction=ddof, keepdim=keepdims),
           example(normal(3, 4), axis=1, keepdims=False, ddof=1)),
    OpCase("logsumexp", mdl.logsumexp, np_logsumexp, torch_reduce("logsumexp"),
           example(normal(3, 4), axis=1, keepdims=False)),
    # shape
    OpCase("reshape", lambda x, shape: x.reshape(shape), np.reshape, lambda T, x, shape: x.reshape(shape),
           example(normal(3, 4), shape=(4, 3))),
    OpCase("transpose", lambda x, axes: mdl.transpose(x, *axes), lambda x, axes: np.transpose(x, axes),
           lambda T, x, axes: x.permute(tuple(axes)), example(normal(2, 3, 4), axes=(2, 0, 1))),
    OpCase("T", lambda x: x.T, lambda x: x.T, lambda T, x: x.permute(tuple(reversed(range(x.ndim)))),
           example(normal(3, 4))),
    OpCase("flatten", mdl.flatten, lambda x: x.flatten(), lambda T, x: T.flatten(x), example(normal(2, 3, 4))),
    OpCase("expand_dims", mdl.expand_dims, np.expand_dims,
           lambda T, x, axis: x.reshape(np.expand_dims(np.empty(tuple(x.shape)), axis).shape),
           example(normal(3, 4), axis=1)),
    OpCase("squeeze", mdl.squeeze, np.squeeze,
           lambda T, x, axis: T.squeeze(x) if axis is None else T.squeeze(x, dim=axis),
           example(normal(3, 1, 4), axis=1)),
    OpCase("concatenate", lambda *xs, axis: mdl.concatenate(xs, axis=axis),
           lambda *xs, axis: np.concatenate(xs, axis=axis), lambda T, *xs, axis: T.cat(xs, dim=axis),
           example(normal(3, 2), normal(3, 4), axis=1)),
    OpCase("stack", lambda *xs, axis: mdl.stack(xs, axis=axis), lambda *xs, axis: np.stack(xs, axis=axis),
           lambda T, *xs, axis: T.stack(xs, dim=axis), example(normal(3, 4), normal(3, 4), axis=0)),
    OpCase("pad", mdl.pad, np.pad, torch_pad, example(normal(3, 4), pad_width=((0, 0), (1, 2)))),
    # indexing: basic and integer-array; repeated indices add their gradients
    OpCase("getitem", lambda x, index: x[index], lambda x, index: x[index], torch_index,
           example(normal(3, 4), index=(slice(1, None), [0, 2, 2]))),
    OpCase("getitem_reversed", lambda x, index: x[index], lambda x, index: x[index], torch_index,
           example(normal(4, 3), index=slice(None, None, -1))),
    OpCase("getitem_step_back", lambda x, index: x[index], lambda x, index: x[index], torch_index,
           example(normal(4, 3), index=slice(3, 0, -2))),
    OpCase("getitem_repeated", lambda x, index: x[index], lambda x, index: x[index], torch_index,
           example(normal(4, 3), index=[0, 0, 2])),
    # sequence-model ops (issue 21)
    OpCase("sin", mdl.sin, np.sin, lambda T, x: T.sin(x), example(normal(3, 4))),
    OpCase("cos", mdl.cos, np.cos, lambda T, x: T.cos(x), example(normal(3, 4))),
    OpCase("prod", mdl.prod, np.prod, torch_prod, example(normal(3, 4), axis=1, keepdims=False)),
    OpCase("gelu", lambda x: F.gelu(x), np_gelu, lambda T, x: T.nn.functional.gelu(x), example(normal(3, 4))),
    OpCase("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), np_gelu_tanh,
           lambda T, x: T.nn.functional.gelu(x, approximate="tanh"), example(normal(3, 4))),
    OpCase("layer_norm", lambda x, w, b, normalized_shape: F.layer_norm(x, normalized_shape, w, b), np_layer_norm,
           lambda T, x, w, b, normalized_shape: T.nn.functional.layer_norm(x, normalized_shape, w, b),
           example(normal(2, 3, 4), normal(4), normal(4), normalized_shape=(4,))),
    OpCase("embedding", lambda w, indices: F.embedding(on_device_of(w, indices), w), lambda w, indices: w[indices],
           lambda T, w, indices: T.nn.functional.embedding(T.as_tensor(indices), w),
           example(normal(5, 3), indices=np.array([[0, 2, 2], [4, 1, 0]]))),
    OpCase("scaled_dot_product_attention", mdl_attention, np_attention, torch_attention,
           example(normal(2, 3, 4), normal(2, 5, 4), normal(2, 5, 2), is_causal=True)),
    OpCase("scaled_dot_product_attention_float_mask", mdl_attention, np_attention, torch_attention,
           example(normal(3, 4), normal(5, 4), normal(5, 2), normal(3, 5))),
    OpCase("self_attention", lambda qkv, num_heads, is_causal: F.self_attention(qkv, num_heads, is_causal=is_causal),
           np_self_attention, torch_self_attention, example(normal(2, 3, 12), num_heads=2, is_causal=True)),
    # casts between floating dtypes (the output dtype is the one asked for)
    OpCase("astype_float32", lambda x: x.astype(mdl.float32), lambda x: x.astype(np.float32),
           lambda T, x: x.to(T.float32), eps=1e-2, out_dtype=np.float32),
    OpCase("astype_float64", lambda x: x.astype(mdl.float64), lambda x: x.astype(np.float64),
           lambda T, x: x.to(T.float64), example(normal(3, 4)), out_dtype=np.float64),
    # layers' functions: linear, convolution, pooling, normalisation
    OpCase("linear", F.linear, None, lambda T, x, w, b: T.nn.functional.linear(x, w, b),
           example(normal(5, 4), normal(3, 4), normal(3))),
    OpCase("linear_batched", F.linear, None, lambda T, x, w, b: T.nn.functional.linear(x, w, b),
           example(normal(2, 3, 4), normal(5, 4), normal(5))),  # leading axes (B, T) as rows
    OpCase("linear_vector", F.linear, None, lambda T, x, w, b: T.nn.functional.linear(x, w, b),
           example(normal(4), normal(3, 4), normal(3))),  # one sample, (in,) -> (out,)
    OpCase("conv2d", lambda x, w, b, padding: F.conv2d(x, w, b, padding=padding), None,
           lambda T, x, w, b, padding: T.nn.functional.conv2d(x, w, b, padding=padding),
           example(normal(2, 3, 5, 5), normal(4, 3, 3, 3), normal(4), padding=1)),
    OpCase("conv2d_stride2", lambda x, w, stride: F.conv2d(x, w, stride=stride), None,
           lambda T, x, w, stride: T.nn.functional.conv2d(x, w, stride=stride),
           example(normal(2, 2, 6, 6), normal(3, 2, 2, 2), stride=2)),
    OpCase("max_pool2d", F.max_pool2d, None, lambda T, x, kernel_size: T.nn.functional.max_pool2d(x, kernel_size),
           example(distinct(2, 2, 4, 4), kernel_size=2)),
    OpCase("avg_pool2d", F.avg_pool2d, None,
           lambda T, x, kernel_size, padding: T.nn.functional.avg_pool2d(x, kernel_size, padding=padding),
           example(normal(2, 2, 4, 4), kernel_size=2, padding=1)),
    OpCase("batch_norm_train",
           lambda x, w, b: F.batch_norm(x, stats_like(x, 0.0), stats_like(x, 1.0), w, b, training=True), None,
           lambda T, x, w, b: torch_batch_norm(T, x, w, b, training=True), example(normal(6, 3), normal(3), normal(3))),
    OpCase("batch_norm_2d_train", lambda x: F.batch_norm(x, stats_like(x, 0.0), stats_like(x, 1.0), training=True),
           None, lambda T, x: torch_batch_norm(T, x, training=True), example(normal(3, 2, 3, 3))),
    OpCase("batch_norm_eval",
           lambda x, w: F.batch_norm(x, stats_like(x, 0.0), stats_like(x, 1.0), w, training=False), None,
           lambda T, x, w: torch_batch_norm(T, x, w, training=False), example(normal(4, 3), normal(3))),
    # losses (labels and targets are constants, not differentiated)
    OpCase("cross_entropy", lambda x, target: F.cross_entropy(x, on_device_of(x, target)), None,
           lambda T, x, target: T.nn.functional.cross_entropy(x, T.as_tensor(target)),
           example(normal(4, 3), target=LABELS)),
    OpCase("cross_entropy_smoothing",
           lambda x, target: F.cross_entropy(x, on_device_of(x, target), label_smoothing=0.1), None,
           lambda T, x, target: T.nn.functional.cross_entropy(x, T.as_tensor(target), label_smoothing=0.1),
           example(normal(4, 3), target=LABELS)),
    OpCase("nll_loss", lambda x, target: F.nll_loss(F.log_softmax(x, axis=-1), on_device_of(x, target)), None,
           lambda T, x, target: T.nn.functional.nll_loss(T.log_softmax(x, dim=-1), T.as_tensor(target)),
           example(normal(4, 3), target=LABELS)),
    OpCase("binary_cross_entropy", lambda p, target: F.binary_cross_entropy(p, on_device_of(p, target)), None,
           lambda T, p, target: T.nn.functional.binary_cross_entropy(p, T.as_tensor(target, dtype=p.dtype)),
           example(uniform(0.1, 0.9, 4), target=BINARY)),
    OpCase("bce_with_logits",
           lambda x, target: F.binary_cross_entropy_with_logits(x, on_device_of(x, target)), None,
           lambda T, x, target: T.nn.functional.binary_cross_entropy_with_logits(x, T.as_tensor(target, dtype=x.dtype)),
           example(normal(4), target=BINARY)),
    OpCase("mse_loss", F.mse_loss, None, lambda T, a, b: T.nn.functional.mse_loss(a, b),
           example(normal(3, 4), normal(3, 4))),
    OpCase("l1_loss", lambda a, b: F.l1_loss(a, b + 3.0), None, lambda T, a, b: T.nn.functional.l1_loss(a, b + 3.0),
           example(normal(3, 4), normal(3, 4))),
    OpCase("huber_loss", lambda a: F.huber_loss(a, mdl.zeros_like(a) + 0.05), None,
           lambda T, a: T.nn.functional.huber_loss(a, T.zeros_like(a) + 0.05), example(away(3, 4))),
]
