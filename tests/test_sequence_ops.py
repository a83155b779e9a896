"""The sequence-model ops beyond the op table (tests/op_cases.py runs each through gradcheck, NumPy and
PyTorch on hypothesis inputs): prod's exact zeros, embedding's repeated indices and padding row, layer
norm without affine parameters, attention's masks, causal alignment and dropout, erf's accuracy, and
the errors that bad arguments get."""

import math

import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from minidl.backend import get_backend
from minidl.errors import ArgumentError, ArgumentTypeError, DTypeError, ShapeError


def leaf(array, device):
    return mdl.tensor(np.asarray(array, dtype=np.float64), device=device, requires_grad=True)


def backward_both(torch, ym, yt, rng):
    """One random upstream gradient through both outputs (after checking that they agree)."""
    np.testing.assert_allclose(ym.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(ym.shape)
    ym.backward(mdl.tensor(g, device=ym.device))
    yt.backward(torch.from_numpy(g))


# -- prod: no zero, one zero, two zeros in a slice -------------------------------------------------------------
ZEROS = np.array([[1.5, 2.0, -3.0],     # no zero: y / x
                  [0.0, 2.0, -3.0],     # one zero: the product of the others at the zero, 0 elsewhere
                  [0.0, 0.0, -3.0]])    # two zeros: 0 everywhere


@pytest.mark.parametrize("axis", [1, 0, None, (0, 1)], ids=str)
def test_prod_with_zeros_matches_torch(torch, device, axis):
    x = leaf(ZEROS, device)
    xt = torch.tensor(ZEROS, requires_grad=True)
    ym = x.prod(axis=axis)
    if axis is None or axis == (0, 1):
        yt = torch.prod(xt)
    else:
        yt = torch.prod(xt, dim=axis)
    backward_both(torch, ym, yt, np.random.default_rng(0))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=0)


def test_prod_gradient_by_hand(device):
    x = leaf(ZEROS, device)
    x.prod(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[-6.0, -4.5, 3.0], [-6.0, 0.0, 0.0], [0.0, 0.0, 0.0]])


def test_tensor_methods(device):
    x = mdl.tensor([0.5, -1.0], dtype=mdl.float64, device=device)
    np.testing.assert_allclose(x.sin().numpy(), np.sin([0.5, -1.0]), rtol=1e-15)
    np.testing.assert_allclose(x.cos().numpy(), np.cos([0.5, -1.0]), rtol=1e-15)
    assert x.prod().item() == -0.5 and x.prod(keepdims=True).shape == (1,)
    assert mdl.prod(mdl.ones((2, 3), device=device), axis=0).dtype == np.float32


# -- embedding ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_repeats_and_padding_match_torch(torch, device, padding_idx):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((5, 3))
    idx = np.array([[2, 0, 2], [4, 2, 1]])  # 2 three times, 4 (= -1) once
    wm, wt = leaf(w, device), torch.tensor(w, requires_grad=True)
    ym = F.embedding(mdl.tensor(idx, device=device), wm, padding_idx=padding_idx)
    yt = torch.nn.functional.embedding(torch.from_numpy(idx), wt, padding_idx=padding_idx)
    backward_both(torch, ym, yt, rng)
    np.testing.assert_allclose(wm.grad.numpy(), wt.grad.numpy(), rtol=1e-12, atol=0)
    if padding_idx is not None:
        assert not wm.grad.numpy()[padding_idx].any()


def test_embedding_repeated_index_adds_by_hand(device):
    w = leaf(np.zeros((3, 2)), device)
    F.embedding([1, 1, 0, 1], w).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[1, 1], [3, 3], [0, 0]])


