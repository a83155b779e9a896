"""Every fast path (minidl/ops/fast/) gives its reference's values and gradients, on the shapes where
it is chosen, and `mdl.fast_paths(False)` / `mdl.use_fast_paths(False)` runs every op as its reference.

Each case runs the public function twice on the same data, fast paths on and off, checks which Function
each run recorded (the fast sibling, then the reference), and compares the output and the gradient of
every input for one random dL/dy: float64 to 1e-10 relative, float32 within a float32 tolerance.
The references themselves are held to PyTorch and to gradcheck in test_ops_reference.py,
test_ops_gradcheck.py, test_fused_ops.py and test_conv_pool.py.
"""

import threading

import numpy as np
import pytest

import minidl as mdl
from minidl import nn
from minidl.autograd import topological_order
from minidl.nn import functional as F
from minidl.ops.activation import LogSoftmax, ReLU, Softmax
from minidl.ops.attention import ScaledDotProductAttention
from minidl.ops.conv import Conv2d
from minidl.ops.gelu import GELU
from minidl.ops.layer_norm import LayerNorm
from minidl.ops.fast import choose, fast_path_table
from minidl.ops.fast.attention_keys_first import ScaledDotProductAttentionKeysFirst
from minidl.ops.fast.conv_relu_pool import Conv2dReLUMaxPool2d, ReLUMaxPool2d
from minidl.ops.fast.conv_row_blocked import Conv2dRowBlocked
from minidl.ops.fast.cross_entropy_transposed import CrossEntropyTransposed
from minidl.ops.fast.gelu_blocked import BLOCK, GELUBlocked
from minidl.ops.fast.layer_norm_rows import LayerNormRows
from minidl.ops.fast.linear_bias_gemv import LinearBiasGemv
from minidl.ops.fast.lstm_step_fused import LSTMStepFused
from minidl.ops.fast.packed_self_attention import PackedSelfAttention
from minidl.ops.fast.pool_tiled import MaxPool2dOffsets, MaxPool2dTiled
from minidl.ops.fast.scatter_col2im import Conv2dScatterAdd, MaxPool2dScatterAdd
from minidl.ops.fast.short_axis import LogSoftmaxShortAxis, LogSumExpShortAxis, SoftmaxShortAxis
from minidl.ops.loss import CrossEntropy
from minidl.ops.pooling import MaxPool2d
from minidl.ops.reduction import LogSumExp

TOLERANCE = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-4, atol=1e-5)}


def fast_and_reference(fn, arrays, device="cpu", dtype=np.float64, seed=0):
    """{True: ..., False: ...}: (the output's node type, output, gradients of every input) with fast
    paths on and off, for the same dL/dy."""
    results = {}
    for enabled in (True, False):
        with mdl.fast_paths(enabled):
            leaves = [mdl.tensor(np.asarray(a, dtype=dtype), device=device, requires_grad=True) for a in arrays]
            y = fn(*leaves)
            g = np.random.default_rng(seed).standard_normal(y.shape).astype(dtype)
            node = type(y.grad_fn)
            y.backward(mdl.tensor(g, device=device))
            results[enabled] = (node, y.numpy(), [t.grad.numpy() for t in leaves])
    return results


def assert_same(results, fast, reference, dtype=np.float64):
    assert results[True][0] is fast, f"fast paths on: {results[True][0].__name__} ran, not {fast.__name__}"
    assert results[False][0] is reference, f"fast paths off: {results[False][0].__name__} ran"
    pairs = [("output", results[True][1], results[False][1])]
    pairs += [(f"gradient of input {k}", a, b) for k, (a, b) in enumerate(zip(results[True][2], results[False][2]))]
    for what, a, b in pairs:
        tol = dict(TOLERANCE[dtype])
        if dtype == np.float32:  # sums of thousands of float32 terms, in another order: relative to their size
            tol["atol"] *= max(1.0, float(np.abs(b).max(initial=0)))
        np.testing.assert_allclose(a, b, err_msg=what, **tol)


