"""Elementwise operations: arithmetic, exp/log/sqrt/abs, clip, maximum/minimum, where, comparisons.

Binary ops broadcast as NumPy does; their backward sums each gradient back to its input's shape
through `unbroadcast`.
"""

import numpy as np

from minidl.autograd import Function, forward_error
from minidl.creation import as_tensor
from minidl.errors import ArgumentError, ArgumentTypeError, DeviceError
from minidl.ops.broadcast import same_layout, unbroadcast_pair
from minidl.tensor import Tensor


def as_tensor_pair(a, b):
    """The two operands of a binary op as Tensors: a Python number becomes a weak constant of the
    other side's dtype. (Not to be confused with `int_pair` in ops/conv.py: an int -> (int, int).)
    Neither a Tensor (mdl.maximum(array, array)): Function.__call__ applies the rule for non-Tensors."""
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            return a, b
        a = as_tensor(a, b)
    elif not isinstance(b, Tensor):
        b = as_tensor(b, a)
    return a, b


def _scalar_op_applies(x, c):
    """True when x is a floating-point Tensor and c a Python int or float: the pair runs through the
    one-input scalar ops below."""
    return type(c) in _NUMBERS and isinstance(x, Tensor) and x.data.dtype.kind == "f"


_NUMBERS = {float, int}  # exact types: bool is kept apart (True + x is an integer operation in NumPy)


class AddScalar(Function):
    """y = x + c, c a Python number;   dL/dx = dL/dy.   (PyTorch's add(Tensor, Scalar).)

    One input instead of a constant tensor: no cached constant to look up, no broadcasting to undo.
    c stays a Python number, a weak scalar for NumPy 2: a float32 x gives a float32 y.
    """

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return x + self.c

    def backward(self, gy):
        return gy


