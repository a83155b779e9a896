"""The losses of minidl.nn.functional and one_hot: against PyTorch, gradcheck, stability, dtypes, errors.

Comparisons run on the `device` fixture ("cpu" and the "strict" stand-in), so leaks fail here.
"""

import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F

RTOL = 1e-8
REDUCTIONS = ["mean", "sum", "none"]
N, C = 6, 4


def rng(seed=0):
    return np.random.default_rng(seed)


def assert_all_close(ours, theirs, rtol=RTOL):
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a.shape == b.shape, f"item {i}: shape {a.shape} != {b.shape}"
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-13, err_msg=f"item {i} (0: the loss, then gradients)")


def run_both(torch, device, fn, torch_fn, arrays, constants=(), seed=0):
    """fn(*float64 tensors requiring grad, *constant tensors) vs torch_fn on the same values, with the
    same upstream gradient. Returns ([loss, grads...] of minidl, same of torch)."""
    xs = [mdl.tensor(a, device=device, requires_grad=True) for a in arrays]
    cs = [None if c is None else mdl.tensor(c, device=device) for c in constants]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    tcs = [None if c is None else torch.tensor(c) for c in constants]
    y, ty = fn(*xs, *cs), torch_fn(*ts, *tcs)
    g = rng(seed).standard_normal(y.shape)
    y.backward(mdl.tensor(g, device=device))
    ty.backward(torch.tensor(g))
    return [y.numpy()] + [x.grad.numpy() for x in xs], [ty.detach().numpy()] + [t.grad.numpy() for t in ts]


# ---------------------------------------------------------------------------------------------------
# cross_entropy and nll_loss
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_matches_torch(device, torch, reduction, weighted, smoothing):
    logits = rng(1).standard_normal((N, C)) * 3
    target = rng(2).integers(0, C, N)
    weight = rng(3).random(C) + 0.5 if weighted else None
    ours, theirs = run_both(
        torch, device,
        lambda z, t, w: F.cross_entropy(z, t, w, reduction=reduction, label_smoothing=smoothing),
        lambda z, t, w: torch.nn.functional.cross_entropy(z, t, w, reduction=reduction, label_smoothing=smoothing),
        [logits], [target, weight])
    assert_all_close(ours, theirs)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_matches_torch(device, torch, reduction, weighted):
    log_probs = rng(1).standard_normal((N, C))
    target = rng(2).integers(0, C, N)
    weight = rng(3).random(C) + 0.5 if weighted else None
    ours, theirs = run_both(torch, device, lambda x, t, w: F.nll_loss(x, t, w, reduction=reduction),
                            lambda x, t, w: torch.nn.functional.nll_loss(x, t, w, reduction=reduction),
                            [log_probs], [target, weight])
    assert_all_close(ours, theirs)


def test_cross_entropy_equals_nll_of_log_softmax(device):
    z = mdl.tensor(rng(1).standard_normal((N, C)), device=device)
    t = mdl.tensor(rng(2).integers(0, C, N), device=device)
    np.testing.assert_allclose(F.cross_entropy(z, t).item(), F.nll_loss(F.log_softmax(z), t).item(), rtol=1e-12)


def test_cross_entropy_large_logits_are_finite(device, torch):
    z = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 1e4], [5e3, 5e3, -1e4]])
    t = np.array([1, 0, 2])
    ours, theirs = run_both(torch, device, lambda z, t: F.cross_entropy(z, t, reduction="none"),
                            lambda z, t: torch.nn.functional.cross_entropy(z, t, reduction="none"), [z], [t])
    assert all(np.isfinite(a).all() for a in ours)
    assert_all_close(ours, theirs)
    z32 = mdl.tensor(z.astype(np.float32), device=device, requires_grad=True)
    loss = F.cross_entropy(z32, mdl.tensor(t, device=device))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(z32.grad.numpy()).all()


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_and_nll_gradcheck(device, smoothing):
    z = mdl.tensor(rng(1).standard_normal((N, C)), device=device, requires_grad=True)
    t = mdl.tensor(rng(2).integers(0, C, N), device=device)
    w = mdl.tensor(rng(3).random(C) + 0.5, device=device)
    for reduction in REDUCTIONS:
        assert mdl.gradcheck(lambda z: F.cross_entropy(z, t, w, reduction, smoothing), (z,))
        assert mdl.gradcheck(lambda z: F.cross_entropy(z, t, None, reduction, smoothing), (z,))
    assert mdl.gradcheck(lambda z: F.nll_loss(z, t, w), (z,))


