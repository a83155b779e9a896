"""A GPT in the shape of Karpathy's nanoGPT (model.py): CausalSelfAttention, MLP, Block and GPT, with
nanoGPT's attribute names, so its state_dict keys ("transformer.h.0.attn.c_attn.weight", ...) line up
with a nanoGPT model's (PyTorch) number for number.

    x = wte(idx) + wpe(positions)                 token and position embeddings, (B, T, C)
    x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))  per Block: pre-LayerNorm, residual connections
    logits = lm_head(ln_f(x))                     (B, T, vocab_size)

Linear layers take (B, T, C) as they are (F.linear treats the leading axes as rows: one matrix product,
one node), and attention runs all heads at once on the packed projections (F.self_attention).
"""

import math

from minidl.arguments import tensor_argument
from minidl.creation import arange
from minidl.errors import ArgumentError, ShapeError
from minidl.nn import functional as F
from minidl.nn import init
from minidl.nn.activation import GELU
from minidl.nn.containers import ModuleDict, ModuleList
from minidl.nn.dropout import Dropout
from minidl.nn.embedding import Embedding
from minidl.nn.layer_norm import LayerNorm
from minidl.nn.linear import Linear
from minidl.nn.module import Module


class CausalSelfAttention(Module):
    """Masked multi-head self-attention: x (B, T, C) -> (B, T, C); position t sees positions 0..t.

    c_attn: Linear(C, 3C), its output rows [q | k | v] (one product for the three projections, as
    nanoGPT's c_attn); F.self_attention splits them into heads and attends; c_proj: Linear(C, C).
    """

    def __init__(self, n_embd, n_head, dropout=0.0, bias=True):
        super().__init__()
        if n_embd % n_head:
            raise ArgumentError(f"CausalSelfAttention: n_embd ({n_embd}) must be divisible by n_head ({n_head})")
        self.n_embd, self.n_head, self.dropout = n_embd, n_head, dropout
        self.c_attn = Linear(n_embd, 3 * n_embd, bias=bias)
        self.c_proj = Linear(n_embd, n_embd, bias=bias)
        self.resid_dropout = Dropout(dropout)

    def forward(self, x):
        x = tensor_argument(type(self).__name__, "x", x)
        if x.ndim != 3 or x.shape[2] != self.n_embd:
            raise ShapeError(f"CausalSelfAttention expects x of shape (B, T, {self.n_embd}), got {x.shape}")
        qkv = self.c_attn(x)  # (B, T, 3C): [q | k | v] of each position
        y = F.self_attention(qkv, self.n_head, is_causal=True, dropout_p=self.dropout if self.training else 0.0)
        return self.resid_dropout(self.c_proj(y))


class MLP(Module):
    """x (..., C) -> Linear(C, 4C) -> GELU -> Linear(4C, C) -> dropout."""

    def __init__(self, n_embd, dropout=0.0, bias=True):
        super().__init__()
        self.c_fc = Linear(n_embd, 4 * n_embd, bias=bias)
        self.gelu = GELU()
        self.c_proj = Linear(4 * n_embd, n_embd, bias=bias)
        self.dropout = Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(Module):
    """One pre-LayerNorm transformer block: x + attn(ln_1(x)), then + mlp(ln_2(x)). x: (B, T, C)."""

    def __init__(self, n_embd, n_head, dropout=0.0, bias=True):
        super().__init__()
        self.ln_1 = LayerNorm(n_embd, bias=bias)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout, bias)
        self.ln_2 = LayerNorm(n_embd, bias=bias)
        self.mlp = MLP(n_embd, dropout, bias)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(Module):
    """A decoder-only transformer language model: token ids (B, T) -> next-token logits (B, T, vocab_size).

    T <= block_size. Weights as nanoGPT initialises them: N(0, 0.02) for Linear and Embedding weights,
    zero biases, and N(0, 0.02/√(2·n_layer)) for each residual branch's output projection (c_proj).
    No weight tying (nanoGPT ties lm_head.weight to wte.weight; PyTorch's state_dict then lists both).
    For cross-entropy, flatten: F.cross_entropy(logits.reshape(-1, vocab_size), targets.reshape(-1)).
    """

    def __init__(self, vocab_size, block_size, n_layer=1, n_head=4, n_embd=64, dropout=0.0, bias=True):
        super().__init__()
        self.vocab_size, self.block_size = vocab_size, block_size
        self.transformer = ModuleDict(dict(
            wte=Embedding(vocab_size, n_embd),
            wpe=Embedding(block_size, n_embd),
            drop=Dropout(dropout),
            h=ModuleList([Block(n_embd, n_head, dropout, bias) for _ in range(n_layer)]),
            ln_f=LayerNorm(n_embd, bias=bias),
        ))
        self.lm_head = Linear(n_embd, vocab_size, bias=False)
        self.apply(_init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):  # GPT-2: scale the residual projections by depth
                init.normal_(p, 0.0, 0.02 / math.sqrt(2 * n_layer))

    def forward(self, idx):
        idx = tensor_argument("GPT", "idx", idx)
        if idx.ndim != 2 or idx.shape[1] > self.block_size:
            raise ShapeError(f"GPT expects token ids of shape (B, T) with T <= block_size = {self.block_size}, "
                             f"got {idx.shape}")
        t = idx.shape[1]
        tr = self.transformer
        x = tr["drop"](tr["wte"](idx) + tr["wpe"](arange(t, device=idx.device)))  # (B, T, C) + (T, C)
        for block in tr["h"]:
            x = block(x)
        return self.lm_head(tr["ln_f"](x))


def _init_weights(module):
    if isinstance(module, Linear):
        init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            init.zeros_(module.bias)
    elif isinstance(module, Embedding):
        init.normal_(module.weight, 0.0, 0.02)
