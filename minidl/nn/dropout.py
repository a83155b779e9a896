"""`Dropout`: inverted dropout."""

import numbers

from minidl.arguments import tensor_argument
from minidl.errors import ArgumentError, ArgumentTypeError, DTypeError
from minidl.nn import functional as F
from minidl.nn.module import Module


class Dropout(Module):
    """Training: zero each element with probability p and scale the rest by 1 / (1 - p), so the
    expected value is unchanged. Evaluation (and p = 0): the identity, for any dtype; training with
    p > 0 needs a floating-point input (as in PyTorch: 1 / (1 - p) is no integer)."""

    def __init__(self, p=0.5):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real):
            raise ArgumentTypeError(f"Dropout: p must be a number in [0, 1], got {p!r} ({type(p).__name__})")
        if not 0.0 <= p <= 1.0:
            raise ArgumentError(f"Dropout: p is the probability of zeroing an element and must be in [0, 1], "
                                f"got {p}")
        self.p = p

    def forward(self, x):
        x = tensor_argument(type(self).__name__, "x", x)
        if self.training and self.p != 0 and x.dtype.kind != "f":
            raise DTypeError(f"{self!r} in training expects a floating-point input, got {x.dtype} "
                             f"(convert it with .astype(mdl.float32), or call .eval())")
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"
