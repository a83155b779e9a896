"""`Embedding`: a learned table of vectors, one row per token id (PyTorch's nn.Embedding)."""

from minidl.errors import ArgumentError
from minidl.nn import functional as F
from minidl.nn import init
from minidl.nn.checks import size
from minidl.nn.module import Module
from minidl.nn.parameter import empty_parameter


class Embedding(Module):
    """y = weight[indices]:  integer indices of any shape (...) -> (..., embedding_dim).

    weight: (num_embeddings, embedding_dim) ~ N(0, 1), as PyTorch's. Repeated indices add their
    gradients. The row `padding_idx` (if given; negative counts from the end) starts at zero and
    gets no gradient, so it stays whatever it is (a padding token's vector).
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, dtype=None, device="cpu"):
        super().__init__()
        self.num_embeddings = size("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = size("Embedding", "embedding_dim", embedding_dim, minimum=0)
        if padding_idx is not None:
            padding_idx = size("Embedding", "padding_idx", padding_idx, minimum=-self.num_embeddings)
            if padding_idx >= self.num_embeddings:
                raise ArgumentError(f"Embedding: padding_idx must be in [-{self.num_embeddings}, "
                                    f"{self.num_embeddings}), got {padding_idx}")
            padding_idx %= self.num_embeddings
        self.padding_idx = padding_idx
        self.weight = empty_parameter((self.num_embeddings, self.embedding_dim), dtype, device)
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, indices):
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self):
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}"
