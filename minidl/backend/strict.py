"""The strict stand-in device: CPU arrays that behave like CuPy's at the NumPy boundary.

CuPy arrays refuse silent conversion to NumPy (`np.asarray(gpu_array)` raises TypeError) and refuse
to be mixed with NumPy arrays in one operation. CI has no GPU, so code that leaks a device array into
NumPy would only fail on a GPU machine. The `"strict"` device makes such leaks fail on every CPU run:
its arrays wrap a NumPy array, compute through NumPy, and raise exactly where CuPy would.
"""

import operator
import types

import numpy as np

from minidl.backend.base import Backend, _window_geometry

_LEAK_MESSAGE = ("Implicit conversion of a 'strict' device array to a NumPy array is not allowed "
                 "(CuPy arrays refuse it the same way): use backend.to_host(array) or Tensor.numpy()")


class StrictArray:
    """A NumPy array that refuses implicit host conversion and mixing with NumPy arrays."""

    __slots__ = ("_a", "__weakref__")

    def __init__(self, array):
        self._a = array

    # -- the boundary that CuPy guards --------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError(_LEAK_MESSAGE)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out")
        result = getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs))
        if out is not None:  # keep the caller's own `out` objects
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types_, args, kwargs):
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))

    def get(self):
        """A host copy, as `cupy.ndarray.get()` returns."""
        return self._a.copy()

    # -- everything else behaves as the wrapped array ----------------------------------------------
    def __getattr__(self, name):
        if name.startswith("__"):  # NumPy's buffer protocols (__array_interface__, ...) would leak the data
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if callable(attr):
            return lambda *args, **kwargs: _wrap(attr(*_unwrap(args), **_unwrap(kwargs)))
        return _wrap(attr)

    def __getitem__(self, key):
        return _wrap(self._a[_unwrap(key)])

    def __setitem__(self, key, value):
        self._a[_unwrap(key)] = _unwrap(value)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (_wrap(row) for row in self._a)

    def __bool__(self):
        return bool(self._a)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __index__(self):
        return operator.index(self._a)

    def __repr__(self):
        return "strict_" + repr(self._a)

    __hash__ = None


def _binary(op):
    def method(self, other):
        return _wrap(op(self._a, _unwrap(other)))
    return method


def _reflected(op):
    def method(self, other):
        return _wrap(op(_unwrap(other), self._a))
    return method


def _inplace(op):
    def method(self, other):
        op(self._a, _unwrap(other))
        return self
    return method


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
              "lshift", "rshift"):
    _op = getattr(operator, _name + "_" if _name in ("and", "or") else _name)
    setattr(StrictArray, f"__{_name}__", _binary(_op))
    setattr(StrictArray, f"__r{_name}__", _reflected(_op))
    setattr(StrictArray, f"__i{_name}__", _inplace(getattr(operator, "i" + _name)))
for _name in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(StrictArray, f"__{_name}__", _binary(getattr(operator, _name)))
for _name in ("neg", "pos", "abs", "invert"):
    setattr(StrictArray, f"__{_name}__", (lambda op: lambda self: _wrap(op(self._a)))(getattr(operator, _name)))


def _unwrap(obj, host_ok=False):
    """Replace StrictArrays by their NumPy arrays inside args; refuse raw NumPy arrays (device mixing)."""
    if type(obj) is StrictArray:
        return obj._a
    if isinstance(obj, np.ndarray):
        if host_ok:
            return obj
        raise TypeError(f"a NumPy (host) array of shape {obj.shape} was mixed with 'strict' device arrays; "
                        "move it first with backend.asarray(array) (CuPy refuses this mix too)")
    if isinstance(obj, tuple):
        return tuple(_unwrap(item, host_ok) for item in obj)
    if isinstance(obj, list):
        return [_unwrap(item, host_ok) for item in obj]
    if isinstance(obj, dict):
        return {key: _unwrap(value, host_ok) for key, value in obj.items()}
    return obj


def _wrap(obj):
    """Wrap NumPy results as StrictArrays; NumPy scalars become 0-d arrays, as CuPy returns."""
    if isinstance(obj, np.ndarray):
        return StrictArray(obj)
    if isinstance(obj, np.generic):
        return StrictArray(np.asarray(obj))
    if isinstance(obj, tuple):
        return tuple(_wrap(item) for item in obj)
    if isinstance(obj, list):
        return [_wrap(item) for item in obj]
    return obj


class StrictNumpy:
    """An `xp` module for the strict device: NumPy's names, with StrictArrays in and out.

    Ufuncs, types and constants are NumPy's own (ufuncs dispatch through `__array_ufunc__`); other
    functions unwrap their arguments and wrap their results. Only the host-to-device constructors
    (`asarray`, `array`, ...) accept NumPy arrays, as CuPy's do.
    """

    _HOST_TO_DEVICE = {"asarray", "array", "asanyarray", "ascontiguousarray"}

    def __getattr__(self, name):
        obj = getattr(np, name)
        if isinstance(obj, (np.ufunc, type, types.ModuleType)) or not callable(obj):
            return obj
        host_ok = name in self._HOST_TO_DEVICE

        def strict_function(*args, **kwargs):
            return _wrap(obj(*_unwrap(args, host_ok), **_unwrap(kwargs, host_ok)))

        strict_function.__name__ = name
        setattr(self, name, strict_function)  # cache: the next lookup skips __getattr__
        return strict_function


class StrictBackend(Backend):
    """The CPU stand-in for a GPU device, used by the test suite to catch device leaks."""

    name = "strict"
    device = "strict"
    launch_bound = True  # take the GPU's code paths, so that CI runs them
    xp = StrictNumpy()
    array_type = StrictArray

    def from_host(self, array):
        return StrictArray(np.array(array, copy=True))

    def to_host(self, array):
        self.raise_pending_checks()
        if type(array) is StrictArray:
            return array._a.copy()
        raise TypeError(f"expected a 'strict' device array, got {type(array).__name__}")

    def asarray(self, data, dtype=None):
        if type(data) is StrictArray:
            return data if dtype is None else data.astype(dtype, copy=False)
        return StrictArray(np.array(data, dtype=dtype, copy=True))

    def sliding_windows(self, x, kernel_size, stride):
        if type(x) is not StrictArray:
            raise TypeError(f"sliding_windows: expected a 'strict' device array, got {type(x).__name__}")
        shape, strides = _window_geometry(x._a, kernel_size, stride)
        return StrictArray(np.lib.stride_tricks.as_strided(x._a, shape=shape, strides=strides, writeable=False))

    def strided_view(self, x, shape, strides, writeable=False):
        if type(x) is not StrictArray:
            raise TypeError(f"strided_view: expected a 'strict' device array, got {type(x).__name__}")
        return StrictArray(np.lib.stride_tricks.as_strided(x._a, shape=shape, strides=strides, writeable=writeable))
