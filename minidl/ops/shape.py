"""Shape operations: reshape (and flatten, expand_dims, squeeze), transpose, concatenate, stack, pad,
indexing, dtype casts and device moves. Their backward moves gradients, it never computes."""

import numbers

from minidl.arrays import normalize_dtype
from minidl.arguments import tensor_argument, tensor_list_argument
from minidl.autograd import Function
from minidl.errors import ArgumentError, IndexOutOfRangeError, ShapeError
from minidl.ops.broadcast import normalize_axes
from minidl.tensor import Tensor


class Reshape(Function):
    """y = x viewed with a new shape (same elements, same order);   dL/dx = dL/dy reshaped back."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, gy):
        return gy.reshape(self.in_shape)


def _shape_arg(shape):
    """reshape(2, 3) and reshape((2, 3)) both mean (2, 3)."""
    if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
        return tuple(shape[0])
    return tuple(shape)


def reshape(x, *shape):
    shape = _shape_arg(shape)
    try:
        return Reshape(shape)(x)
    except ValueError as exc:
        raise ShapeError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) "
                         f"into shape {shape}") from exc


def flatten(x):
    """The elements as a 1-d tensor (NumPy's flatten). `nn.Flatten` keeps the batch axis."""
    return Reshape((-1,))(tensor_argument("flatten", "x", x))


def expand_dims(x, axis):
    """Insert size-1 axes at `axis` (an int or a tuple, positions in the result)."""
    x = tensor_argument("expand_dims", "x", x)
    axes = normalize_axes(axis, x.ndim + (1 if isinstance(axis, int) else len(axis)), "expand_dims")
    shape = list(x.shape)
    for a in axes:
        shape.insert(a, 1)
    return Reshape(tuple(shape))(x)


def squeeze(x, axis=None):
    """Remove size-1 axes: all of them, or those in `axis` (which must have size 1)."""
    x = tensor_argument("squeeze", "x", x)
    axes = tuple(i for i, n in enumerate(x.shape) if n == 1) if axis is None else normalize_axes(axis, x.ndim, "squeeze")
    for a in axes:
        if x.shape[a] != 1:
            raise ShapeError(f"squeeze: axis {a} has size {x.shape[a]}, only size-1 axes can be removed")
    return Reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))(x)


class Transpose(Function):
    """y = x with its axes permuted;   dL/dx = dL/dy permuted back (the inverse permutation)."""

    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy):
        inverse = [0] * len(self.axes)
        for position, axis in enumerate(self.axes):
            inverse[axis] = position
        return gy.transpose(inverse)


def transpose(x, *axes):
    """Permute axes (NumPy's transpose): reversed when no axes are given."""
    x = tensor_argument("transpose", "x", x)
    if len(axes) == 1 and not isinstance(axes[0], numbers.Integral):
        axes = tuple(axes[0])
    if not axes:
        axes = tuple(reversed(range(x.ndim)))
    if (len(axes) != x.ndim or any(not -x.ndim <= a < x.ndim for a in axes)
            or sorted(a % x.ndim for a in axes) != list(range(x.ndim))):
        raise ShapeError(f"transpose: axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")
    return Transpose(tuple(a % x.ndim for a in axes))(x)


