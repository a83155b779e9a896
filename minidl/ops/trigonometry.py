"""Trigonometric functions: sin and cos (elementwise; positional encodings, periodic features)."""

from minidl.arguments import float_tensor_argument
from minidl.autograd import Function


class Sin(Function):
    """y = sin(x);   dL/dx = dL/dy * cos(x).   Saves x."""

    def forward(self, x):
        self.saved = (x,)
        return self.xp.sin(x)

    def backward(self, gy):
        (x,) = self.saved
        return gy * self.xp.cos(x)


def sin(x):
    """Elementwise sine (radians)."""
    return Sin()(float_tensor_argument("sin", "x", x))


class Cos(Function):
    """y = cos(x);   dL/dx = -dL/dy * sin(x).   Saves x."""

    def forward(self, x):
        self.saved = (x,)
        return self.xp.cos(x)

    def backward(self, gy):
        (x,) = self.saved
        return -gy * self.xp.sin(x)


def cos(x):
    """Elementwise cosine (radians)."""
    return Cos()(float_tensor_argument("cos", "x", x))