def random(*shapes, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


# -- the switch ------------------------------------------------------------------------------------------------------
def test_the_switch_is_a_context_manager_a_function_and_thread_local():
    assert mdl.fast_paths_enabled()
    with mdl.fast_paths(False):
        assert not mdl.fast_paths_enabled()
        with mdl.fast_paths(True):
            assert mdl.fast_paths_enabled()
        assert not mdl.fast_paths_enabled()
        seen = []
        worker = threading.Thread(target=lambda: seen.append(mdl.fast_paths_enabled()))
        worker.start()
        worker.join()
        assert seen == [True]  # another thread has its own switch (a context variable)
    assert mdl.fast_paths_enabled()

    @mdl.fast_paths(False)
    def inside():
        return mdl.fast_paths_enabled()
    assert inside() is False and mdl.fast_paths_enabled()

    try:
        mdl.use_fast_paths(False)
        assert choose("conv2d", mdl.get_backend("cpu"), stride=(1, 1)) is None
    finally:
        mdl.use_fast_paths(True)
    assert choose("conv2d", mdl.get_backend("cpu"), stride=(1, 1)) is Conv2dRowBlocked


def test_every_fast_path_is_a_named_sibling_with_a_formula_and_a_test():
    """Each class in the dispatch table subclasses a reference Function (or is a fused node) and is
    named in this file (so a new fast path without its equality test fails here)."""
    source = open(__file__, encoding="utf-8").read()
    for op, classes in fast_path_table().items():
        for cls in classes:
            assert callable(cls.applies), cls
            assert source.count(cls.__name__) >= 2, f"{cls.__name__} ({op}) has no test here"


def test_with_fast_paths_off_a_lenet_step_records_only_reference_nodes():
    mdl.manual_seed(0)
    model = nn.fuse(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                  nn.Linear(2 * 3 * 3, 3), nn.Softmax()))
    x = mdl.randn(4, 1, 8, 8, requires_grad=True)
    with mdl.fast_paths(False):
        y = F.cross_entropy(model(x).log(), [0, 1, 2, 0])
    seen, stack = set(), [y.grad_fn]
    while stack:
        node = stack.pop()
        seen.add(type(node))
        stack += [t.grad_fn for t in node.inputs if t.grad_fn is not None]
    assert {Conv2d, ReLU, MaxPool2d, Softmax, CrossEntropy} <= seen
    assert not any(cls.__module__.startswith("minidl.ops.fast") for cls in seen)


# -- convolution ---------------------------------------------------------------------------------------------------
CONV_GEOMETRIES = [((2, 1, 9, 8), (4, 1, 3, 3), 0), ((3, 2, 6, 7), (4, 2, 2, 3), 1),
                   ((2, 3, 5, 5), (4, 3, 5, 5), 2), ((1, 2, 4, 6), (4, 2, 1, 1), 0),
                   ((2, 2, 9, 8), (3, 2, 4, 3), 0), ((3, 1, 7, 6), (2, 1, 5, 2), (1, 0))]


@pytest.mark.parametrize("block_rows", [None, 1, 2, 3, 4])
@pytest.mark.parametrize("shape,weight,padding", CONV_GEOMETRIES)
def test_row_blocked_convolution_equals_the_reference(cpu_tuning, block_rows, shape, weight, padding):
    cpu_tuning.block_rows, cpu_tuning.chunk_bytes = block_rows, 256  # several chunks
    x, w, b = random(shape, weight, weight[:1])
    assert_same(fast_and_reference(lambda *t: F.conv2d(*t, padding=padding), (x, w, b)), Conv2dRowBlocked, Conv2d)
    assert_same(fast_and_reference(lambda *t: F.conv2d(*t, padding=padding), (x, w)), Conv2dRowBlocked, Conv2d)


