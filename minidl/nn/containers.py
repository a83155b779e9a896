"""`Sequential`: layers applied one after the other; `ModuleList` and `ModuleDict`: submodules that a forward
uses its own way."""

import numbers

from minidl import anomaly
from minidl.errors import ArgumentError, ArgumentTypeError
from minidl.nn.activation import ReLU
from minidl.nn.conv import Conv2d
from minidl.nn.module import Module
from minidl.nn.pooling import MaxPool2d


class Sequential(Module):
    """y = layer_n(... layer_2(layer_1(x))). Layers are named "0", "1", ... as in PyTorch."""

    def __init__(self, *layers):
        super().__init__()
        for layer in layers:
            self.append(layer)

    def forward(self, x):
        layers = list(self._modules.values())
        i = 0
        while i < len(layers):
            if i + 2 < len(layers) and type(layers[i]) is Conv2d and _fusable(*layers[i:i + 3]):
                x = layers[i].then_relu_max_pool(x, layers[i + 2])  # Conv2d -> ReLU -> MaxPool2d, one op
                i += 3
            elif i + 1 < len(layers) and _fusable(layers[i], layers[i + 1]):
                x = layers[i + 1].relu_then_pool(x)  # ReLU -> MaxPool2d as one op: see _fusable
                i += 2
            else:
                x = layers[i](x)
                i += 1
        return x

    def append(self, layer):
        if not isinstance(layer, Module):
            raise ArgumentTypeError(f"Sequential: layer {len(self._modules)} is a {type(layer).__name__}, not a "
                                    f"Module; call a function from a Module's forward (activations have layer "
                                    f"forms: nn.ReLU(), nn.Tanh(), ...)")
        self.add_module(str(len(self._modules)), layer)
        return self

    def __getitem__(self, index):
        layers = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*layers[index])
        return layers[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


def _fusable(*layers):
    """True for an nn.ReLU followed by an nn.MaxPool2d (optionally preceded by an nn.Conv2d), none with
    forward hooks, outside detect_anomaly(): Sequential then runs them as one op, relu(max_pool(x))
    (max and ReLU commute), so the full-size ReLU output is never made, and with the Conv2d the pool
    reads each chunk of the convolution's output while it is in cache (F.conv2d_relu_max_pool2d).
    Same values, same gradients, less memory traffic. A hook (Monitor's, yours) or anomaly mode, which
    name each layer, keep the layers apart."""
    if type(layers[-1]) is not MaxPool2d or type(layers[-2]) is not ReLU:
        return False
    return not any(layer._forward_hooks for layer in layers) and not anomaly._enabled.get()


class ModuleList(Module):
    """A list of modules, registered as submodules "0", "1", ... (their parameters are the list's).

    Holds layers that `forward` calls in its own way (a stack of transformer blocks, one head per
    task); unlike Sequential it has no forward of its own. PyTorch's list operations: append, extend,
    insert, indexing (an int or a slice), len, iteration, `del`, assignment to an index.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _index(self, index):
        if not isinstance(index, numbers.Integral) or isinstance(index, bool):
            raise ArgumentTypeError(f"ModuleList indices must be ints or slices, got {type(index).__name__}")
        n, index = len(self._modules), int(index)
        if not -n <= index < n:
            raise IndexError(f"ModuleList index {index} is out of range for a list of {n} modules")
        return index % n

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[str(self._index(index))]

    def __setitem__(self, index, module):
        self.add_module(str(self._index(index)), _checked_module("ModuleList", module))

    def __delitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[self._index(index)]
        self._renumber(modules)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(list(self._modules.values()))

    def append(self, module):
        self.add_module(str(len(self._modules)), _checked_module("ModuleList", module))
        return self

    def extend(self, modules):
        if isinstance(modules, Module) and not isinstance(modules, (ModuleList, Sequential)):
            raise ArgumentTypeError(f"ModuleList.extend expects an iterable of Modules, got a single "
                                    f"{type(modules).__name__}; use append")
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        modules = list(self._modules.values())
        modules.insert(index, _checked_module("ModuleList", module))
        self._renumber(modules)

    def _renumber(self, modules):
        for name in list(self._modules):
            delattr(self, name)
        for module in modules:
            self.append(module)

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]


class ModuleDict(Module):
    """A dict of modules, registered as submodules under their keys (insertion order kept).

    PyTorch's dict operations: `md[key]`, `md[key] = module`, `del md[key]`, `key in md`, len, iteration
    over the keys, keys(), values(), items(), update(), pop(), clear().
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no module {key!r}; its keys are {list(self._modules)}")
        return self._modules[key]

    def __setitem__(self, key, module):
        if not isinstance(key, str):
            raise ArgumentTypeError(f"ModuleDict keys must be strings, got {type(key).__name__}")
        if not key or "." in key:
            raise ArgumentError(f"ModuleDict keys must be non-empty and contain no '.', got {key!r} "
                                f"(dots separate names in state_dict keys)")
        if hasattr(type(self), key) or (hasattr(self, key) and key not in self._modules):
            raise ArgumentError(f"ModuleDict key {key!r} is the name of an attribute of ModuleDict; choose "
                                f"another key")
        self.add_module(key, _checked_module("ModuleDict", module))

    def __delitem__(self, key):
        self[key]  # the KeyError with the keys, for a missing one
        delattr(self, key)

    def __contains__(self, key):
        return key in self._modules

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(list(self._modules))

    def keys(self):
        return list(self._modules.keys())

    def values(self):
        return list(self._modules.values())

    def items(self):
        return list(self._modules.items())

    def update(self, modules):
        """Add (or replace) modules from a mapping or an iterable of (key, module) pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ArgumentTypeError(f"ModuleDict.update expects a mapping or (key, module) pairs, got "
                                        f"{pair!r}")
            self[pair[0]] = pair[1]

    def pop(self, key):
        module = self[key]
        del self[key]
        return module

    def clear(self):
        for key in list(self._modules):
            delattr(self, key)


def _checked_module(owner, module):
    if not isinstance(module, Module):
        raise ArgumentTypeError(f"{owner}: expected a Module, got {type(module).__name__}")
    return module