def test_cross_entropy_errors_name_values_and_shapes(device):
    z = mdl.zeros(3, 5, device=device)
    # out-of-range targets: raised by the call on the CPU, at the next host read (.item()) on a GPU
    with pytest.raises(ValueError, match=r"cross_entropy: target 5 is out of bounds.*\[0, 5\)"):
        F.cross_entropy(z, mdl.tensor([0, 5, 1], device=device)).item()
    with pytest.raises(ValueError, match=r"cross_entropy: target -1 is out of bounds"):
        F.cross_entropy(z, mdl.tensor([0, -1, 1], device=device)).item()
    with pytest.raises(mdl.ShapeError, match=r"cross_entropy: input of shape \(3, 5\) needs a target of shape "
                                             r"\(3,\).*got target of shape \(4,\)"):
        F.cross_entropy(z, mdl.tensor([0, 1, 2, 3], device=device))
    with pytest.raises(mdl.DTypeError, match=r"cross_entropy: target must hold integer class indices"):
        F.cross_entropy(z, mdl.tensor([0.0, 1.0, 2.0], device=device))
    with pytest.raises(mdl.ShapeError, match=r"cross_entropy: weight must have shape \(5,\)"):
        F.cross_entropy(z, mdl.tensor([0, 1, 2], device=device), weight=mdl.ones(4, device=device))
    with pytest.raises(ValueError, match=r"cross_entropy: reduction must be one of"):
        F.cross_entropy(z, mdl.tensor([0, 1, 2], device=device), reduction="avg")
    with pytest.raises(ValueError, match=r"nll_loss: target 7 is out of bounds"):
        F.nll_loss(z, mdl.tensor([7, 1, 2], device=device)).item()


# ---------------------------------------------------------------------------------------------------
# elementwise losses: binary cross-entropy (probabilities and logits), mse, l1, huber
# ---------------------------------------------------------------------------------------------------
SHAPE = (3, 4)


def _elementwise_cases(torch):
    TF = torch.nn.functional
    x = rng(1).standard_normal(SHAPE)
    t = rng(2).standard_normal(SHAPE)
    p = rng(3).random(SHAPE) * 0.9 + 0.05
    y01 = rng(4).random(SHAPE)
    w = rng(5).random(SHAPE) + 0.5
    pos_weight = rng(6).random(SHAPE[-1]) * 2 + 0.1
    return {
        "mse": (F.mse_loss, TF.mse_loss, x, t, {}),
        "l1": (F.l1_loss, TF.l1_loss, x, t, {}),
        "huber": (F.huber_loss, TF.huber_loss, 2 * x, t, {"delta": 0.7}),
        "bce": (F.binary_cross_entropy, TF.binary_cross_entropy, p, y01, {}),
        "bce_weight": (F.binary_cross_entropy, TF.binary_cross_entropy, p, y01, {"weight": w}),
        "bce_logits": (F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, 3 * x, y01, {}),
        "bce_logits_weights": (F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, 3 * x, y01,
                               {"weight": w, "pos_weight": pos_weight}),
    }


