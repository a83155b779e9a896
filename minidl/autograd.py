"""Autograd: grad mode, the `Function` graph node, and the backward engine.

Forward: calling a Function on Tensors runs `forward` on their raw arrays and, when any input needs
a gradient, records the Function as the output's `grad_fn` (a node of the graph).

Backward: `Tensor.backward()` orders the graph's nodes once (iteratively: no recursion limit), then
runs each node's `backward` exactly once, from the output to the leaves, summing the gradients of
tensors used more than once. Every gradient a node returns is checked (count, shape, dtype, device).
Unless `retain_graph=True`, each node drops what it saved for backward as soon as it has run.
"""

import contextlib
import contextvars

from minidl import anomaly
from minidl.errors import DeviceError, DTypeError, GraphError, ShapeError

# ---------------------------------------------------------------------------------------------------
# Grad mode: the one global switch, kept in a context variable (thread- and task-local).
# ---------------------------------------------------------------------------------------------------
_grad_enabled = contextvars.ContextVar("minidl_grad_enabled", default=True)


def is_grad_enabled():
    """True unless inside `no_grad()`."""
    return _grad_enabled.get()


class _GradMode(contextlib.ContextDecorator):
    def __init__(self, enabled):
        self.enabled = enabled
        self._tokens = []

    def __enter__(self):
        self._tokens.append(_grad_enabled.set(self.enabled))
        return self

    def __exit__(self, *exc):
        _grad_enabled.reset(self._tokens.pop())
        return False


def no_grad():
    """Context manager (or decorator) in which operations record no graph."""
    return _GradMode(False)


def enable_grad():
    """Context manager (or decorator) that turns graph recording back on inside `no_grad()`."""
    return _GradMode(True)


# ---------------------------------------------------------------------------------------------------
# Function: one node of the graph.
# ---------------------------------------------------------------------------------------------------
class Function:
    """An operation with its forward and its backward (the chain rule) side by side.

    Subclasses implement, on raw backend arrays:
        forward(*arrays) -> array                  compute the output; keep in `self.saved` what
                                                  backward needs (and small settings as attributes)
        backward(grad_output) -> array or tuple   one gradient per input (None for an input that
                                                  needs none: see `self.needs_grad`)
    Use it as `Exp()(x)`: inputs are Tensors, all on one device; the result is a Tensor.
    `self.xp` is the array module (numpy or cupy) of the inputs' device.
    """

    saved = ()            # arrays kept for backward; dropped after backward unless retain_graph
    inputs = None         # the input Tensors, while the graph is alive
    needs_grad = ()       # per input: does it need a gradient?
    output_backend = None  # set by ops whose output lives on another device (Tensor.to)

    def __call__(self, *inputs):
        backend = inputs[0]._backend
        for x in inputs:
            if x._backend is not backend:
                raise _device_mismatch(self, inputs)
        self.backend = backend
        out = self.forward(*[x.data for x in inputs])
        out_backend = self.output_backend or backend
        if type(out) is not out_backend.array_type:
            out = device_array(out_backend, out, lambda: f"{self.name}.forward")
        if anomaly._enabled.get():
            anomaly.check_forward(self, inputs, out)
            anomaly.remember_module(self)
        if _grad_enabled.get():
            needs_grad = tuple([x._requires_grad for x in inputs])
            if True in needs_grad:
                self.inputs = inputs
                self.needs_grad = needs_grad
                return _make_tensor(out, out_backend, True, self)
        return _make_tensor(out, out_backend, False, None)

    @property
    def xp(self):
        return self.backend.xp

    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, grad_output):
        raise NotImplementedError

    def release(self):
        """Drop the saved arrays and the links to the inputs: the graph below is freed."""
        self.saved = None
        self.inputs = None

    @property
    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{self.name} backward>"


def _device_mismatch(fn, inputs):
    devices = ", ".join(f"input {i} on '{x.device}'" for i, x in enumerate(inputs))
    return DeviceError(f"{fn.name}: all inputs must be on one device, got {devices}; move one with .to(device)")


