"""Layers and loss modules against PyTorch's, with the same weights and inputs, in float64."""

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn

RTOL = 1e-8


def copy_weights(ours, theirs, torch):
    """Load a PyTorch module's state into ours (the keys must line up exactly)."""
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)


def run_both(ours, theirs, x_np, torch, target=None, our_loss=None, their_loss=None):
    x = mdl.tensor(x_np, requires_grad=True)
    tx = torch.tensor(x_np, requires_grad=True)
    out, tout = ours(x), theirs(tx)
    if our_loss is None:
        loss, tloss = (out * out).sum(), (tout * tout).sum()
    else:
        loss, tloss = our_loss(out, mdl.tensor(target)), their_loss(tout, torch.tensor(target))
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=RTOL, atol=1e-12)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), theirs_params[name].grad.numpy(), rtol=RTOL, atol=1e-12,
                                   err_msg=name)
    return loss.item(), tloss.item()


def lenet(nn_module, bn):
    m = nn_module
    layers = [m.Conv2d(1, 6, 5, padding=2), m.BatchNorm2d(6) if bn else m.Identity(), m.ReLU(), m.MaxPool2d(2),
              m.Conv2d(6, 16, (5, 3), stride=2, padding=1), m.Tanh(), m.AvgPool2d(2), m.Flatten(),
              m.Linear(16 * 1 * 1, 20), m.BatchNorm1d(20) if bn else m.Identity(), m.Sigmoid(),
              m.Linear(20, 10), m.LeakyReLU(0.1)]
    return m.Sequential(*layers)


@pytest.mark.parametrize("bn", [False, True])
def test_a_cnn_forward_and_every_gradient_equal_pytorchs(torch, bn):
    torch.manual_seed(0)
    theirs = lenet(torch.nn, bn).double()
    ours = lenet(nn, bn).astype(mdl.float64)
    copy_weights(ours, theirs, torch)
    x = np.random.default_rng(0).standard_normal((4, 1, 12, 12))
    run_both(ours, theirs, x, torch)


def test_batchnorm_running_statistics_after_five_steps_and_eval_output(torch):
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.BatchNorm1d(4, momentum=0.2)).double()
    ours = nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4, momentum=0.2)).astype(mdl.float64)
    copy_weights(ours, theirs, torch)
    rng = np.random.default_rng(1)
    for _ in range(5):
        x = rng.standard_normal((8, 5)) * 3 + 1
        ours(mdl.tensor(x))
        theirs(torch.tensor(x))
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), rtol=RTOL, err_msg=key)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((3, 5))
    np.testing.assert_allclose(ours(mdl.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=RTOL)


def test_dropout_module_is_identity_in_eval_and_inverted_in_train():
    layer = nn.Dropout(0.25)
    x = mdl.ones(1000, 1000)
    y = layer(x).numpy()
    assert abs((y == 0).mean() - 0.25) < 0.005
    assert abs(y.mean() - 1.0) < 0.01 and set(np.unique(y).tolist()) <= {0.0, np.float32(1 / 0.75).item()}
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())


LOSSES = [
    ("CrossEntropyLoss", {}, "classes"),
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "reduction": "sum"}, "classes"),
    ("CrossEntropyLoss", {"weight": [1.0, 2.0, 0.5, 1.5]}, "classes"),
    ("NLLLoss", {}, "log_probs"),
    ("BCELoss", {}, "probabilities"),
    ("BCEWithLogitsLoss", {"pos_weight": [2.0, 0.5, 1.0, 1.0]}, "binary"),
    ("MSELoss", {}, "real"),
    ("L1Loss", {"reduction": "none"}, "real"),
    ("HuberLoss", {"delta": 0.5}, "real"),
]


@pytest.mark.parametrize("name, kwargs, kind", LOSSES)
def test_loss_modules_equal_pytorchs(torch, name, kwargs, kind):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 4))
    target = {"classes": rng.integers(0, 4, 6), "log_probs": rng.integers(0, 4, 6),
              "probabilities": rng.random((6, 4)), "binary": (rng.random((6, 4)) > 0.5) * 1.0,
              "real": rng.standard_normal((6, 4))}[kind]
    if kind == "log_probs":
        x = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    if kind == "probabilities":
        x = 1 / (1 + np.exp(-x))
    ours_kwargs = {k: (mdl.tensor(v, dtype=mdl.float64) if isinstance(v, list) else v) for k, v in kwargs.items()}
    theirs_kwargs = {k: (torch.tensor(v, dtype=torch.float64) if isinstance(v, list) else v) for k, v in kwargs.items()}
    ours, theirs = getattr(nn, name)(**ours_kwargs), getattr(torch.nn, name)(**theirs_kwargs)
    xt, tx = mdl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    loss, tloss = ours(xt, mdl.tensor(target)), theirs(tx, torch.tensor(target))
    np.testing.assert_allclose(loss.numpy(), tloss.detach().numpy(), rtol=RTOL)
    loss.sum().backward()
    tloss.sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=RTOL, atol=1e-14)


def test_cross_entropy_with_a_label_out_of_range_raises():
    with pytest.raises(ValueError, match="out of"):
        nn.CrossEntropyLoss()(mdl.zeros(2, 3), mdl.tensor([0, 3]))


def test_loss_reduction_is_checked():
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.MSELoss(reduction="average")


def test_gradcheck_through_modules_in_float64():
    mdl.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, (3, 2), stride=2, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten()).astype(mdl.float64)
    x = mdl.randn(2, 2, 6, 5, dtype=mdl.float64, requires_grad=True)
    assert mdl.gradcheck(lambda t: model(t), (x,))
