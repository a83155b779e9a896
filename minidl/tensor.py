"""`Tensor`: an array on a device, plus what autograd needs (requires_grad, grad, grad_fn).

Every operator and method here is a thin, explicit call into `minidl.ops`, where each operation's
forward and backward live side by side.
"""

import numpy as np

from minidl import autograd
from minidl.backend import get_backend
from minidl.errors import DTypeError, GraphError, ShapeError


_new_object = object.__new__


class Tensor:
    """A multi-dimensional array that can record the operations applied to it.

    Attributes:
        data:          the backend array (`numpy.ndarray`, `cupy.ndarray`, ...)
        requires_grad: whether operations on it are recorded for backward
        grad:          after `backward()`, a Tensor of the same shape (leaves; others if `retain_grad()`)
        grad_fn:       the graph node (a `Function`) that made it; None for leaves
    """

    __slots__ = ("data", "grad", "_requires_grad", "grad_fn", "_backend", "_retains_grad", "name", "__weakref__")
    __array_ufunc__ = None  # `ndarray + tensor` defers to Tensor.__radd__ instead of looping in NumPy

    def __init__(self, data, requires_grad=False, device=None, dtype=None):
        from minidl.creation import to_array  # creation.py builds on this file

        backend, array = to_array(data, device=device, dtype=dtype, copy=False)
        self._init(array, backend, False, None)
        self.requires_grad = requires_grad

    def _init(self, array, backend, requires_grad, grad_fn):
        self.data = array
        self.grad = None
        self._requires_grad = requires_grad
        self.grad_fn = grad_fn
        self._backend = backend
        self._retains_grad = False
        self.name = None

    @classmethod
    def _make(cls, array, backend, requires_grad, grad_fn):
        """Wrap an array that already lives on `backend` (no checks: the engine's fast path)."""
        t = _new_object(cls)  # __init__'s work, inlined: this runs once per op
        t.data = array
        t.grad = None
        t._requires_grad = requires_grad
        t.grad_fn = grad_fn
        t._backend = backend
        t._retains_grad = False
        t.name = None
        return t

    # -- attributes ---------------------------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        value = bool(value)
        if value and self.data.dtype.kind != "f":
            raise DTypeError(f"only floating-point tensors can require gradients, this one is {self.data.dtype}; "
                             f"convert it first with .astype(mdl.float32)")
        if not value and self.grad_fn is not None:
            raise GraphError("requires_grad cannot be turned off on a non-leaf tensor: use .detach()")
        self._requires_grad = value

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self):
        return self._backend.device

    @property
    def backend(self):
        return self._backend

    @property
    def T(self):
        return ops.transpose(self)

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    # -- autograd ------------------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False):
        """Compute the gradient of this tensor w.r.t. every leaf that requires grad.

        `grad` is dL/d(self); it may be omitted only for a single-element tensor (it is then 1).
        """
        if not self._requires_grad:
            raise GraphError("backward() on a tensor that does not require grad: no input of the computation "
                             "had requires_grad=True (or it ran inside no_grad())")
        if grad is None:
            if self.data.size != 1:
                raise GraphError(f"backward() without `grad` needs a single-element output, but this one has "
                                 f"shape {self.shape}; reduce it first (e.g. .sum()) or pass grad=")
            seed = self._backend.xp.ones(self.shape, dtype=self.dtype)
        else:
            seed = grad.data if isinstance(grad, Tensor) else self._backend.asarray(grad)
            seed = autograd.device_array(self._backend, seed, lambda: "backward(grad=...)")
            if seed.shape != self.shape:
                raise ShapeError(f"backward(grad=...): grad has shape {seed.shape}, the tensor has shape {self.shape}")
            seed = seed.astype(self.dtype, copy=True)
        autograd.run_backward(self, seed, retain_graph=retain_graph)

    def retain_grad(self):
        """Keep `.grad` for this non-leaf tensor after backward (leaves always keep it)."""
        if not self._requires_grad:
            raise GraphError("retain_grad() on a tensor that does not require grad")
        self._retains_grad = True
        return self

    def detach(self):
        """A new tensor sharing this one's data, outside of any graph."""
        return Tensor._make(self.data, self._backend, False, None)

    def zero_grad(self):
        self.grad = None

    # -- conversion ------------------------------------------------------------------------------------
    def numpy(self):
        """A host (NumPy) copy of the data."""
        host = self._backend.to_host(self.data)
        return host.copy() if host is self.data else host

    def item(self):
        """The value of a single-element tensor as a Python number."""
        if self.data.size != 1:
            raise ShapeError(f"item() needs a single-element tensor, this one has shape {self.shape}")
        return self._backend.to_host(self.data).item()  # to_host: where checks deferred on a GPU surface

    def to(self, device):
        """This tensor on `device` ('cpu' or 'cuda'); itself when already there. Differentiable."""
        backend = get_backend(device)
        if backend is self._backend:
            return self
        return ops.to_device(self, backend)

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def astype(self, dtype):
        """A copy converted to `dtype` (differentiable between floating types)."""
        return ops.astype(self, dtype)

    def __array__(self, dtype=None, copy=None):
        # Lets NumPy read CPU tensors; device arrays raise here, as CuPy's do.
        array = self.data.__array__()
        return array if dtype is None else array.astype(dtype)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or .all()")
        return bool(self.data.item())

    def __repr__(self):
        body = np.array2string(self._backend.to_host(self.data), separator=", ", precision=4, prefix="tensor(")
        extras = []
        if self.dtype != np.float32:
            extras.append(f"dtype={self.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    __hash__ = object.__hash__

    # -- operators ----------------------------------------------------------------------------------------
    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __pow__(self, other):
        return ops.pow(self, other)

    def __rpow__(self, other):
        return ops.pow(other, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.abs(self)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    # comparisons give boolean tensors and no gradient
    def __lt__(self, other):
        return ops.less(self, other)

    def __le__(self, other):
        return ops.less_equal(self, other)

    def __gt__(self, other):
        return ops.greater(self, other)

    def __ge__(self, other):
        return ops.greater_equal(self, other)

    def __eq__(self, other):
        return ops.equal(self, other)

    def __ne__(self, other):
        return ops.not_equal(self, other)

    # -- differentiable methods (NumPy names and semantics) -------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        return ops.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return ops.mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return ops.max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return ops.min(self, axis, keepdims)

    def var(self, axis=None, ddof=0, keepdims=False):
        return ops.var(self, axis, ddof, keepdims)

    def logsumexp(self, axis=None, keepdims=False):
        return ops.logsumexp(self, axis, keepdims)

    def argmax(self, axis=None, keepdims=False):
        return ops.argmax(self, axis, keepdims)

    def argmin(self, axis=None, keepdims=False):
        return ops.argmin(self, axis, keepdims)

    def exp(self):
        return ops.exp(self)

    def log(self):
        return ops.log(self)

    def sqrt(self):
        return ops.sqrt(self)

    def abs(self):
        return ops.abs(self)

    def clip(self, a_min=None, a_max=None):
        return ops.clip(self, a_min, a_max)

    def maximum(self, other):
        return ops.maximum(self, other)

    def minimum(self, other):
        return ops.minimum(self, other)

    def relu(self):
        return ops.relu(self)

    def sigmoid(self):
        return ops.sigmoid(self)

    def tanh(self):
        return ops.tanh(self)

    def softmax(self, axis=-1):
        return ops.softmax(self, axis)

    def log_softmax(self, axis=-1):
        return ops.log_softmax(self, axis)

    def reshape(self, *shape):
        return ops.reshape(self, *shape)

    def transpose(self, *axes):
        return ops.transpose(self, *axes)

    def flatten(self):
        return ops.flatten(self)

    def expand_dims(self, axis):
        return ops.expand_dims(self, axis)

    def squeeze(self, axis=None):
        return ops.squeeze(self, axis)

    def pad(self, pad_width):
        return ops.pad(self, pad_width)

    def matmul(self, other):
        return ops.matmul(self, other)

    def sin(self):
        return ops.sin(self)

    def cos(self):
        return ops.cos(self)

    def prod(self, axis=None, keepdims=False):
        return ops.prod(self, axis, keepdims)


from minidl import ops  # noqa: E402  (ops build on Tensor; Tensor's methods call into ops)