def test_embedding_errors(device):
    w = leaf(np.zeros((3, 2)), device)
    with pytest.raises(ArgumentError, match=r"index 3 is out of range.*\[0, 3\)"):
        F.embedding(mdl.tensor([0, 3], device=device), w)
        get_backend(device).raise_pending_checks()
    with pytest.raises(ArgumentError, match="out of range"):
        F.embedding(np.array([-1]), w)
    with pytest.raises(DTypeError, match="indices must be integers"):
        F.embedding(np.array([0.0, 1.0]), w)
    with pytest.raises(ShapeError, match="weight must be a matrix"):
        F.embedding([0], leaf(np.zeros(3), device))
    with pytest.raises(ArgumentError, match="padding_idx 3"):
        F.embedding([0], w, padding_idx=3)


# -- layer norm: every affine form ------------------------------------------------------------------------------
@pytest.mark.parametrize("affine", ["none", "weight", "bias", "both"])
def test_layer_norm_affine_forms_gradcheck_and_torch(torch, device, affine):
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal(4), rng.standard_normal(4)
    leaves = [leaf(x, device)] + [leaf(a, device) for a, used in ((w, affine in ("weight", "both")),
                                                                    (b, affine in ("bias", "both"))) if used]
    names = [n for n, used in (("weight", affine in ("weight", "both")), ("bias", affine in ("bias", "both")))
             if used]

    def ln(x, *affine_args):
        return F.layer_norm(x, (4,), **dict(zip(names, affine_args)))

    assert mdl.gradcheck(ln, tuple(leaves))
    torch_leaves = [torch.tensor(t.numpy(), requires_grad=True) for t in leaves]
    ym = ln(*leaves)
    yt = torch.nn.functional.layer_norm(torch_leaves[0], (4,), **dict(zip(names, torch_leaves[1:])))
    backward_both(torch, ym, yt, rng)
    for a, c in zip(leaves, torch_leaves):
        np.testing.assert_allclose(a.grad.numpy(), c.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_layer_norm_keeps_float32_and_mixed_gradient_dtypes(device):
    x = mdl.randn(2, 4, device=device, requires_grad=True)
    w = mdl.ones(4, dtype=mdl.float64, device=device, requires_grad=True)
    y = F.layer_norm(x, 4)
    assert y.dtype == np.float32
    F.layer_norm(x, 4, weight=w).sum().backward()  # float64 weight, float32 x: each gradient in its dtype
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64


def test_layer_norm_errors(device):
    x = mdl.zeros((2, 3), device=device)
    with pytest.raises(ShapeError, match=r"does not end in normalized_shape \(4,\)"):
        F.layer_norm(x, 4)
    with pytest.raises(ShapeError, match=r"weight must have shape \(3,\)"):
        F.layer_norm(x, 3, weight=mdl.ones(4, device=device))
    with pytest.raises(ArgumentError, match="normalized_shape"):
        F.layer_norm(x, 0)
    with pytest.raises(ArgumentTypeError, match="layer_norm: expected input as a Tensor"):
        F.layer_norm(np.zeros((2, 3)), 3)


# -- attention ------------------------------------------------------------------------------------------------
def attention_leaves(device, rng, lq=3, s=5, e=4, ev=2, batch=(2,)):
    arrays = [rng.standard_normal(batch + shape) for shape in ((lq, e), (s, e), (s, ev))]
    return [leaf(a, device) for a in arrays], arrays


@pytest.mark.parametrize("lq, s", [(3, 5), (5, 3), (4, 4)])
def test_causal_is_top_left_aligned_as_torch(torch, device, lq, s):
    rng = np.random.default_rng(3)
    mine, arrays = attention_leaves(device, rng, lq, s)
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    ym = F.scaled_dot_product_attention(*mine, is_causal=True)
    yt = torch.nn.functional.scaled_dot_product_attention(*theirs, is_causal=True)
    backward_both(torch, ym, yt, rng)
    for a, c in zip(mine, theirs):
        np.testing.assert_allclose(a.grad.numpy(), c.grad.numpy(), rtol=1e-10, atol=1e-12)
    # query 0 sees key 0 only: its output is v[0] exactly
    np.testing.assert_allclose(ym.numpy()[:, 0], arrays[2][:, 0], rtol=1e-12)


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_masked_rows_match_torch_with_zero_output(torch, device, kind):
    rng = np.random.default_rng(4)
    mine, arrays = attention_leaves(device, rng)
    allowed = rng.random((3, 5)) < 0.6
    allowed[1] = False  # query 1 may attend to nothing: zero weights, zero output (PyTorch >= 2.5)
    mask = allowed if kind == "bool" else np.where(allowed, rng.standard_normal((3, 5)), -np.inf)
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    ym = F.scaled_dot_product_attention(*mine, attn_mask=mdl.tensor(mask, device=device))
    yt = torch.nn.functional.scaled_dot_product_attention(*theirs, attn_mask=torch.from_numpy(mask))
    backward_both(torch, ym, yt, rng)
    assert not ym.numpy()[:, 1].any()
    for a, c in zip(mine, theirs):
        np.testing.assert_allclose(a.grad.numpy(), c.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_attention_scale_and_float32(torch, device):
    rng = np.random.default_rng(5)
    mine, arrays = attention_leaves(device, rng)
    ym = F.scaled_dot_product_attention(*mine, scale=0.3)
    yt = torch.nn.functional.scaled_dot_product_attention(*(torch.from_numpy(a) for a in arrays), scale=0.3)
    np.testing.assert_allclose(ym.numpy(), yt.numpy(), rtol=1e-12)
    q32 = [mdl.tensor(a.astype(np.float32), device=device, requires_grad=True) for a in arrays]
    y32 = F.scaled_dot_product_attention(*q32, is_causal=True)
    y32.sum().backward()
    assert y32.dtype == np.float32 and all(t.grad.dtype == np.float32 for t in q32)


def test_attention_dropout_gradcheck_and_expectation(device):
    rng = np.random.default_rng(6)
    mine, _ = attention_leaves(device, rng, lq=2, s=3)

    def with_fixed_mask(q, k, v):  # the same dropout mask on every call of gradcheck
        mdl.manual_seed(0)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)

    assert mdl.gradcheck(with_fixed_mask, tuple(mine))
    # inverted dropout keeps the expected output: the mean over many masks approaches the plain output
    v = mdl.tensor(np.ones((1, 400, 1)), device=device)  # every output is Σ of the kept, rescaled weights
    q, k = (mdl.tensor(np.zeros((1, 1, 1)), device=device), mdl.tensor(np.zeros((1, 400, 1)), device=device))
    outputs = [F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).item() for _ in range(50)]
    assert abs(np.mean(outputs) - 1.0) < 0.03 and np.std(outputs) > 0.01


