"""minidl results against their PyTorch twins: an op's output and gradients for a random dL/dy, and
an nn.Sequential with the same weights. Shared by tests/test_fused_ops.py and tests/test_conv_pool.py."""

import numpy as np

import minidl as mdl


def assert_sequential_matches_torch(torch, net, tnet, x, inspect=lambda y: None):
    """Load net's weights into tnet, run both on x (float32) with loss sum(y²): outputs, dL/dx and every
    parameter's gradient must agree, and so must net's output under no_grad. `inspect(y)` sees minidl's
    output while its graph is alive (before backward frees it)."""
    tnet.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in net.state_dict().items()})
    xm, xt = mdl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ym, yt = net(xm), tnet(xt)
    inspect(ym)
    np.testing.assert_allclose(ym.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    (ym ** 2).sum().backward()
    (yt ** 2).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (name, p), tp in zip(net.named_parameters(), tnet.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
    with mdl.no_grad():
        np.testing.assert_allclose(net(mdl.tensor(x)).numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)


def assert_backward_matches_torch(torch, ym, yt, mine, theirs, rng, tol=(1e-5, 1e-4), expected=None):
    """ym, yt: one op's outputs in minidl and PyTorch from the leaves `mine`, `theirs` (same values):
    outputs equal, then the leaves' gradients for one random float32 dL/dy, float32 too.
    tol: (tolerance of the outputs, of the gradients), relative and absolute. expected: the exact
    outputs (float64), to compare ym with instead of yt where PyTorch's float32 result is not that close."""
    np.testing.assert_allclose(ym.numpy(), yt.detach().numpy() if expected is None else expected,
                               rtol=tol[0], atol=tol[0])
    g = rng.standard_normal(ym.shape).astype(np.float32)
    ym.backward(mdl.tensor(g))
    yt.backward(torch.tensor(g))
    for a, c in zip(mine, theirs):
        np.testing.assert_allclose(a.grad.numpy(), c.grad.numpy(), rtol=tol[1], atol=tol[1])
        assert a.grad.dtype == np.float32
