"""F.conv2d, F.max_pool2d, F.avg_pool2d, F.batch_norm, F.dropout: against PyTorch, gradcheck, dtypes, errors.

Every comparison runs on the `device` fixture ("cpu" and the "strict" stand-in), so an op that leaks
device arrays into NumPy fails here.
"""

import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F

RTOL = 1e-8


def run_both(torch, device, fn, torch_fn, arrays, seed=0):
    """fn on float64 minidl tensors and torch_fn on torch tensors from the same arrays; backward of the
    same random upstream gradient through both. Returns ([output, grads...] of minidl, same of torch)."""
    xs = [mdl.tensor(a, device=device, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = fn(*xs), torch_fn(*ts)
    g = np.random.default_rng(seed).standard_normal(y.shape)
    y.backward(mdl.tensor(g, device=device))
    ty.backward(torch.tensor(g))
    ours = [y.numpy()] + [x.grad.numpy() for x in xs]
    theirs = [ty.detach().numpy()] + [t.grad.numpy() for t in ts]
    return ours, theirs


def assert_all_close(ours, theirs, rtol=RTOL):
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a.shape == b.shape, f"item {i}: shape {a.shape} != {b.shape}"
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * max(1.0, float(np.abs(b).max(initial=0))) * 1e-3,
                                   err_msg=f"item {i} (0: output, then the gradients)")


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ---------------------------------------------------------------------------------------------------
# conv2d
# ---------------------------------------------------------------------------------------------------
CONV_CASES = [
    # x shape, w shape, stride, padding
    ((2, 3, 7, 6), (4, 3, 3, 2), 2, 1),
    ((2, 3, 8, 8), (5, 3, 3, 3), 1, 1),
    ((1, 1, 9, 7), (2, 1, 5, 3), (2, 1), (0, 2)),
    ((3, 2, 6, 5), (3, 2, 1, 1), 1, 0),
    ((2, 4, 5, 5), (3, 4, 5, 5), 1, 0),   # kernel as large as the input: one output pixel
    ((2, 2, 10, 9), (3, 2, 2, 4), 3, (1, 2)),
]


@pytest.mark.parametrize("xs, ws, stride, padding", CONV_CASES)
def test_conv2d_matches_torch(device, torch, xs, ws, stride, padding):
    arrays = [rand(*xs, seed=1), rand(*ws, seed=2), rand(ws[0], seed=3)]
    ours, theirs = run_both(torch, device, lambda x, w, b: F.conv2d(x, w, b, stride, padding),
                            lambda x, w, b: torch.nn.functional.conv2d(x, w, b, stride, padding), arrays)
    assert_all_close(ours, theirs)


def test_conv2d_without_bias_matches_torch(device, torch):
    arrays = [rand(2, 3, 6, 7, seed=1), rand(4, 3, 2, 3, seed=2)]
    ours, theirs = run_both(torch, device, lambda x, w: F.conv2d(x, w, stride=2, padding=1),
                            lambda x, w: torch.nn.functional.conv2d(x, w, stride=2, padding=1), arrays)
    assert_all_close(ours, theirs)


def test_conv2d_gradcheck(device):
    x = mdl.tensor(rand(2, 2, 5, 4, seed=1), device=device, requires_grad=True)
    w = mdl.tensor(rand(3, 2, 3, 2, seed=2), device=device, requires_grad=True)
    b = mdl.tensor(rand(3, seed=3), device=device, requires_grad=True)
    assert mdl.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), (x, w, b))


