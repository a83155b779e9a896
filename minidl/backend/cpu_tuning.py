"""CpuTuning: every CPU speed setting of minidl in one object, `mdl.get_backend("cpu").tuning`.

Off for library use: importing minidl or creating tensors changes no allocator, thread-pool or
floating-point setting of the process. `minidl train`, `minidl bench` and the scripts in benchmarks/
switch it on; a user does it in one line:

    mdl.get_backend("cpu").tuning.enable()          # keep freed memory, threads from $MINIDL_NUM_THREADS

The block sizes below are plain values that only the CPU fast paths (minidl/ops/fast/) read: they
change speed, never results, and tests set them on this object (never by patching a class).
"""

import ctypes
import ctypes.util
import os
from dataclasses import dataclass


@dataclass
class CpuTuning:
    """CPU speed settings (one per process, on the CPU backend).

    keep_freed_memory: glibc's malloc keeps freed memory for reuse (`retain_freed_memory`); set by
        `enable()`. Process-wide and not undone (glibc has no way back): library use leaves it off.
    threads: threads for minidl's own splitting of large CPU passes and convolution chunks (1: none;
        BLAS keeps its own threads for matrix products). Off by default: on the 2-core VM this was
        measured on, waking a pool thread (~100-250 us) cost more than it saved (benchmarks/RESULTS.md).
    parallel_min_work: the fewest elements a single pass must touch to be split across threads.
    chunk_bytes: bytes of im2col columns the row-blocked convolution (Conv2dRowBlocked) builds at a
        time: they stay in cache.
    block_rows: output rows per column of the row-blocked convolution; None: chosen from the shapes.
    short_axis, short_axis_rows: softmax, log_softmax and logsumexp over a last axis of at most
        `short_axis` elements, with at least `short_axis_rows` rows, reduce a transposed copy (fast/short_axis.py).
    """

    keep_freed_memory: bool = False
    threads: int = 1
    parallel_min_work: int = 1 << 21
    chunk_bytes: int = 2 << 20
    block_rows: int = None
    short_axis: int = 32
    short_axis_rows: int = 16

    def enable(self, threads=None):
        """Switch the process-wide settings on, as `minidl train`/`minidl bench` do: keep freed memory
        (mallopt) and `threads` (default $MINIDL_NUM_THREADS, else 1). Returns self."""
        if threads is None:
            value = os.environ.get("MINIDL_NUM_THREADS", "")
            threads = int(value) if value.isdigit() and int(value) > 0 else self.threads
        self.threads = max(1, int(threads))
        if not self.keep_freed_memory:
            self.keep_freed_memory = retain_freed_memory()
        return self


def retain_freed_memory():
    """Ask glibc's malloc to serve big arrays from its heap and keep freed memory for reuse; True when
    it did (False off glibc: macOS, Windows, musl without mallopt).

    A training step allocates the same big temporaries every step (im2col columns of tens of MB).
    By default glibc returns such blocks to the OS when they are freed, and the next step pays a page
    fault per 4 KiB page touched again: ~4,500 faults, ~30% of a LeNet-5 step at batch 256. With these
    settings (mmap threshold 256 MiB, trim threshold 1 GiB, 64 MiB top pad) freed memory stays in the
    process, as PyTorch's caching allocators keep theirs; the resident size stays at its peak.
    Process-wide: called only through `CpuTuning.enable()`.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
    mallopt(M_MMAP_THRESHOLD, 256 << 20)
    mallopt(M_TRIM_THRESHOLD, 1 << 30)
    mallopt(M_TOP_PAD, 64 << 20)
    return True
