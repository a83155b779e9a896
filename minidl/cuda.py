"""`mdl.cuda`: whether the GPU backend can be used."""

from minidl.backend import cuda_is_available


def is_available():
    """True when CuPy is installed and finds a working GPU."""
    return cuda_is_available()
