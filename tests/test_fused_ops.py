"""The performance paths of the NumPy backend against gradcheck and PyTorch (their equality with the
reference ops is tests/test_fast_paths.py).

Fused Linear (one node for x @ Wᵀ + b), the row-blocked convolution (stride 1), the max-pool routing,
ReLU -> max-pool as one node where asked for (F.relu_max_pool2d, nn.fuse) and never silently, the
threaded passes (set on the CPU tuning object), the cached scalar constants and the creation-order
topological sort: each is checked by `gradcheck` in float64 and against PyTorch where it is installed.
"""

import numpy as np
import pytest

import minidl as mdl
from minidl import nn
from minidl.nn import functional as F
from minidl.ops.activation import ReLU
from minidl.ops.fast.conv_relu_pool import ReLUMaxPool2d
from minidl.ops.fast.conv_row_blocked import Conv2dRowBlocked
from minidl.ops.fast.short_axis import reduce_last_axis
from minidl.ops.matmul import Linear
from minidl.ops.pooling import MaxPool2d
from torch_twins import assert_backward_matches_torch, assert_sequential_matches_torch


def leaf(array, device="cpu"):
    return mdl.tensor(np.asarray(array, dtype=np.float64), device=device, requires_grad=True)


# -- fused linear --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch", [5, 1])
def test_linear_is_one_node_and_passes_gradcheck(device, bias, batch):
    rng = np.random.default_rng(0)
    x, w = leaf(rng.standard_normal((batch, 4)), device), leaf(rng.standard_normal((3, 4)), device)
    b = leaf(rng.standard_normal(3), device) if bias else None
    y = F.linear(x, w, b)
    assert isinstance(y.grad_fn, Linear)
    args = (x, w, b) if bias else (x, w)
    assert mdl.gradcheck(lambda *t: F.linear(*t), args)


def test_linear_takes_leading_axes_as_rows_and_falls_back_to_the_composition_for_other_shapes():
    rng = np.random.default_rng(1)
    x = leaf(rng.standard_normal((2, 3, 4)))  # (..., in): one fused node, the leading axes as rows
    w, b = leaf(rng.standard_normal((5, 4))), leaf(rng.standard_normal(5))
    y = F.linear(x, w, b)
    assert y.shape == (2, 3, 5) and isinstance(y.grad_fn, Linear)
    np.testing.assert_allclose(y.numpy(), x.numpy() @ w.numpy().T + b.numpy(), rtol=1e-12)
    assert mdl.gradcheck(lambda *t: F.linear(*t), (x, w, b))
    b_row = leaf(rng.standard_normal((1, 5)))  # a bias that only broadcasts: matmul and add
    y = F.linear(x, w, b_row)
    assert y.shape == (2, 3, 5) and not isinstance(y.grad_fn, Linear)
    assert mdl.gradcheck(lambda *t: F.linear(*t), (x, w, b_row))


@pytest.mark.parametrize("batch", [64, 1])  # 1: dL/dW is an outer product, made by a broadcast multiply
@pytest.mark.parametrize("order", ["C", "F"])
def test_linear_matches_torch_forward_and_backward(torch, batch, order):
    rng = np.random.default_rng(2)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((batch, 30), (20, 30), (20,)))
    mx, mw, mb = (mdl.tensor(a, requires_grad=True) for a in (x, w, b))
    mw.data = np.asarray(mw.data, order=order)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    (F.linear(mx, mw, mb) ** 2).sum().backward()
    (torch.nn.functional.linear(tx, tw, tb) ** 2).sum().backward()
    for m, t in ((mx, tx), (mw, tw), (mb, tb)):
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-4)
        assert m.grad.dtype == np.float32
    assert mw.grad.data.flags[f"{order}_CONTIGUOUS"]  # dL/dW in W's memory order


