"""GELU, the Gaussian error linear unit (Hendrycks and Gimpel, 2016), as PyTorch's two forms.

    exact ("none"):  y = x Φ(x) = x/2 (1 + erf(x/√2))     Φ, φ: the standard normal CDF and density
    "tanh":          y = x/2 (1 + tanh(u)),  u = √(2/π) (x + 0.044715 x³)   (GPT-2's approximation)
erf comes from the backend (`Backend.erf`: SciPy on the CPU, cupyx on the GPU). Float32 on the CPU runs
the fast sibling GELUBlocked (minidl/ops/fast/gelu_blocked.py), chosen by `fast.choose` in gelu().
"""

import math

from minidl.arguments import float_tensor_argument
from minidl.autograd import Function
from minidl.ops import fast
from minidl.errors import ArgumentError

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_CUBIC = 0.044715


class GELU(Function):
    """y = x Φ(x);   dL/dx = dL/dy * (Φ(x) + x φ(x)).

    Φ(x) = (1 + erf(x/√2)) / 2 and φ(x) = exp(-x²/2) / √(2π): the standard normal CDF and density.
    Saves x and Φ(x)."""

    def forward(self, x):
        cdf = 0.5 * (1.0 + self.backend.erf(x * _SQRT_HALF))
        self.saved = (x, cdf)
        return x * cdf

    def backward(self, gy):
        x, cdf = self.saved
        slope = self.xp.exp(-0.5 * x * x)  # built in place: φ(x) √(2π), then Φ(x) + x φ(x), then dL/dx
        slope *= x
        slope *= _INV_SQRT_2PI
        slope += cdf
        slope *= gy
        return slope


class GELUTanh(Function):
    """y = x/2 (1 + t),  t = tanh(u);   dL/dx = dL/dy * (½ (1 + t) + ½ x (1 - t²) du/dx).

    u = √(2/π) (x + 0.044715 x³),  du/dx = √(2/π) (1 + 3·0.044715 x²).   Saves x and t."""

    def forward(self, x):
        t = self.xp.tanh(_SQRT_2_OVER_PI * (x + _CUBIC * x * x * x))
        self.saved = (x, t)
        return 0.5 * x * (1.0 + t)

    def backward(self, gy):
        x, t = self.saved
        du_dx = _SQRT_2_OVER_PI * (1.0 + 3.0 * _CUBIC * x * x)
        return gy * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du_dx)


def gelu(x, approximate="none"):
    """GELU of x, elementwise: approximate="none" (exact, with erf) or "tanh" (PyTorch's two forms)."""
    x = float_tensor_argument("gelu", "x", x)
    if approximate == "none":
        return (fast.choose("gelu", x._backend, dtype=x.dtype) or GELU)()(x)
    if approximate == "tanh":
        return GELUTanh()(x)
    raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
