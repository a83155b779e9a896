"""The errors `minidl.data` raises about data files: each says which file and what to do.

`except FileNotFoundError` catches a missing dataset, `except ValueError` a corrupted one, and
`except minidl.MinidlError` both.
"""

from minidl.errors import MinidlError


class DataError(MinidlError):
    """Base class of the data-file errors."""


class DatasetNotFoundError(DataError, FileNotFoundError):
    """A dataset file is missing and could not be downloaded (no network, download=False, ...)."""


class ChecksumError(DataError, ValueError):
    """A file's SHA-256 digest (or size) is not the published one: corrupted, truncated or a different file."""


class IDXError(DataError, ValueError):
    """A file is not a valid (gzipped) IDX file: bad gzip stream, wrong magic number or wrong size."""
