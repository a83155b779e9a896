"""Conv2d -> ReLU -> MaxPool2d as one node where asked for (F.conv2d_relu_max_pool2d, nn.fuse's
nn.Conv2dReLUMaxPool2d) gives the values and gradients of the three ops: gradcheck in float64, PyTorch
in float32, both routes (the pool in the convolution product's own layout, where the row blocks and the
width allow it, else on dense chunks), the fallback for geometries it does not fuse, threads, and
nn.fuse (nn.Sequential itself never fuses). Equality with the reference ops: test_fast_paths.py."""

import numpy as np
import pytest

import minidl as mdl
from minidl import nn
from minidl.errors import ShapeError
from minidl.nn import functional as F
from minidl.ops.activation import ReLU
from minidl.ops.fast.conv_relu_pool import Conv2dReLUMaxPool2d, ReLUMaxPool2d
from minidl.ops.pooling import MaxPool2d
from torch_twins import assert_backward_matches_torch, assert_sequential_matches_torch


def leaf(array, device="cpu", dtype=np.float64):
    return mdl.tensor(np.asarray(array, dtype=dtype), device=device, requires_grad=True)


def reference(torch, x, w, b, padding, pool):
    """PyTorch's conv2d -> relu -> max_pool2d on float32 copies, with gradients enabled."""
    t = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    y = torch.nn.functional.max_pool2d(torch.relu(torch.nn.functional.conv2d(*t, padding=padding)), pool)
    return t, y


# (input shape, weight shape, padding, pool kernel): every one fuses (stride-1 conv, tiled pool)
GEOMETRIES = [((2, 1, 12, 12), (3, 1, 5, 5), 0, (2, 2)),    # LeNet's first layer, small
              ((3, 2, 9, 8), (2, 2, 3, 3), 1, (3, 2)),      # Ho = 9, Wo = 8: pool 3x2, odd Wp
              ((2, 3, 8, 10), (4, 3, 3, 5), (1, 2), (2, 2)),  # Ho = 8, Wo = 10
              ((2, 2, 7, 9), (3, 2, 2, 2), 0, (2, 4))]     # Ho = 6, Wo = 8


@pytest.mark.parametrize("block_rows", [1, 2, 3, 4])
@pytest.mark.parametrize("shape,weight,padding,pool", GEOMETRIES)
def test_fused_conv_relu_pool_passes_gradcheck(device, block_rows, shape, weight, padding, pool, cpu_tuning):
    cpu_tuning.block_rows, cpu_tuning.chunk_bytes = block_rows, 256  # several chunks
    rng = np.random.default_rng(1)
    x, w, b = (leaf(rng.standard_normal(s), device) for s in (shape, weight, weight[:1]))
    y = F.conv2d_relu_max_pool2d(x, w, b, padding=padding, pool_kernel=pool)
    # fused on the CPU; a launch-bound device (GPU, strict) runs conv2d, relu and max_pool2d
    if mdl.get_backend(device).launch_bound:
        assert isinstance(y.grad_fn, MaxPool2d) and isinstance(y.grad_fn.inputs[0].grad_fn, ReLU)
    else:
        assert type(y.grad_fn) is Conv2dReLUMaxPool2d
    assert mdl.gradcheck(lambda *t: F.conv2d_relu_max_pool2d(*t, padding=padding, pool_kernel=pool), (x, w, b))
    assert mdl.gradcheck(lambda *t: F.conv2d_relu_max_pool2d(*t, padding=padding, pool_kernel=pool), (x, w))


