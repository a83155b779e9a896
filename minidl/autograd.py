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
import itertools
import operator
import re

import numpy as np

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


_next_sequence = itertools.count(1).__next__
# The needs_grad tuples of one and two inputs, shared by every node (each node keeping its own copy
# would give Python's cyclic GC more objects to track: it runs once per few hundred new objects).
_ONE_NEEDS, _ONE_NEEDS_NOT = (True,), (False,)
_CANONICAL = {t: t for t in [(True, True), (True, False), (False, True), (False, False)]}
_TWO_NEEDS = ((_CANONICAL[False, False], _CANONICAL[False, True]),  # indexed by the two bools
              (_CANONICAL[True, False], _CANONICAL[True, True]))


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
    sequence = 0          # creation order of recorded nodes: backward runs them latest first
    gradients = None      # (grad_output, grad_inputs) of the latest backward(retain_graph=True) through
    #                       this node, kept with the graph for inspection (minidl.viz reads it)

    def __call__(self, *inputs):
        # The hot path of every op: kept to a few attribute reads (it runs once per node).
        try:
            backend = inputs[0]._backend
            if len(inputs) == 1:
                arrays = (inputs[0].data,)
                needs_grad = _ONE_NEEDS if inputs[0]._requires_grad else _ONE_NEEDS_NOT
            elif len(inputs) == 2:
                a, b = inputs
                if b._backend is not backend:
                    raise _device_mismatch(self, inputs)
                arrays = (a.data, b.data)
                needs_grad = _TWO_NEEDS[a._requires_grad][b._requires_grad]
            else:
                for x in inputs:
                    if x._backend is not backend:
                        raise _device_mismatch(self, inputs)
                arrays = tuple([x.data for x in inputs])
                needs_grad = tuple([x._requires_grad for x in inputs])
                needs_grad = _CANONICAL.get(needs_grad, needs_grad)  # one shared tuple: less for the GC
        except AttributeError:  # an input that is no Tensor (free unless raised): the one rule for them
            return self(*tensor_inputs(self, inputs))
        self.backend = backend
        try:
            out = self.forward(*arrays)
        except (ValueError, TypeError) as exc:  # free unless raised: NumPy's refusals, in the user's terms
            error = forward_error(_op_name(self), arrays, exc)
            if error is None:
                raise
            raise error from exc
        out_backend = self.output_backend or backend
        if type(out) is not out_backend.array_type:
            out = device_array(out_backend, out, self._forward_place)  # NumPy: a scalar for a 0-d result
        if _op_watchers.get():  # detect_anomaly(), parity recording
            anomaly.check_forward(self, inputs, out)
        if True in needs_grad and _grad_enabled.get():
            self.inputs = inputs
            self.needs_grad = needs_grad
            self.sequence = _next_sequence()
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
        self.gradients = None

    @property
    def name(self):
        return type(self).__name__

    def _forward_place(self):  # where a bad forward result came from, for device_array's message
        return f"{self.name}.forward"

    def __repr__(self):
        return f"<{self.name} backward>"


def tensor_inputs(fn, inputs):
    """The inputs of Function `fn` as Tensors, by the one rule in minidl/arguments.py (the error path only)."""
    return _function_inputs(fn, _op_name(fn), inputs)


def forward_error(op, arrays, exc):
    """The minidl error for NumPy's `exc` raised by op `op` on `arrays`, or None to let `exc` through.

    Shapes that do not broadcast (NumPy's ValueError) -> ShapeError naming the op and the shapes;
    a TypeError on bool inputs (NumPy has no -bool or bool - bool) -> DTypeError.
    """
    shapes = [a.shape for a in arrays]
    if isinstance(exc, ValueError) and len(set(shapes)) > 1:
        try:
            np.broadcast_shapes(*shapes)
        except ValueError:
            return ShapeError(f"{op}: shapes {' and '.join(map(str, shapes))} do not broadcast together "
                              f"(each axis must be equal, or 1 in one of them)")
    if isinstance(exc, TypeError) and any(a.dtype.kind == "b" for a in arrays):
        dtypes = ", ".join(str(a.dtype) for a in arrays)
        return DTypeError(f"{op} is not defined for bool tensors (got {dtypes}); convert first, e.g. "
                          f"x.astype(mdl.float32)")
    return None


