"""Flushing subnormal floats to zero on the CPU (PyTorch's `torch.set_flush_denormal`).

Arithmetic on subnormal numbers (|x| < 1.18e-38 in float32, 2.2e-308 in float64) takes tens of times
longer than on normal ones on x86 CPUs. Training makes them: a unit whose gradient stays exactly zero
(a dead ReLU) has its SGD momentum multiplied by 0.9 every step, and after ~800 steps the buffer is
subnormal; the MLP update then took 2.1 ms instead of 0.23 (benchmarks/RESULTS.md). The SSE control
register (MXCSR) has two bits that make the CPU treat them as zero: FTZ (subnormal results become 0)
and DAZ (subnormal inputs read as 0). NumPy does not expose them; glibc's fegetenv/fesetenv do.

The setting belongs to the calling thread, as PyTorch's does (threads it starts later inherit it):
it covers the NumPy passes and the optimizer's BLAS level-1 calls made there, not the worker threads
BLAS or minidl started before.
"""

import ctypes
import ctypes.util
import platform
import sys

_FTZ, _DAZ = 1 << 15, 1 << 6
# glibc's fenv_t on x86-64: the 28-byte x87 environment, then the 4-byte MXCSR
_FENV_BYTES, _MXCSR_AT = 32, 28


def set_flush_denormal(mode):
    """Treat subnormal floats as zero in this thread's CPU arithmetic (mode True), or not (False).

    Returns True where that is supported (x86-64 Linux with glibc), False elsewhere, where nothing
    changes. Off by default: values below the normal range lose their last bits of precision (e.g.
    np.float32(1e-39) * 1 gives 0.0), as PyTorch's switch does.
    """
    libm = _libm()
    if libm is None:
        return False
    env = ctypes.create_string_buffer(_FENV_BYTES)
    if libm.fegetenv(env) != 0:
        return False
    mxcsr = _mxcsr(env)
    mxcsr = mxcsr | _FTZ | _DAZ if mode else mxcsr & ~(_FTZ | _DAZ)
    ctypes.memmove(ctypes.addressof(env) + _MXCSR_AT, mxcsr.to_bytes(4, "little"), 4)
    if libm.fesetenv(env) != 0 or libm.fegetenv(env) != 0:
        return False
    return (_mxcsr(env) & (_FTZ | _DAZ)) == (_FTZ | _DAZ if mode else 0)  # read back: it took


def _mxcsr(env):
    return int.from_bytes(env.raw[_MXCSR_AT:_MXCSR_AT + 4], "little")


def _libm():
    if not (sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")):
        return None
    try:
        libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        libm.fegetenv, libm.fesetenv  # noqa: B018  (AttributeError where the C library lacks them)
    except (OSError, AttributeError):
        return None
    return libm