def test_attention_errors(device):
    rng = np.random.default_rng(7)
    q, k, v = attention_leaves(device, rng)[0]
    with pytest.raises(ArgumentError, match="not both"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((3, 5), bool), is_causal=True)
    with pytest.raises(ShapeError, match=r"query \(\.\.\., L, E\), key \(\.\.\., S, E\)"):
        F.scaled_dot_product_attention(q, v, v)
    with pytest.raises(ShapeError, match="attn_mask of shape"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((5, 3), bool))
    with pytest.raises(DTypeError, match="attn_mask must be boolean"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((3, 5), np.int64))
    with pytest.raises(ArgumentError, match="dropout_p"):
        F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)


@pytest.mark.parametrize("causal", [True, False])
def test_self_attention_on_packed_projections_matches_torch(torch, device, causal):
    rng = np.random.default_rng(8)
    b, t, heads, d = 2, 5, 3, 4
    qkv = rng.standard_normal((b, t, 3 * heads * d))
    mine = leaf(qkv, device)
    theirs = torch.tensor(qkv, requires_grad=True)
    q, k, v = (part.reshape(b, t, heads, d).transpose(1, 2) for part in theirs.split(heads * d, dim=2))
    yt = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal).transpose(1, 2).reshape(b, t, -1)
    for fast in (True, False):
        mine.grad = None
        with mdl.fast_paths(fast):
            ym = F.self_attention(mine, heads, is_causal=causal)
        g = rng.standard_normal(ym.shape)
        np.testing.assert_allclose(ym.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
        ym.backward(mdl.tensor(g, device=device))
        theirs.grad = None
        yt.backward(torch.from_numpy(g), retain_graph=True)
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_self_attention_errors(device):
    qkv = leaf(np.zeros((2, 3, 12)), device)
    with pytest.raises(ShapeError, match=r"self_attention: expected qkv of shape \(B, T, 3E\).*got \(2, 3, 12\)"):
        F.self_attention(qkv, 3)
    with pytest.raises(ShapeError, match="self_attention"):
        F.self_attention(leaf(np.zeros((3, 12)), device), 2)
    with pytest.raises(ArgumentError, match="num_heads must be a positive int, got 0"):
        F.self_attention(qkv, 0)
    with pytest.raises(ArgumentError, match="dropout_p"):
        F.self_attention(qkv, 2, dropout_p=1.5)
    with pytest.raises(ArgumentTypeError, match="self_attention"):
        F.self_attention(None, 2)


# -- erf, GELU and the trigonometric functions ------------------------------------------------------------------------
def test_backend_erf_is_float64_accurate(device):
    grid = np.concatenate([np.linspace(-6, 6, 1201), [-1e-8, 0.0, 1e-8, 30.0, -30.0]])
    backend = get_backend(device)
    got = backend.to_host(backend.erf(backend.asarray(grid)))
    np.testing.assert_allclose(got, [math.erf(v) for v in grid], rtol=1e-14, atol=1e-300)


def test_backend_erf_float32_within_two_ulp(device):
    """float32 on the CPU: a rational approximation in blocks (minidl/backend/erf.py), split over threads
    for large arrays: every block written, float32 kept, within 1.2e-7 of the exact erf everywhere."""
    rng = np.random.default_rng(8)
    x = np.concatenate([np.linspace(-6, 6, 240_001), rng.standard_normal(100_000) * 3,
                        [0.0, -0.0, 1e-30, -1e-38, 3.99, 4.0, 4.01, 1e30, np.inf, -np.inf, 2.5]]).astype(np.float32)
    backend = get_backend(device)
    got = backend.to_host(backend.erf(backend.asarray(x.reshape(2, -1)))).reshape(-1)
    assert got.dtype == np.float32
    exact = np.array([math.erf(v) for v in x.astype(np.float64)])
    np.testing.assert_allclose(got, exact, rtol=0, atol=1.2e-7)
    assert got[np.abs(x) > 4].tolist() == np.sign(x[np.abs(x) > 4]).tolist()  # erf rounds to ±1 there
    assert np.isnan(backend.to_host(backend.erf(backend.asarray(np.float32([np.nan]))))).all()


def test_gelu_at_known_points(device):
    x = mdl.tensor([0.0, 1.0, -1.0], dtype=mdl.float64, device=device)
    phi1 = 0.5 * (1 + math.erf(1 / math.sqrt(2)))  # Φ(1) = 0.8413447...
    np.testing.assert_allclose(F.gelu(x).numpy(), [0.0, phi1, -(1 - phi1)], rtol=1e-15)
    with pytest.raises(ArgumentError, match="approximate must be 'none' or 'tanh'"):
        F.gelu(x, approximate="fast")


def test_unary_ops_name_their_argument():
    with pytest.raises(ArgumentTypeError, match="sin: expected x as a Tensor, got numpy.ndarray"):
        mdl.sin(np.zeros(3))
    with pytest.raises(DTypeError, match="cos: x must be floating point"):
        mdl.cos(mdl.tensor([1, 2]))
