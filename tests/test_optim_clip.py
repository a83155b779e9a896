"""`nn.utils.clip_grad_norm_` against PyTorch's."""

import numpy as np
import pytest

import minidl as mdl
from minidl.nn.parameter import Parameter
from minidl.nn.utils import clip_grad_norm_

SHAPES = [(4, 3), (3,), (2, 2, 2)]


def grads_pair(torch, device, scale, seed=0, dtype=np.float64):
    """Parameters with gradients set, in minidl (on `device`) and PyTorch, from the same arrays."""
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for shape in SHAPES:
        w, g = rng.normal(size=shape), scale * rng.normal(size=shape)
        p = Parameter(mdl.tensor(w, device=device, dtype=dtype))
        p.grad = mdl.tensor(g, device=device, dtype=dtype)
        tp = torch.nn.Parameter(torch.tensor(w, dtype=getattr(torch, np.dtype(dtype).name)))
        tp.grad = torch.tensor(g, dtype=tp.dtype)
        ours.append(p)
        theirs.append(tp)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("scale", [10.0, 0.01])  # clipped, and left alone
def test_matches_pytorch(torch, device, norm_type, scale):
    ours, theirs = grads_pair(torch, device, scale)
    total = clip_grad_norm_(ours, max_norm=1.0, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm=1.0, norm_type=norm_type)
    assert isinstance(total, float)
    assert total == pytest.approx(expected.item(), rel=1e-12)
    for p, tp in zip(ours, theirs):
        assert type(p.grad.data) is p.backend.array_type
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12)
    if scale == 0.01:  # below max_norm: untouched
        original, _ = grads_pair(torch, device, scale)
        for p, q in zip(ours, original):
            np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_float32_gradients_stay_float32(torch, device):
    ours, theirs = grads_pair(torch, device, 10.0, dtype=np.float32)
    total = clip_grad_norm_(ours, 0.5)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 0.5)
    assert total == pytest.approx(expected.item(), rel=1e-6)
    for p, tp in zip(ours, theirs):
        assert p.grad.dtype == np.float32
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-6)


def test_clipped_norm_is_max_norm_and_old_array_is_not_written():
    rng = np.random.default_rng(0)
    p = Parameter(rng.normal(size=(5, 5)))
    p.grad = mdl.tensor(100 * rng.normal(size=(5, 5)), dtype=mdl.float64)
    grad_tensor, old_array = p.grad, p.grad.data
    before = old_array.copy()
    total = clip_grad_norm_(p, max_norm=2.0)  # a single Tensor is accepted too
    assert total == pytest.approx(np.linalg.norm(before))
    assert np.linalg.norm(p.grad.numpy()) == pytest.approx(2.0, rel=1e-6)
    assert p.grad is grad_tensor  # the same gradient Tensor, scaled
    np.testing.assert_array_equal(old_array, before)


def test_parameters_without_gradients_are_ignored():
    a, b = Parameter(np.ones(3)), Parameter(np.ones(2))
    assert clip_grad_norm_([a, b], 1.0) == 0.0
    a.grad = mdl.tensor([3.0, 4.0, 0.0], dtype=mdl.float64)
    assert clip_grad_norm_([a, b], 1.0) == pytest.approx(5.0)
    assert b.grad is None


def test_nonfinite_and_bad_arguments():
    p = Parameter(np.ones(2))
    p.grad = mdl.tensor([np.inf, 1.0], dtype=mdl.float64)
    with pytest.raises(RuntimeError, match="NaN or infinity"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError, match="norm_type must be > 0"):
        clip_grad_norm_([p], 1.0, norm_type=0)
    with pytest.raises(ValueError, match="max_norm must be >= 0"):
        clip_grad_norm_([p], -1.0)
