"""The CPU backend: plain NumPy arrays."""

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from minidl.backend.base import Backend, _window_geometry
from minidl.backend.cpu_tuning import CpuTuning
from minidl.backend.erf import erf_float32


class NumpyBackend(Backend):
    """CPU arrays through NumPy. Host copies are free: the arrays already live on the host.

    `tuning` (a CpuTuning) holds every CPU speed setting: off for library use (no process-wide
    change), switched on by `minidl train`, `minidl bench` and the benchmarks (see cpu_tuning.py).
    """

    def __init__(self, seed=None):
        super().__init__(seed)
        self.tuning = CpuTuning()

    name = "numpy"
    device = "cpu"
    xp = np
    array_type = np.ndarray
    scalar_types = (np.generic,)

    def linear_weight_order(self, out_features, in_features):
        # OpenBLAS's three products of a Linear (x @ Wᵀ, dL/dy @ W, dL/dyᵀ @ x into W's order) take less
        # time with W column-major (Wᵀ C-contiguous, the plain "NN" product) when the layer narrows
        # (out <= in: the MLP's and LeNet-5's layers, 4-11% a step, session 5), and with W row-major
        # when it widens (GPT's (3C, C) and (4C, C) projections: 8-10% less for the three products,
        # session 8): benchmarks/RESULTS.md.
        return "F" if out_features <= in_features else "C"

    def from_host(self, array):
        # Samples drawn on the host already are this device's arrays: no copy needed.
        return np.asarray(array)

    def to_host(self, array):
        return np.asarray(array)

    # -- threads ---------------------------------------------------------------------------------------
    # NumPy's copies, ufuncs and BLAS calls release the GIL, so independent blocks of work (chunks of a
    # batch) can run on all cores, when `tuning.threads` > 1. A hand-off costs tens of microseconds, so
    # only coarse blocks are worth it: `parallel` splits single passes of at least
    # `tuning.parallel_min_work` elements, and `parallel_blocks` runs whole chunks of a convolution
    # (im2col, product, col2im) per thread. Calls made inside a block run inline (no nesting).
    _pool = None
    _pool_lock = threading.Lock()
    _inside = threading.local()

    def parallel(self, fn, n, work):
        if work < self.tuning.parallel_min_work:
            fn(0, n)
        else:
            self._split(fn, n)

    def parallel_blocks(self, fn, n, work):
        if n < 2 or self.tuning.threads < 2 or getattr(self._inside, "active", False):
            fn(0, n)
            return
        with _blas_single_thread():
            self._split(fn, n)

    def _split(self, fn, n):
        threads = self.tuning.threads
        if threads < 2 or n < 2 or getattr(self._inside, "active", False):
            fn(0, n)
            return
        pool = NumpyBackend._pool
        if pool is None:
            with self._pool_lock:
                pool = NumpyBackend._pool
                if pool is None:
                    pool = NumpyBackend._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="minidl")
        parts = min(threads, n)
        bounds = [n * k // parts for k in range(parts + 1)]
        futures = [pool.submit(self._inline, fn, bounds[k], bounds[k + 1]) for k in range(1, parts)]
        try:
            self._inline(fn, bounds[0], bounds[1])  # this thread does the first part
        finally:
            for future in futures:
                future.result()

    def _inline(self, fn, a, b):
        self._inside.active = True
        try:
            fn(a, b)
        finally:
            self._inside.active = False

    # -- in-place updates: BLAS level 1 ------------------------------------------------------------------
    # An optimizer step is a few passes over every parameter. NumPy needs two for p ← p - lr·v (lr·v into
    # a scratch array, then the subtraction); BLAS's axpy is one fused multiply-add pass. NumPy does not
    # expose it; SciPy (which scikit-learn brings) does. SGD with momentum, MLP 784-256-128-10: 220 -> 126
    # us a step's update (benchmarks/RESULTS.md, session 6).
    def axpy(self, alpha, x, y):
        # BLAS returns at once when alpha = 0; NumPy (and PyTorch) still add 0·x: NaN where x is NaN or inf
        routine = _level1_blas("axpy", x, y)
        if routine is None or _zero_in(y.dtype, alpha):
            y += alpha * x
        else:
            routine(x.ravel(order="K"), y.ravel(order="K"), a=alpha)

    def scale(self, alpha, x):
        routine = _level1_blas("scal", x, x)
        if routine is None or _zero_in(x.dtype, alpha):  # some BLAS builds zero-fill for 0
            x *= alpha
        else:
            routine(alpha, x.ravel(order="K"))

    def in_place_updates(self):
        # SciPy's BLAS is often a second OpenBLAS with threads of its own: left to use them, its idle
        # threads spin against NumPy's BLAS threads in the next matrix products (MLP steps 10x slower,
        # measured). One thread inside, as around `parallel_blocks`; the setting is put back after.
        return _blas_single_thread() if _scipy_blas() else contextlib.nullcontext()

    def erf(self, x):
        if x.dtype == np.float32:  # a rational approximation in cache-sized blocks: ~3x SciPy's speed
            return erf_float32(x, self.parallel)
        return super().erf(x)

    def sliding_windows(self, x, kernel_size, stride):
        shape, strides = _window_geometry(x, kernel_size, stride)
        return np.lib.stride_tricks.as_strided(x, shape=shape, strides=strides, writeable=False)

    def strided_view(self, x, shape, strides, writeable=False):
        return np.lib.stride_tricks.as_strided(x, shape=shape, strides=strides, writeable=writeable)


_num_threads = None
_blas = None
_level1 = None


def _zero_in(dtype, alpha):
    """alpha is 0 once BLAS takes it in `dtype`: 0, or a float64 too tiny for float32 (a 1e-309 lr, found by
    the slow fuzz). Compared, not cast, to stay clear of NumPy's overflow warning for a huge alpha."""
    return abs(alpha) <= _ROUNDS_TO_ZERO[dtype]


def _level1_blas(name, x, y):
    """SciPy's BLAS routine `name` ("axpy", "scal") for x and y, or None where NumPy must do it: other
    dtypes, empty arrays (or ones past BLAS's 32-bit sizes), or x and y not both contiguous in the same order (their memory order must match
    element for element, and y is written through a flat view of itself, never through a copy)."""
    prefix = _BLAS_PREFIX.get(y.dtype)
    if prefix is None or x.dtype != y.dtype or x.shape != y.shape or not 0 < y.size < 2 ** 31:  # 32-bit n
        return None
    fx, fy = x.flags, y.flags  # each `.flags` makes a new object: read once
    if not (fy.writeable and ((fx.c_contiguous and fy.c_contiguous) or (fx.f_contiguous and fy.f_contiguous))):
        return None
    blas = _scipy_blas()
    return getattr(blas, prefix + name) if blas else None


def _scipy_blas():
    """scipy.linalg.blas, imported at the first update (not with minidl: it takes ~150 ms), or False."""
    global _level1, _blas
    if _level1 is None:
        try:
            from scipy.linalg import blas
        except ImportError:
            blas = False
        _level1 = blas
        _blas = None  # SciPy may have loaded a BLAS library of its own: `_blas_single_thread` looks again
    return _level1


_BLAS_PREFIX = {np.dtype(np.float32): "s", np.dtype(np.float64): "d"}
_ROUNDS_TO_ZERO = {dtype: np.finfo(dtype).smallest_subnormal / 2 for dtype in _BLAS_PREFIX}  # and below: 0


class _blas_single_thread:
    """Context: OpenBLAS (or another BLAS threadpoolctl knows) on one thread, restored after. Used where
    BLAS threads would fight others for the cores: around `parallel_blocks` (our own threads run the
    blocks) and around an optimizer's axpy/scal calls (`in_place_updates`: SciPy's BLAS threads)."""

    def __enter__(self):
        global _blas
        if _blas is None:
            try:
                from threadpoolctl import ThreadpoolController
                _blas = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
            except Exception:  # threadpoolctl missing or unable to see the BLAS: leave BLAS alone
                _blas = []
        self.saved = [(c, c.num_threads) for c in _blas]
        for c, threads in self.saved:
            if threads != 1:
                c.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        for c, threads in self.saved:
            if threads != 1:
                c.set_num_threads(threads)
        return False


