"""Scaled dot-product attention with its scores held keys-first, (..., S, L), on the CPU.

The reference (minidl/ops/attention.py) reduces the softmax over the last axis of the (..., L, S)
scores: NumPy reduces a short last axis one row at a time (~80 ns a row: 0.26 ms for the row maxima of
GPT's (12, 4, 64, 64) scores). Here the scores are computed transposed, Sᵀ = k (q · scale)ᵀ, so the
softmax's max and sums run over axis -2 as contiguous passes (0.07 ms), and the products read Pᵀ and
dSᵀ through transposed views (BLAS takes either order at the same speed). Chosen without dropout and
without a float mask (a boolean or causal mask is fine); same values and gradients as the reference.
`attend_keys_first` and `attend_keys_first_backward` are shared with PackedSelfAttention
(minidl/ops/fast/packed_self_attention.py), which writes their results straight into packed layouts.
"""

import math

from minidl.ops.attention import ScaledDotProductAttention, _forbid, _fits, _safe_softmax_
from minidl.ops.broadcast import unbroadcast
from minidl.ops.fast import on_cpu


def attend_keys_first(xp, q, k, v, scale, allowed, out=None):
    """(y, Pᵀ): y = P @ v, P = softmax(q kᵀ · scale) with keys where `allowed` is False left out;
    Pᵀ (..., S, L) is kept for the backward. y is written into `out` (any strides) when given."""
    q_scaled = q * scale
    scores_t = k @ xp.swapaxes(q_scaled, -1, -2)  # (..., S, L): Sᵀ, a fresh array
    if allowed is not None:
        allowed_t = xp.swapaxes(allowed, -1, -2)
        if _fits(allowed_t.shape, scores_t.shape):  # + 0 or -inf: a broadcast add, faster than a masked copy
            scores_t += xp.where(allowed_t, scores_t.dtype.type(0), scores_t.dtype.type(-math.inf))
        else:  # the mask's batch axes enlarge the scores': a new array, made C contiguous again
            scores_t = xp.ascontiguousarray(_forbid(xp, scores_t, allowed_t))
    p_t = _safe_softmax_(xp, scores_t, axis=-2, shift=not _exp_cannot_overflow(xp, q_scaled, k))  # (..., S, L)
    return xp.matmul(xp.swapaxes(p_t, -1, -2), v, out=out), p_t


_EXP_SAFE = 80.0  # |s| < 80: exp(s) is a normal float32 (its range is about e^±88)


def _exp_cannot_overflow(xp, q_scaled, k):
    """True when every score |q_i · k_j| is below _EXP_SAFE for sure: by Cauchy-Schwarz, when the largest
    |q_i| times the largest |k_j| is (two short passes: the squared row norms; False for NaN or inf)."""
    q_norms = xp.einsum("...ld,...ld->...l", q_scaled, q_scaled).max(initial=0.0)
    k_norms = xp.einsum("...sd,...sd->...s", k, k).max(initial=0.0)
    return bool(q_norms * k_norms < _EXP_SAFE * _EXP_SAFE)


def attend_keys_first_backward(xp, q, k, v, p_t, gy, scale, needs=(True, True, True), out=(None, None, None)):
    """(dL/dq, dL/dk, dL/dv) of attend_keys_first (None where not needed), before any batch axes are summed
    back; each written into its `out` array (any strides) when given."""
    ds_t = (v * scale) @ xp.swapaxes(gy, -1, -2)  # dPᵀ · scale (..., S, L), turned into dSᵀ · scale in place
    ds_t -= xp.einsum("...sl,...sl->...l", ds_t, p_t)[..., None, :]  # Σ_keys dP * P, one pass (no product array)
    ds_t *= p_t
    gq = gk = gv = None
    if needs[0]:
        gq = xp.matmul(xp.swapaxes(ds_t, -1, -2), k, out=out[0])
    if needs[1]:
        gk = xp.matmul(ds_t, q, out=out[1])
    if needs[2]:
        gv = xp.matmul(p_t, gy, out=out[2])
    return gq, gk, gv


class ScaledDotProductAttentionKeysFirst(ScaledDotProductAttention):
    """y = P @ v,  P = softmax(q kᵀ · scale);   dL/dv = Pᵀ @ dL/dy,  dL/dq = dS @ k · scale,  dL/dk = ...
    ... dSᵀ @ q · scale,  dS = P * (dP - Σ dP * P),  dP = dL/dy @ vᵀ   (Pᵀ and dSᵀ stored, CPU)"""

    name = "ScaledDotProductAttention"  # the op it computes, as graphs, traces and parity show it

    @staticmethod
    def applies(backend, dropout_p, float_mask):
        """On the CPU, without dropout or a float mask (an input)."""
        return on_cpu(backend) and dropout_p == 0 and not float_mask

    def forward(self, q, k, v):
        y, p_t = attend_keys_first(self.xp, q, k, v, self.scale, self.allowed)
        self.saved = (q, k, v, p_t)
        return y

    def backward(self, gy):
        q, k, v, p_t = self.saved
        grads = attend_keys_first_backward(self.xp, q, k, v, p_t, gy, self.scale, self.needs_grad)
        return tuple(None if g is None else unbroadcast(g, x.shape, x.dtype) for g, x in zip(grads, (q, k, v)))