def test_row_blocked_convolution_equals_the_reference_in_float32_on_lenet_shapes():
    for shape, weight in (((16, 1, 28, 28), (6, 1, 5, 5)), ((16, 6, 12, 12), (16, 6, 5, 5))):
        arrays = random(shape, weight, weight[:1], seed=2)
        results = fast_and_reference(lambda *t: F.conv2d(*t), arrays, dtype=np.float32)
        assert_same(results, Conv2dRowBlocked, Conv2d, np.float32)


def test_row_blocked_convolution_with_threads_equals_the_reference(cpu_tuning):
    cpu_tuning.threads, cpu_tuning.parallel_min_work, cpu_tuning.chunk_bytes = 2, 1, 1 << 12
    x, w, b = random((8, 3, 10, 10), (4, 3, 3, 3), (4,), seed=3)
    assert_same(fast_and_reference(lambda *t: F.conv2d(*t, padding=1), (x, w, b)), Conv2dRowBlocked, Conv2d)


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), ((1, 2), (2, 0))])
def test_scatter_add_convolution_equals_the_reference_on_a_launch_bound_device(stride, padding):
    x, w, b = random((2, 3, 9, 8), (4, 3, 3, 2), (4,), seed=4)
    results = fast_and_reference(lambda *t: F.conv2d(*t, stride=stride, padding=padding), (x, w, b), "strict")
    assert_same(results, Conv2dScatterAdd, Conv2d)


def test_strided_convolution_on_the_cpu_is_the_reference():
    x, w = random((2, 3, 9, 8), (4, 3, 3, 3), seed=5)
    results = fast_and_reference(lambda *t: F.conv2d(*t, stride=2), (x, w))
    assert_same(results, Conv2d, Conv2d)


# -- max pooling ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kernel", [(2, 2), (3, 3), (2, 3), (1, 2), (3, 1)])
def test_tiled_max_pool_equals_the_reference_including_ties(kernel):
    rng = np.random.default_rng(6)
    x = rng.integers(-2, 3, size=(3, 2, 6, 6))  # many ties: the first maximum wins in both
    assert_same(fast_and_reference(lambda t: F.max_pool2d(t, kernel), (x,)), MaxPool2dTiled, MaxPool2d)


@pytest.mark.parametrize("kernel,stride,padding", [(2, 1, 0), (3, 2, 1), ((1, 2), None, (0, 1)), (2, None, 1),
                                                   (2, None, 0)])
def test_offset_by_offset_max_pool_equals_the_reference_including_ties(kernel, stride, padding):
    rng = np.random.default_rng(7)
    x = rng.integers(-2, 3, size=(2, 3, 7, 7))  # 7x7: a pool of 2 does not tile it
    results = fast_and_reference(lambda t: F.max_pool2d(t, kernel, stride, padding), (x,))
    assert_same(results, MaxPool2dOffsets, MaxPool2d)


@pytest.mark.parametrize("kernel,stride,padding", [(2, None, 0), (3, 2, 1)])
def test_scatter_add_max_pool_equals_the_reference_on_a_launch_bound_device(kernel, stride, padding):
    rng = np.random.default_rng(8)
    x = rng.integers(-2, 3, size=(2, 3, 6, 6))
    results = fast_and_reference(lambda t: F.max_pool2d(t, kernel, stride, padding), (x,), "strict")
    assert_same(results, MaxPool2dScatterAdd, MaxPool2d)


def test_max_pool_in_float32_equals_the_reference():
    (x,) = random((8, 6, 24, 24), seed=9)
    results = fast_and_reference(lambda t: F.max_pool2d(t, 2), (x,), dtype=np.float32)
    assert_same(results, MaxPool2dTiled, MaxPool2d, np.float32)


