"""Eager checks of layer-constructor arguments, so that a bad size fails where the layer is built.

    size("Linear", "in_features", 3.5)          -> ArgumentTypeError "Linear: in_features must be an int ..."
    size_pair("Conv2d", "stride", 0)            -> ArgumentError "Conv2d: stride must be >= 1, got 0"
    size_pair("Conv2d", "kernel_size", (3, 5))  -> (3, 5)

Sizes are ints (also NumPy ints), never bools or floats: Linear(3.5, 2) would otherwise quietly
become Linear(3, 2).
"""

import numbers

from minidl.errors import ArgumentError, ArgumentTypeError


def size(owner, name, value, minimum=1):
    """`value` as a Python int >= minimum; else an error naming the layer `owner` and the argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"{owner}: {name} must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ArgumentError(f"{owner}: {name} must be an int >= {minimum}, got {value}")
    return int(value)


def size_pair(owner, name, value, minimum=1):
    """3 -> (3, 3); (3, 5) -> (3, 5): an int or a pair of ints, each >= minimum (for kernels, strides, padding)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ArgumentError(f"{owner}: {name} must be an int or a pair (height, width), got {value!r}")
        return tuple(size(owner, f"{name}[{i}]", v, minimum) for i, v in enumerate(value))
    return (size(owner, name, value, minimum),) * 2