# ---------------------------------------------------------------------------------------------------
# The backward engine.
# ---------------------------------------------------------------------------------------------------
def topological_order(root):
    """The nodes reachable from `root`, each before the nodes that made its inputs (iterative DFS)."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        fn, expanded = stack.pop()
        if expanded:
            order.append(fn)
            continue
        if fn in visited:
            continue
        visited.add(fn)
        if fn.inputs is None:
            raise GraphError(f"trying to backward through the graph a second time (at {fn.name}): its saved "
                             f"arrays were freed after the first backward; call backward(retain_graph=True) "
                             f"the first time if you need to backward twice")
        stack.append((fn, True))
        for x in fn.inputs:
            if x.grad_fn is not None and x.grad_fn not in visited:
                stack.append((x.grad_fn, False))
    order.reverse()
    return order


def run_backward(root, seed, retain_graph=False, on_node=None):
    """Back-propagate `seed` (the gradient of some scalar w.r.t. `root`) through `root`'s graph.

    Leaves that require grad get `.grad` (summed into any existing one); intermediate tensors get it
    only if they called `retain_grad()`. `on_node(fn, grad_output, grad_inputs)`, when given, is
    called after each node's backward, before its saved arrays are freed (`minidl.viz.trace` uses it).
    """
    if root.grad_fn is None:  # backward on a leaf: its gradient is the seed itself
        _accumulate(root, seed)
        return
    if root._retains_grad:
        _accumulate(root, seed)
    order = topological_order(root.grad_fn)
    grads = {root.grad_fn: seed}
    given = set()  # ids of arrays already stored in some .grad
    for fn in order:
        grad_output = grads.pop(fn)
        grad_inputs = fn.backward(grad_output)
        if type(grad_inputs) is not tuple:
            grad_inputs = (grad_inputs,)
        if len(grad_inputs) != len(fn.inputs):
            raise GraphError(f"{fn.name}.backward returned {len(grad_inputs)} gradients for "
                             f"{len(fn.inputs)} inputs")
        checked = []
        for i, (x, gx, needed) in enumerate(zip(fn.inputs, grad_inputs, fn.needs_grad)):
            if not needed:
                checked.append(None)
                continue
            gx = _checked_gradient(fn, i, x, gx)
            checked.append(gx)
            if x.grad_fn is None or x._retains_grad:
                stored = gx
                if id(gx) in given or gx.base is not None:  # .grad owns its array: no views, no sharing
                    stored = gx.copy()
                given.add(id(stored))
                _accumulate(x, stored)
            if x.grad_fn is not None:
                previous = grads.get(x.grad_fn)
                grads[x.grad_fn] = gx if previous is None else previous + gx
        if anomaly._enabled.get():
            anomaly.check_backward(fn, checked)
        if on_node is not None:
            on_node(fn, grad_output, checked)
        if not retain_graph:
            fn.release()


def _accumulate(tensor, grad_array):
    if tensor.grad is None:
        tensor.grad = _make_tensor(grad_array, tensor._backend, False, None)
    else:
        tensor.grad = _make_tensor(tensor.grad.data + grad_array, tensor._backend, False, None)


def _checked_gradient(fn, i, x, gx):
    """Check one gradient returned by `fn.backward` against its input `x`; return it as an array."""
    if gx is None:
        raise GraphError(f"{fn.name}.backward returned None for input {i}, which requires grad")
    gx = device_array(x._backend, gx, lambda: f"{fn.name}.backward (gradient of input {i})")
    if gx.shape != x.data.shape:
        raise ShapeError(f"{fn.name}.backward returned a gradient of shape {gx.shape} for input {i} "
                         f"of shape {x.data.shape}")
    if gx.dtype != x.data.dtype:
        raise DTypeError(f"{fn.name}.backward returned a {gx.dtype} gradient for input {i} of dtype "
                         f"{x.data.dtype}")
    return gx


def device_array(backend, array, where):
    """`array` as an array of `backend`'s device; a scalar of that device becomes a 0-d array.

    Anything else (a host array on a GPU device, a Python list) is a device leak: DeviceError.
    `where` is a callable giving the place to name in the message (built only on error).
    """
    if type(array) is backend.array_type:
        return array
    if isinstance(array, backend.scalar_types):  # NumPy returns scalars from full reductions
        return backend.xp.asarray(array)
    if backend.is_array(array):
        return array
    raise DeviceError(f"{where()} produced a {type(array).__name__}, but its device '{backend.device}' "
                      f"works on {backend.array_type.__name__} arrays")


from minidl.tensor import Tensor  # noqa: E402  (tensor.py imports this module first; see minidl/__init__.py)

_make_tensor = Tensor._make
