"""`Module`: the base class of layers and models (PyTorch's contract).

A Module holds, in insertion order, its parameters (learned), buffers (state that is not learned,
such as BatchNorm's running statistics) and submodules. Assigning a Parameter or a Module to an
attribute registers it; `state_dict()` names everything with PyTorch's dotted keys ("0.weight",
"bn.running_mean"), so a minidl model's weights line up with a PyTorch model's.
"""

from collections import namedtuple

import numpy as np

from minidl import anomaly
from minidl.autograd import no_grad
from minidl.backend import get_backend
from minidl.creation import normalize_dtype, to_array
from minidl.errors import ArgumentTypeError, ShapeError
from minidl.nn.parameter import Parameter
from minidl.tensor import Tensor

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class for every layer and model: subclass it, set attributes in `__init__`, write `forward`."""

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "training", True)

    # -- registration ---------------------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        if isinstance(value, Parameter):
            self._forget(name)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            self._modules[name] = value
        else:
            for kind, registry in (("parameter", self._parameters), ("buffer", self._buffers),
                                   ("module", self._modules)):
                if name in registry:
                    allowed = Tensor if kind == "buffer" else type(None)
                    if value is not None and not isinstance(value, allowed):
                        raise ArgumentTypeError(f"{type(self).__name__}.{name} is a {kind}; cannot assign a "
                                                f"{type(value).__name__} to it (a Parameter, a Tensor buffer, "
                                                f"or None)")
                    registry[name] = value
        object.__setattr__(self, name, value)

    def _forget(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)

    def __delattr__(self, name):
        self._forget(name)
        object.__delattr__(self, name)

    def register_buffer(self, name, tensor):
        """Register a Tensor that is state but not learned (saved in state_dict, moved by `to`)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise ArgumentTypeError(f"register_buffer({name!r}): expected a Tensor or None, "
                                    f"got {type(tensor).__name__}")
        self._buffers[name] = tensor
        object.__setattr__(self, name, tensor)

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise ArgumentTypeError(f"register_parameter({name!r}): expected a Parameter or None, "
                                    f"got {type(param).__name__}")
        if param is None:
            self._parameters[name] = None
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def add_module(self, name, module):
        if not isinstance(module, Module):
            raise ArgumentTypeError(f"add_module({name!r}): expected a Module, got {type(module).__name__}")
        setattr(self, name, module)

    # -- calling ----------------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def __call__(self, *args, **kwargs):
        if anomaly._enabled.get():  # name this layer in errors about NaN/Inf
            with anomaly.module_scope(self._anomaly_name()):
                out = self.forward(*args, **kwargs)
        else:
            out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):  # a copy: a hook may remove itself
                result = hook(self, args, out)
                if result is not None:
                    out = result
        return out

    def _anomaly_name(self):
        """This layer as errors name it: its dotted name in the model when known, and its repr."""
        name = self.__dict__.get("_name_in_model")
        return f"{name} ({type(self).__name__})" if name else repr(self).split("\n")[0]

    def register_forward_hook(self, hook):
        """Call `hook(module, inputs, output)` after every forward; a non-None return replaces the output.
        Returns a handle whose `.remove()` unregisters the hook."""
        return _HookHandle(self._forward_hooks, hook)

    # -- traversal --------------------------------------------------------------------------------------
    def named_modules(self, prefix=""):
        """(dotted name, module) for this module and every module inside it, each once, depth first."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{child_name}" if name else child_name, child)
                        for child_name, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self):
        return (module for _, module in self.named_modules())

    def apply(self, fn):
        """Call `fn(module)` on every submodule (children first, recursively), then on this module; returns
        self. E.g. `model.apply(init_weights)` with a function that looks at `type(module)`."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def named_children(self):
        return ((name, m) for name, m in self._modules.items() if m is not None)

    def children(self):
        return (m for _, m in self.named_children())

    def _named_members(self, registry_name, recurse=True):
        seen = set()
        modules = self.named_modules() if recurse else [("", self)]
        for module_name, module in modules:
            for name, member in getattr(module, registry_name).items():
                if member is None or id(member) in seen:
                    continue
                seen.add(id(member))
                yield (f"{module_name}.{name}" if module_name else name), member

    def named_parameters(self, recurse=True):
        """(dotted name, Parameter) pairs in registration order; a shared Parameter appears once."""
        return self._named_members("_parameters", recurse)

    def parameters(self, recurse=True):
        return (p for _, p in self.named_parameters(recurse))

    def named_buffers(self, recurse=True):
        return self._named_members("_buffers", recurse)

    def buffers(self, recurse=True):
        return (b for _, b in self.named_buffers(recurse))

    # -- modes and devices ------------------------------------------------------------------------------------
    def train(self, mode=True):
        """Training mode (dropout active, batch statistics in BatchNorm) for this module and all inside."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        """Evaluation mode: `train(False)`."""
        return self.train(False)

    def zero_grad(self):
        """Forget every parameter's gradient (`.grad = None`)."""
        for p in self.parameters():
            p.grad = None

    def to(self, device):
        """Move every parameter and buffer to `device`, in place (the Parameter objects stay the same)."""
        backend = get_backend(device)
        for t in list(self.parameters()) + list(self.buffers()):
            if t._backend is not backend:
                t.data = backend.from_host(t._backend.to_host(t.data))
                if t.grad is not None:
                    t.grad = t.grad.to(backend)
                t._backend = backend
        return self

    def astype(self, dtype):
        """Convert every floating parameter and buffer to `dtype` (e.g. mdl.float64 for gradient checks)."""
        dtype = normalize_dtype(dtype)
        for t in list(self.parameters()) + list(self.buffers()):
            if t.dtype.kind == "f":
                t.data = t.data.astype(dtype)
                t.grad = None
        return self

    def double(self):
        return self.astype(np.float64)

    def float(self):
        return self.astype(np.float32)

    # -- state ----------------------------------------------------------------------------------------------
    def state_dict(self):
        """{dotted name: backend array} for every parameter and buffer (the live arrays, not copies)."""
        state = {}
        for module_name, module in self.named_modules():
            for registry in (module._parameters, module._buffers):
                for name, t in registry.items():
                    if t is not None:
                        state[f"{module_name}.{name}" if module_name else name] = t.data
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays from `state_dict` into this module's parameters and buffers, in place.

        Values may be NumPy arrays (as `mdl.load` returns), device arrays or Tensors; each is moved to
        the parameter's device and dtype. With `strict`, missing and unexpected keys are errors; shape
        mismatches always are. Returns (missing_keys, unexpected_keys).
        """
        own = {}
        for module_name, module in self.named_modules():
            for registry in (module._parameters, module._buffers):
                for name, t in registry.items():
                    if t is not None:
                        own[f"{module_name}.{name}" if module_name else name] = t
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        for key, t in own.items():
            if key in state_dict:
                shape = tuple(state_dict[key].shape)
                if shape != t.shape:
                    problems.append(f"{key}: the file has shape {shape}, this model has {t.shape}")
        if strict and missing:
            problems.append(f"missing keys: {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys: {unexpected}")
        if problems:
            raise ShapeError(f"{type(self).__name__}.load_state_dict failed:\n  " + "\n  ".join(problems))
        with no_grad():
            for key, t in own.items():
                if key in state_dict:
                    _, array = to_array(state_dict[key], device=t.device, dtype=t.dtype, copy=True)
                    t.data[...] = array
        return IncompatibleKeys(missing, unexpected)

    # -- description -------------------------------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in children]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"

    def summary(self, input_shape, device=None, dtype=None):
        """Print and return a Keras-style table: each layer, its output shape and parameter count.

        `input_shape` excludes the batch axis, e.g. (784,) or (1, 28, 28).
        """
        from minidl.nn.summary import summarize

        return summarize(self, input_shape, device=device, dtype=dtype)


class _HookHandle:
    _next_id = 0

    def __init__(self, hooks, hook):
        self.hooks, self.id = hooks, _HookHandle._next_id
        _HookHandle._next_id += 1
        hooks[self.id] = hook

    def remove(self):
        self.hooks.pop(self.id, None)