ELEMENTWISE = ["mse", "l1", "huber", "bce", "bce_weight", "bce_logits", "bce_logits_weights"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", ELEMENTWISE)
def test_elementwise_loss_matches_torch(device, torch, case, reduction):
    fn, torch_fn, a, b, extra = _elementwise_cases(torch)[case]
    numbers = {k: v for k, v in extra.items() if not isinstance(v, np.ndarray)}
    names = [k for k, v in extra.items() if isinstance(v, np.ndarray)]
    consts = [extra[k] for k in names]
    ours, theirs = run_both(torch, device,
                            lambda a, b, *c: fn(a, b, reduction=reduction, **numbers, **dict(zip(names, c))),
                            lambda a, b, *c: torch_fn(a, b, reduction=reduction, **numbers, **dict(zip(names, c))),
                            [a, b], consts)  # gradients for both the input and the target
    assert_all_close(ours, theirs)


@pytest.mark.parametrize("case", ELEMENTWISE)
def test_elementwise_loss_gradcheck(device, torch, case):
    fn, _, a, b, extra = _elementwise_cases(torch)[case]
    extra = {k: mdl.tensor(v, device=device) if isinstance(v, np.ndarray) else v for k, v in extra.items()}
    x = mdl.tensor(a, device=device, requires_grad=True)
    t = mdl.tensor(b, device=device, requires_grad=True)
    for reduction in REDUCTIONS:
        assert mdl.gradcheck(lambda x, t: fn(x, t, reduction=reduction, **extra), (x, t))


@pytest.mark.parametrize("case", ELEMENTWISE)
def test_elementwise_loss_float32_stays_float32(device, torch, case):
    fn, _, a, b, extra = _elementwise_cases(torch)[case]
    extra = {k: mdl.tensor(v, device=device) if isinstance(v, np.ndarray) else v for k, v in extra.items()}
    x = mdl.tensor(a.astype(np.float32), device=device, requires_grad=True)
    t = mdl.tensor(b.astype(np.float32), device=device, requires_grad=True)  # float64 weights are cast
    for reduction in REDUCTIONS:
        loss = fn(x, t, reduction=reduction, **extra)
        assert loss.dtype == np.float32
        loss.sum().backward()
        assert x.grad.dtype == t.grad.dtype == np.float32


def test_classification_losses_float32_stay_float32(device):
    z = mdl.tensor(rng(1).standard_normal((N, C)).astype(np.float32), device=device, requires_grad=True)
    t = mdl.tensor(rng(2).integers(0, C, N), device=device)
    w = mdl.tensor(rng(3).random(C), dtype=mdl.float64, device=device)
    for loss in (F.cross_entropy(z, t, w, label_smoothing=0.1), F.cross_entropy(z, t), F.nll_loss(z, t, w)):
        assert loss.dtype == np.float32
        loss.backward()
        assert z.grad.dtype == np.float32


def test_bce_with_logits_at_large_logits_is_finite_and_matches_torch(device, torch):
    x = np.array([1e4, -1e4, 1e4, -1e4, 0.0, 30.0])
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.5, 0.0])
    ours, theirs = run_both(
        torch, device, lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"),
        lambda x, t: torch.nn.functional.binary_cross_entropy_with_logits(x, t, reduction="none"), [x, t])
    assert all(np.isfinite(a).all() for a in ours)
    assert_all_close(ours, theirs)
    x32 = mdl.tensor(x.astype(np.float32), device=device, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x32, mdl.tensor(t.astype(np.float32), device=device))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x32.grad.numpy()).all()


def test_bce_clamps_its_logs_as_torch(device, torch):
    p = np.array([0.0, 1.0, 1e-60, 0.5])
    t = np.array([1.0, 0.0, 1.0, 1.0])
    ours, theirs = run_both(torch, device, lambda p: F.binary_cross_entropy(p, mdl.tensor(t, device=device),
                                                                           reduction="none"),
                            lambda p: torch.nn.functional.binary_cross_entropy(p, torch.tensor(t), reduction="none"),
                            [p])
    np.testing.assert_allclose(ours[0], [100.0, 100.0, 100.0, np.log(2)])
    assert_all_close(ours, theirs)


def test_elementwise_loss_errors(device):
    x = mdl.zeros(4, 1, device=device)
    with pytest.raises(mdl.ShapeError, match=r"mse_loss: input has shape \(4, 1\) but target has shape \(4,\)"):
        F.mse_loss(x, mdl.zeros(4, device=device))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input must hold probabilities in \[0, 1\]"):
        F.binary_cross_entropy(mdl.tensor([0.5, 1.5], device=device), mdl.tensor([0.0, 1.0], device=device))
    with pytest.raises(ValueError, match=r"huber_loss: delta must be positive"):
        F.huber_loss(x, x, delta=0)
    with pytest.raises(ValueError, match=r"l1_loss: reduction"):
        F.l1_loss(x, x, reduction="mean ")


def test_loss_accepts_a_numpy_target():
    x = mdl.tensor([[1.0, 2.0]], requires_grad=True)
    loss = F.mse_loss(x, np.array([[0.0, 0.0]]))
    assert loss.dtype == np.float32 and abs(loss.item() - 2.5) < 1e-6


# ---------------------------------------------------------------------------------------------------
# one_hot
# ---------------------------------------------------------------------------------------------------
def test_one_hot_matches_torch(device, torch):
    idx = np.array([[0, 2], [3, 1]])
    ours = F.one_hot(mdl.tensor(idx, device=device), 5)
    assert ours.dtype == np.int64 and not ours.requires_grad
    np.testing.assert_array_equal(ours.numpy(), torch.nn.functional.one_hot(torch.tensor(idx), 5).numpy())
    np.testing.assert_array_equal(F.one_hot(mdl.tensor(idx, device=device)).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor(idx)).numpy())
    with pytest.raises(ValueError, match=r"one_hot: index 3 is out of bounds for num_classes=3"):
        F.one_hot(mdl.tensor(idx, device=device), 3)
