"""minidl's exceptions: one base class, each also a matching built-in exception.

`except ValueError` catches a `ShapeError`, `except TypeError` a `DTypeError` or a `DeviceError`,
and `except minidl.MinidlError` catches every error that minidl raises on purpose.

Which one to raise at a public entry point (the message names the function or layer, what was
expected and what came):
    ShapeError      wrong shape, size or number of dimensions (also axes out of range, empty inputs
                    a reduction cannot handle, indices out of bounds)
    IndexOutOfRangeError  an index that does not fit the tensor (a ShapeError that is also an IndexError,
                    as NumPy's: `for row in t` and `list(t)` stop on it)
    DTypeError      wrong data type (an integer tensor asked for gradients, a string where numbers go)
    DeviceError     operands on different devices, or an unknown/unavailable device
    ArgumentError   an argument of the right type with a value outside its allowed range
                    (a negative batch size, a learning rate of -1, a class index >= C, p = 1.5)
    ArgumentTypeError  an argument of the wrong kind altogether (None where a model goes, a
                    non-callable transform, a float where an axis goes)
"""


class MinidlError(Exception):
    """Base class of every error minidl raises on purpose."""


class ShapeError(MinidlError, ValueError):
    """An array or tensor has the wrong shape for the operation or layer."""


class IndexOutOfRangeError(ShapeError, IndexError):
    """An index does not fit the tensor (out of range, too many indices): `except IndexError` catches it."""


class DTypeError(MinidlError, TypeError):
    """An array or tensor has the wrong data type (for example an integer tensor asked for gradients)."""


class DeviceError(MinidlError, TypeError):
    """Operands live on different devices, or a device is not available."""


class ArgumentError(MinidlError, ValueError):
    """An argument has a value outside its allowed range (a negative size, lr < 0, p > 1, an unknown name)."""


class ArgumentTypeError(MinidlError, TypeError):
    """An argument is of the wrong kind altogether (None for a model, a non-callable transform, ...)."""


class GraphError(MinidlError, RuntimeError):
    """The autograd graph cannot be used as asked (freed graph, missing gradient, bad backward)."""


class GradcheckError(MinidlError, AssertionError):
    """Analytic and numerical gradients disagree: raised by `minidl.gradcheck`."""


class SerializationError(MinidlError, ValueError):
    """A saved file is missing, truncated, corrupted, of another format or of an unknown version."""


class AnomalyError(MinidlError, FloatingPointError):
    """Inside `detect_anomaly()`: an op produced a NaN or an Inf (forward output or backward gradient)."""
