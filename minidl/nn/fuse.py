"""`nn.fuse(model)`: a model whose Conv2d -> ReLU -> MaxPool2d runs (and ReLU -> MaxPool2d pairs) are
single fused layers, visible in its `repr`, `summary` and graph. minidl never fuses silently:
`nn.Sequential` runs its layers as written; a fused layer exists only where `fuse` was asked for.

The fused layers give the values and gradients of the layers they replace (tests/test_fast_paths.py).
They run as one node where a fast path takes them (minidl/ops/fast/conv_relu_pool.py), and as the
reference ops otherwise (other geometries, the GPU, `mdl.fast_paths(False)`).

Parameters are shared, not copied: the fused model and `model` train the same Parameter objects.
State-dict keys stay those of `model`: a fused layer takes the place (and the name) of the first
layer it replaces, holds that Conv2d's `weight` and `bias` under the same names, and the names of the
layers it absorbed are left out. So `fused.state_dict()` loads into the unfused model and back.
"""

import copy

from minidl.arguments import tensor_argument
from minidl.nn import functional as F
from minidl.nn.activation import ReLU
from minidl.nn.containers import Sequential
from minidl.nn.conv import Conv2d
from minidl.nn.module import Module
from minidl.nn.pooling import MaxPool2d


class Conv2dReLUMaxPool2d(Module):
    """y = max_pool2d(relu(conv2d(x, weight, bias))): an nn.Conv2d, nn.ReLU and nn.MaxPool2d as one layer
    (F.conv2d_relu_max_pool2d), made by `nn.fuse`. Holds the Conv2d's weight and bias (shared)."""

    def __init__(self, conv, pool):
        super().__init__()
        self.weight = conv.weight
        if conv.bias is not None:
            self.bias = conv.bias
        else:
            self.register_parameter("bias", None)
        self.pool_settings = (pool.kernel_size, pool.stride, pool.padding)
        object.__setattr__(self, "_conv", conv)  # settings and input checks, not a child (its keys stay out)
        object.__setattr__(self, "_pool", pool)

    def forward(self, x):
        x = tensor_argument(type(self).__name__, "x", x)
        conv = self._conv
        conv.check(x)
        self._pool.check(x)
        kernel, stride, padding = self.pool_settings
        return F.conv2d_relu_max_pool2d(x, self.weight, self.bias, conv.stride, conv.padding, kernel, stride, padding)

    def extra_repr(self):
        return f"{self._conv.extra_repr()} -> ReLU -> MaxPool2d({self._pool.extra_repr()})"


class ReLUMaxPool2d(Module):
    """y = max_pool2d(relu(x)): an nn.ReLU and nn.MaxPool2d as one layer (F.relu_max_pool2d), made by `nn.fuse`."""

    def __init__(self, pool):
        super().__init__()
        object.__setattr__(self, "_pool", pool)

    def forward(self, x):
        x = tensor_argument(type(self).__name__, "x", x)
        pool = self._pool
        pool.check(x)
        return F.relu_max_pool2d(x, pool.kernel_size, pool.stride, pool.padding)

    def extra_repr(self):
        return f"ReLU -> MaxPool2d({self._pool.extra_repr()})"


def _plain(layer, kind):
    """True for a layer of exactly this class without forward hooks (a hook expects its own layer)."""
    return type(layer) is kind and not layer._forward_hooks


def _fuse_sequential(seq):
    """A new Sequential with the runs of seq fused, each layer keeping its name (see the module docstring)."""
    names, layers = list(seq._modules), list(seq._modules.values())
    fused, i = Sequential(), 0
    while i < len(layers):
        if (i + 2 < len(layers) and _plain(layers[i], Conv2d) and _plain(layers[i + 1], ReLU)
                and _plain(layers[i + 2], MaxPool2d)):
            fused.add_module(names[i], Conv2dReLUMaxPool2d(layers[i], layers[i + 2]))
            i += 3
        elif i + 1 < len(layers) and _plain(layers[i], ReLU) and _plain(layers[i + 1], MaxPool2d):
            fused.add_module(names[i], ReLUMaxPool2d(layers[i + 1]))
            i += 2
        else:
            fused.add_module(names[i], fuse(layers[i]))
            i += 1
    fused.training = seq.training
    fused._forward_hooks.update(seq._forward_hooks)
    return fused


def fuse(model):
    """A model computing what `model` computes, with every nn.Sequential's Conv2d -> ReLU -> MaxPool2d
    run (and ReLU -> MaxPool2d pair) replaced by one fused layer (nn.Conv2dReLUMaxPool2d,
    nn.ReLUMaxPool2d). Parameters are shared with `model`; state-dict keys are unchanged. Layers with
    forward hooks are left as they are. `model` itself is not modified."""
    if type(model) is Sequential:
        return _fuse_sequential(model)
    children = dict(model._modules)
    fused_children = {name: (fuse(child) if child is not None else None) for name, child in children.items()}
    if all(fused_children[name] is children[name] for name in children):
        return model
    clone = copy.copy(model)  # a shallow copy with registries of its own (the same Parameters in them)
    for registry in ("_parameters", "_buffers", "_modules", "_forward_hooks"):
        object.__setattr__(clone, registry, dict(getattr(model, registry)))
    for name, child in fused_children.items():
        setattr(clone, name, child)
    return clone