def _mlp_with_weight_order(order):
    mdl.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3)).astype(mdl.float64)
    for layer in (model[0], model[2]):
        layer.weight.data = np.asarray(layer.weight.data, order=order)
    return model


@pytest.mark.parametrize("optimizer", [lambda ps: mdl.optim.SGD(ps, lr=0.1, momentum=0.9),
                                       lambda ps: mdl.optim.Adam(ps, lr=0.01)])
def test_column_major_linear_weights_train_exactly_as_row_major_ones(optimizer):
    x = mdl.tensor(np.random.default_rng(1).standard_normal((4, 6)))
    t = mdl.tensor([0, 2, 1, 2])
    runs = {}
    for order in ("C", "F"):
        model = _mlp_with_weight_order(order)
        opt = optimizer(model.parameters())
        for _ in range(3):
            opt.zero_grad()
            F.cross_entropy(model(x), t).backward()
            opt.step()
        weight = model[0].weight
        assert weight.data.flags[f"{order}_CONTIGUOUS"] and weight.grad.data.flags[f"{order}_CONTIGUOUS"]
        assert all(v.flags[f"{order}_CONTIGUOUS"] for v in opt.state[weight].values() if hasattr(v, "flags"))
        runs[order] = [p.numpy() for p in model.parameters()]
    for c_order, f_order in zip(runs["C"], runs["F"]):
        np.testing.assert_allclose(f_order, c_order, rtol=1e-12, atol=1e-14)


def test_cpu_linear_weights_are_column_major_and_stay_so_through_saving_and_loading(tmp_path):
    layer = nn.Linear(4, 3)  # a narrowing layer: column-major; a widening one: row-major (linear_weight_order)
    assert layer.weight.data.flags.f_contiguous and not layer.weight.data.flags.c_contiguous
    assert nn.Linear(3, 4).weight.data.flags.c_contiguous and not nn.Linear(3, 4).weight.data.flags.f_contiguous
    assert nn.Linear(4, 3, device="strict").weight.data.flags.c_contiguous  # the GPU's stand-in: row-major
    opt = mdl.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9)
    layer(mdl.ones(2, 4)).sum().backward()
    opt.step()
    mdl.save(layer.state_dict(), tmp_path / "layer.npz")
    restored = nn.Linear(4, 3)
    restored.load_state_dict(mdl.load(tmp_path / "layer.npz"))
    np.testing.assert_array_equal(restored.weight.numpy(), layer.weight.numpy())
    reloaded = mdl.optim.SGD(restored.parameters(), lr=0.1, momentum=0.9)
    reloaded.load_state_dict(opt.state_dict())
    assert restored.weight.data.flags.f_contiguous
    assert reloaded.state[restored.weight]["momentum_buffer"].flags.f_contiguous


# -- convolution: the wide-rows layout (stride 1) against the general layout and PyTorch -----------------------
@pytest.mark.parametrize("shape,kernel,padding", [((2, 1, 9, 8), 3, 0), ((3, 2, 6, 7), (2, 3), 1),
                                                  ((2, 3, 5, 5), 5, 2), ((1, 2, 4, 6), 1, 0)])
@pytest.mark.parametrize("chunk_bytes", [2 << 20, 64])  # 64: one image per chunk
def test_wide_convolution_passes_gradcheck(device, shape, kernel, padding, chunk_bytes, cpu_tuning):
    cpu_tuning.chunk_bytes = chunk_bytes
    rng = np.random.default_rng(3)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    x = leaf(rng.standard_normal(shape), device)
    w = leaf(rng.standard_normal((4, shape[1], kh, kw)), device)
    b = leaf(rng.standard_normal(4), device)
    assert mdl.gradcheck(lambda *t: F.conv2d(*t, padding=padding), (x, w, b))