def test_conv2d_only_weight_needs_grad():
    x = mdl.tensor(rand(2, 1, 6, 6, seed=1))  # a first layer: the input needs no gradient
    w = mdl.tensor(rand(2, 1, 3, 3, seed=2), requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()
    assert w.grad.shape == w.shape and x.grad is None


def test_conv2d_float32_stays_float32(device):
    x = mdl.tensor(rand(2, 3, 6, 6).astype(np.float32), device=device, requires_grad=True)
    w = mdl.tensor(rand(4, 3, 3, 3).astype(np.float32), device=device, requires_grad=True)
    b = mdl.tensor(rand(4).astype(np.float32), device=device, requires_grad=True)
    y = F.conv2d(x, w, b, stride=2, padding=1)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


def test_conv2d_errors_name_the_shapes():
    x, w = mdl.zeros(2, 3, 8, 8), mdl.zeros(4, 5, 3, 3)
    with pytest.raises(mdl.ShapeError, match=r"conv2d.*3 channels.*5 input channels"):
        F.conv2d(x, w)
    with pytest.raises(mdl.ShapeError, match=r"conv2d.*\(N, C, H, W\).*\(3, 8, 8\)"):
        F.conv2d(mdl.zeros(3, 8, 8), mdl.zeros(4, 3, 3, 3))
    with pytest.raises(mdl.ShapeError, match=r"conv2d: bias must have shape \(4,\)"):
        F.conv2d(mdl.zeros(1, 3, 8, 8), mdl.zeros(4, 3, 3, 3), mdl.zeros(3))
    with pytest.raises(mdl.ShapeError, match=r"conv2d: kernel 5x5 is larger than the padded input 4x4"):
        F.conv2d(mdl.zeros(1, 3, 4, 4), mdl.zeros(4, 3, 5, 5))
    with pytest.raises(mdl.DTypeError, match=r"conv2d.*float32.*float64"):
        F.conv2d(mdl.zeros(1, 3, 4, 4), mdl.zeros(4, 3, 3, 3, dtype=mdl.float64))
    with pytest.raises(ValueError, match=r"conv2d: stride"):
        F.conv2d(mdl.zeros(1, 3, 4, 4), mdl.zeros(4, 3, 3, 3), stride=0)


# ---------------------------------------------------------------------------------------------------
# pooling
# ---------------------------------------------------------------------------------------------------
POOL_CASES = [
    # x shape, kernel_size, stride, padding
    ((2, 3, 8, 8), 2, None, 0),
    ((2, 3, 7, 6), 3, 2, 1),
    ((1, 2, 9, 8), (3, 2), (2, 1), (1, 1)),
    ((2, 2, 6, 7), (2, 3), 1, 0),
    ((1, 1, 5, 5), 3, 3, 0),   # windows do not cover the last rows/columns
]


@pytest.mark.parametrize("shape, kernel, stride, padding", POOL_CASES)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool2d_matches_torch(device, torch, kind, shape, kernel, stride, padding):
    ours_fn = F.max_pool2d if kind == "max" else F.avg_pool2d
    torch_fn = getattr(torch.nn.functional, f"{kind}_pool2d")
    ours, theirs = run_both(torch, device, lambda x: ours_fn(x, kernel, stride, padding),
                            lambda x: torch_fn(x, kernel, stride, padding), [rand(*shape)])
    assert_all_close(ours, theirs)


@pytest.mark.parametrize("stride", [2, 1])
def test_max_pool2d_ties_go_to_the_first_maximum_as_torch(device, torch, stride):
    x = np.round(rand(2, 2, 6, 6) * 0.7)  # many equal values in one window
    ours, theirs = run_both(torch, device, lambda x: F.max_pool2d(x, 2, stride),
                            lambda x: torch.nn.functional.max_pool2d(x, 2, stride), [x])
    assert_all_close(ours, theirs)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool2d_gradcheck(device, kind):
    fn = F.max_pool2d if kind == "max" else F.avg_pool2d
    values = np.random.default_rng(0).permutation(2 * 2 * 5 * 6).reshape(2, 2, 5, 6) * 0.1  # distinct: no ties
    x = mdl.tensor(values, device=device, requires_grad=True)
    assert mdl.gradcheck(lambda x: fn(x, (3, 2), 2, 1), (x,))
    assert mdl.gradcheck(lambda x: fn(x, 2, 1), (x,))


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool2d_float32_and_inference(device, kind):
    fn = F.max_pool2d if kind == "max" else F.avg_pool2d
    x = mdl.tensor(rand(2, 3, 6, 6).astype(np.float32), device=device, requires_grad=True)
    y = fn(x, 2)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
    with mdl.no_grad():  # the inference path keeps no argmax index but computes the same values
        np.testing.assert_array_equal(fn(x, 2).numpy(), y.numpy())


def test_pool2d_errors():
    with pytest.raises(mdl.ShapeError, match=r"max_pool2d.*\(N, C, H, W\)"):
        F.max_pool2d(mdl.zeros(3, 4, 4), 2)
    with pytest.raises(ValueError, match=r"avg_pool2d: padding .* at most half"):
        F.avg_pool2d(mdl.zeros(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(mdl.ShapeError, match=r"max_pool2d: kernel 5x5 is larger"):
        F.max_pool2d(mdl.zeros(1, 1, 4, 4), 5)


# ---------------------------------------------------------------------------------------------------
# batch_norm
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 3, 4, 5)])
def test_batch_norm_training_and_running_stats_match_torch(device, torch, shape):
    rng = np.random.default_rng(0)
    c = shape[1]
    running_mean = mdl.zeros(c, dtype=mdl.float64, device=device)
    running_var = mdl.ones(c, dtype=mdl.float64, device=device)
    t_mean, t_var = torch.zeros(c, dtype=torch.float64), torch.ones(c, dtype=torch.float64)
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    for step in range(5):
        x = rng.standard_normal(shape) * 2 + 1
        ours, theirs = run_both(
            torch, device,
            lambda x, w, b: F.batch_norm(x, running_mean, running_var, w, b, training=True, momentum=0.1),
            lambda x, w, b: torch.nn.functional.batch_norm(x, t_mean, t_var, w, b, training=True, momentum=0.1),
            [x, w, b], seed=step)
        assert_all_close(ours, theirs)
    np.testing.assert_allclose(running_mean.numpy(), t_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(running_var.numpy(), t_var.numpy(), rtol=1e-12)
    # evaluation with the running statistics
    ours, theirs = run_both(torch, device, lambda x, w, b: F.batch_norm(x, running_mean, running_var, w, b),
                            lambda x, w, b: torch.nn.functional.batch_norm(x, t_mean, t_var, w, b),
                            [rng.standard_normal(shape), w, b])
    assert_all_close(ours, theirs)


def test_batch_norm_without_affine_matches_torch(device, torch):
    x = rand(4, 3, 2, 2)
    ours, theirs = run_both(torch, device, lambda x: F.batch_norm(x, None, None, training=True),
                            lambda x: torch.nn.functional.batch_norm(x, None, None, training=True), [x])
    assert_all_close(ours, theirs)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(device, training):
    x = mdl.tensor(rand(4, 3, 2, 2, seed=1), device=device, requires_grad=True)
    w = mdl.tensor(rand(3, seed=2), device=device, requires_grad=True)
    b = mdl.tensor(rand(3, seed=3), device=device, requires_grad=True)
    mean = mdl.tensor(rand(3, seed=4), device=device)
    var = mdl.tensor(np.random.default_rng(5).random(3) + 0.5, device=device)
    # running statistics are not updated here: gradcheck calls the function many times
    assert mdl.gradcheck(lambda x, w, b: F.batch_norm(x, None if training else mean, None if training else var,
                                                      w, b, training=training), (x, w, b))
    x2 = mdl.tensor(rand(5, 2, seed=6), device=device, requires_grad=True)
    assert mdl.gradcheck(lambda x: F.batch_norm(x, None, None, training=True), (x2,))


def test_batch_norm_float32_stays_float32(device):
    x = mdl.tensor(rand(8, 3, 4, 4).astype(np.float32), device=device, requires_grad=True)
    w = mdl.ones(3, device=device, requires_grad=True)
    b = mdl.zeros(3, device=device, requires_grad=True)
    mean, var = mdl.zeros(3, device=device), mdl.ones(3, device=device)
    for training in (True, False):
        y = F.batch_norm(x, mean, var, w, b, training=training)
        assert y.dtype == np.float32
        y.sum().backward()
        assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32
    assert mean.dtype == var.dtype == np.float32


def test_batch_norm_updates_running_stats_under_no_grad():
    mean, var = mdl.zeros(2), mdl.ones(2)
    with mdl.no_grad():
        F.batch_norm(mdl.tensor(np.ones((4, 2)) * 3.0), mean, var, training=True)
    np.testing.assert_allclose(mean.numpy(), [0.3, 0.3], rtol=1e-6)
    np.testing.assert_allclose(var.numpy(), [0.9, 0.9], rtol=1e-6)


def test_batch_norm_errors():
    with pytest.raises(mdl.ShapeError, match=r"batch_norm: running_mean must have shape \(3,\).*got \(4,\)"):
        F.batch_norm(mdl.zeros(2, 3), mdl.zeros(4), mdl.ones(3), training=True)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(mdl.zeros(1, 3), mdl.zeros(3), mdl.ones(3), training=True)
    with pytest.raises(mdl.ShapeError, match=r"batch_norm: expected input"):
        F.batch_norm(mdl.zeros(3), mdl.zeros(3), mdl.ones(3))


# ---------------------------------------------------------------------------------------------------
# dropout
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_statistics(device, p):
    mdl.manual_seed(0)
    x = mdl.ones(1000, 1000, device=device)
    y = F.dropout(x, p, training=True).numpy()
    assert abs((y == 0).mean() - p) < 0.005
    assert abs(y.mean() - 1.0) < 0.01
    np.testing.assert_allclose(y[y != 0], 1 / (1 - p), rtol=1e-6)


def test_dropout_gradient_is_the_scaled_mask(device):
    mdl.manual_seed(1)
    x = mdl.tensor(rand(50, 40).astype(np.float32), device=device, requires_grad=True)
    y = F.dropout(x, 0.3, training=True)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == np.float32
    mask = y.numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), mask / 0.7, rtol=1e-6)
    np.testing.assert_allclose(y.numpy(), x.numpy() * mask / 0.7, rtol=1e-6)


def test_dropout_same_seed_same_mask(device):
    x = mdl.ones(100, 100, device=device)
    mdl.manual_seed(7)
    a = F.dropout(x, 0.5, training=True).numpy()
    mdl.manual_seed(7)
    b = F.dropout(x, 0.5, training=True).numpy()
    c = F.dropout(x, 0.5, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()


def test_dropout_eval_zero_and_one(device):
    x = mdl.tensor(rand(10, 10), device=device, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0, training=True) is x
    y = F.dropout(x, 1.0, training=True)
    assert (y.numpy() == 0).all()
    y.sum().backward()
    assert (x.grad.numpy() == 0).all()
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r"dropout: p .* \[0, 1\]"):
            F.dropout(x, p, training=True)
