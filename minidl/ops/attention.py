"""Scaled dot-product attention (Vaswani et al., 2017) with PyTorch's F.scaled_dot_product_attention
conventions, as one op with a hand-derived backward.

Why one op and not a composition of matmul, softmax and where: the composition would record six nodes
(transpose, two products, scale, mask, softmax) whose backward allocates an (…, L, S) array at each of
them; one node keeps the four (…, L, S)-sized steps of the chain rule on one screen, saves only q, k, v
and the probabilities P, and never builds a gradient for the mask unless a float mask needs one.
`attention_weights` below is the composed form, for callers that want P itself as a differentiable
output (nn.MultiheadAttention with need_weights=True, as PyTorch does it).

Masks (PyTorch's F.scaled_dot_product_attention, which differ from nn.MultiheadAttention's):
    boolean attn_mask   True where a query MAY attend to a key
    float attn_mask     added to the scores (-inf forbids)
    is_causal           query i attends to keys j <= i (aligned at the top left when L != S)
A query whose keys are all forbidden gets zero weights and a zero output (PyTorch >= 2.5), not NaN.
"""

import math

import numpy as np

from minidl.arguments import exact_tensor_argument, float_tensor_argument
from minidl.autograd import Function
from minidl.errors import ArgumentError, DeviceError, DTypeError, ShapeError
from minidl.ops import fast
from minidl.ops.broadcast import unbroadcast
from minidl.tensor import Tensor


class ScaledDotProductAttention(Function):
    """y = P @ v,  P = softmax(q kᵀ · scale + mask);   dL/dv = Pᵀ @ dL/dy,  dL/dq = dS @ k · scale,  dL/dk = ...
    ... dSᵀ @ q · scale,  with dS = P * (dP - Σ dP * P),  dP = dL/dy @ vᵀ.

    With dropout, P' = P * keep / (1 - p) (keep ~ Bernoulli(1 - p)) replaces P in y = P' @ v:
        dL/dv = P'ᵀ @ dL/dy,   dP = (dL/dy @ vᵀ) * keep / (1 - p),   dS = P * (dP - Σ_keys dP * P),
        dL/dq = dS @ k · scale,   dL/dk = dSᵀ @ q · scale,   dL/dmask = dS      (batch axes summed back)
    q: (..., L, E), k: (..., S, E), v: (..., S, Ev), float mask (an input): broadcastable to (..., L, S);
    y: (..., L, Ev). `allowed`: a boolean array broadcastable to (L, S) or (..., L, S), or None.
    Saves q, k, v, P and the dropout mask.
    """

    def __init__(self, scale, allowed=None, dropout_p=0.0):
        self.scale, self.allowed, self.dropout_p = scale, allowed, dropout_p

    def forward(self, q, k, v, *mask):
        xp = self.xp
        scores = (q * self.scale) @ xp.swapaxes(k, -1, -2)  # a fresh array: masked and softmaxed in place
        if mask:
            scores = _add_into(scores, mask[0])
        if self.allowed is not None:
            scores = _forbid(xp, scores, self.allowed)
        p = _safe_softmax_(xp, scores)
        kept, keep = p, None
        if self.dropout_p > 0:
            keep = self.backend.bernoulli(p.shape, 1.0 - self.dropout_p).astype(p.dtype)
            keep *= 1.0 / (1.0 - self.dropout_p)  # the kept weights scaled up: inverted dropout
            kept = p * keep
        self.saved = (q, k, v, p, kept, keep)
        return kept @ v

    def backward(self, gy):
        q, k, v, p, kept, keep = self.saved
        xp, needs = self.xp, self.needs_grad
        ds = gy @ xp.swapaxes(v, -1, -2)  # dP, turned into dS in place
        if keep is not None:
            ds *= keep
        ds -= (ds * p).sum(axis=-1, keepdims=True)  # the softmax's backward, row by row:
        ds *= p                                      # dS = P * (dP - Σ_keys dP * P)
        gq = unbroadcast((ds @ k) * self.scale, q.shape, q.dtype) if needs[0] else None
        gk = unbroadcast((xp.swapaxes(ds, -1, -2) @ q) * self.scale, k.shape, k.dtype) if needs[1] else None
        gv = unbroadcast(xp.swapaxes(kept, -1, -2) @ gy, v.shape, v.dtype) if needs[2] else None
        if len(needs) == 3:
            return gq, gk, gv
        mask = self.inputs[3]
        return gq, gk, gv, (unbroadcast(ds, mask.shape, mask.dtype) if needs[3] else None)


def _fits(shape, into):
    """True when an array of `shape` broadcasts to `into` without enlarging it (an in-place update works)."""
    return len(shape) <= len(into) and all(a in (1, b) for a, b in zip(shape[::-1], into[::-1]))


def _add_into(scores, mask):
    """scores + mask, in place where the mask's batch axes do not enlarge the scores'."""
    if _fits(mask.shape, scores.shape) and scores.dtype == mask.dtype:
        scores += mask
        return scores
    return scores + mask


