"""The `Backend` interface: everything that differs between NumPy (CPU) and CuPy (GPU).

Code above the backend writes array code as `xp.<function>(...)` with `xp = backend.xp`, and moves
data to the host only through `backend.to_host`. A backend also owns the device's random generator.
"""

import contextlib

import numpy as np


class Backend:
    """One device's array module and the few kernels whose best form differs per device.

    Attributes:
        name:   short name used in messages ("numpy", "cupy", "strict").
        device: the device string tensors report (`"cpu"`, `"cuda"`, `"strict"`).
        xp:     the array module (`numpy`, `cupy`, or the strict stand-in).
        array_type: the class of this device's arrays.
    """

    name = "abstract"
    device = "none"
    xp = None
    array_type = type(None)
    scalar_types = ()  # scalar results this device's array module returns instead of 0-d arrays
    # True where every array call is a kernel launch whose fixed cost (~10-30 us of host time on a GPU)
    # outweighs the work of small arrays: ops then take their few-launch forms (whole-batch matrix
    # products, one scatter-add for col2im) instead of the cache-sized blocks and per-offset loops that
    # the CPU prefers. The strict stand-in says True too, so CI runs the GPU's code paths.
    launch_bound = False
    defers_checks = False  # True where reading a flag stalls the host (the GPU): see `check`
    has_elementwise_kernels = False  # True where `elementwise_kernel` compiles kernels (CuPy)

    def __init__(self, seed=None):
        self.seed(seed)
        self._pending_checks = []
        # index arrays that launch-bound fast paths reuse across steps (window positions for one
        # scatter-add col2im: ops/fast/scatter_col2im.py), most recently used last, at most 8
        self.index_cache = {}

    def linear_weight_order(self, out_features, in_features):
        """The memory order of a Linear weight W (out, in): "C" row-major, or "F" column-major (Wᵀ
        C-contiguous), whichever makes this device's three products of a Linear faster. Values never
        depend on it."""
        return "C"

    # -- data movement --------------------------------------------------------------------------
    def asarray(self, data, dtype=None):
        """Return `data` (host or device array, scalar, nested list) as an array on this device."""
        return self.xp.asarray(data, dtype=dtype)

    def from_host(self, array):
        """Copy a NumPy array onto this device."""
        return self.xp.array(array, copy=True)

    def to_host(self, array):
        """Return a NumPy array with the contents of `array` (no copy when it already is one)."""
        raise NotImplementedError

    def is_array(self, obj):
        """True when `obj` is an array of this device."""
        return isinstance(obj, self.array_type)

    def synchronize(self):
        """Wait until the device has finished all queued work (a no-op on the CPU)."""

    # -- checks on the data ---------------------------------------------------------------------------
    def check(self, failed, error):
        """Raise `error()` if the 0-d boolean array `failed` is True (an argument check that reads the
        data, such as class indices in range). At once here. Reading a flag on the GPU would stall the
        host until all queued work is done, so where `defers_checks` the check waits for the host's next
        read of device data (`to_host`, `Tensor.item`), as PyTorch's CUDA asserts do: a training step
        queues its work without a synchronisation."""
        if not self.defers_checks:
            if bool(failed):
                raise error()
            return
        self._pending_checks.append((failed, error))
        if len(self._pending_checks) >= 64:  # never more than a few steps late
            self.raise_pending_checks()

    def raise_pending_checks(self):
        """Raise the error of the first deferred check that failed (see `check`); forget them all."""
        pending, self._pending_checks = self._pending_checks, []
        for failed, error in pending:
            if bool(failed):
                raise error()

    # -- random numbers ---------------------------------------------------------------------------
    def seed(self, seed):
        """Re-seed this device's random generator."""
        self.rng = np.random.default_rng(seed)

    def uniform(self, shape, low=0.0, high=1.0, dtype=np.float32):
        """Samples from U[low, high) of the given shape and floating dtype, on this device."""
        sample = self.rng.random(shape, dtype=_sampling_dtype(dtype))
        if low != 0.0 or high != 1.0:
            sample = sample * (high - low) + low
        return self.from_host(sample.astype(dtype, copy=False))

    def normal(self, shape, mean=0.0, std=1.0, dtype=np.float32):
        """Samples from N(mean, std²) of the given shape and floating dtype, on this device."""
        sample = self.rng.standard_normal(shape, dtype=_sampling_dtype(dtype))
        if std != 1.0 or mean != 0.0:
            sample = sample * std + mean
        return self.from_host(sample.astype(dtype, copy=False))

    def bernoulli(self, shape, p_keep):
        """Boolean mask of the given shape: True with probability `p_keep`, on this device."""
        return self.from_host(self.rng.random(shape, dtype=np.float32) < p_keep)

    def permutation(self, n):
        """A random permutation of range(n) as a host (NumPy) int64 array: used to shuffle indices."""
        return self.rng.permutation(n)

    # -- kernels that differ per device ------------------------------------------------------------
    def scatter_add(self, target, index, values):
        """target[index] += values, adding repeated indices once per occurrence (in place)."""
        self.xp.add.at(target, index, values)

    def erf(self, x):
        """The error function erf(x) = 2/√π ∫₀ˣ exp(-t²) dt, elementwise, in x's dtype (exact GELU needs it).
        NumPy has none: SciPy's ufunc (SciPy comes with scikit-learn, a runtime dependency), which the
        strict stand-in's arrays also accept through `__array_ufunc__`. It costs ~25 elementwise passes
        per element (scalar code, no SIMD), so large arrays are split over `parallel`'s threads."""
        from scipy.special import erf

        if x.dtype.kind != "f":
            return erf(x)
        out = self.xp.empty(x.shape, dtype=x.dtype)  # C-contiguous: its flat view writes into it
        flat_x, flat_out = x.reshape(-1), out.reshape(-1)
        self.parallel(lambda start, stop: erf(flat_x[start:stop], out=flat_out[start:stop]), x.size, 25 * x.size)
        return out

    def sliding_windows(self, x, kernel_size, stride):
        """A read-only view of the kh×kw windows over the last two axes of `x`, no copy.

        x: (..., H, W) -> (..., kh, kw, Ho, Wo) with Ho = (H - kh) // sh + 1 (Wo alike), where
        view[..., i, j, r, c] = x[..., r*sh + i, c*sw + j]. Window offsets come before the output
        positions so that `view[..., i, j, :, :]` (one offset, all windows) is a plain strided slice.
        """
        shape, strides = _window_geometry(x, kernel_size, stride)
        return self.xp.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)

    def axpy(self, alpha, x, y):
        """y ← alpha·x + y, in place (BLAS's axpy; alpha a Python number). x and y: the same shape."""
        y += alpha * x

    def scale(self, alpha, x):
        """x ← alpha·x, in place (BLAS's scal)."""
        x *= alpha

    def in_place_updates(self):
        """The context `Optimizer.step` runs its updates in (their `axpy`/`scale` calls); nothing here."""
        return contextlib.nullcontext()

    def elementwise_kernel(self, name, in_params, out_params, operation):
        """A compiled elementwise kernel (CuPy's ElementwiseKernel: C `operation` over every element,
        outputs written in place) where the device has them (`has_elementwise_kernels`); None here.
        One launch instead of one per array operation. The kernels' sources: backend/cuda_kernels.py."""
        return None

    def parallel(self, fn, n, work):
        """Run fn(start, stop) over [0, n): at once here; split across threads by backends whose array
        calls release the GIL (NumPy). `work` is the number of elements the whole pass touches: only
        large passes are worth a thread hand-off."""
        fn(0, n)

    def parallel_blocks(self, fn, n, work):
        """Like `parallel`, for blocks that run matrix products themselves: the NumPy backend runs the
        blocks on its threads and keeps BLAS to one thread meanwhile."""
        fn(0, n)

    def strided_view(self, x, shape, strides, writeable=False):
        """A view of the C-contiguous array `x` with the given shape and byte strides (no copy, no
        bounds check: the caller keeps every index inside `x`). Read-only unless `writeable`."""
        return self.xp.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)

    def __repr__(self):
        return f"<minidl backend {self.name!r} device={self.device!r}>"


def _sampling_dtype(dtype):
    """NumPy's generator samples float32 or float64 only: float64 unless float32 was asked for."""
    return np.float32 if np.dtype(dtype) == np.float32 else np.float64


def _window_geometry(x, kernel_size, stride):
    """Shape and byte strides of the (..., kh, kw, Ho, Wo) window view of `x` (see sliding_windows)."""
    (kh, kw), (sh, sw) = kernel_size, stride
    *lead, h, w = x.shape
    if h < kh or w < kw:
        raise ValueError(f"sliding_windows: a {kh}x{kw} window does not fit in a {h}x{w} array")
    *lead_strides, s_h, s_w = x.strides
    shape = (*lead, kh, kw, (h - kh) // sh + 1, (w - kw) // sw + 1)
    strides = (*lead_strides, s_h, s_w, s_h * sh, s_w * sw)
    return shape, strides