@pytest.mark.parametrize("block_rows", [1, 2, 3, 4])
@pytest.mark.parametrize("shape,weight,padding", [((2, 2, 9, 8), (3, 2, 4, 3), 0),   # Ho = 6: a partial block for 4
                                                  ((3, 1, 7, 6), (2, 1, 5, 2), 1),   # Ho = 5
                                                  ((2, 3, 6, 5), (4, 3, 2, 2), (2, 0))])
def test_row_blocked_convolution_passes_gradcheck(device, block_rows, shape, weight, padding, cpu_tuning):
    """Each column of the product computes `block_rows` output rows (Conv2dRowBlocked.block_rows); every
    u, kernel height and partial last block must give the plain convolution's gradients."""
    cpu_tuning.block_rows, cpu_tuning.chunk_bytes = block_rows, 256  # several chunks
    rng = np.random.default_rng(5)
    x, w, b = (leaf(rng.standard_normal(s), device) for s in (shape, weight, weight[:1]))
    assert mdl.gradcheck(lambda *t: F.conv2d(*t, padding=padding), (x, w, b))
    assert mdl.gradcheck(lambda *t: F.conv2d(*t, padding=padding), (x, w))


@pytest.mark.parametrize("block_rows", [1, 2, 4])
def test_row_blocked_convolution_matches_torch_in_float32(torch, block_rows, cpu_tuning):
    cpu_tuning.block_rows = block_rows
    rng = np.random.default_rng(6)
    x = rng.standard_normal((5, 3, 13, 10)).astype(np.float32)
    w = (rng.standard_normal((7, 3, 5, 3)) * 0.2).astype(np.float32)
    b = rng.standard_normal(7).astype(np.float32)
    m = [mdl.tensor(a, requires_grad=True) for a in (x, w, b)]
    t = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    ym, yt = F.conv2d(*m, padding=1), torch.nn.functional.conv2d(*t, padding=1)
    assert_backward_matches_torch(torch, ym, yt, m, t, rng)


def test_block_rows_choice():
    conv = Conv2dRowBlocked((1, 1), (0, 0))
    conv.backend = mdl.get_backend("cpu")
    assert conv.block_rows(6, 5, 24) == 4 and conv.block_rows(16, 5, 8) == 4   # LeNet's two layers
    assert conv.block_rows(32, 5, 8) == 2 and conv.block_rows(64, 5, 8) == 1   # taller products gain nothing
    assert conv.block_rows(8, 3, 8) == 2 and conv.block_rows(8, 1, 8) == 1     # kb/kh: 2/3 and 1
    assert conv.block_rows(8, 5, 1) == 1                                        # a single output row


@pytest.mark.parametrize("stride,padding", [(1, 0), (1, 2), (2, 1)])
def test_convolution_matches_torch(torch, stride, padding):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((8, 6, 12, 11)).astype(np.float32)
    w = rng.standard_normal((16, 6, 5, 5)).astype(np.float32) * 0.1
    b = rng.standard_normal(16).astype(np.float32)
    m = [mdl.tensor(a, requires_grad=True) for a in (x, w, b)]
    t = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    ym = F.conv2d(*m, stride=stride, padding=padding)
    yt = torch.nn.functional.conv2d(*t, stride=stride, padding=padding)
    assert_backward_matches_torch(torch, ym, yt, m, t, rng, tol=(1e-4, 1e-3))


