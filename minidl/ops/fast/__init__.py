"""Fast paths: named siblings of the reference ops, and the one place that chooses them.

Every differentiable op in minidl/ops/ has one reference Function: the textbook forward and backward,
array code that runs on every backend. Speed (cache blocking, fused multi-op nodes, transposed layouts,
compiled GPU kernels) lives here, one class per idea, each a subclass or a composition of its reference
with the same values and gradients (tests/test_fast_paths.py holds every one to its reference).

The public op functions (conv2d, max_pool2d, relu, softmax, ...) ask `choose(op, backend, ...)` which
Function class to run: the first fast path in FAST_PATHS[op] whose `applies(backend, ...)` says yes,
else None (the reference). One switch turns every fast path off, for the calling thread or task:

    mdl.use_fast_paths(False)          # from now on, every op runs its reference
    with mdl.fast_paths(False):        # only inside the block (also a decorator)
        ...

The state is a context variable, as grad mode's: threads and asyncio tasks each see their own.
Fast paths never change the graph the user built: a fused node (Conv2dReLUMaxPool2d) appears only where
the user asked for it (`nn.fuse(model)`, `F.conv2d_relu_max_pool2d`).
"""

import contextlib
import contextvars
import functools

_enabled = contextvars.ContextVar("minidl_fast_paths", default=True)


def fast_paths_enabled():
    """True unless fast paths were switched off (`use_fast_paths(False)`, `fast_paths(False)`)."""
    return _enabled.get()


def use_fast_paths(enabled=True):
    """Run ops through their fast paths (True, the default) or every op as its reference (False),
    from now on in the calling thread or task."""
    _enabled.set(bool(enabled))


class fast_paths(contextlib.ContextDecorator):
    """Context manager (or decorator): fast paths on (True) or off (False) inside the block only."""

    def __init__(self, enabled=True):
        self.enabled = bool(enabled)
        self._tokens = []

    def __enter__(self):
        self._tokens.append(_enabled.set(self.enabled))
        return self

    def __exit__(self, *exc):
        _enabled.reset(self._tokens.pop())
        return False


def on_cpu(backend):
    """True on the CPU backend (the one with `tuning`), where the NumPy fast paths below run."""
    return getattr(backend, "tuning", None) is not None


@functools.cache
def fast_path_table():
    """FAST_PATHS: op name -> the fast Function classes to try, in order (imported on first use: the
    fast modules build on the reference modules, which call `choose`)."""
    from minidl.ops.fast.attention_keys_first import ScaledDotProductAttentionKeysFirst
    from minidl.ops.fast.conv_relu_pool import Conv2dReLUMaxPool2d, ReLUMaxPool2d
    from minidl.ops.fast.conv_row_blocked import Conv2dRowBlocked
    from minidl.ops.fast.cross_entropy_transposed import CrossEntropyTransposed
    from minidl.ops.fast.gelu_blocked import GELUBlocked
    from minidl.ops.fast.kernels import CrossEntropyOneKernel, ReLUOneKernel
    from minidl.ops.fast.layer_norm_rows import LayerNormRows
    from minidl.ops.fast.linear_bias_gemv import LinearBiasGemv
    from minidl.ops.fast.lstm_step_fused import LSTMStepFused
    from minidl.ops.fast.packed_self_attention import PackedSelfAttention
    from minidl.ops.fast.pool_tiled import MaxPool2dOffsets, MaxPool2dTiled
    from minidl.ops.fast.scatter_col2im import Conv2dScatterAdd, MaxPool2dScatterAdd
    from minidl.ops.fast.short_axis import LogSoftmaxShortAxis, LogSumExpShortAxis, SoftmaxShortAxis

    return {
        # CPU: columns a few images at a time, row-blocked (stride 1); GPU: col2im in one scatter-add
        "conv2d": (Conv2dRowBlocked, Conv2dScatterAdd),
        # CPU: two stages on long runs where windows tile the input, else offset by offset; GPU: scatter-add
        "max_pool2d": (MaxPool2dTiled, MaxPool2dOffsets, MaxPool2dScatterAdd),
        # asked for by name (nn.fuse, F.conv2d_relu_max_pool2d, F.relu_max_pool2d): one node, else the ops
        "conv2d_relu_max_pool2d": (Conv2dReLUMaxPool2d,),
        "relu_max_pool2d": (ReLUMaxPool2d,),
        # GPU: the backward as one compiled kernel
        "relu": (ReLUOneKernel,),
        # CPU, float32: the exact forward in cache-sized blocks of float32 passes
        "gelu": (GELUBlocked,),
        # GPU: the backward as one kernel; CPU: the work on the transposed logits (C, N)
        "cross_entropy": (CrossEntropyOneKernel, CrossEntropyTransposed),
        # CPU: reductions over a short last axis on a transposed copy
        "softmax": (SoftmaxShortAxis,),
        "log_softmax": (LogSoftmaxShortAxis,),
        "logsumexp": (LogSumExpShortAxis,),
        # CPU, no dropout or float mask: the scores keys-first (..., S, L), the softmax over contiguous passes
        "scaled_dot_product_attention": (ScaledDotProductAttentionKeysFirst,),
        # CPU, no dropout: one node reading q, k, v as views of the packed projections, writing y in place
        "self_attention": (PackedSelfAttention,),
        # CPU, over the last axis: the row and column sums as matrix-vector products
        "layer_norm": (LayerNormRows,),
        # CPU, with a bias: dL/dbias as one matrix-vector product
        "linear": (LinearBiasGemv,),
        # CPU: an LSTM time step (nn/rnn.py's lstm_step, 14 nodes) as one node
        "lstm_step": (LSTMStepFused,),
    }


def choose(op, backend, **shape):
    """The fast Function class that runs `op` on `backend` for these arguments (`shape`: the keywords
    that op's fast paths' `applies` take), or None: run the reference."""
    if not _enabled.get():
        return None
    for fast in fast_path_table()[op]:
        if fast.applies(backend, **shape):
            return fast
    return None
