"""`MultiheadAttention`: PyTorch's nn.MultiheadAttention (Vaswani et al., 2017), its parameters and masks.

    heads_i = softmax(q_i k_iᵀ / √d + mask) v_i,   q_i, k_i, v_i: head i of the projected query, key, value
    output  = concat(heads) @ out_proj.weightᵀ + out_proj.bias                   (d = embed_dim / num_heads)

The projections are the three row blocks of `in_proj_weight` (3·E, E): W_q, W_k, W_v. Every head runs
at once, as one batched product over (N, heads, L, d): no Python loop over heads or positions.

Masks, as PyTorch's MultiheadAttention (opposite to F.scaled_dot_product_attention's boolean masks):
    attn_mask        (L, S) or (N·heads, L, S): boolean True where attention is NOT allowed, or float, added
    key_padding_mask (N, S): boolean True for keys to ignore (padding), or float, added
    is_causal=True   the causal mask (query i sees keys 0..i); an attn_mask given with it must be that mask
Both are turned into one additive float mask (-inf where forbidden) broadcast to (N, heads, L, S).
"""

import math

from minidl.errors import ArgumentError, ArgumentTypeError, DeviceError, ShapeError
from minidl.nn import functional as F
from minidl.nn import init
from minidl.nn.checks import size
from minidl.nn.linear import Linear
from minidl.nn.module import Module
from minidl.nn.parameter import empty_parameter
from minidl.ops.attention import attention_weights
from minidl.tensor import Tensor


