"""No float64 creeps into float32 graphs, and the engine's per-op work stays small (counted, not timed).

NumPy 2 (NEP 50) treats a 0-d float64 array as a strong type: a float32 gradient multiplied by
`np.float64(1 / N)`, or by an array made from a Python float, silently turns float64 and then the whole
backward is float64 (a real DeZero bug under NumPy 2). Here every core op, every layer and loss, and a
full MLP and LeNet-5 training step with each optimizer keep float32: outputs, gradients, parameters and
optimizer state. Speed itself is never asserted in tests (benchmarks/ measures it).
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minidl as mdl
from minidl import nn
from minidl.autograd import topological_order
from minidl.benchmark import build_minidl
from minidl.nn import functional as F

from op_cases import OPS

F32 = np.float32
FIXTURES_OK = settings(suppress_health_check=[*settings.default.suppress_health_check,
                                              HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("op", [op for op in OPS if op.out_dtype is None], ids=str)
@FIXTURES_OK
@given(data=st.data())
def test_every_core_op_keeps_float32(op, device, data):
    arrays, kwargs = data.draw(op.inputs, label="(arrays, kwargs)")
    inputs = [mdl.tensor(np.asarray(a, dtype=F32), device=device, requires_grad=True) for a in arrays]
    y = op.mdl(*inputs, **kwargs)
    assert y.dtype == F32, f"{op.name} forward gave {y.dtype}"
    (y * 1.5).sum().backward()  # a Python-float scale on the way back as well
    for i, x in enumerate(inputs):
        assert x.grad is not None and x.grad.dtype == F32, f"{op.name}: gradient {i} is {x.grad and x.grad.dtype}"


LAYER_CASES = {
    "linear": (lambda: nn.Linear(6, 3), (4, 6)),
    "conv": (lambda: nn.Conv2d(2, 3, 3, padding=1), (2, 2, 6, 6)),
    "conv_stride2": (lambda: nn.Conv2d(2, 3, 3, stride=2), (2, 2, 7, 7)),
    "maxpool": (lambda: nn.MaxPool2d(2), (2, 2, 6, 6)),
    "maxpool_overlap": (lambda: nn.MaxPool2d(3, stride=2, padding=1), (2, 2, 6, 6)),
    "relu_maxpool": (lambda: nn.Sequential(nn.ReLU(), nn.MaxPool2d(2)), (2, 2, 6, 6)),
    "avgpool": (lambda: nn.AvgPool2d(2), (2, 2, 6, 6)),
    "batchnorm1d": (lambda: nn.BatchNorm1d(5), (4, 5)),
    "batchnorm2d": (lambda: nn.BatchNorm2d(3), (2, 3, 4, 4)),
    "dropout": (lambda: nn.Dropout(0.3), (4, 5)),
    "sigmoid_tanh": (lambda: nn.Sequential(nn.Sigmoid(), nn.Tanh(), nn.LeakyReLU()), (4, 5)),
    "softmax": (lambda: nn.Sequential(nn.Softmax(), nn.LogSoftmax()), (4, 5)),
}


@pytest.mark.parametrize("name", LAYER_CASES)
def test_every_layer_keeps_float32(name, device):
    make, shape = LAYER_CASES[name]
    mdl.manual_seed(0)
    layer = make().to(device)
    x = mdl.randn(*shape, device=device, requires_grad=True)
    y = layer(x)
    assert y.dtype == F32
    (y * 0.5).mean().backward()
    assert x.grad.dtype == F32
    for p in layer.parameters():
        assert p.dtype == F32 and p.grad.dtype == F32
    for key, b in layer.state_dict().items():
        assert b.dtype.kind != "f" or b.dtype == F32, key


LOSSES = {
    "cross_entropy": lambda z, t, p, y: F.cross_entropy(z, t),
    "cross_entropy_smooth_weighted": lambda z, t, p, y: F.cross_entropy(z, t, weight=[1.0, 2.0, 0.5],
                                                                         label_smoothing=0.1),
    "nll": lambda z, t, p, y: F.nll_loss(F.log_softmax(z), t),
    "bce": lambda z, t, p, y: F.binary_cross_entropy(p, y),
    "bce_logits": lambda z, t, p, y: F.binary_cross_entropy_with_logits(z, y, pos_weight=[1.0, 2.0, 3.0]),
    "mse": lambda z, t, p, y: F.mse_loss(z, y),
    "l1": lambda z, t, p, y: F.l1_loss(z, y, reduction="sum"),
    "huber": lambda z, t, p, y: F.huber_loss(z, y, delta=0.5),
}


@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_keeps_float32(name, device):
    rng = np.random.default_rng(0)
    z = mdl.tensor(rng.standard_normal((4, 3)).astype(F32), device=device, requires_grad=True)
    p = F.sigmoid(z)
    t = mdl.tensor([0, 2, 1, 2], device=device)
    y = mdl.tensor(rng.random((4, 3)).astype(F32), device=device)
    loss = LOSSES[name](z, t, p, y)
    assert loss.dtype == F32
    loss.backward()
    assert z.grad.dtype == F32


OPTIMIZERS = {
    "sgd": lambda ps: mdl.optim.SGD(ps, lr=0.1),
    "sgd_momentum": lambda ps: mdl.optim.SGD(ps, lr=np.float64(0.1), momentum=np.float64(0.9),
                                             weight_decay=1e-4),
    "sgd_nesterov": lambda ps: mdl.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda ps: mdl.optim.Adam(ps, lr=np.float64(1e-3)),
    "adamw": lambda ps: mdl.optim.AdamW(ps, lr=1e-3),
    "adagrad": lambda ps: mdl.optim.Adagrad(ps, lr=1e-2),
    "rmsprop": lambda ps: mdl.optim.RMSprop(ps, lr=1e-3, momentum=0.5),
}


@pytest.mark.parametrize("opt", OPTIMIZERS)
@pytest.mark.parametrize("model", ["mlp", "lenet"])
def test_a_full_training_step_keeps_float32_everywhere(model, opt, device):
    mdl.manual_seed(0)
    net = build_minidl(model, device)
    optimizer = OPTIMIZERS[opt](net.parameters())
    shape = (4, 784) if model == "mlp" else (4, 1, 28, 28)
    x = mdl.randn(*shape, device=device)
    t = mdl.tensor([1, 0, 9, 3], device=device)
    for _ in range(2):  # the second step uses the state the first created
        optimizer.zero_grad()
        loss = F.cross_entropy(net(x), t)
        assert loss.dtype == F32
        loss.backward()
        optimizer.step()
    for p in net.parameters():
        assert p.dtype == F32 and p.grad.dtype == F32
    for state in optimizer.state.values():
        for key, value in state.items():
            if hasattr(value, "dtype"):
                assert value.dtype.kind != "f" or value.dtype == F32, f"{opt} state {key} is {value.dtype}"


def test_python_and_numpy_scalars_do_not_promote():
    x = mdl.tensor([1.0, 2.0], requires_grad=True)
    for y in (x * 0.1, 0.1 * x, x / 3.0, x + 1e-300, x - np.float32(2.0), x ** 2.0, x * (1 / 3)):
        assert y.dtype == F32
    y = (x * 0.1 + 2.0) / 7.0
    y.sum().backward()
    assert x.grad.dtype == F32


# -- engine overhead, counted ---------------------------------------------------------------------------------
def _nodes(loss):
    return len(topological_order(loss.grad_fn))


def test_training_steps_record_few_nodes():
    # each layer is one node (fused linear; conv, ReLU and pool fused into one); +1 for the loss
    mdl.manual_seed(0)
    mlp = build_minidl("mlp")
    assert _nodes(F.cross_entropy(mlp(mdl.randn(2, 784)), mdl.tensor([0, 1]))) == 6
    lenet = build_minidl("lenet")
    assert _nodes(F.cross_entropy(lenet(mdl.randn(2, 1, 28, 28)), mdl.tensor([0, 1]))) == 9


def test_a_long_scalar_chain_backpropagates_and_frees_its_graph():
    x = mdl.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y + 1.0
    assert len(topological_order(y.grad_fn)) == 20_000
    first = y.grad_fn
    y.backward()
    assert x.grad.item() == 1.0 and x.grad.dtype == F32
    assert first.inputs is None and first.saved is None  # freed after backward
