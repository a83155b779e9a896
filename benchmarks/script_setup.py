"""What every benchmark script does before it imports NumPy: fix the BLAS and OpenMP thread counts (read
once, when NumPy and PyTorch load their libraries) and put this repository first on sys.path, so that a
script measures the minidl of its own tree."""

import os
import sys
from pathlib import Path


def use_threads(threads):
    """BLAS/OpenMP threads for NumPy, SciPy and PyTorch alike; call before importing any of them."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
