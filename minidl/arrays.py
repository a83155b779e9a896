"""From data to a backend array: minidl's default dtypes and moves between devices.

The layer between the backends and Tensor: `Tensor(data)` and `mdl.tensor(data)` both come here.
Default dtypes follow PyTorch: Python floats become float32, Python ints int64, bools stay bool;
NumPy (and CuPy) arrays keep their dtype.
"""

import numpy as np

from minidl.backend import StrictArray, backend_of_array, get_backend
from minidl.errors import DTypeError

DEFAULT_FLOAT = np.dtype(np.float32)


def normalize_dtype(dtype):
    """A NumPy dtype from `mdl.float32`, 'float64', np.dtype(...); only bool, integer and float kinds."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise DTypeError(f"not a data type: {dtype!r} (use mdl.float32, mdl.float64, 'int64', ...)") from exc
    if dt.kind not in "biuf":
        raise DTypeError(f"unsupported dtype {dt}: minidl tensors hold bool, integer or floating-point numbers")
    return dt


def to_array(data, device=None, dtype=None, copy=True):
    """(backend, array) for `data` on `device`, following minidl's default dtypes.

    `data`: a number, a nested list, or an array of any device (a Tensor's caller passes `t.data`).
    `device=None` keeps the device of an existing array (CPU for host data).
    """
    source = _device_of_array(data)
    backend = get_backend(device if device is not None else (source or "cpu"))
    dt = None if dtype is None else normalize_dtype(dtype)
    if source is not None:  # an array of some device: keep its dtype unless told otherwise
        _check_numeric(data.dtype)
        if source != backend.device:
            data = backend.from_host(get_backend(source).to_host(data))
            copy = False
        array = data.astype(dt, copy=copy) if dt is not None else (data.copy() if copy else data)
        return backend, array
    host = _host_array(data)
    if dt is None:
        dt = default_dtype(host.dtype)
    return backend, backend.from_host(host.astype(dt, copy=False))


def _device_of_array(data):
    """The device name of an array from any backend, or None for host data that is not an array."""
    if isinstance(data, np.ndarray) or isinstance(data, StrictArray) or type(data).__module__.startswith("cupy"):
        return backend_of_array(data).device
    return None


def _host_array(data):
    """NumPy array from Python data (scalars, nested lists), with a clear error for non-numbers."""
    if isinstance(data, (str, bytes)):
        raise DTypeError(f"cannot make a tensor from the string {data!r}: expected numbers")
    try:
        host = np.asarray(data)
    except ValueError as exc:
        raise DTypeError(f"cannot make a tensor from this data: {exc}") from exc
    _check_numeric(host.dtype, data)
    return host


def _check_numeric(dt, data=None):
    if dt.kind not in "biuf":
        what = f" from {type(data).__name__} data" if data is not None else ""
        raise DTypeError(f"cannot make a tensor{what} of dtype {dt}: expected numbers (bool, int or float)")


def default_dtype(host_dtype):
    """Python floats -> float32, ints -> int64, bools -> bool (PyTorch's defaults)."""
    if host_dtype.kind == "f":
        return DEFAULT_FLOAT
    if host_dtype.kind in "iu":
        return np.dtype(np.int64)
    return host_dtype
