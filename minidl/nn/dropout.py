"""`Dropout`: inverted dropout."""

from minidl.nn import functional as F
from minidl.nn.module import Module


class Dropout(Module):
    """Training: zero each element with probability p and scale the rest by 1 / (1 - p), so the
    expected value is unchanged. Evaluation: the identity."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"