class MultiheadAttention(Module):
    """Multi-head attention with PyTorch's parameters: `in_proj_weight` (3·E, E) (xavier_uniform_),
    `in_proj_bias` (3·E,) (zeros), `out_proj` a Linear(E, E) (PyTorch's Linear init, zero bias).

    forward(query, key, value, attn_mask=None, need_weights=True, is_causal=False, *,
            key_padding_mask=None, average_attn_weights=True) -> (output, weights)
    query (L, N, E), key and value (S, N, E) ((N, L, E), (N, S, E) with batch_first; (L, E), (S, E)
    unbatched) -> output like query; weights (N, L, S) averaged over heads ((N, heads, L, S) without
    average_attn_weights), None without need_weights. Dropout applies to the attention weights while training.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, batch_first=False, dtype=None, device="cpu"):
        super().__init__()
        self.embed_dim = size("MultiheadAttention", "embed_dim", embed_dim)
        self.num_heads = size("MultiheadAttention", "num_heads", num_heads)
        if self.embed_dim % self.num_heads:
            raise ArgumentError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads "
                                f"({num_heads})")
        if not 0.0 <= dropout < 1.0:
            raise ArgumentError(f"MultiheadAttention: dropout must be in [0, 1), got {dropout}")
        self.head_dim = self.embed_dim // self.num_heads
        self.dropout, self.batch_first = dropout, batch_first
        e = self.embed_dim
        self.in_proj_weight = empty_parameter((3 * e, e), dtype, device)
        if bias:
            self.in_proj_bias = empty_parameter((3 * e,), dtype, device)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(e, e, bias=bias, dtype=dtype, device=device)
        init.xavier_uniform_(self.in_proj_weight)  # PyTorch's _reset_parameters
        if bias:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def forward(self, query, key, value, attn_mask=None, need_weights=True, is_causal=False, *,
                key_padding_mask=None, average_attn_weights=True):
        batched = self._check_inputs(query, key, value)
        if not batched:  # (L, E) -> a batch of one
            query, key, value = (t.reshape(t.shape[0], 1, t.shape[1]) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = _as_mask_tensor(key_padding_mask, query).reshape(1, -1)
        first = self.batch_first and batched  # the batch axis comes first in the inputs
        n, lq = (query.shape[0], query.shape[1]) if first else (query.shape[1], query.shape[0])
        s = key.shape[1] if first else key.shape[0]

        q, k, v = (self._project(t, i, first) for i, t in enumerate((query, key, value)))  # (N, heads, ., d)
        mask, causal_only = self._merged_mask(attn_mask, key_padding_mask, is_causal, need_weights, n, lq, s, q)
        p = self.dropout if self.training else 0.0
        weights = None
        if need_weights:  # composed, so that the weights are an output gradients flow through
            weights = F.dropout(attention_weights(q, k, mask), p, self.training)
            heads = weights @ v
        else:
            heads = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p, is_causal=causal_only)
        # (N, heads, L, d) -> the input's layout with the heads side by side -> out_proj
        heads = heads.transpose(0, 2, 1, 3) if first else heads.transpose(2, 0, 1, 3)
        out = self.out_proj(heads.reshape(-1, self.embed_dim)).reshape(*heads.shape[:2], self.embed_dim)
        if weights is not None and average_attn_weights:
            weights = weights.mean(axis=1)
        if not batched:
            out = out.reshape(lq, self.embed_dim)
            weights = None if weights is None else weights.reshape(weights.shape[1:])
        return out, weights

    def _project(self, x, i, first):
        """x (L, N, E) or (N, L, E) -> its projection by the i-th block of in_proj, as (N, heads, L, d)."""
        e = self.embed_dim
        w = self.in_proj_weight[i * e:(i + 1) * e]
        b = None if self.in_proj_bias is None else self.in_proj_bias[i * e:(i + 1) * e]
        y = F.linear(x.reshape(-1, e), w, b).reshape(*x.shape[:2], self.num_heads, self.head_dim)
        return y.transpose(0, 2, 1, 3) if first else y.transpose(1, 2, 0, 3)

    def _check_inputs(self, query, key, value):
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise ArgumentTypeError(f"{self._name()}: expected {name} as a Tensor, got {type(t).__name__}")
        batched = query.ndim == 3
        expected = 3 if batched else 2
        layout = ("(N, L, E)" if self.batch_first else "(L, N, E)") if batched else "(L, E)"
        for name, t in (("query", query), ("key", key), ("value", value)):
            if t.ndim != expected or t.shape[-1] != self.embed_dim:
                raise ShapeError(f"{self._name()}: expected {name} of shape {layout} with E = {self.embed_dim} "
                                 f"(like query, {query.shape}), got {t.shape}")
        if key.shape != value.shape:
            raise ShapeError(f"{self._name()}: key and value must have one shape, got {key.shape} and {value.shape}")
        batch_axis = 0 if self.batch_first else 1
        if batched and key.shape[batch_axis] != query.shape[batch_axis]:
            raise ShapeError(f"{self._name()}: query {query.shape} and key {key.shape} have different batch sizes "
                             f"(batch_first={self.batch_first})")
        return batched

    def _merged_mask(self, attn_mask, key_padding_mask, is_causal, need_weights, n, lq, s, like):
        """(additive float mask broadcastable to (N, heads, L, S) or None, causal_only): causal_only says
        that the mask is exactly the causal one, which scaled_dot_product_attention builds itself."""
        forbidden = ~like._backend.xp.tri(lq, s, dtype=bool) if is_causal else None  # key j > query i
        if is_causal and attn_mask is None:
            if key_padding_mask is None and not need_weights:
                return None, True
            attn_mask = forbidden
        mask = None
        if attn_mask is not None:
            mask = _additive(self._name(), "attn_mask", attn_mask, like)
            if is_causal:
                self._check_causal(mask, forbidden)
            if mask.shape == (n * self.num_heads, lq, s):
                mask = mask.reshape(n, self.num_heads, lq, s)
            elif mask.shape != (lq, s):
                raise ShapeError(f"{self._name()}: attn_mask must have shape (L, S) = {(lq, s)} or "
                                 f"(N·num_heads, L, S) = {(n * self.num_heads, lq, s)}, got {mask.shape}")
        if key_padding_mask is not None:
            padding = _additive(self._name(), "key_padding_mask", key_padding_mask, like)
            if padding.shape != (n, s):
                raise ShapeError(f"{self._name()}: key_padding_mask must have shape (N, S) = {(n, s)}, got "
                                 f"{padding.shape}")
            padding = padding.reshape(n, 1, 1, s)
            mask = padding if mask is None else mask + padding
        return mask, False

    def _check_causal(self, mask, forbidden):
        """is_causal=True with an attn_mask: the mask must be the causal one (-inf exactly above the diagonal)."""
        xp = mask._backend.xp
        if mask.shape[-2:] != forbidden.shape:
            raise ShapeError(f"{self._name()}: is_causal=True with an attn_mask of shape {mask.shape}, which is not "
                             f"the causal mask's (L, S) = {forbidden.shape}")
        wrong = xp.any(xp.where(forbidden, mask.data != -math.inf, mask.data != 0))

        def not_causal():
            return ArgumentError(f"{self._name()}: is_causal=True, but attn_mask is not the causal mask (True, "
                                 f"or -inf, exactly above the diagonal); pass one of them, not both")

        mask._backend.check(wrong, not_causal)  # on a GPU: raised at the next host read

    def _name(self):
        return f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"

    def extra_repr(self):
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, " \
               f"batch_first={self.batch_first}"


def _as_mask_tensor(mask, like):
    if isinstance(mask, Tensor):
        return mask
    return Tensor._make(like._backend.asarray(mask), like._backend, False, None)


def _additive(owner, name, mask, like):
    """A boolean mask (True: forbidden) -> a float Tensor of like's dtype, -inf where True and 0 elsewhere;
    a float mask as it is (cast to like's dtype)."""
    mask = _as_mask_tensor(mask, like)
    if mask._backend is not like._backend:
        raise DeviceError(f"{owner}: {name} is on '{mask.device}' but the inputs are on '{like.device}'")
    xp = like._backend.xp
    if mask.dtype.kind == "b":
        return Tensor._make(xp.where(mask.data, -math.inf, 0.0).astype(like.dtype), like._backend, False, None)
    if mask.dtype.kind != "f":
        raise ArgumentTypeError(f"{owner}: {name} must be boolean (True = not allowed) or float (added), got "
                                f"{mask.dtype}")
    return mask if mask.dtype == like.dtype else mask.astype(like.dtype)