# -- ReLU -> max pool, Conv2d -> ReLU -> max pool: one node where asked for --------------------------------------------
@pytest.mark.parametrize("kernel,stride,padding", [(2, None, 0), (3, 2, 1)])
def test_relu_max_pool_node_equals_the_two_reference_ops(kernel, stride, padding):
    rng = np.random.default_rng(10)
    z = rng.integers(-3, 4, size=(2, 3, 8, 8))  # ties and all-negative windows
    results = fast_and_reference(lambda t: F.relu_max_pool2d(t, kernel, stride, padding), (z,))
    assert_same(results, ReLUMaxPool2d, MaxPool2d)


# (input shape, weight shape, padding, pool kernel): every one fuses (stride-1 conv, tiled pool)
FUSED_GEOMETRIES = [((2, 1, 12, 12), (3, 1, 5, 5), 0, (2, 2)),    # LeNet's first layer, small
                    ((3, 2, 9, 8), (2, 2, 3, 3), 1, (3, 2)),      # Ho = 9, Wo = 8: pool 3x2, odd Wp
                    ((2, 3, 8, 10), (4, 3, 3, 5), (1, 2), (2, 2)),  # Ho = 8, Wo = 10
                    ((2, 2, 7, 9), (3, 2, 2, 2), 0, (2, 4))]     # Ho = 6, Wo = 8


@pytest.mark.parametrize("block_rows", [1, 2, 3, 4])
@pytest.mark.parametrize("shape,weight,padding,pool", FUSED_GEOMETRIES)
def test_conv_relu_max_pool_node_equals_the_three_reference_ops(cpu_tuning, block_rows, shape, weight, padding,
                                                                 pool):
    """Both routes: the pool in the product's layout (u a multiple of the pool's rows, Wp of its
    columns) and on dense chunks."""
    cpu_tuning.block_rows, cpu_tuning.chunk_bytes = block_rows, 256
    x, w, b = random(shape, weight, weight[:1], seed=11)
    def fn(*t):
        return F.conv2d_relu_max_pool2d(*t, padding=padding, pool_kernel=pool)
    assert_same(fast_and_reference(fn, (x, w, b)), Conv2dReLUMaxPool2d, MaxPool2d)
    assert_same(fast_and_reference(fn, (x, w)), Conv2dReLUMaxPool2d, MaxPool2d)


def test_conv_relu_max_pool_node_in_float32_with_threads_equals_the_reference(cpu_tuning):
    cpu_tuning.threads, cpu_tuning.parallel_min_work, cpu_tuning.chunk_bytes = 2, 1, 1 << 14
    arrays = random((16, 1, 28, 28), (6, 1, 5, 5), (6,), seed=12)
    results = fast_and_reference(lambda *t: F.conv2d_relu_max_pool2d(*t), arrays, dtype=np.float32)
    assert_same(results, Conv2dReLUMaxPool2d, MaxPool2d, np.float32)


def test_on_a_launch_bound_device_the_fused_functions_run_the_separate_ops():
    x, w, b = random((2, 1, 8, 8), (2, 1, 3, 3), (2,), seed=13)
    results = fast_and_reference(lambda *t: F.conv2d_relu_max_pool2d(*t), (x, w, b), "strict")
    assert_same(results, MaxPool2dScatterAdd, MaxPool2d)


# -- cross-entropy ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted,smoothing", [(False, 0.0), (True, 0.0), (False, 0.1), (True, 0.2)])
def test_transposed_cross_entropy_equals_the_reference(reduction, weighted, smoothing):
    (z,) = random((64, 10), seed=14)
    t = np.random.default_rng(15).integers(0, 10, 64)
    w = np.linspace(0.5, 2.0, 10) if weighted else None
    def fn(logits):
        weight = None if w is None else mdl.tensor(w)
        return F.cross_entropy(logits, t, weight=weight, reduction=reduction, label_smoothing=smoothing)
    assert_same(fast_and_reference(fn, (z,)), CrossEntropyTransposed, CrossEntropy)


