"""Backends: one object per device, created on first use.

    get_backend("cpu")     -> NumPy
    get_backend("cuda")    -> CuPy (imported only now; a clear error when it is missing)
    get_backend("strict")  -> the CPU stand-in whose arrays refuse silent NumPy conversion (tests)
"""

import sys
import types
import warnings

from minidl.backend.base import Backend
from minidl.backend.cupy_backend import CupyBackend, cuda_is_available  # CuPy itself is imported on first use
from minidl.backend.numpy_backend import NumpyBackend
from minidl.backend.strict import StrictArray, StrictBackend
from minidl.errors import DeviceError

_FACTORIES = {"cpu": NumpyBackend, "cuda": None, "strict": StrictBackend}
_backends = {}
_seed = None


def _make_cupy_backend(seed):
    return CupyBackend(seed)


def normalize_device(device):
    """'cpu', 'cuda', 'cuda:0', 'strict' or a Backend -> the device name ('cpu', 'cuda', 'strict')."""
    if isinstance(device, Backend):
        return device.device
    if not isinstance(device, str):
        raise DeviceError(f"device must be a string such as 'cpu' or 'cuda', got {device!r}")
    name = device.split(":")[0].lower()
    if name not in _FACTORIES:
        raise DeviceError(f"unknown device {device!r}: expected one of 'cpu', 'cuda' (or 'strict' for tests)")
    return name


def get_backend(device="cpu"):
    """The Backend object of `device` (created once, on first use)."""
    if isinstance(device, Backend):
        return device
    name = normalize_device(device)
    backend = _backends.get(name)
    if backend is None:
        factory = _FACTORIES[name] or _make_cupy_backend
        backend = _backends[name] = factory(_seed)
    return backend


def backend_of_array(array):
    """The Backend whose arrays `array` belongs to (NumPy arrays and scalars: the CPU)."""
    if isinstance(array, StrictArray):
        return get_backend("strict")
    if type(array).__module__.startswith("cupy"):
        return get_backend("cuda")
    return get_backend("cpu")


def seed_all(seed):
    """Seed every backend's generator, now and for backends created later."""
    global _seed
    _seed = seed
    for backend in _backends.values():
        backend.seed(seed)


class _CallableBackendPackage(types.ModuleType):
    """This subpackage, callable: `mdl.backend(device)` (the name API.md lists) still returns
    `get_backend(device)`, with a DeprecationWarning. The function is `mdl.get_backend` now: bound as
    `mdl.backend` it shadowed this subpackage (`import minidl.backend.numpy_backend` then failed)."""

    def __call__(self, device="cpu"):
        warnings.warn("mdl.backend(device) is deprecated; use mdl.get_backend(device)", DeprecationWarning,
                      stacklevel=2)
        return get_backend(device)


sys.modules[__name__].__class__ = _CallableBackendPackage

__all__ = ["Backend", "backend_of_array", "NumpyBackend", "StrictBackend", "StrictArray", "get_backend", "normalize_device",
           "seed_all", "cuda_is_available"]
