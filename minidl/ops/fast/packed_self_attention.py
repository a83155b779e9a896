"""Self-attention on packed projections as one node, on the CPU (the reference: minidl/ops/self_attention.py).

qkv (B, T, 3E) is read through strided views, q, k, v = qkv viewed as (B, T, 3, heads, d), one third each,
transposed to (B, heads, T, d): BLAS takes rows 3E apart as they are. The output is written by the
last product straight into a (B, T, heads, d) array, so y (B, T, E) needs no copy from the (B, heads, T, d)
layout (a strided copy of 98K elements took longer than the product that made it), and the backward
writes dL/dq, dL/dk and dL/dv into the thirds of one (B, T, 3E) gradient. In between it is the
keys-first attention (minidl/ops/fast/attention_keys_first.py), with the causal mask or none.
"""

import numpy as np

from minidl.autograd import Function
from minidl.ops.fast import on_cpu
from minidl.ops.fast.attention_keys_first import attend_keys_first, attend_keys_first_backward


class PackedSelfAttention(Function):
    """y = heads side by side of softmax(q kᵀ · scale) v,  [q | k | v] = qkv;   dL/dqkv = [dL/dq | dL/dk | dL/dv]

    qkv (B, T, 3E), y (B, T, E); per head (d = E / heads): dL/dv = Pᵀ @ dL/dy, dL/dq = dS @ k · scale,
    dL/dk = dSᵀ @ q · scale, dS = P * (dP - Σ dP * P), dP = dL/dy @ vᵀ. Saves qkv's views and Pᵀ.
    """

    @staticmethod
    def applies(backend, dropout_p):
        """On the CPU, without dropout."""
        return on_cpu(backend) and dropout_p == 0

    def __init__(self, num_heads, scale, is_causal):
        self.num_heads, self.scale, self.is_causal = num_heads, scale, is_causal

    def _heads(self, packed):
        """q, k, v of a (B, T, 3E) array: views (B, heads, T, d)."""
        b, t, three_e = packed.shape
        split = packed.reshape(b, t, 3, self.num_heads, three_e // (3 * self.num_heads))
        return tuple(split[:, :, i].transpose(0, 2, 1, 3) for i in range(3))

    def forward(self, qkv):
        b, t, three_e = qkv.shape
        q, k, v = self._heads(qkv)
        allowed = np.tri(t, t, dtype=bool) if self.is_causal else None  # key j <= query i
        y = np.empty((b, t, self.num_heads, three_e // (3 * self.num_heads)), dtype=qkv.dtype)
        _, p_t = attend_keys_first(self.xp, q, k, v, self.scale, allowed, out=y.transpose(0, 2, 1, 3))
        self.saved = (q, k, v, p_t)
        return y.reshape(b, t, three_e // 3)

    def backward(self, gy):
        q, k, v, p_t = self.saved
        b, t, e = gy.shape
        g = np.empty((b, t, 3 * e), dtype=gy.dtype)
        gy_heads = gy.reshape(b, t, self.num_heads, e // self.num_heads).transpose(0, 2, 1, 3)
        attend_keys_first_backward(self.xp, q, k, v, p_t, gy_heads, self.scale, out=self._heads(g))
        return g