def test_transposed_cross_entropy_in_float32_equals_the_reference():
    (z,) = random((512, 10), seed=16)
    t = np.random.default_rng(17).integers(0, 10, 512)
    results = fast_and_reference(lambda logits: F.cross_entropy(logits, t), (z,), dtype=np.float32)
    assert_same(results, CrossEntropyTransposed, CrossEntropy, np.float32)


# -- softmax family over a short last axis --------------------------------------------------------------------------
SHORT_AXIS_OPS = [(lambda t: F.softmax(t), SoftmaxShortAxis, Softmax),
                  (lambda t: F.log_softmax(t), LogSoftmaxShortAxis, LogSoftmax),
                  (lambda t: t.logsumexp(axis=-1), LogSumExpShortAxis, LogSumExp),
                  (lambda t: mdl.logsumexp(t, axis=-1, keepdims=True), LogSumExpShortAxis, LogSumExp)]


@pytest.mark.parametrize("shape", [(300, 7), (5, 40, 3), (64, 32)])
@pytest.mark.parametrize("op", range(len(SHORT_AXIS_OPS)))
def test_short_axis_softmax_family_equals_the_reference(shape, op):
    fn, fast, reference = SHORT_AXIS_OPS[op]
    (x,) = random(shape, seed=18)
    assert_same(fast_and_reference(fn, (x,)), fast, reference)
    assert_same(fast_and_reference(fn, (x.astype(np.float32),), dtype=np.float32), fast, reference, np.float32)


@pytest.mark.parametrize("shape", [(4, 33), (3, 5), (10,)])
def test_long_or_few_rows_run_the_reference_softmax(shape):
    (x,) = random(shape, seed=19)
    assert_same(fast_and_reference(lambda t: F.softmax(t), (x,)), Softmax, Softmax)


def test_short_axis_threshold_is_read_from_the_tuning_object(cpu_tuning):
    cpu_tuning.short_axis = 4
    (x,) = random((64, 7), seed=20)
    assert_same(fast_and_reference(lambda t: F.softmax(t), (x,)), Softmax, Softmax)


# -- exact GELU in float32 cache blocks ------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 7), (3, 70, 400)])  # one partial block; several blocks and a partial one
def test_blocked_gelu_in_float32_equals_the_reference(shape):
    (x,) = random(shape, seed=23)
    x *= 4.0  # reaches the clipped tails |x| > 4√2
    assert np.prod(shape) < BLOCK or np.prod(shape) > 2 * BLOCK
    fn = lambda t: F.gelu(t)  # noqa: E731
    assert_same(fast_and_reference(fn, (x.astype(np.float32),), dtype=np.float32), GELUBlocked, GELU, np.float32)
    assert_same(fast_and_reference(fn, (x,)), GELU, GELU)  # float64 keeps the reference's float64 erf


def test_blocked_gelu_with_threads_on_a_transposed_input_equals_the_reference(cpu_tuning):
    cpu_tuning.threads, cpu_tuning.parallel_min_work = 2, 0
    (x,) = random((260, 300), seed=24)
    fn = lambda t: F.gelu(t.T)  # noqa: E731  a non-contiguous input
    assert_same(fast_and_reference(fn, (x.astype(np.float32),), dtype=np.float32), GELUBlocked, GELU, np.float32)


