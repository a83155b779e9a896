"""Making tensors: `tensor()` from data, and the factories (zeros, ones, full, arange, eye, rand, randn).

Default dtypes follow PyTorch: Python floats become float32, Python ints int64, bools stay bool;
NumPy (and CuPy) arrays keep their dtype.
"""

import numbers

import numpy as np

from minidl.arrays import DEFAULT_FLOAT, default_dtype, normalize_dtype, to_array  # noqa: F401  (also imported from here)
from minidl.backend import get_backend
from minidl.errors import ArgumentError, ArgumentTypeError, DTypeError, ShapeError
from minidl.tensor import Tensor

float32 = np.float32
float64 = np.float64
int64 = np.int64
bool_ = np.bool_

def tensor(data, dtype=None, device="cpu", requires_grad=False):
    """A new tensor holding a copy of `data` (number, nested list, NumPy/CuPy array or Tensor)."""
    backend, array = to_array(data.data if isinstance(data, Tensor) else data, device=device, dtype=dtype, copy=True)
    t = Tensor._make(array, backend, False, None)
    t.requires_grad = requires_grad
    return t


# -- factories -------------------------------------------------------------------------------------------
def _shape(shape, op):
    """Accept zeros((2, 3)) and zeros(2, 3); sizes must be ints >= 0."""
    if len(shape) == 1 and not isinstance(shape[0], numbers.Integral) and hasattr(shape[0], "__iter__"):
        shape = tuple(shape[0])
    for s in shape:
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise ArgumentTypeError(f"{op}: sizes must be ints, got {s!r} ({type(s).__name__}) in shape {shape!r}")
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ShapeError(f"{op}: negative dimension in shape {shape}")
    return shape


def _new(array, backend, requires_grad):
    t = Tensor._make(array, backend, False, None)
    t.requires_grad = requires_grad
    return t


def _float_dtype(dtype):
    return DEFAULT_FLOAT if dtype is None else normalize_dtype(dtype)


def zeros(*shape, dtype=None, device="cpu", requires_grad=False):
    """A tensor of zeros: zeros(2, 3) or zeros((2, 3)); float32 unless `dtype` says otherwise."""
    backend = get_backend(device)
    return _new(backend.xp.zeros(_shape(shape, "zeros"), dtype=_float_dtype(dtype)), backend, requires_grad)


def ones(*shape, dtype=None, device="cpu", requires_grad=False):
    """A tensor of ones: ones(2, 3) or ones((2, 3))."""
    backend = get_backend(device)
    return _new(backend.xp.ones(_shape(shape, "ones"), dtype=_float_dtype(dtype)), backend, requires_grad)


def full(shape, fill_value, dtype=None, device="cpu", requires_grad=False):
    """A tensor filled with `fill_value`; the dtype follows the value (float -> float32) unless given."""
    backend = get_backend(device)
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    dt = normalize_dtype(dtype) if dtype is not None else default_dtype(np.asarray(fill_value).dtype)
    return _new(backend.xp.full(_shape((shape,), "full"), fill_value, dtype=dt), backend, requires_grad)


def zeros_like(t, dtype=None, device=None, requires_grad=False):
    return zeros(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False):
    return ones(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def arange(start, stop=None, step=1, dtype=None, device="cpu", requires_grad=False):
    """Evenly spaced values in [start, stop): int64 for integer arguments, float32 otherwise."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ArgumentError("arange: step must not be zero")
    if dtype is None:
        ints = all(isinstance(v, numbers.Integral) for v in (start, stop, step))
        dtype = np.int64 if ints else DEFAULT_FLOAT
    backend = get_backend(device)
    return _new(backend.xp.arange(start, stop, step, dtype=normalize_dtype(dtype)), backend, requires_grad)


def eye(n, m=None, dtype=None, device="cpu", requires_grad=False):
    """The identity matrix (n, m or n)."""
    _shape((n,) if m is None else (n, m), "eye")
    backend = get_backend(device)
    return _new(backend.xp.eye(n, m, dtype=_float_dtype(dtype)), backend, requires_grad)


def rand(*shape, dtype=None, device="cpu", requires_grad=False):
    """Uniform samples in [0, 1), drawn by the device's seeded generator (see `manual_seed`)."""
    backend = get_backend(device)
    return _new(backend.uniform(_shape(shape, "rand"), dtype=_float_dtype(dtype)), backend, requires_grad)


def randn(*shape, dtype=None, device="cpu", requires_grad=False):
    """Standard normal samples, drawn by the device's seeded generator (see `manual_seed`)."""
    backend = get_backend(device)
    return _new(backend.normal(_shape(shape, "randn"), dtype=_float_dtype(dtype)), backend, requires_grad)


def as_tensor(value, like):
    """`value` as a Tensor that can meet `like` in an operation.

    Tensors pass through. A Python number becomes a constant of the dtype NumPy gives `like op value`:
    Python scalars are weak (NEP 50), so `float32_tensor * 0.5` stays float32. NumPy scalars and
    arrays of `like`'s device are wrapped as they are.

    Constants from Python numbers are cached per (device, dtype, value) and read-only: `x * 0.5` in a
    loop makes one constant, not one per call (this is on every op's path with a number).
    """
    if isinstance(value, Tensor):
        return value
    backend = like._backend
    kind = type(value)
    if kind is float or kind is int or kind is bool:
        key = (backend, like.data.dtype, kind, value)
        cached = _constants.get(key) if value else None  # 0.0 and -0.0 compare equal: never cached
        if cached is not None:
            return cached
        array = backend.xp.asarray(value, dtype=np.result_type(like.data.dtype, value))
        t = Tensor._make(array, backend, False, None)
        if value and value == value:  # not zero, not NaN
            if len(_constants) >= _MAX_CONSTANTS:
                _constants.clear()
            if isinstance(array, np.ndarray):
                array.flags.writeable = False
            _constants[key] = t
        return t
    if isinstance(value, (bool, int, float)):  # subclasses of the Python number types
        array = backend.xp.asarray(value, dtype=np.result_type(like.data.dtype, value))
    elif isinstance(value, np.generic):
        array = backend.from_host(np.asarray(value))
    elif backend.is_array(value):
        array = value
    else:
        raise DTypeError(f"cannot combine a tensor on '{backend.device}' with a {type(value).__name__}; "
                         f"expected a Tensor, a number or a {backend.array_type.__name__}")
    return Tensor._make(array, backend, False, None)


_constants = {}
_MAX_CONSTANTS = 4096