class MulScalar(Function):
    """y = c · x, c a Python number;   dL/dx = c · dL/dy."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return x * self.c

    def backward(self, gy):
        return gy * self.c


class Add(Function):
    """y = a + b;   dL/da = dL/dy,   dL/db = dL/dy   (each summed back to its input's shape)."""

    def forward(self, a, b):
        self.layout = same_layout(a, b)
        return a + b

    def backward(self, gy):
        return unbroadcast_pair(gy, gy, self.layout, self.needs_grad)


def add(a, b):
    if _scalar_op_applies(a, b):
        return AddScalar(b)(a)
    if _scalar_op_applies(b, a):
        return AddScalar(a)(b)
    return Add()(*as_tensor_pair(a, b))


class Sub(Function):
    """y = a - b;   dL/da = dL/dy,   dL/db = -dL/dy."""

    def forward(self, a, b):
        self.layout = same_layout(a, b)
        return a - b

    def backward(self, gy):
        return unbroadcast_pair(gy, -gy if self.needs_grad[1] else None, self.layout, self.needs_grad)


def sub(a, b):
    if _scalar_op_applies(a, b):
        return AddScalar(-b)(a)  # x - c = x + (-c) exactly, in IEEE arithmetic
    return Sub()(*as_tensor_pair(a, b))


class Mul(Function):
    """y = a * b;   dL/da = dL/dy * b,   dL/db = dL/dy * a.   Saves a and b."""

    def forward(self, a, b):
        self.saved = (a, b)
        self.layout = same_layout(a, b)
        return a * b

    def backward(self, gy):
        a, b = self.saved
        ga_needed, gb_needed = self.needs_grad
        return unbroadcast_pair(gy * b if ga_needed else None, gy * a if gb_needed else None,
                                self.layout, self.needs_grad)


def mul(a, b):
    if _scalar_op_applies(a, b):
        return MulScalar(b)(a)
    if _scalar_op_applies(b, a):
        return MulScalar(a)(b)
    return Mul()(*as_tensor_pair(a, b))


class Div(Function):
    """y = a / b;   dL/da = dL/dy / b,   dL/db = -dL/dy * a / b² = -dL/dy * y / b.   Saves b and y."""

    def forward(self, a, b):
        self.layout = same_layout(a, b)
        y = a / b
        self.saved = (b, y)
        return y

    def backward(self, gy):
        b, y = self.saved
        ga = gy / b  # dL/db reuses it: -dL/dy * y / b = -ga * y
        return unbroadcast_pair(ga, -ga * y if self.needs_grad[1] else None, self.layout, self.needs_grad)


def div(a, b):
    return Div()(*as_tensor_pair(a, b))


class Neg(Function):
    """y = -x;   dL/dx = -dL/dy."""

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


def neg(x):
    return Neg()(x)


class Pow(Function):
    """y = a ** b;   dL/da = dL/dy * b * a**(b-1),   dL/db = dL/dy * y * log(a).   Saves a, b, y."""

    def forward(self, a, b):
        self.layout = same_layout(a, b)
        y = a ** b
        self.saved = (a, b, y)
        return y

    def backward(self, gy):
        a, b, y = self.saved
        ga_needed, gb_needed = self.needs_grad
        return unbroadcast_pair(gy * b * a ** (b - 1) if ga_needed else None,
                                gy * y * self.xp.log(a) if gb_needed else None, self.layout, self.needs_grad)


def pow(a, b):
    a, b = as_tensor_pair(a, b)
    if b.data.dtype.kind in "iu" and a.data.dtype.kind in "biu" and a.data.size and bool((b.data < 0).any()):
        raise ArgumentError(f"pow: an integer tensor ({a.dtype}) cannot be raised to a negative integer power "
                            f"(the result is not an integer); convert the base first, e.g. x.astype(mdl.float32) ** n")
    return Pow()(a, b)


class Exp(Function):
    """y = exp(x);   dL/dx = dL/dy * y.   Saves y."""

    def forward(self, x):
        y = self.xp.exp(x)
        self.saved = (y,)
        return y

    def backward(self, gy):
        (y,) = self.saved
        return gy * y


def exp(x):
    return Exp()(x)


class Log(Function):
    """y = log(x);   dL/dx = dL/dy / x.   Saves x."""

    def forward(self, x):
        self.saved = (x,)
        return self.xp.log(x)

    def backward(self, gy):
        (x,) = self.saved
        return gy / x


def log(x):
    return Log()(x)


class Sqrt(Function):
    """y = sqrt(x);   dL/dx = dL/dy / (2 y).   Saves y."""

    def forward(self, x):
        y = self.xp.sqrt(x)
        self.saved = (y,)
        return y

    def backward(self, gy):
        (y,) = self.saved
        return gy / (2 * y)


def sqrt(x):
    return Sqrt()(x)


class Abs(Function):
    """y = |x|;   dL/dx = dL/dy * sign(x)   (0 at x = 0).   Saves x."""

    def forward(self, x):
        self.saved = (x,)
        return self.xp.abs(x)

    def backward(self, gy):
        (x,) = self.saved
        return gy * self.xp.sign(x)


def abs(x):
    return Abs()(x)


class Clip(Function):
    """y = min(max(x, a_min), a_max);   dL/dx = dL/dy where a_min <= x <= a_max, else 0.   Saves x."""

    def __init__(self, a_min, a_max):
        self.a_min, self.a_max = a_min, a_max

    def forward(self, x):
        self.saved = (x,)
        return self.xp.clip(x, self.a_min, self.a_max)

    def backward(self, gy):
        (x,) = self.saved
        inside = self.xp.ones(x.shape, dtype=bool)
        if self.a_min is not None:
            inside &= x >= self.a_min
        if self.a_max is not None:
            inside &= x <= self.a_max
        return gy * inside


def clip(x, a_min=None, a_max=None):
    if a_min is None and a_max is None:
        raise ArgumentError("clip: give a_min, a_max or both")
    return Clip(a_min, a_max)(x)


class Maximum(Function):
    """y = max(a, b);   dL/da = dL/dy where a > b,   dL/db = dL/dy where b > a   (half each on ties)"""

    def forward(self, a, b):
        self.saved = (a, b)
        self.layout = same_layout(a, b)
        return self.xp.maximum(a, b)

    def backward(self, gy):
        a, b = self.saved
        ga = gy * ((a > b) + (a == b).astype(gy.dtype) * 0.5)
        return unbroadcast_pair(ga, gy - ga, self.layout, self.needs_grad)


def maximum(a, b):
    return Maximum()(*as_tensor_pair(a, b))


class Minimum(Function):
    """y = min(a, b);   dL/da = dL/dy where a < b,   dL/db = dL/dy where b < a   (half each on ties)"""

    def forward(self, a, b):
        self.saved = (a, b)
        self.layout = same_layout(a, b)
        return self.xp.minimum(a, b)

    def backward(self, gy):
        a, b = self.saved
        ga = gy * ((a < b) + (a == b).astype(gy.dtype) * 0.5)
        return unbroadcast_pair(ga, gy - ga, self.layout, self.needs_grad)


def minimum(a, b):
    return Minimum()(*as_tensor_pair(a, b))


class Where(Function):
    """y = a where cond else b;   dL/da = dL/dy where cond (else 0),  dL/db = dL/dy where not cond."""

    def __init__(self, cond):
        self.cond = cond

    def forward(self, a, b):
        y = self.xp.where(self.cond, a, b)
        self.layout = same_layout(a, b, y.shape)  # cond may broadcast y beyond a and b
        return y

    def backward(self, gy):
        xp = self.xp
        ga_needed, gb_needed = self.needs_grad
        return unbroadcast_pair(xp.where(self.cond, gy, 0) if ga_needed else None,
                                xp.where(self.cond, 0, gy) if gb_needed else None, self.layout, self.needs_grad)


def where(cond, a, b):
    """Elementwise `a if cond else b` (NumPy's where with three arguments); differentiable in a and b."""
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else cond
    if not isinstance(like, Tensor):
        raise ArgumentTypeError("where: at least one of cond, a, b must be a Tensor")
    a, b = as_tensor(a, like), as_tensor(b, like)
    cond = as_tensor(cond, like)
    if cond._backend is not a._backend:
        raise DeviceError(f"where: cond is on '{cond.device}' but the values are on '{a.device}'")
    _check_broadcast("where", cond, a, b)  # Where's forward sees a and b only
    return Where(cond.data.astype(bool, copy=False))(a, b)


def _check_broadcast(op, *tensors):
    """ShapeError naming `op` and the shapes unless the tensors' shapes broadcast together."""
    shapes = [t.shape for t in tensors]
    if len(set(shapes)) > 1:
        try:
            np.broadcast_shapes(*shapes)
        except ValueError as exc:
            raise forward_error(op, [t.data for t in tensors], exc) from exc


# -- comparisons: boolean results, no gradient ------------------------------------------------------------
def _compare(name, a, b):
    a, b = as_tensor_pair(a, b)
    if a._backend is not b._backend:
        raise DeviceError(f"{name}: operands are on '{a.device}' and '{b.device}'")
    _check_broadcast(name, a, b)
    result = getattr(a._backend.xp, name)(a.data, b.data)
    return Tensor._make(a._backend.xp.asarray(result), a._backend, False, None)


def less(a, b):
    return _compare("less", a, b)


def less_equal(a, b):
    return _compare("less_equal", a, b)


def greater(a, b):
    return _compare("greater", a, b)


def greater_equal(a, b):
    return _compare("greater_equal", a, b)


def equal(a, b):
    return _compare("equal", a, b)


def not_equal(a, b):
    return _compare("not_equal", a, b)