@pytest.mark.parametrize("block_rows", [1, 2, 4])
@pytest.mark.parametrize("shape,weight,padding,pool", GEOMETRIES)
def test_fused_conv_relu_pool_matches_torch_in_training_and_inference(torch, block_rows, shape, weight, padding,
                                                                       pool, monkeypatch, cpu_tuning):
    cpu_tuning.block_rows, cpu_tuning.chunk_bytes = block_rows, 1024
    routes = []  # which route each call takes (spied on; the settings are on cpu_tuning)
    for name in ("_dense_pooler", "_product_pooler"):
        original = getattr(Conv2dReLUMaxPool2d, name)
        monkeypatch.setattr(Conv2dReLUMaxPool2d, name,
                            lambda self, *a, _f=original, _n=name: routes.append(_n) or _f(self, *a))
    rng = np.random.default_rng(2)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in (shape, weight, weight[:1]))
    t, yt = reference(torch, x, w, b, padding, pool)
    m = [mdl.tensor(a, requires_grad=True) for a in (x, w, b)]
    ym = F.conv2d_relu_max_pool2d(*m, padding=padding, pool_kernel=pool)
    assert_backward_matches_torch(torch, ym, yt, m, t, rng)
    with mdl.no_grad():  # inference: the product-layout pool where u and Wp allow it
        yi = F.conv2d_relu_max_pool2d(*(mdl.tensor(a) for a in (x, w, b)), padding=padding, pool_kernel=pool)
    np.testing.assert_allclose(yi.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    u, kh, wp = block_rows, pool[0], shape[3] + 2 * np.broadcast_to(padding, 2)[1]
    u = min(u, shape[2] + 2 * np.broadcast_to(padding, 2)[0] - weight[2] + 1)
    expected = "_product_pooler" if u % kh == 0 and wp % pool[1] == 0 else "_dense_pooler"
    assert routes == [expected, expected]  # training (with the argmax) and inference take the same route


def test_lenet_shapes_take_the_product_route_and_match_torch(torch):
    """The shapes the benchmark runs: u = 4 for both layers, pools of 2, inference at a batch of 50."""
    rng = np.random.default_rng(3)
    for shape, weight in (((50, 1, 28, 28), (6, 1, 5, 5)), ((50, 6, 12, 12), (16, 6, 5, 5))):
        x, w, b = (rng.standard_normal(s).astype(np.float32) for s in (shape, weight, weight[:1]))
        _, yt = reference(torch, x, w, b, 0, 2)
        with mdl.no_grad():
            ym = F.conv2d_relu_max_pool2d(mdl.tensor(x), mdl.tensor(w), mdl.tensor(b))
        np.testing.assert_allclose(ym.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kwargs", [dict(stride=2), dict(pool_stride=1), dict(pool_kernel=3),
                                    dict(pool_padding=1)])
def test_geometries_that_do_not_fuse_fall_back_to_the_separate_ops(torch, kwargs):
    """Stride 2, overlapping or padded pools, an output the pool does not tile: conv2d then
    relu_max_pool2d, with the same results as PyTorch's three ops."""
    rng = np.random.default_rng(4)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((2, 2, 10, 10), (3, 2, 3, 3), (3,)))
    m = [mdl.tensor(a, requires_grad=True) for a in (x, w, b)]
    ym = F.conv2d_relu_max_pool2d(*m, **kwargs)
    assert isinstance(ym.grad_fn, ReLUMaxPool2d)
    t = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    z = torch.relu(torch.nn.functional.conv2d(*t, stride=kwargs.get("stride", 1)))
    yt = torch.nn.functional.max_pool2d(z, kwargs.get("pool_kernel", 2), kwargs.get("pool_stride"),
                                        kwargs.get("pool_padding", 0))
    np.testing.assert_allclose(ym.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    ym.sum().backward()
    yt.sum().backward()
    for a, c in zip(m, t):
        np.testing.assert_allclose(a.grad.numpy(), c.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_bad_input_gets_conv2d_s_error():
    x = mdl.tensor(np.zeros((2, 3, 8, 8), np.float32))
    w = mdl.tensor(np.zeros((4, 2, 3, 3), np.float32))
    with pytest.raises(ShapeError, match="conv2d: input has 3 channels"):
        F.conv2d_relu_max_pool2d(x, w)


def test_threads_give_the_same_results(cpu_tuning):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((32, 3, 16, 16)).astype(np.float32)
    w = rng.standard_normal((8, 3, 5, 5)).astype(np.float32)
    cpu_tuning.chunk_bytes = 1 << 14  # many chunks: they run on both threads
    results = []
    for threads in (1, 2):
        cpu_tuning.threads = threads
        xt, wt = mdl.tensor(x, requires_grad=True), mdl.tensor(w, requires_grad=True)
        y = F.conv2d_relu_max_pool2d(xt, wt, padding=2)
        y.backward(mdl.ones_like(y))
        with mdl.no_grad():
            yi = F.conv2d_relu_max_pool2d(mdl.tensor(x), mdl.tensor(w), padding=2)
        results.append((y.numpy(), yi.numpy(), xt.grad.numpy(), wt.grad.numpy()))
    for one, two in zip(results[0][:3], results[1][:3]):  # outputs and dL/dx: the same numbers
        np.testing.assert_array_equal(one, two)
    np.testing.assert_allclose(results[0][3], results[1][3], rtol=1e-5, atol=1e-4)  # partial sums per thread


def test_backward_twice_with_retain_graph_and_freed_after():
    rng = np.random.default_rng(6)
    x, w = leaf(rng.standard_normal((2, 1, 8, 8))), leaf(rng.standard_normal((2, 1, 3, 3)))
    y = F.conv2d_relu_max_pool2d(x, w)
    y.sum().backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)
    with pytest.raises(mdl.errors.GraphError, match="second time"):
        y.sum().backward()


# -- nn.fuse (nn.Sequential runs its layers as written) --------------------------------------------------------
def _lenet_like(seed=0):
    mdl.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6 * 3 * 3, 3))


