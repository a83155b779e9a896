"""The CPU backend: plain NumPy arrays."""

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from minidl.backend.base import Backend, _window_geometry
from minidl.backend.erf import erf_float32


class NumpyBackend(Backend):
    """CPU arrays through NumPy. Host copies are free: the arrays already live on the host.

    Creating it asks glibc's malloc to keep freed memory for reuse (see `keep_freed_memory`).
    """

    def __init__(self, seed=None):
        super().__init__(seed)
        if os.environ.get("MINIDL_KEEP_FREED_MEMORY", "1") != "0":
            keep_freed_memory()

    name = "numpy"
    device = "cpu"
    xp = np
    array_type = np.ndarray
    scalar_types = (np.generic,)
    # OpenBLAS multiplies x @ Wᵀ 7-24% faster when Wᵀ is C-contiguous (its plain "NN" case) than
    # through the transposed view of a row-major W; with dL/dW made in the same layout, a Linear's
    # three products take 4-11% less time (benchmarks/RESULTS.md, session 5).
    linear_weight_order = "F"

    def from_host(self, array):
        # Samples drawn on the host already are this device's arrays: no copy needed.
        return np.asarray(array)

    def to_host(self, array):
        return np.asarray(array)

    # -- threads ---------------------------------------------------------------------------------------
    # NumPy's copies, ufuncs and BLAS calls release the GIL, so independent blocks of work (chunks of a
    # batch) can run on all cores. A hand-off costs tens of microseconds, so only coarse blocks are
    # worth it: `parallel` splits single passes of at least PARALLEL_MIN_WORK elements, and
    # `parallel_blocks` runs whole chunks of a convolution (im2col, product, col2im) per thread.
    # Calls made inside a block run inline (no nesting).
    PARALLEL_MIN_WORK = 1 << 21
    _pool = None
    _pool_lock = threading.Lock()
    _inside = threading.local()

    def parallel(self, fn, n, work):
        if work < self.PARALLEL_MIN_WORK:
            fn(0, n)
        else:
            self._split(fn, n)

    def parallel_blocks(self, fn, n, work):
        if n < 2 or num_threads() < 2 or getattr(self._inside, "active", False):
            fn(0, n)
            return
        with _blas_single_thread():
            self._split(fn, n)

    def _split(self, fn, n):
        threads = num_threads()
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

    # NumPy reduces a short last axis one row at a time (~40 ns a row: 37 µs for the row maxima of a
    # (512, 10) array); over the first axis of a transposed copy the same reduction is C contiguous
    # passes (5 µs, the copy included). Rows of up to SHORT_AXIS elements, at least SHORT_AXIS_ROWS of them.
    SHORT_AXIS, SHORT_AXIS_ROWS = 32, 16

    def reduce(self, x, method, axes):
        last = x.ndim - 1
        if (axes == (last,) and last > 0 and x.shape[last] <= self.SHORT_AXIS
                and x.size >= self.SHORT_AXIS_ROWS * x.shape[last]):
            by_columns = np.ascontiguousarray(x.T)  # no copy when x is column-major
            return getattr(by_columns, method)(axis=0).T[..., None]
        return getattr(x, method)(axis=axes, keepdims=True)

    # -- in-place updates: BLAS level 1 ------------------------------------------------------------------
    # An optimizer step is a few passes over every parameter. NumPy needs two for p ← p - lr·v (lr·v into
    # a scratch array, then the subtraction); BLAS's axpy is one fused multiply-add pass. NumPy does not
    # expose it; SciPy (which scikit-learn brings) does. SGD with momentum, MLP 784-256-128-10: 220 -> 126
    # us a step's update (benchmarks/RESULTS.md, session 6).
    def axpy(self, alpha, x, y):
        # BLAS returns at once when alpha = 0; NumPy (and PyTorch) still add 0·x: NaN where x is NaN or inf
        routine = _level1_blas("axpy", x, y) if alpha != 0 else None
        if routine is None:
            y += alpha * x
        else:
            routine(x.ravel(order="K"), y.ravel(order="K"), a=alpha)

    def scale(self, alpha, x):
        routine = _level1_blas("scal", x, x) if alpha != 0 else None  # some BLAS builds zero-fill for 0
        if routine is None:
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



def num_threads():
    """Threads for minidl's own splitting of CPU work: `set_num_threads(n)`, else $MINIDL_NUM_THREADS,
    else 1 (off; BLAS still uses its own threads for matrix products).

    Off by default because it did not pay on the 2-core VM this was measured on: waking a pool thread
    took ~100-250 us there, more than a 1M-element pass takes on one core, and a LeNet-5 step at batch
    256 ran ~10% slower with 2 threads (benchmarks/RESULTS.md). Worth trying where threads wake fast.
    """
    if _num_threads is not None:
        return _num_threads
    value = os.environ.get("MINIDL_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else 1


def set_num_threads(n):
    """Use `n` threads (1: none) for minidl's large memory-bound CPU passes; None: back to the default."""
    global _num_threads
    _num_threads = None if n is None else max(1, int(n))


_kept = False


def keep_freed_memory():
    """Ask glibc's malloc to serve big arrays from its heap and keep freed memory for reuse.

    A training step allocates the same big temporaries every step (im2col columns of tens of MB).
    By default glibc returns such blocks to the OS when they are freed, and the next step pays a page
    fault per 4 KiB page touched again: ~4,500 faults, ~30% of a LeNet-5 step at batch 256. With these
    settings (mmap threshold 256 MiB, trim threshold 1 GiB, 64 MiB top pad) freed memory stays in the
    process, as PyTorch's caching allocators keep theirs; the resident size stays at its peak.
    Process-wide; a no-op off glibc. Set MINIDL_KEEP_FREED_MEMORY=0 before importing minidl to opt out.
    """
    global _kept
    if _kept:
        return
    _kept = True
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):  # not glibc (macOS, Windows, musl without mallopt)
        return
    M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
    mallopt(M_MMAP_THRESHOLD, 256 << 20)
    mallopt(M_TRIM_THRESHOLD, 1 << 30)
    mallopt(M_TOP_PAD, 64 << 20)
