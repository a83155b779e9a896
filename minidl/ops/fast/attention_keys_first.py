"""Scaled dot-product attention with its scores held keys-first, (..., S, L), on the CPU.

The reference (minidl/ops/attention.py) reduces the softmax over the last axis of the (..., L, S)
scores: NumPy reduces a short last axis one row at a time (~80 ns a row: 0.26 ms for the row maxima of
GPT's (12, 4, 64, 64) scores). Here the scores are computed transposed, Sᵀ = k (q · scale)ᵀ, so the
softmax's max and sums run over axis -2 as contiguous passes (0.07 ms), and the products read Pᵀ and
dSᵀ through transposed views (BLAS takes either order at the same speed). Chosen without dropout and
without a float mask (a boolean or causal mask is fine); same values and gradients as the reference.
"""


from minidl.ops.attention import ScaledDotProductAttention, _forbid, _fits, _safe_softmax_
from minidl.ops.broadcast import unbroadcast


class ScaledDotProductAttentionKeysFirst(ScaledDotProductAttention):
    """y = P @ v,  P = softmax(q kᵀ · scale);   dL/dv = Pᵀ @ dL/dy,  dL/dq = dS @ k · scale,  dL/dk = ...
    ... dSᵀ @ q · scale,  dS = P * (dP - Σ dP * P),  dP = dL/dy @ vᵀ   (Pᵀ and dSᵀ stored, CPU)"""

    name = "ScaledDotProductAttention"  # the op it computes, as graphs, traces and parity show it

    @staticmethod
    def applies(backend, dropout_p, float_mask):
        """On the CPU (a backend with `tuning`), without dropout or a float mask (an input)."""
        return getattr(backend, "tuning", None) is not None and dropout_p == 0 and not float_mask

    def forward(self, q, k, v):
        xp = self.xp
        scores_t = k @ xp.swapaxes(q * self.scale, -1, -2)  # (..., S, L): Sᵀ, a fresh array
        if self.allowed is not None:
            allowed_t = xp.swapaxes(self.allowed, -1, -2)
            if _fits(allowed_t.shape, scores_t.shape):
                _forbid(xp, scores_t, allowed_t)
            else:  # the mask's batch axes enlarge the scores': a new array, made C contiguous again
                scores_t = xp.ascontiguousarray(_forbid(xp, scores_t, allowed_t))
        p_t = _safe_softmax_(xp, scores_t, axis=-2)  # keys first: (..., S, L)
        self.saved = (q, k, v, p_t)
        return xp.swapaxes(p_t, -1, -2) @ v

    def backward(self, gy):
        q, k, v, p_t = self.saved
        xp, needs = self.xp, self.needs_grad
        ds_t = v @ xp.swapaxes(gy, -1, -2)  # dPᵀ (..., S, L), turned into dSᵀ in place
        ds_t -= (ds_t * p_t).sum(axis=-2, keepdims=True)
        ds_t *= p_t
        gq = unbroadcast((xp.swapaxes(ds_t, -1, -2) @ k) * self.scale, q.shape, q.dtype) if needs[0] else None
        gk = unbroadcast((ds_t @ q) * self.scale, k.shape, k.dtype) if needs[1] else None
        gv = unbroadcast(p_t @ gy, v.shape, v.dtype) if needs[2] else None
        return gq, gk, gv