def _forbid(xp, scores, allowed):
    """-inf where `allowed` is False (in place where it fits), so those keys get zero weight."""
    if _fits(allowed.shape, scores.shape):
        xp.copyto(scores, -math.inf, where=~allowed)
        return scores
    return xp.where(allowed, scores, -math.inf)


def _safe_softmax_(xp, scores, axis=-1, shift=True):
    """softmax over the keys' `axis` (the last one here), computed in place in `scores`; a query whose keys
    are all forbidden (all -inf) gets zeros instead of NaN (0/0). shift=False skips subtracting each row's
    maximum (two passes), for a caller that knows exp cannot leave the float range: softmax is unchanged
    by a shift."""
    if shift:
        m = scores.max(axis=axis, keepdims=True)
        m[m == -math.inf] = 0
        scores -= m
    xp.exp(scores, out=scores)
    total = scores.sum(axis=axis, keepdims=True)
    total[total == 0] = 1
    scores /= total
    return scores


def scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """softmax(q kᵀ / √E + mask) v over the last two axes, as PyTorch's F.scaled_dot_product_attention.

    q: (..., L, E), k: (..., S, E), v: (..., S, Ev) -> (..., L, Ev) (batch axes broadcast).
    attn_mask: boolean (True = may attend) or float (added to the scores), broadcastable to (..., L, S);
    is_causal: query i sees keys 0..i (attn_mask must then be None); dropout_p: dropout on the weights
    (always applied when > 0, as PyTorch's functional form); scale: 1/√E unless given.
    """
    op = "scaled_dot_product_attention"
    q, k, v = (float_tensor_argument(op, name, t) for name, t in (("query", q), ("key", k), ("value", v)))
    for name, t in (("key", k), ("value", v)):
        if t._backend is not q._backend:
            raise DeviceError(f"{op}: query is on '{q.device}' but {name} is on '{t.device}'")
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ShapeError(f"{op}: query, key and value need at least 2 dimensions (..., L, E), got shapes "
                         f"{q.shape}, {k.shape}, {v.shape}")
    (lq, e), (s, ek), sv = q.shape[-2:], k.shape[-2:], v.shape[-2]
    if e != ek or s != sv:
        raise ShapeError(f"{op}: expected query (..., L, E), key (..., S, E), value (..., S, Ev); got shapes "
                         f"{q.shape}, {k.shape}, {v.shape}")
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError as exc:
        raise ShapeError(f"{op}: the batch axes of query {q.shape}, key {k.shape} and value {v.shape} do not "
                         f"broadcast") from exc
    if not 0.0 <= dropout_p < 1.0:
        raise ArgumentError(f"{op}: dropout_p must be in [0, 1), got {dropout_p}")
    scale = 1.0 / math.sqrt(e) if scale is None else float(scale)
    allowed, inputs = None, (q, k, v)
    if is_causal:
        if attn_mask is not None:
            raise ArgumentError(f"{op}: give attn_mask or is_causal=True, not both (as PyTorch)")
        allowed = q._backend.xp.tri(lq, s, dtype=bool)  # key j <= query i, aligned at the top left
    elif attn_mask is not None:
        mask = _mask_tensor(op, attn_mask, q)
        try:
            np.broadcast_shapes(mask.shape, batch + (lq, s))
        except ValueError as exc:
            raise ShapeError(f"{op}: attn_mask of shape {mask.shape} does not broadcast to the scores' shape "
                             f"{batch + (lq, s)}") from exc
        if mask.dtype.kind == "b":
            allowed = mask.data
        else:
            inputs = (q, k, v, mask)
    attention = fast.choose(op, q._backend, dropout_p=dropout_p, float_mask=len(inputs) == 4)
    return (attention or ScaledDotProductAttention)(scale, allowed, dropout_p)(*inputs)


def _mask_tensor(op, attn_mask, like):
    """attn_mask as a Tensor on like's device: boolean, or floating (cast to like's dtype if constant)."""
    if not isinstance(attn_mask, Tensor):
        attn_mask = Tensor._make(like._backend.asarray(attn_mask), like._backend, False, None)
    elif attn_mask._backend is not like._backend:
        raise DeviceError(f"{op}: attn_mask is on '{attn_mask.device}' but query is on '{like.device}'")
    kind = attn_mask.dtype.kind
    if kind not in "bf":
        raise DTypeError(f"{op}: attn_mask must be boolean (True = may attend) or floating (added to the "
                         f"scores), got {attn_mask.dtype}")
    if kind == "f" and attn_mask.dtype != like.dtype and not attn_mask.requires_grad:
        attn_mask = attn_mask.astype(like.dtype)
    return attn_mask


def attention_weights(q, k, mask=None, scale=None):
    """P = softmax(q kᵀ · scale + mask) over the keys, composed from differentiable ops (so that P is an
    output a loss can depend on). q: (..., L, E), k: (..., S, E), mask: float, added (-inf forbids)."""
    q, k = exact_tensor_argument("attention_weights", "query", q), exact_tensor_argument("attention_weights", "key", k)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = (q * scale) @ k.transpose(*range(k.ndim - 2), k.ndim - 1, k.ndim - 2)
    if mask is not None:
        scores = scores + mask
    return scores.softmax(axis=-1)
