"""Multi-head self-attention on packed projections: qkv (B, T, 3E) -> y (B, T, E), the heads side by side.

A transformer's attention layer projects x once, qkv = x @ Wᵀ + b with W = [W_q; W_k; W_v] (nanoGPT's
c_attn, PyTorch's in_proj_weight), then splits the result into the queries, keys and values of each
head. The reference is that composition, node by node:

    q, k, v = the thirds of qkv's last axis, each (B, T, heads, d) -> (B, heads, T, d)     d = E / heads
    y = scaled_dot_product_attention(q, k, v)                                           (B, heads, T, d)
    y -> (B, T, heads, d) -> (B, T, E)

On the CPU without dropout, one node does the same (minidl/ops/fast/packed_self_attention.py): it reads
q, k and v as strided views of qkv, writes y straight into the (B, T, E) layout, and dL/dq, dL/dk, dL/dv
straight into one (B, T, 3E) gradient, where the composition's three slices would each build a zero
(B, T, 3E) gradient for the engine to add up. Same values and gradients either way.
"""

import math
import numbers

from minidl.arguments import float_tensor_argument
from minidl.errors import ArgumentError, ShapeError
from minidl.ops import fast
from minidl.ops.attention import scaled_dot_product_attention


def self_attention(qkv, num_heads, is_causal=False, dropout_p=0.0, scale=None):
    """Self-attention of `num_heads` heads on packed projections qkv (B, T, 3E) = [q | k | v] along the
    last axis -> (B, T, E). is_causal: position t attends to positions 0..t; dropout_p: dropout on the
    attention weights; scale: 1/√d unless given (d = E / num_heads)."""
    op = "self_attention"
    qkv = float_tensor_argument(op, "qkv", qkv)
    if isinstance(num_heads, bool) or not isinstance(num_heads, numbers.Integral) or num_heads < 1:
        raise ArgumentError(f"{op}: num_heads must be a positive int, got {num_heads!r}")
    if qkv.ndim != 3 or qkv.shape[2] % (3 * num_heads):
        raise ShapeError(f"{op}: expected qkv of shape (B, T, 3E) with E divisible by num_heads = {num_heads}, "
                         f"got {qkv.shape}")
    if not 0.0 <= dropout_p < 1.0:
        raise ArgumentError(f"{op}: dropout_p must be in [0, 1), got {dropout_p}")
    b, t, three_e = qkv.shape
    e = three_e // 3
    d = e // num_heads
    scale = 1.0 / math.sqrt(d) if scale is None else float(scale)
    packed = fast.choose(op, qkv._backend, dropout_p=dropout_p)
    if packed is not None:
        return packed(int(num_heads), scale, is_causal)(qkv)
    heads = qkv.reshape(b, t, 3, num_heads, d).transpose(2, 0, 3, 1, 4)  # (3, B, heads, T, d)
    y = scaled_dot_product_attention(heads[0], heads[1], heads[2], dropout_p=dropout_p, is_causal=is_causal,
                                     scale=scale)
    return y.transpose(0, 2, 1, 3).reshape(b, t, e)