def test_blocked_gelu_and_its_slope_are_within_7_float32_ulp_of_the_exact_ones_and_strict_runs_the_reference():
    from scipy.special import erf

    x = np.linspace(-12.0, 12.0, 200_001)
    cdf = 0.5 * (1.0 + erf(x / np.sqrt(2.0)))
    exact, exact_slope = x * cdf, cdf + x * np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)  # y and dy/dx
    x32 = mdl.tensor(x.astype(np.float32), requires_grad=True)
    y = F.gelu(x32)
    assert type(y.grad_fn) is GELUBlocked
    error = np.abs(y.numpy() - exact) / np.maximum(1.0, np.abs(x))  # Φ's own error is absolute: scaled by |x|
    assert error.max() <= 4e-7, (error.max(), x[error.argmax()])  # ulp(1) = 6e-8 in float32
    y.sum().backward()
    slope_error = np.abs(x32.grad.numpy() - exact_slope)
    assert slope_error.max() <= 4e-7, (slope_error.max(), x[slope_error.argmax()])
    assert_same(fast_and_reference(lambda t: F.gelu(t), (x[:50].astype(np.float32),), "strict", np.float32),
                GELU, GELU, np.float32)


# -- attention with keys-first scores ---------------------------------------------------------------------------------
ATTENTION_CASES = [  # q, k, v shapes and the mask: (none), causal, boolean (broadcast, with a fully forbidden row)
    ((2, 3, 7, 5), (2, 3, 7, 5), (2, 3, 7, 4), None),
    ((2, 3, 6, 5), (2, 3, 9, 5), (2, 3, 9, 4), "causal"),
    ((3, 6, 5), (1, 8, 5), (3, 8, 2), "causal"),  # key and value broadcast over the batch: their gradients summed
    ((2, 4, 6, 5), (2, 4, 7, 5), (2, 4, 7, 3), "bool"),
    ((2, 6, 5), (2, 7, 5), (2, 7, 3), "bool batched"),  # the mask's batch axes enlarge the scores'
]


@pytest.mark.parametrize("case", range(len(ATTENTION_CASES)))
def test_keys_first_attention_equals_the_reference(case):
    q_shape, k_shape, v_shape, mask = ATTENTION_CASES[case]
    rng = np.random.default_rng(25)
    kwargs = {"causal": dict(is_causal=True), None: {}}.get(mask)
    if kwargs is None:
        allowed = rng.random((q_shape[-2], k_shape[-2])) < 0.7
        if mask == "bool batched":
            allowed = rng.random((4, 1, q_shape[-2], k_shape[-2])) < 0.7
        allowed[..., 1, :] = False  # a query that sees no key: zeros, not NaN
        kwargs = dict(attn_mask=allowed)
    fn = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kwargs)  # noqa: E731
    arrays = random(q_shape, k_shape, v_shape, seed=26)
    results = fast_and_reference(fn, arrays)
    assert_same(results, ScaledDotProductAttentionKeysFirst, ScaledDotProductAttention)
    assert np.isfinite(results[True][1]).all()
    results = fast_and_reference(fn, [a.astype(np.float32) for a in arrays], dtype=np.float32)
    assert_same(results, ScaledDotProductAttentionKeysFirst, ScaledDotProductAttention, np.float32)


@pytest.mark.parametrize("size", [0.3, 30.0])  # scores far below 80: no max shift; up to ~±1000: shifted
def test_keys_first_attention_with_small_and_huge_scores_equals_the_reference(size):
    from minidl.ops.fast.attention_keys_first import _exp_cannot_overflow
    q, k, v = (a * size for a in random((2, 3, 6, 8), (2, 3, 6, 8), (2, 3, 6, 4), seed=43))
    assert _exp_cannot_overflow(np, q / np.sqrt(8), k) == (size < 1)
    fn = lambda *t: F.scaled_dot_product_attention(*t, is_causal=True)  # noqa: E731
    results = fast_and_reference(fn, (q, k, v))
    assert_same(results, ScaledDotProductAttentionKeysFirst, ScaledDotProductAttention)
    assert np.isfinite(results[True][1]).all() and all(np.isfinite(g).all() for g in results[True][2])
    results = fast_and_reference(fn, [a.astype(np.float32) for a in (q, k, v)], dtype=np.float32)
    assert_same(results, ScaledDotProductAttentionKeysFirst, ScaledDotProductAttention, np.float32)
    assert not _exp_cannot_overflow(np, np.array([[np.nan, 0.0]]), np.ones((1, 2)))


