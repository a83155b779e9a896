"""`Sequential`: layers applied one after the other."""

from minidl import anomaly
from minidl.errors import ArgumentTypeError
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
