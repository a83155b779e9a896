"""The GPU backend: CuPy arrays. The only module of minidl that imports CuPy, and only on demand."""

import numpy as np

from minidl.backend.base import Backend, _window_geometry
from minidl.errors import DeviceError

_INSTALL_HINT = ("install it with `pip install minidl[gpu]` (CuPy for your CUDA version), "
                 "or use device=\"cpu\"")


def import_cupy():
    """Import CuPy or raise a DeviceError that says how to get it."""
    try:
        import cupy
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise DeviceError(f"device 'cuda' needs the CuPy package, which is not installed: {_INSTALL_HINT}") from exc
    return cupy


def cuda_is_available():
    """True when CuPy imports and sees at least one working GPU."""
    try:
        cupy = import_cupy()
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # any failure (no driver, no device, no CuPy) means: not available
        return False


class CupyBackend(Backend):
    """GPU arrays through CuPy; random numbers are drawn on the device."""

    name = "cupy"
    device = "cuda"
    launch_bound = True
    defers_checks = True

    def __init__(self, seed=None):
        cupy = import_cupy()
        if not cuda_is_available():
            raise DeviceError(f"device 'cuda' was asked for, but CuPy finds no working GPU: {_INSTALL_HINT}")
        import cupyx

        self.xp = cupy
        self.array_type = cupy.ndarray
        self._cupyx = cupyx
        self._kernels = {}
        super().__init__(seed)

    def from_host(self, array):
        # row-major on the GPU whatever the host's order (a CPU Linear weight is column-major: see
        # Backend.linear_weight_order); CuPy's matmul copies operands to row-major anyway
        return self.xp.asarray(array, order="C")

    def to_host(self, array):
        self.raise_pending_checks()
        return self.xp.asnumpy(array)

    def synchronize(self):
        self.xp.cuda.Device().synchronize()

    def seed(self, seed):
        self.rng = self.xp.random.RandomState(seed)

    def uniform(self, shape, low=0.0, high=1.0, dtype=np.float32):
        return self.rng.uniform(low, high, size=shape).astype(dtype, copy=False)

    def normal(self, shape, mean=0.0, std=1.0, dtype=np.float32):
        return self.rng.normal(mean, std, size=shape).astype(dtype, copy=False)

    def bernoulli(self, shape, p_keep):
        return self.rng.random_sample(shape, dtype=np.float32) < p_keep

    def permutation(self, n):
        return self.to_host(self.rng.permutation(n))

    def scatter_add(self, target, index, values):
        add_at = getattr(self.xp.add, "at", None)  # CuPy >= 13; cupyx.scatter_add before
        if add_at is not None:
            add_at(target, index, values)
        else:
            self._cupyx.scatter_add(target, index, values)

    def erf(self, x):
        import cupyx.scipy.special

        return cupyx.scipy.special.erf(x)

    def elementwise_kernel(self, name, in_params, out_params, operation):
        key = (name, in_params, out_params, operation)
        kernel = self._kernels.get(key)
        if kernel is None:
            kernel = self._kernels[key] = self.xp.ElementwiseKernel(in_params, out_params, operation, name)
        return kernel

    def sliding_windows(self, x, kernel_size, stride):
        shape, strides = _window_geometry(x, kernel_size, stride)
        return self.xp.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)