def test_fuse_makes_conv_relu_pool_one_layer_and_matches_torch(torch):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 1, 16, 16)).astype(np.float32)
    net = nn.fuse(_lenet_like())
    assert [type(layer) for layer in net][:2] == [nn.Conv2dReLUMaxPool2d] * 2
    tnet = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Conv2d(4, 6, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Flatten(), torch.nn.Linear(54, 3))
    def both_blocks_fused(y):
        second = y.grad_fn.inputs[0].grad_fn.inputs[0].grad_fn  # Linear <- Flatten <- second block
        assert isinstance(second, Conv2dReLUMaxPool2d)
        assert isinstance(second.inputs[0].grad_fn, Conv2dReLUMaxPool2d)
    assert_sequential_matches_torch(torch, net, tnet, x, inspect=both_blocks_fused)


@pytest.mark.parametrize("hooked", [0, 1, 2])
def test_fuse_leaves_a_run_with_a_hook_on_any_of_the_three_apart(hooked):
    rng = np.random.default_rng(8)
    x = mdl.tensor(rng.standard_normal((2, 1, 16, 16)), requires_grad=True)
    net = _lenet_like().astype("float64")
    fused = nn.fuse(net)(x)
    seen = []
    net[hooked].register_forward_hook(lambda module, args, out: seen.append(out.shape))
    net = nn.fuse(net)
    apart = net(x)
    assert seen == [[(2, 4, 12, 12), (2, 4, 12, 12), (2, 4, 6, 6)][hooked]]
    np.testing.assert_allclose(fused.numpy(), apart.numpy(), rtol=1e-12, atol=1e-12)
    second = apart.grad_fn.inputs[0].grad_fn.inputs[0].grad_fn  # Linear <- Flatten <- second block
    first = second.inputs[0].grad_fn
    assert isinstance(second, Conv2dReLUMaxPool2d) and not isinstance(first, Conv2dReLUMaxPool2d)
    assert mdl.gradcheck(lambda t: net(t), (x,))


def test_sequential_runs_the_layers_as_written():
    x = mdl.tensor(np.random.default_rng(9).standard_normal((2, 1, 16, 16)), requires_grad=True)
    net = _lenet_like().astype("float64")
    y = net(x)
    node = y.grad_fn.inputs[0].grad_fn.inputs[0].grad_fn  # the second pool
    assert isinstance(node, MaxPool2d) and isinstance(node.inputs[0].grad_fn, ReLU)


@pytest.mark.parametrize("fused", [False, True])
def test_bias_gradient_with_a_frozen_weight_matches_torch(torch, fused):
    """dL/db without dL/dW: the plain convolution sums dY, the fused node its routed dL/dz."""
    rng = np.random.default_rng(10)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((3, 2, 12, 12), (4, 2, 5, 5), (4,)))
    bm, bt = mdl.tensor(b, requires_grad=True), torch.tensor(b, requires_grad=True)
    if fused:
        ym = F.conv2d_relu_max_pool2d(mdl.tensor(x), mdl.tensor(w), bm)
        yt = torch.nn.functional.max_pool2d(torch.relu(torch.nn.functional.conv2d(
            torch.tensor(x), torch.tensor(w), bt)), 2)
    else:
        ym, yt = F.conv2d(mdl.tensor(x), mdl.tensor(w), bm), torch.nn.functional.conv2d(torch.tensor(x),
                                                                                       torch.tensor(w), bt)
    assert_backward_matches_torch(torch, ym, yt, [bm], [bt], rng)