def test_attention_with_dropout_a_float_mask_or_on_the_strict_device_is_the_reference():
    q, k, v = random((2, 4, 3), (2, 5, 3), (2, 5, 2), seed=27)
    bias = np.random.default_rng(28).standard_normal((4, 5))
    reference = ScaledDotProductAttention
    assert_same(fast_and_reference(lambda *t: F.scaled_dot_product_attention(*t, attn_mask=mdl.tensor(bias)),
                                   (q, k, v)), reference, reference)
    assert_same(fast_and_reference(lambda *t: F.scaled_dot_product_attention(*t), (q, k, v), "strict"),
                reference, reference)
    y = F.scaled_dot_product_attention(*(mdl.tensor(a, requires_grad=True) for a in (q, k, v)), dropout_p=0.5)
    assert type(y.grad_fn) is reference


# -- a dense layer with dL/dbias as a matrix-vector product -----------------------------------------------------------
@pytest.mark.parametrize("n, fan_in, fan_out", [(7, 5, 3), (1, 4, 6), (300, 20, 40), ((2, 9), 5, 3), ((), 4, 2)])
def test_linear_with_its_bias_gradient_by_gemv_equals_the_reference(n, fan_in, fan_out):
    from minidl.ops.matmul import Linear
    lead = n if isinstance(n, tuple) else (n,)  # (..., in): leading axes as rows, or one sample (in,)
    arrays = random(lead + (fan_in,), (fan_out, fan_in), (fan_out,), seed=42)
    results = fast_and_reference(F.linear, arrays)
    assert_same(results, LinearBiasGemv, Linear)
    assert_same(fast_and_reference(F.linear, [a.astype(np.float32) for a in arrays], dtype=np.float32),
                LinearBiasGemv, Linear, np.float32)
    assert_same(fast_and_reference(F.linear, arrays, "strict"), Linear, Linear)
    assert_same(fast_and_reference(F.linear, arrays[:2]), Linear, Linear)  # no bias: nothing to sum


# -- an LSTM time step as one node -----------------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_lstm_step_equals_the_reference_composition(bias, dtype):
    rng = np.random.default_rng(44)
    x, h0, c0, g_out, g_h, g_c = (rng.standard_normal(s).astype(dtype) for s in
                                  ((5, 3, 4), (2, 3, 6), (2, 3, 6), (5, 3, 6), (2, 3, 6), (2, 3, 6)))
    results = {}
    for enabled in (True, False):
        mdl.manual_seed(0)
        lstm = nn.LSTM(4, 6, num_layers=2, bias=bias, dtype=dtype)
        leaves = [mdl.tensor(a, requires_grad=True) for a in (x, h0, c0)]
        with mdl.fast_paths(enabled):
            output, (h_n, c_n) = lstm(leaves[0], (leaves[1], leaves[2]))
            nodes = {type(n) for n in topological_order(output.grad_fn)}
            ((output * mdl.tensor(g_out)).sum() + (h_n * mdl.tensor(g_h)).sum() + (c_n * mdl.tensor(g_c)).sum()).backward()
        assert (LSTMStepFused in nodes) == enabled
        results[enabled] = [output.numpy(), h_n.numpy(), c_n.numpy()] + [t.grad.numpy() for t in leaves] + [
            p.grad.numpy() for p in lstm.parameters()]
    tol = TOLERANCE[dtype]
    for k, (a, b) in enumerate(zip(results[True], results[False])):
        np.testing.assert_allclose(a, b, err_msg=f"result {k}", **tol)


