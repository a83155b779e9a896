"""minidl's exceptions: one base class, each also a matching built-in exception.

`except ValueError` catches a `ShapeError`, `except TypeError` a `DTypeError` or a `DeviceError`,
and `except minidl.MinidlError` catches every error that minidl raises on purpose.
"""


class MinidlError(Exception):
    """Base class of every error minidl raises on purpose."""


class ShapeError(MinidlError, ValueError):
    """An array or tensor has the wrong shape for the operation or layer."""


class DTypeError(MinidlError, TypeError):
    """An array or tensor has the wrong data type (for example an integer tensor asked for gradients)."""


class DeviceError(MinidlError, TypeError):
    """Operands live on different devices, or a device is not available."""


class GraphError(MinidlError, RuntimeError):
    """The autograd graph cannot be used as asked (freed graph, missing gradient, bad backward)."""


class GradcheckError(MinidlError, AssertionError):
    """Analytic and numerical gradients disagree: raised by `minidl.gradcheck`."""


class SerializationError(MinidlError, ValueError):
    """A saved file is missing, truncated, corrupted, of another format or of an unknown version."""


class AnomalyError(MinidlError, FloatingPointError):
    """Inside `detect_anomaly()`: an op produced a NaN or an Inf (forward output or backward gradient)."""
