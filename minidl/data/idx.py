"""A reader for the IDX format of MNIST and Fashion-MNIST, gzipped as published.

Layout (all big-endian):
    magic   4 bytes: 0, 0, type code (0x08 = uint8), number of dimensions d
            (so images, d = 3, read as the integer 2051; labels, d = 1, read as 2049)
    sizes   d unsigned 32-bit integers, e.g. (60000, 28, 28)
    data    the product of the sizes, in bytes for uint8, row-major
"""

import gzip
import struct
import zlib

import numpy as np

from minidl.data.errors import IDXError

IMAGES_MAGIC = 2051  # uint8, 3 dimensions: (count, rows, columns)
LABELS_MAGIC = 2049  # uint8, 1 dimension: (count,)

_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
          0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path, expected_magic=None):
    """The array stored in the gzipped IDX file at `path` (uint8 images: (N, 28, 28); labels: (N,)).

    Raises IDXError, naming the file, when it is not gzip, is truncated, has another magic number
    than `expected_magic`, or holds more or less data than its header says.
    """
    raw = _gunzip(path)
    if len(raw) < 4:
        raise IDXError(f"{path}: only {len(raw)} bytes after decompression, too short for an IDX header")
    zero, type_code, ndim = struct.unpack(">HBB", raw[:4])
    magic = struct.unpack(">I", raw[:4])[0]
    if zero != 0 or type_code not in _TYPES:
        raise IDXError(f"{path}: not an IDX file (magic number {magic}, expected {expected_magic or '2051 or 2049'})")
    if expected_magic is not None and magic != expected_magic:
        raise IDXError(f"{path}: IDX magic number {magic}, expected {expected_magic} "
                       f"({_describe(expected_magic)}); is this the right file?")
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise IDXError(f"{path}: the header is cut short ({len(raw)} of {header_size} bytes)")
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])
    dtype = np.dtype(_TYPES[type_code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header_size
    if found != expected:
        raise IDXError(f"{path}: the header announces shape {shape} ({expected} bytes of data), but the file holds "
                       f"{found} bytes; the file is truncated or damaged: replace it")
    return np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path, array):
    """Write a uint8 array as a gzipped IDX file (for tests and for making small data sets)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def _gunzip(path):
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError; a cut stream is an EOFError
        raise IDXError(f"{path}: cannot decompress ({exc}); the file is not gzip or is truncated: "
                       "delete it and download it again") from exc


def _describe(magic):
    return {IMAGES_MAGIC: "an images file", LABELS_MAGIC: "a labels file"}.get(magic, "another IDX file")