# -- max-pool: routing, and ReLU -> max-pool as one node only where asked for -----------------------------------------
@pytest.mark.parametrize("kernel, padding", [((1, 2), (0, 1)), ((2, 1), (1, 0)), ((2, 2), (1, 1)), ((1, 2), (0, 0))])
def test_max_pool_routing_matches_torch(torch, kernel, padding):
    """Two-offset windows take route_by_index's two-pass form (the argmax as its own mask), on the
    general path (padding) and the tiled one; four offsets the comparison per offset."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    xm, xt = mdl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ym = F.max_pool2d(xm, kernel, padding=padding)
    yt = torch.nn.functional.max_pool2d(xt, kernel, padding=padding)
    assert_backward_matches_torch(torch, ym, yt, [xm], [xt], rng)


def test_max_pool_after_relu_is_never_fused_silently_and_the_asked_for_node_is_exact(device):
    rng = np.random.default_rng(6)
    z = rng.integers(-3, 4, size=(2, 3, 8, 8)).astype(np.float64)  # ties and all-negative windows
    outs = []
    for fused in (True, False):
        t = mdl.tensor(z, device=device, requires_grad=True)
        y = F.relu_max_pool2d(t, 2) if fused else F.max_pool2d(F.relu(t), 2)
        if fused:  # one node on the CPU, where a fast path takes it; the two ops elsewhere
            assert isinstance(y.grad_fn, ReLUMaxPool2d) == (device == "cpu")
        else:  # as written: the pool's input is the ReLU's output
            assert isinstance(y.grad_fn, MaxPool2d) and not isinstance(y.grad_fn, ReLUMaxPool2d)
            assert isinstance(y.grad_fn.inputs[0].grad_fn, ReLU)
        g = np.arange(y.size, dtype=np.float64).reshape(y.shape) + 1
        y.backward(mdl.tensor(g, device=device))
        outs.append((y.numpy(), t.grad.numpy()))
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])


def test_fused_relu_pool_passes_gradcheck():
    z = leaf(np.random.default_rng(7).permutation(2 * 2 * 6 * 6).reshape(2, 2, 6, 6) * 0.1 - 3.5)
    assert mdl.gradcheck(lambda t: F.relu_max_pool2d(t, 2), (z,))
    assert mdl.gradcheck(lambda t: F.relu_max_pool2d(t, 3, 2, 1), (z,))


def test_relu_output_used_twice_still_gets_both_gradients():
    rng = np.random.default_rng(8)
    z = mdl.tensor(rng.standard_normal((2, 1, 4, 4)), requires_grad=True)
    r = F.relu(z)
    (F.max_pool2d(r, 2).sum() + (r * 2.0).sum()).backward()
    zd = z.numpy()
    expected = 2.0 * (zd > 0)
    windows = zd.reshape(2, 1, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(2, 1, 2, 2, 4)
    first = windows.argmax(-1)
    for n in range(2):
        for a in range(2):
            for b in range(2):
                k = first[n, 0, a, b]
                if windows[n, 0, a, b, k] > 0:
                    expected[n, 0, 2 * a + k // 2, 2 * b + k % 2] += 1
    np.testing.assert_allclose(z.grad.numpy(), expected)


# -- reductions over a short last axis: through a transposed copy on the CPU ------------------------------------------
@pytest.mark.parametrize("shape", [(300, 7), (5, 40, 3), (64, 32), (4, 33), (3, 5)])
@pytest.mark.parametrize("order", ["C", "F"])
def test_short_axis_reductions_equal_numpys(shape, order):
    x = np.asarray(np.random.default_rng(5).standard_normal(shape), order=order)
    np.testing.assert_array_equal(reduce_last_axis(np, x, "max"), x.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(reduce_last_axis(np, x, "sum"), x.sum(axis=-1, keepdims=True), rtol=1e-13, atol=1e-13)


def test_softmax_family_on_a_batch_of_class_scores_matches_torch(torch):
    """Outputs against the float64 formulas, gradients against PyTorch. (PyTorch's own float32 logsumexp
    was seen 5e-5 off the float64 value on 2 threads, in some runs only: it cannot be the reference.)"""
    z = np.random.default_rng(6).standard_normal((512, 10)).astype(np.float32)
    lse = np.log(np.exp(z.astype(np.float64)).sum(axis=-1, keepdims=True))
    cases = [(lambda t: F.softmax(t), lambda t: torch.softmax(t, -1), np.exp(z - lse)),
             (lambda t: F.log_softmax(t), lambda t: torch.log_softmax(t, -1), z - lse),
             (lambda t: t.logsumexp(axis=-1), lambda t: torch.logsumexp(t, -1), lse[:, 0])]
    for ours, theirs, expected in cases:
        zm, zt = mdl.tensor(z, requires_grad=True), torch.tensor(z, requires_grad=True)
        assert_backward_matches_torch(torch, ours(zm), theirs(zt), [zm], [zt], np.random.default_rng(8),
                                      expected=expected)


# -- threads: the same numbers with and without them ----------------------------------------------------------------
def test_threaded_passes_give_identical_results(cpu_tuning):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((64, 3, 20, 20)).astype(np.float32)
    w = rng.standard_normal((8, 3, 5, 5)).astype(np.float32)
    results = []
    cpu_tuning.parallel_min_work, cpu_tuning.chunk_bytes = 1, 1 << 14  # many chunks: they run on both threads
    for threads in (1, 2):
        cpu_tuning.threads = threads
        xt, wt = mdl.tensor(x, requires_grad=True), mdl.tensor(w, requires_grad=True)
        y = F.max_pool2d(F.relu(F.conv2d(xt, wt, padding=1)), 2)
        y.backward(mdl.ones_like(y))
        results.append((y.numpy(), xt.grad.numpy(), wt.grad.numpy()))
    (y1, gx1, gw1), (y2, gx2, gw2) = results
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(gx1, gx2)
    np.testing.assert_allclose(gw1, gw2, rtol=1e-5, atol=1e-4)  # per-thread partial sums: another order


# -- engine: scalar constants and node order ------------------------------------------------------------------------
def test_scalar_constants_are_cached_read_only_and_keep_their_sign():
    x = mdl.tensor([1.0, -2.0])
    a, b = (x * 0.5).grad_fn, (x * 0.5).grad_fn
    assert a is None and b is None  # no graph without requires_grad
    xr = mdl.tensor([1.0, -2.0], requires_grad=True)
    c1, c2 = (xr / 0.5).grad_fn.inputs[1], (xr / 0.5).grad_fn.inputs[1]
    assert c1 is c2 and not c1.data.flags.writeable
    assert np.signbit((x * -0.0).numpy()).tolist() == [True, False]  # -0.0 is not the cached 0.0
    assert (mdl.tensor([1, 2]) * 1).dtype == np.int64 and (mdl.tensor([1, 2]) * 1.5).dtype == np.float64
    assert (x * True).dtype == np.float32 and (x + 1).dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_tensor_and_a_python_number_make_one_input_nodes_with_numpys_values(dtype):
    values = np.array([1.5, -2.0, 0.0, -0.0, 3e38 if dtype == np.float32 else 1e300], dtype=dtype)
    x = mdl.tensor(values, requires_grad=True)
    with np.errstate(over="ignore"):  # 3e38 * -1.5 overflows to -inf in float32, in both
        pairs = [(x + 2.5, values + 2.5), (3 + x, 3 + values), (x - 2.5, values - 2.5),
                 (x - 0.0, values - 0.0), (x * -1.5, values * -1.5), (2 * x, 2 * values)]
    for y, expected in pairs:
        assert len(y.grad_fn.inputs) == 1 and y.dtype == dtype
        np.testing.assert_array_equal(y.numpy(), expected)  # bit for bit, signs of zero included
        assert np.signbit(y.numpy()).tolist() == np.signbit(expected).tolist()
    with np.errstate(over="ignore"):
        (x * -1.5 + 2.0 - 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(5, -1.5, dtype))
    assert len((x + True).grad_fn.inputs) == 2  # a bool number keeps the two-input op (NumPy's bool rules)


def test_backward_order_follows_creation_on_a_diamond_and_a_deep_chain():
    x = mdl.tensor(2.0, requires_grad=True)
    a = x * 3.0
    b = a + x
    c = a * b  # c = 3x (3x + x) = 12 x^2: dc/dx = 24 x
    c.backward()
    assert x.grad.item() == pytest.approx(48.0)
    y = x
    for _ in range(5000):
        y = y + 1.0
    y.backward()
    assert x.grad.item() == pytest.approx(49.0)


# -- SGD: in place, split across threads, 0-d parameters ------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [dict(momentum=0.9), dict(momentum=0.9, nesterov=True),
                                    dict(momentum=0.5, dampening=0.3, weight_decay=0.1), dict()])
def test_sgd_threaded_update_matches_torch_including_0d_parameters(torch, cpu_tuning, kwargs):
    cpu_tuning.threads, cpu_tuning.parallel_min_work = 2, 1
    rng = np.random.default_rng(10)
    values = [rng.standard_normal((7, 3)).astype(np.float32), np.float32(1.5) * np.ones((), np.float32)]
    ours = [mdl.nn.Parameter(mdl.tensor(v)) for v in values]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    opt_m, opt_t = mdl.optim.SGD(ours, lr=0.1, **kwargs), torch.optim.SGD(theirs, lr=0.1, **kwargs)
    for step in range(3):
        grads = [rng.standard_normal(v.shape).astype(np.float32) for v in values]
        for p, g in zip(ours, grads):
            p.grad = mdl.tensor(g)
        for p, g in zip(theirs, grads):
            p.grad = torch.tensor(g)
        opt_m.step()
        opt_t.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-6)
        assert p.dtype == np.float32


def test_fused_relu_pool_backward_twice_with_retain_graph():
    z = mdl.tensor(np.random.default_rng(11).standard_normal((2, 2, 4, 4)), requires_grad=True)
    y = F.relu_max_pool2d(z, 2).sum()
    y.backward(retain_graph=True)
    first = z.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(z.grad.numpy(), 2 * first)


# -- nn.fuse: ReLU -> MaxPool2d run as one layer where asked for ---------------------------------------------------------
def _conv_relu_pool(seed=10):
    mdl.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3 * 4 * 4, 2))


def test_fuse_makes_relu_and_max_pool_one_layer_with_the_same_values_and_gradients(torch):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((5, 2, 11, 11)).astype(np.float32)  # 9x9 conv output: the pool does not tile it
    net = nn.fuse(_conv_relu_pool())
    assert [type(layer).__name__ for layer in net] == ["Conv2dReLUMaxPool2d", "Flatten", "Linear"]
    tnet = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                               torch.nn.Linear(48, 2))
    def relu_pool_fused(y):  # Linear <- Flatten <- the fused ReLU -> pool
        assert isinstance(y.grad_fn.inputs[0].grad_fn.inputs[0].grad_fn, ReLUMaxPool2d)
    assert_sequential_matches_torch(torch, net, tnet, x, inspect=relu_pool_fused)


def test_sequential_never_fuses_and_fuse_leaves_a_hooked_relu_apart():
    rng = np.random.default_rng(12)
    x = mdl.tensor(rng.standard_normal((3, 2, 11, 11)), requires_grad=True)
    net = _conv_relu_pool().astype("float64")
    fused_net = nn.fuse(net)
    assert mdl.gradcheck(lambda t: fused_net(t), (x,))
    fused = fused_net(x)
    plain = net(x)  # as written: the pool's input is the ReLU's output
    assert isinstance(plain.grad_fn.inputs[0].grad_fn.inputs[0].grad_fn.inputs[0].grad_fn, ReLU)
    seen = []
    net[1].register_forward_hook(lambda module, args, out: seen.append(out))
    net = nn.fuse(net)
    assert [type(layer).__name__ for layer in net] == ["Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"]
    apart = net(x)
    assert len(seen) == 1 and seen[0].shape == (3, 3, 9, 9) and seen[0].numpy().min() == 0.0
    np.testing.assert_array_equal(fused.numpy(), apart.numpy())
    assert mdl.gradcheck(lambda t: net(t), (x,))
