"""`mdl.detect_anomaly()`: find the first operation that makes a NaN or an Inf.

    with mdl.detect_anomaly():
        loss = model(x).log().sum()     # raises AnomalyError at the op whose output is not finite
        loss.backward()                  # ... or at the op whose gradient is not finite

Inside the context every op's forward output and every gradient a backward returns is checked. The
error names the op, the layer it ran in (when inside a Module), its input shapes and value ranges,
and for the usual culprits (log of 0, exp overflow, division by 0) the stable alternative.
Checking costs a pass over every array, so use it to debug, not to train.
"""

import contextlib
import contextvars

from minidl.errors import AnomalyError

# The op watchers in force: detect_anomaly's finiteness check, or a recorder (minidl.parity). Every op
# calls check_forward while this is non-empty, and backward calls check_backward.
_enabled = contextvars.ContextVar("minidl_op_watchers", default=())
_module_path = contextvars.ContextVar("minidl_module_path", default=())

# op name -> what usually went wrong, and what to use instead
HINTS = {
    "Log": "log of 0 or of a negative number: use log_softmax / cross_entropy on logits, or clip the input "
           "away from 0 (x.clip(1e-12, None))",
    "Exp": "exp overflowed (inputs above ~88 in float32, ~709 in float64): use logsumexp, softmax, "
           "log_softmax, or sigmoid / BCE with logits, which are computed stably",
    "Div": "division by 0 (or 0/0): add a small eps to the denominator",
    "Sqrt": "sqrt of a negative number, or its gradient at 0: add a small eps inside the sqrt",
    "Pow": "a power of 0 with a negative exponent, or of a negative base with a fractional exponent",
}


class OpWatcher:
    """Sees every op while installed with `watching(...)`: its forward output and its gradients."""

    def forward(self, fn, inputs, out):
        pass

    def backward(self, fn, grad_inputs):
        pass


class _FiniteCheck(OpWatcher):
    def forward(self, fn, inputs, out):
        if out.dtype.kind == "f" and not bool(fn.xp.isfinite(out).all()):
            raise AnomalyError(_describe(fn, "forward output", out, [x.data for x in inputs]))

    def backward(self, fn, grad_inputs):
        for i, g in enumerate(grad_inputs):
            if g is not None and g.dtype.kind == "f" and not bool(fn.xp.isfinite(g).all()):
                raise AnomalyError(_describe(fn, f"backward gradient for input {i}", g, [x.data for x in fn.inputs]))


_FINITE_CHECK = _FiniteCheck()


@contextlib.contextmanager
def watching(watcher, model=None):
    """Install an OpWatcher for the duration; with `model`, ops know their layers' dotted names."""
    if model is not None:
        for name, module in model.named_modules():
            object.__setattr__(module, "_name_in_model", name or "model")
    token = _enabled.set(_enabled.get() + (watcher,))
    try:
        yield watcher
    finally:
        _enabled.reset(token)


def detect_anomaly(model=None):
    """Context manager: raise AnomalyError at the first op whose output or gradient is NaN or Inf.

    With `model`, layers are named by their dotted names in it ("3 (Linear)"), else by their repr."""
    return watching(_FINITE_CHECK, model)


def is_enabled():
    """True inside detect_anomaly()."""
    return _FINITE_CHECK in _enabled.get()


@contextlib.contextmanager
def module_scope(name):
    """Record that ops run inside the layer `name` (Module.__call__ does this while anomaly mode is on)."""
    token = _module_path.set(_module_path.get() + (name,))
    try:
        yield
    finally:
        _module_path.reset(token)


def current_module():
    path = _module_path.get()
    return " > ".join(path) if path else None


def check_forward(fn, inputs, out):
    """Called by every op while a watcher is installed: note the op's layer (for errors and records),
    then hand its output to each watcher."""
    fn.module = current_module()
    for watcher in _enabled.get():
        watcher.forward(fn, inputs, out)


def check_backward(fn, grad_inputs):
    """Called after each node's backward while a watcher is installed."""
    for watcher in _enabled.get():
        watcher.backward(fn, grad_inputs)


def _describe(fn, what, bad, input_arrays):
    xp = fn.xp
    n_nan, n_inf = int(xp.isnan(bad).sum()), int(xp.isinf(bad).sum())
    lines = [f"{fn.name}: the {what} has {n_nan} NaN and {n_inf} Inf of {bad.size} values"]
    module = getattr(fn, "module", None)
    if module:
        lines.append(f"  in layer: {module}")
    for i, a in enumerate(input_arrays):
        lines.append(f"  input {i}: shape {tuple(a.shape)}, {a.dtype}, {_value_range(xp, a)}")
    if fn.name in HINTS:
        lines.append(f"  likely cause: {HINTS[fn.name]}")
    return "\n".join(lines)


def _value_range(xp, a):
    if a.size == 0:
        return "empty"
    if a.dtype.kind not in "fiu":
        return f"dtype {a.dtype}"
    finite = xp.isfinite(a) if a.dtype.kind == "f" else None
    parts = []
    if finite is not None and not bool(finite.all()):
        parts.append(f"{int(xp.isnan(a).sum())} NaN, {int(xp.isinf(a).sum())} Inf already in it")
        a = a[finite]
        if a.size == 0:
            return "; ".join(parts)
    parts.insert(0, f"values in [{float(a.min()):.4g}, {float(a.max()):.4g}], {int((a == 0).sum())} zeros")
    return "; ".join(parts)
