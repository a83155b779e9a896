"""What may stand in for a Tensor argument: the one rule, for every op and function.

A NumPy array or scalar, a Python number, or an array of the device (CuPy's) is a constant (no gradient) on
the device of the Tensor arguments, sharing the array's memory, as in `ndarray + tensor`; anything else (a
list, a string, None where a Tensor is required) is an ArgumentTypeError naming the function and the argument.

`Function.__call__` applies it when an input is no Tensor (at no cost otherwise); functions that look at an
argument (its shape, its dtype) before they call a Function apply it first, with `tensor_argument` (or
`tensor_list_argument` for a list of Tensors, as concatenate's), so that None or a list never reaches `x.ndim`.
"""

import numpy as np

from minidl import autograd
from minidl.creation import as_tensor
from minidl.errors import ArgumentTypeError, DTypeError, GraphError
from minidl.tensor import Tensor


def as_tensor_arguments(op, names, values, required=()):
    """`values` (the arguments `names` of function `op`) as Tensors; None stays None (an optional argument),
    except for the arguments named in `required` (an ArgumentTypeError)."""
    like = next((x for x in values if isinstance(x, Tensor)), None)
    converted = []
    for name, x in zip(names, values):
        if x is None and name in required:
            raise ArgumentTypeError(f"{op}: argument {name!r} is None; expected a Tensor")
        if x is None or isinstance(x, Tensor):
            converted.append(x)
        elif like is not None and (like._backend.is_array(x) or isinstance(x, (np.generic, int, float))):
            converted.append(as_tensor(x, like))
        elif isinstance(x, (np.ndarray, np.generic, int, float)):
            converted.append(Tensor(x))
        else:
            raise ArgumentTypeError(f"{op}: argument {name!r} is a {type(x).__name__}; expected a Tensor (or a "
                                    f"NumPy array, taken as a constant)")
    return converted


def tensor_argument(op, name, value):
    """One required argument `name` of `op` as a Tensor (a Tensor passes straight through; None is an error)."""
    return value if isinstance(value, Tensor) else as_tensor_arguments(op, (name,), (value,), required=(name,))[0]


def tensor_list_argument(op, name, values):
    """A required sequence of Tensors `name` of `op`, as concatenate's, as a list: each element by the one rule."""
    if values is None or isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ArgumentTypeError(f"{op}: argument {name!r} is a {type(values).__name__}; expected a list of "
                                f"Tensors")
    values = list(values)
    names = [f"{name}[{k}]" for k in range(len(values))]
    return as_tensor_arguments(op, names, values, required=names)


def function_inputs(fn, op, inputs):
    """The inputs of Function `fn` (called `op`) as Tensors; a Function's inputs are never optional."""
    if all(isinstance(x, Tensor) for x in inputs):
        raise GraphError(f"{fn.name}: an input Tensor lacks its attributes")  # a broken subclass, not user input
    names = _argument_names(fn, len(inputs))
    return as_tensor_arguments(op, names, inputs, required=names)


def _argument_names(fn, count):
    """Names of fn.forward's positional arguments, for messages (`x`, `w`): 'number k' past them."""
    code = type(fn).forward.__code__
    names = list(code.co_varnames[1:code.co_argcount])
    return [names[k] if k < len(names) else f"number {k + 1}" for k in range(count)]



# -- the sequence-model ops (trigonometry, prod, GELU, LayerNorm, embedding, attention) take Tensors only --------
def exact_tensor_argument(op, name, x):
    """`x` itself when it is a Tensor; an ArgumentTypeError naming `op` and `name` otherwise (a NumPy array
    has no graph to record a gradient in: wrap it with mdl.tensor first)."""
    if not isinstance(x, Tensor):
        kind = type(x).__name__ if type(x).__module__ == "builtins" else f"{type(x).__module__}.{type(x).__name__}"
        raise ArgumentTypeError(f"{op}: expected {name} as a Tensor, got {kind}; wrap it with mdl.tensor(...)")
    return x


def float_tensor_argument(op, name, x):
    """`x` as `exact_tensor_argument`, and of a floating dtype (the op's formula is defined on real numbers)."""
    x = exact_tensor_argument(op, name, x)
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: {name} must be floating point, got {x.dtype}; convert it first, "
                         f"e.g. x.astype(mdl.float32)")
    return x

autograd._function_inputs = function_inputs  # the engine's rule for non-Tensor inputs (see autograd.py)