class Concatenate(Function):
    """y = the inputs joined along `axis`;   each input's gradient is its slice of dL/dy
    (in that input's dtype: float32 and float64 inputs give a float64 y)."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, *arrays):
        self.sizes = [a.shape[self.axis] for a in arrays]
        self.dtypes = [a.dtype for a in arrays]
        return self.xp.concatenate(arrays, axis=self.axis)

    def backward(self, gy):
        bounds, total = [], 0
        for size in self.sizes[:-1]:
            total += size
            bounds.append(total)
        parts = self.xp.split(gy, bounds, axis=self.axis)
        return tuple(g.astype(dtype, copy=False) for g, dtype in zip(parts, self.dtypes))


def concatenate(tensors, axis=0):
    tensors = tensor_list_argument("concatenate", "tensors", tensors)
    if not tensors:
        raise ArgumentError("concatenate: need at least one tensor")
    first = tensors[0]
    if first.ndim == 0:
        raise ShapeError("concatenate: 0-d tensors cannot be concatenated (they have no axis to join along); "
                         "use stack, or reshape them to 1-d first")
    axis = normalize_axes(axis, first.ndim, "concatenate")[0]
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or any(a != b for k, (a, b) in enumerate(zip(t.shape, first.shape)) if k != axis):
            raise ShapeError(f"concatenate: tensor {i} has shape {t.shape}, which does not match tensor 0's "
                             f"shape {first.shape} outside axis {axis}")
    return Concatenate(axis)(*tensors)


class Stack(Function):
    """y = the inputs stacked along a new `axis`;   each input's gradient is its slice of dL/dy
    (in that input's dtype)."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, *arrays):
        self.dtypes = [a.dtype for a in arrays]
        return self.xp.stack(arrays, axis=self.axis)

    def backward(self, gy):
        parts = self.xp.moveaxis(gy, self.axis, 0)
        return tuple(g.astype(dtype, copy=False) for g, dtype in zip(parts, self.dtypes))


def stack(tensors, axis=0):
    tensors = tensor_list_argument("stack", "tensors", tensors)
    if not tensors:
        raise ArgumentError("stack: need at least one tensor")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ShapeError(f"stack: tensor {i} has shape {t.shape}, tensor 0 has {tensors[0].shape}; "
                             f"all must be equal")
    axis = normalize_axes(axis, tensors[0].ndim + 1, "stack")[0]
    return Stack(axis)(*tensors)


class Pad(Function):
    """y = x with zeros around it;   dL/dx = the centre of dL/dy   (`widths`: one (before, after) pair per axis)"""

    def __init__(self, widths):
        self.widths = widths

    def forward(self, x):
        self.in_shape = x.shape
        return self.xp.pad(x, self.widths) if self.widths else x.copy()  # a 0-d x: nothing to pad (NumPy)

    def backward(self, gy):
        return gy[tuple(slice(before, before + n) for (before, _), n in zip(self.widths, self.in_shape))]


def pad(x, pad_width):
    """Zero padding with NumPy's `pad_width`: an int, (before, after), or one pair per axis."""
    x = tensor_argument("pad", "x", x)
    if isinstance(pad_width, numbers.Integral):
        if pad_width < 0:
            raise ShapeError(f"pad: pad_width must be >= 0, got {pad_width}")
        widths = [(pad_width, pad_width)] * x.ndim
    else:
        pad_width = list(pad_width)
        if len(pad_width) == 2 and all(isinstance(w, numbers.Integral) for w in pad_width):
            if min(pad_width) < 0:
                raise ShapeError(f"pad: pad_width must be >= 0, got {tuple(pad_width)}")
            widths = [tuple(pad_width)] * x.ndim
        elif len(pad_width) == 1:
            w = pad_width[0]
            widths = [(w, w) if isinstance(w, numbers.Integral) else tuple(w)] * x.ndim
        else:
            widths = [(w, w) if isinstance(w, numbers.Integral) else tuple(w) for w in pad_width]
    if len(widths) != x.ndim or any(len(w) != 2 or min(w) < 0 for w in widths):
        raise ShapeError(f"pad: pad_width {pad_width!r} does not fit a tensor of shape {x.shape} "
                         f"(expected an int, a (before, after) pair, or {x.ndim} such pairs, all >= 0)")
    return Pad(tuple((int(b), int(a)) for b, a in widths))(x)


class GetItem(Function):
    """y = x[index];   dL/dx = zeros with dL/dy added at the indexed places (repeats add up)."""

    def __init__(self, index, basic):
        self.index, self.basic = index, basic

    def forward(self, x):
        self.in_shape, self.in_dtype = x.shape, x.dtype
        return x[self.index]

    def backward(self, gy):
        gx = self.xp.zeros(self.in_shape, dtype=self.in_dtype)
        if self.basic:  # ints and slices select each element at most once: plain assignment
            gx[self.index] = gy
        else:
            self.backend.scatter_add(gx, self.index, gy)
        return gx


def _is_basic(part):
    return part is None or part is Ellipsis or isinstance(part, (slice, numbers.Integral)) and not isinstance(part, bool)


def getitem(x, index):
    """Basic (ints, slices, None, ...) and integer/boolean-array indexing, with gradients."""
    parts = index if isinstance(index, tuple) else (index,)
    parts = tuple(_device_index(x, p) for p in parts)
    basic = all(_is_basic(p) for p in parts)
    index = parts if isinstance(index, tuple) else parts[0]
    try:
        return GetItem(index, basic)(x)
    except IndexError as exc:
        raise IndexOutOfRangeError(f"index {index!r} does not fit a tensor of shape {x.shape}: {exc}") from exc


def _device_index(x, part):
    """An index component as something x's device accepts: Tensors and host arrays move to it."""
    if isinstance(part, Tensor):
        part = part.data
    if isinstance(part, list) or (hasattr(part, "shape") and hasattr(part, "dtype")):
        if isinstance(part, list) or not x._backend.is_array(part):
            part = x._backend.asarray(part)
        if part.dtype.kind not in "biu":
            raise IndexError(f"index arrays must be integer or boolean, got {part.dtype}")
    return part


class Cast(Function):
    """y = x converted to another floating dtype;   dL/dx = dL/dy converted back."""

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        self.in_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        return gy.astype(self.in_dtype)


def astype(x, dtype):
    dtype = normalize_dtype(dtype)
    if dtype.kind != "f":  # integer and bool results carry no gradient
        return Tensor._make(x.data.astype(dtype), x._backend, False, None)
    return Cast(dtype)(x)


class ToDevice(Function):
    """y = x copied to another device;   dL/dx = dL/dy copied back."""

    def __init__(self, target):
        self.output_backend = target

    def forward(self, x):
        return self.output_backend.from_host(self.backend.to_host(x))

    def backward(self, gy):
        return self.backend.from_host(self.output_backend.to_host(gy))


def to_device(x, backend):
    return ToDevice(backend)(x)
