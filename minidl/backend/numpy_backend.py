"""The CPU backend: plain NumPy arrays."""

import numpy as np

from minidl.backend.base import Backend, _window_geometry


class NumpyBackend(Backend):
    """CPU arrays through NumPy. Host copies are free: the arrays already live on the host."""

    name = "numpy"
    device = "cpu"
    xp = np
    array_type = np.ndarray
    scalar_types = (np.generic,)

    def from_host(self, array):
        # Samples drawn on the host already are this device's arrays: no copy needed.
        return np.asarray(array)

    def to_host(self, array):
        return np.asarray(array)

    def sliding_windows(self, x, kernel_size, stride):
        shape, strides = _window_geometry(x, kernel_size, stride)
        return np.lib.stride_tricks.as_strided(x, shape=shape, strides=strides, writeable=False)