# -- self-attention on packed projections as one node ---------------------------------------------------------------
@pytest.mark.parametrize("shape, heads, causal", [((2, 7, 12), 2, True), ((3, 5, 18), 3, False), ((1, 1, 6), 1, True)])
def test_packed_self_attention_equals_the_composition_of_reference_ops(shape, heads, causal):
    from minidl.ops.shape import Reshape
    (qkv,) = random(shape, seed=40)
    fn = lambda t: F.self_attention(t, heads, is_causal=causal)  # noqa: E731
    results = fast_and_reference(fn, (qkv,))
    assert_same(results, PackedSelfAttention, Reshape)  # the reference: slices, attention, heads side by side
    results = fast_and_reference(fn, (qkv.astype(np.float32),), dtype=np.float32)
    assert_same(results, PackedSelfAttention, Reshape, np.float32)


def test_packed_self_attention_with_dropout_or_on_the_strict_device_is_the_composition():
    from minidl.ops.shape import Reshape
    (qkv,) = random((2, 4, 6), seed=41)
    fn = lambda t: F.self_attention(t, 2, is_causal=True)  # noqa: E731
    assert_same(fast_and_reference(fn, (qkv,), "strict"), Reshape, Reshape)
    y = F.self_attention(mdl.tensor(qkv, requires_grad=True), 2, dropout_p=0.5)
    assert type(y.grad_fn) is Reshape


# -- layer norm with its sums as matrix-vector products ------------------------------------------------------------
@pytest.mark.parametrize("shape", [(6, 9), (2, 5, 7), (4,)])
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
def test_layer_norm_by_rows_equals_the_reference(shape, affine):
    c = shape[-1]
    x, w, b = random(shape, (c,), (c,), seed=29)
    x += 3.0  # a mean far from zero
    params = {"both": (w, b), "weight": (w,), "bias": (b,), "none": ()}[affine]

    def fn(t, *p):
        weight = p[0] if affine in ("both", "weight") else None
        bias = p[-1] if affine in ("both", "bias") else None
        return F.layer_norm(t, (c,), weight, bias)

    assert_same(fast_and_reference(fn, (x, *params)), LayerNormRows, LayerNorm)
    results = fast_and_reference(fn, [a.astype(np.float32) for a in (x, *params)], dtype=np.float32)
    assert_same(results, LayerNormRows, LayerNorm, np.float32)


def test_layer_norm_by_rows_on_a_transposed_input_and_where_it_does_not_apply():
    x, w = random((5, 8), (8, 5), seed=30)
    assert_same(fast_and_reference(lambda t, p: F.layer_norm(t.T, (5,), p[0]), (x, w)), LayerNormRows, LayerNorm)
    # two normalized axes, the strict device: the reference
    assert_same(fast_and_reference(lambda t, p: F.layer_norm(t.T, (8, 5), p), (x, w)), LayerNorm, LayerNorm)
    assert_same(fast_and_reference(lambda t: F.layer_norm(t, (8,)), (x,), "strict"), LayerNorm, LayerNorm)


def test_layer_norm_with_a_float32_weight_on_float64_input_is_the_reference():
    x = mdl.tensor(random((3, 4), seed=31)[0], requires_grad=True)
    w = mdl.tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    assert type(F.layer_norm(x, (4,), w).grad_fn) is LayerNorm


# -- GPU kernels (where a GPU is present) --------------------------------------------------------------------------------
@pytest.mark.gpu
def test_gpu_kernels_equal_their_references():
    if not mdl.cuda.is_available():
        pytest.skip("no CUDA GPU with CuPy on this machine")
    from minidl.ops.fast.kernels import CrossEntropyOneKernel, ReLUOneKernel

    (x,) = random((6, 5), seed=21)
    assert_same(fast_and_reference(lambda t: F.relu(t), (x,), "cuda"), ReLUOneKernel, ReLU)
    t = np.random.default_rng(22).integers(0, 5, 6)
    for reduction in ("mean", "none"):
        results = fast_and_reference(lambda z: F.cross_entropy(z, t, reduction=reduction), (x,), "cuda")
        assert_same(results, CrossEntropyOneKernel, CrossEntropy)
