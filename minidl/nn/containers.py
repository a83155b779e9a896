"""`Sequential`: layers applied one after the other."""

from minidl.errors import ArgumentTypeError
from minidl.nn.module import Module


class Sequential(Module):
    """y = layer_n(... layer_2(layer_1(x))). Layers are named "0", "1", ... as in PyTorch.

    The layers run one after the other, exactly as written: no silent fusion (nn.fuse asks for it).
    """

    def __init__(self, *layers):
        super().__init__()
        for layer in layers:
            self.append(layer)

    def forward(self, x):
        for layer in self._modules.values():
            x = layer(x)
        return x

    def append(self, layer):
        if not isinstance(layer, Module):
            raise ArgumentTypeError(f"Sequential: layer {len(self._modules)} is a {type(layer).__name__}, not a "
                                    f"Module; call a function from a Module's forward (activations have layer "
                                    f"forms: nn.ReLU(), nn.Tanh(), ...)")
        # after the last numbered layer (nn.fuse keeps the original names, so numbers may skip)
        index = max((int(name) for name in self._modules if name.isdigit()), default=-1) + 1
        self.add_module(str(index), layer)
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