def _op_name(fn):
    """The snake_case name users call an op by: LogSoftmax -> log_softmax."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", fn.name.replace("ReLU", "Relu")).lower()


def _device_mismatch(fn, inputs):
    devices = ", ".join(f"input {i} on '{x.device}'" for i, x in enumerate(inputs))
    return DeviceError(f"{fn.name}: all inputs must be on one device, got {devices}; move one with .to(device)")


# ---------------------------------------------------------------------------------------------------
# The backward engine.
# ---------------------------------------------------------------------------------------------------
def topological_order(root):
    """The nodes reachable from `root`, each before the nodes that made its inputs.

    A node is always created after the nodes that made its inputs, so the reverse order of creation
    (`Function.sequence`, a global counter) is a topological order: collect the reachable nodes with an
    explicit stack (no recursion limit), then sort them by creation, latest first.
    """
    seen = {root}
    stack = [root]
    nodes = []
    while stack:
        fn = stack.pop()
        inputs = fn.inputs
        if inputs is None:
            raise GraphError(f"trying to backward through the graph a second time (at {fn.name}): its saved "
                             f"arrays were freed after the first backward; call backward(retain_graph=True) "
                             f"the first time if you need to backward twice")
        nodes.append(fn)
        for x in inputs:
            g = x.grad_fn
            if g is not None and g not in seen:
                seen.add(g)
                stack.append(g)
    nodes.sort(key=_sequence_of, reverse=True)
    return nodes


_sequence_of = operator.attrgetter("sequence")


def run_backward(root, seed, retain_graph=False, on_node=None):
    """Back-propagate `seed` (the gradient of some scalar w.r.t. `root`) through `root`'s graph.

    Leaves that require grad get `.grad` (summed into any existing one); intermediate tensors get it
    only if they called `retain_grad()`. `on_node(fn, grad_output, grad_inputs)`, when given, is
    called after each node's backward, before its saved arrays are freed (`minidl.viz.trace` uses it).
    With `retain_graph=True` each node also keeps `fn.gradients = (grad_output, grad_inputs)` while the
    graph lives, so `trace` and `draw_graph` can show them without a second backward.
    """
    if root.grad_fn is None:  # backward on a leaf: its gradient is the seed itself
        _accumulate(root, seed)
        return
    if root._retains_grad:
        _accumulate(root, seed)
    order = topological_order(root.grad_fn)
    grads = {root.grad_fn: seed}
    given = {id(seed)} if root._retains_grad else set()  # ids of arrays already stored in some .grad
    summed = set()  # ids of .grad arrays this backward allocated (sums): no one else holds them
    watched = bool(_op_watchers.get())
    keep_checked = watched or on_node is not None or retain_graph
    for fn in order:
        grad_output = grads.pop(fn)
        grad_inputs = fn.backward(grad_output)
        if type(grad_inputs) is not tuple:
            grad_inputs = (grad_inputs,)
        inputs = fn.inputs
        if len(grad_inputs) != len(inputs):
            raise GraphError(f"{fn.name}.backward returned {len(grad_inputs)} gradients for "
                             f"{len(inputs)} inputs")
        checked = [] if keep_checked else None
        for x, gx, needed in zip(inputs, grad_inputs, fn.needs_grad):
            if not needed:
                if keep_checked:
                    checked.append(None)
                continue
            data = x.data
            # the common case inline (an array of x's device, shape and dtype); anything else is
            # converted or rejected, with a message, by _checked_gradient
            if type(gx) is not type(data) or gx.shape != data.shape or (gx.dtype is not data.dtype
                                                                          and gx.dtype != data.dtype):
                gx = _checked_gradient(fn, _position(inputs, grad_inputs, x, gx), x, gx)
            if keep_checked:
                checked.append(gx)
            grad_fn = x.grad_fn
            if grad_fn is None or x._retains_grad:
                stored = gx
                if id(gx) in given or gx.base is not None:  # .grad owns its array: no views, no sharing
                    stored = gx.copy()
                given.add(id(stored))
                _accumulate(x, stored, summed)
            if grad_fn is not None:
                previous = grads.get(grad_fn)
                grads[grad_fn] = gx if previous is None else previous + gx
        if watched:
            anomaly.check_backward(fn, checked)
        if on_node is not None:
            on_node(fn, grad_output, checked)
        if retain_graph:
            fn.gradients = (grad_output, checked)
        else:
            fn.release()


def _accumulate(tensor, grad_array, summed=None):
    """tensor.grad += grad_array. A .grad array from before this backward is never changed (a new array
    holds the sum); a sum this backward made (its id in `summed`) takes later contributions in place, so a
    weight used at every step of an unrolled RNN costs one allocation, not one per step."""
    if tensor.grad is None:
        tensor.grad = _make_tensor(grad_array, tensor._backend, False, None)
    elif summed is not None and id(tensor.grad.data) in summed:
        tensor.grad.data += grad_array
    else:
        total = tensor.grad.data + grad_array
        tensor.grad = _make_tensor(total, tensor._backend, False, None)
        if summed is not None:
            summed.add(id(total))


def _position(inputs, grad_inputs, x, gx):
    """The index k with inputs[k] is x and grad_inputs[k] is gx (for messages: the loop does not count)."""
    return next(k for k, (a, g) in enumerate(zip(inputs, grad_inputs)) if a is x and g is gx)


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


# How the engine wraps a result array as a Tensor: `Tensor._make(array, backend, requires_grad, grad_fn)`.
# tensor.py fills this slot when it defines Tensor: autograd is the layer below tensor and imports
# nothing from it (the dependency order is backend -> autograd -> tensor -> creation -> ops).
_make_tensor = None
# How the engine turns non-Tensor inputs (NumPy arrays, numbers) into Tensors or a clear TypeError:
# `arguments.function_inputs`, which builds on Tensor; minidl/arguments.py fills this slot.
_function_inputs = None
_op_watchers = anomaly._enabled
