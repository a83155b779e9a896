"""nn.fuse(model): fused layers where asked for, visible in repr and summary, computing exactly what the
unfused model computes (outputs, gradients of the input and of every parameter), with the same
parameters and state-dict keys; the model given to it is left as it was."""

import numpy as np
import pytest

import minidl as mdl
from minidl import nn


class Net(nn.Module):
    """A custom module holding a Sequential: fuse reaches into children."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(3, 4, 3, stride=2), nn.Identity(), nn.ReLU(),
                                      nn.MaxPool2d(2, padding=1))
        self.head = nn.Linear(4 * 2 * 2, 3)

    def forward(self, x):
        return self.head(self.features(x).reshape(x.shape[0], -1))


def build(seed=0):
    mdl.manual_seed(seed)
    return Net().astype(mdl.float64)


def run(model, x, device):
    xt = mdl.tensor(x, device=device, requires_grad=True)
    y = model(xt)
    y.backward(mdl.tensor(np.linspace(-1, 1, y.size).reshape(y.shape), device=device))
    grads = {name: p.grad.numpy() for name, p in model.named_parameters()}
    return y.numpy(), xt.grad.numpy(), grads


def test_fused_model_equals_the_unfused_one(device):
    x = np.random.default_rng(0).standard_normal((5, 1, 12, 12))
    plain = build().to(device)
    y1, gx1, g1 = run(plain, x, device)
    plain.zero_grad()
    fused = nn.fuse(plain)
    assert [type(m).__name__ for m in fused.features] == ["Conv2dReLUMaxPool2d", "Conv2d", "Identity",
                                                          "ReLUMaxPool2d"]
    y2, gx2, g2 = run(fused, x, device)
    np.testing.assert_allclose(y2, y1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gx2, gx1, rtol=1e-10, atol=1e-12)
    assert g1.keys() == g2.keys()
    for name in g1:
        np.testing.assert_allclose(g2[name], g1[name], rtol=1e-10, atol=1e-12, err_msg=name)


def test_fuse_shares_parameters_keeps_state_dict_keys_and_leaves_the_model_alone():
    plain = build()
    fused = nn.fuse(plain)
    assert [type(m).__name__ for m in plain.features] == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "Identity",
                                                          "ReLU", "MaxPool2d"]
    assert all(a is b for a, b in zip(plain.parameters(), fused.parameters()))
    assert list(fused.state_dict()) == list(plain.state_dict())
    other = build(seed=1)                              # different weights
    other.load_state_dict(fused.state_dict())          # fused keys load into the unfused model ...
    again = nn.fuse(build(seed=2))
    again.load_state_dict(other.state_dict())          # ... and back
    x = mdl.tensor(np.random.default_rng(1).standard_normal((2, 1, 12, 12)))
    np.testing.assert_array_equal(again(x).numpy(), plain(x).numpy())


def test_fused_layers_show_in_repr_and_summary():
    fused = nn.fuse(build())
    text = repr(fused)
    assert "(0): Conv2dReLUMaxPool2d(1, 3, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1) -> ReLU" in text
    assert "(5): ReLUMaxPool2d(ReLU -> MaxPool2d(kernel_size=2, stride=2, padding=1))" in text
    table = fused.summary((1, 12, 12))
    assert "features.0 (Conv2dReLUMaxPool2d)" in table and "(None, 3, 6, 6)" in table and "30" in table


def test_appending_to_a_fused_sequential_takes_a_free_name():
    fused = nn.fuse(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten()))
    fused.append(nn.Linear(2, 2))
    assert list(fused._modules) == ["0", "3", "4"]


@pytest.mark.parametrize("bad", [np.zeros((2, 2, 8, 8)), np.zeros((2, 8, 8))])
def test_fused_layer_checks_its_input_as_the_conv_does(bad):
    fused = nn.fuse(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2)))
    with pytest.raises(mdl.ShapeError, match="Conv2d"):
        fused(mdl.tensor(bad))
