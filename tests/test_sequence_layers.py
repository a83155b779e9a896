"""The sequence-model layers against their PyTorch twins in float64 (outputs, and the gradients of every
input and every parameter for random upstream gradients on every output): Embedding, LayerNorm, GELU,
MultiheadAttention (self and cross attention, every mask, batch_first, unbatched, need_weights) and a
one-block GPT; then the containers ModuleList and ModuleDict and Module.apply, against PyTorch's."""

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl.benchmark import torch_gpt  # nanoGPT's model.py in PyTorch: the reference
from minidl.errors import ArgumentError, ArgumentTypeError, ShapeError
from minidl.nn.transformer import GPT, Block

RTOL, ATOL = 1e-9, 1e-11


def twin_check(torch, mine, theirs, inputs, call=lambda m, *xs: m(*xs), seed=0, differentiable=None):
    """Load mine's weights into theirs (both float64), run both on `inputs` (NumPy arrays; float ones
    require grad unless `differentiable` says otherwise), backward one random upstream gradient per
    output: outputs, input gradients and every parameter gradient must agree."""
    mine.astype(mdl.float64)
    theirs.double()
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in mine.state_dict().items()}, strict=True)
    differentiable = differentiable or [a.dtype.kind == "f" for a in inputs]
    xm = [mdl.tensor(a, requires_grad=d) if a is not None else None for a, d in zip(inputs, differentiable)]
    xt = [torch.tensor(a, requires_grad=bool(d)) if a is not None else None for a, d in zip(inputs, differentiable)]
    ym, yt = call(mine, *xm), call(theirs, *xt)
    ym = ym if isinstance(ym, tuple) else (ym,)
    yt = yt if isinstance(yt, tuple) else (yt,)
    rng = np.random.default_rng(seed)
    loss_m, loss_t = 0, 0
    for a, b in zip(ym, yt):
        assert (a is None) == (b is None)
        if a is None:
            continue
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=RTOL, atol=ATOL)
        g = rng.standard_normal(a.shape)
        loss_m = loss_m + (a * mdl.tensor(g)).sum()
        loss_t = loss_t + (b * torch.from_numpy(g)).sum()
    loss_m.backward()
    loss_t.backward()
    for i, (a, b) in enumerate(zip(xm, xt)):
        if a is not None and a.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=f"input {i}")
    theirs_params = dict(theirs.named_parameters())
    names = [name for name, _ in mine.named_parameters()]
    assert names == list(theirs_params), "parameter names and order differ from PyTorch's"
    for name, p in mine.named_parameters():
        expected = theirs_params[name].grad
        got = np.zeros(p.shape) if p.grad is None else p.grad.numpy()
        np.testing.assert_allclose(got, np.zeros(p.shape) if expected is None else expected.numpy(), rtol=RTOL,
                                   atol=ATOL, err_msg=name)
    return ym


# -- Embedding, LayerNorm, GELU ------------------------------------------------------------------------------------
@pytest.mark.parametrize("padding_idx", [None, 0, -2])
def test_embedding_matches_torch(torch, padding_idx):
    mine = nn.Embedding(6, 3, padding_idx=padding_idx)
    if padding_idx is not None:
        assert not mine.weight.numpy()[padding_idx].any()
        mine.weight.data[padding_idx] = 0.5  # the row is used as it is, and still gets no gradient
    idx = np.array([[0, 4, 4], [5, 0, 4]])
    twin_check(torch, mine, torch.nn.Embedding(6, 3, padding_idx=padding_idx), [idx])
    if padding_idx is not None:
        assert not mine.weight.grad.numpy()[padding_idx].any()


def test_embedding_initialisation_is_standard_normal():
    mdl.manual_seed(0)
    w = nn.Embedding(400, 50).weight.numpy()
    assert abs(w.mean()) < 0.03 and abs(w.std() - 1) < 0.02 and w.dtype == np.float32  # 4 standard errors


@pytest.mark.parametrize("shape, kwargs", [(5, {}), ((3, 5), {}), (5, {"elementwise_affine": False}),
                                           (5, {"bias": False}), (5, {"eps": 1e-2})], ids=str)
def test_layer_norm_matches_torch(torch, shape, kwargs):
    mine, theirs = nn.LayerNorm(shape, **kwargs), torch.nn.LayerNorm(shape, **kwargs)
    rng = np.random.default_rng(1)
    for p in mine.parameters():  # not ones and zeros: the affine parameters' gradients must be right
        p.data[...] = rng.standard_normal(p.shape)
    twin_check(torch, mine, theirs, [rng.standard_normal((2, 4, 3, 5))])


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch(torch, approximate):
    x = np.random.default_rng(2).standard_normal((3, 7)) * 3
    twin_check(torch, nn.GELU(approximate), torch.nn.GELU(approximate), [x])
    with pytest.raises(ArgumentError):
        nn.GELU("erf")


# -- MultiheadAttention ------------------------------------------------------------------------------------------------
E, HEADS, L, S, N = 8, 2, 4, 6, 3


def mha_pair(torch, **kwargs):
    mine = nn.MultiheadAttention(E, HEADS, **kwargs)
    return mine, torch.nn.MultiheadAttention(E, HEADS, **kwargs)


def mha_inputs(rng, batch_first=False, cross=True, batched=True):
    s = S if cross else L
    def shape(length):
        if not batched:
            return (length, E)
        return (N, length, E) if batch_first else (length, N, E)
    q = rng.standard_normal(shape(L))
    if not cross:
        return q
    return q, rng.standard_normal(shape(s)), rng.standard_normal(shape(s))


def call_mha(**options):
    def call(m, q, k, v, *masks):
        kwargs = dict(options)
        for name, mask in zip(("attn_mask", "key_padding_mask"), masks):
            if mask is not None:
                kwargs[name] = mask
        return m(q, k, v, **kwargs)
    return call


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_cross_attention_matches_torch(torch, batch_first, need_weights):
    rng = np.random.default_rng(3)
    mine, theirs = mha_pair(torch, batch_first=batch_first)
    out = twin_check(torch, mine, theirs, list(mha_inputs(rng, batch_first)), call_mha(need_weights=need_weights))
    assert out[0].shape == ((N, L, E) if batch_first else (L, N, E))
    assert (out[1] is None) == (not need_weights)
    if need_weights:
        assert out[1].shape == (N, L, S)
        np.testing.assert_allclose(out[1].numpy().sum(axis=-1), 1.0, rtol=1e-12)


def test_mha_self_attention_one_tensor_three_times(torch):
    rng = np.random.default_rng(4)
    x = mha_inputs(rng, cross=False)
    mine, theirs = mha_pair(torch)
    twin_check(torch, mine, theirs, [x], lambda m, x: m(x, x, x))


MASKS = {
    "bool (L, S)": lambda rng: (rng.random((L, S)) < 0.3, None),
    "float (L, S)": lambda rng: (rng.standard_normal((L, S)), None),
    "bool (N·heads, L, S)": lambda rng: (rng.random((N * HEADS, L, S)) < 0.3, None),
    "key_padding bool": lambda rng: (None, np.array([[False] * 4 + [True] * 2, [False] * 6, [False, True] * 3])),
    "key_padding float": lambda rng: (None, rng.standard_normal((N, S))),
    "both": lambda rng: (rng.random((L, S)) < 0.3, np.array([[False] * 5 + [True]] * 3)),
}


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("mask", MASKS)
def test_mha_masks_match_torch(torch, mask, need_weights):
    rng = np.random.default_rng(5)
    attn_mask, padding = MASKS[mask](rng)
    if attn_mask is not None and attn_mask.dtype == bool:
        attn_mask[..., 0] = False  # every query keeps a key (a fully masked row is NaN in PyTorch's MHA)
    q, k, v = mha_inputs(rng)
    mine, theirs = mha_pair(torch)
    twin_check(torch, mine, theirs, [q, k, v, attn_mask, padding], call_mha(need_weights=need_weights),
               differentiable=[True, True, True, False, False])


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("padding", [False, True])
def test_mha_is_causal_matches_torch(torch, need_weights, padding):
    """PyTorch needs the causal attn_mask beside is_causal=True; minidl builds it when none is given."""
    rng = np.random.default_rng(6)
    x = mha_inputs(rng, batch_first=True, cross=False)
    causal = ~np.tri(L, L, dtype=bool)
    pad = np.array([[False] * 3 + [True]] * N) if padding else None
    mine, theirs = mha_pair(torch, batch_first=True)

    def call(m, x):
        if isinstance(m, torch.nn.Module):
            return m(x, x, x, attn_mask=torch.from_numpy(causal), need_weights=need_weights, is_causal=True,
                     key_padding_mask=None if pad is None else torch.from_numpy(pad))
        return m(x, x, x, need_weights=need_weights, is_causal=True, key_padding_mask=pad)

    twin_check(torch, mine, theirs, [x], call)
    # the causal mask given explicitly too (it must be that mask), boolean or float
    for given in (causal, np.where(causal, -np.inf, 0.0)):
        y, _ = mine(*(mdl.tensor(x),) * 3, attn_mask=given, is_causal=True, need_weights=False)
        y_ref, _ = mine(*(mdl.tensor(x),) * 3, is_causal=True, need_weights=False)
        np.testing.assert_allclose(y.numpy(), y_ref.numpy(), rtol=1e-13)
    with pytest.raises(ArgumentError, match="not the causal mask"):
        mine(*(mdl.tensor(x),) * 3, attn_mask=causal.T, is_causal=True)


def test_mha_unbatched_no_bias_heads_not_averaged(torch):
    rng = np.random.default_rng(7)
    mine, theirs = mha_pair(torch, bias=False)
    q, k, v = mha_inputs(rng, batched=False)
    out = twin_check(torch, mine, theirs, [q, k, v], call_mha(average_attn_weights=False))
    assert out[0].shape == (L, E) and out[1].shape == (HEADS, L, S)
    assert [n for n, _ in mine.named_parameters()] == ["in_proj_weight", "out_proj.weight"]


def test_mha_dropout_acts_in_training_only(torch):
    rng = np.random.default_rng(8)
    mine, theirs = mha_pair(torch, dropout=0.5)
    q, k, v = mha_inputs(rng)
    twin_check(torch, mine.eval(), theirs.eval(), [q, k, v])  # eval: no dropout, as PyTorch
    mine.train()
    qm = [mdl.tensor(a) for a in (q, k, v)]
    (y1, w1), (y2, w2) = mine(*qm), mine(*qm)
    assert not np.allclose(y1.numpy(), y2.numpy())
    y3, _ = mine(*qm, need_weights=False)
    assert y3.shape == y1.shape


def test_mha_initialisation_and_parameters(torch):
    m = nn.MultiheadAttention(16, 4)
    names = {n: tuple(p.shape) for n, p in m.named_parameters()}
    assert names == {"in_proj_weight": (48, 16), "in_proj_bias": (48,), "out_proj.weight": (16, 16),
                     "out_proj.bias": (16,)}
    bound = np.sqrt(6 / (48 + 16))  # xavier_uniform_ on (3E, E)
    w = m.in_proj_weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert not m.in_proj_bias.numpy().any() and not m.out_proj.bias.numpy().any()
    assert set(m.state_dict()) == set(torch.nn.MultiheadAttention(16, 4).state_dict())


def test_mha_errors():
    with pytest.raises(ArgumentError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    m = nn.MultiheadAttention(E, HEADS)
    x = mdl.zeros((L, N, E))
    with pytest.raises(ShapeError, match="expected key of shape"):
        m(x, mdl.zeros((S, N, E + 1)), mdl.zeros((S, N, E + 1)))
    with pytest.raises(ShapeError, match="different batch sizes"):
        m(x, mdl.zeros((S, N + 1, E)), mdl.zeros((S, N + 1, E)))
    with pytest.raises(ShapeError, match="attn_mask must have shape"):
        m(x, x, x, attn_mask=np.zeros((L, L + 1), bool))
    with pytest.raises(ShapeError, match="key_padding_mask must have shape"):
        m(x, x, x, key_padding_mask=np.zeros((N, L + 1), bool))
    with pytest.raises(ArgumentTypeError, match="expected query as a Tensor"):
        m(np.zeros((L, N, E)), x, x)


# -- a one-block GPT: embeddings, pre-LN causal self-attention, GELU MLP, head, cross-entropy --------------------------
def test_one_block_gpt_loss_and_every_gradient_match_torch(torch):
    vocab, block_size, n_embd, n_head, batch, t = 11, 8, 16, 4, 3, 7
    mdl.manual_seed(0)
    mine = GPT(vocab, block_size, n_layer=1, n_head=n_head, n_embd=n_embd)
    rng = np.random.default_rng(9)
    for p in mine.parameters():  # larger than GPT's 0.02 init, so every term of every gradient counts
        p.data[...] = rng.standard_normal(p.shape) * 0.3
    idx = rng.integers(0, vocab, (batch, t))
    targets = rng.integers(0, vocab, (batch, t))

    def loss(model, idx):
        logits = model(idx)
        if isinstance(model, torch.nn.Module):
            return torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), torch.from_numpy(targets).reshape(-1))
        return nn.functional.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1))

    (value,) = twin_check(torch, mine, torch_gpt(torch, vocab, block_size, 1, n_head, n_embd), [idx], loss)
    assert value.shape == () and 1.0 < value.item() < 10.0


def test_gpt_block_is_reusable_and_initialised_as_nanogpt():
    mdl.manual_seed(1)
    model = GPT(vocab_size=20, block_size=16, n_layer=2, n_head=2, n_embd=32)
    assert isinstance(model.transformer["h"][1], Block)
    w = model.transformer["h"][0].mlp.c_fc.weight.numpy()
    assert abs(w.std() - 0.02) < 0.002
    proj = model.transformer["h"][0].attn.c_proj.weight.numpy()
    assert abs(proj.std() - 0.02 / np.sqrt(4)) < 0.002
    assert model(mdl.tensor(np.zeros((2, 16), np.int64))).shape == (2, 16, 20)
    with pytest.raises(ShapeError, match="block_size = 16"):
        model(mdl.tensor(np.zeros((2, 17), np.int64)))


# -- ModuleList, ModuleDict, apply --------------------------------------------------------------------------------------
def test_module_list_behaves_as_torch(torch):
    layers = [nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 3)]
    ml = nn.ModuleList(layers[:2])
    ml.append(layers[2])
    ml.extend([nn.Tanh()])
    ml.insert(1, nn.Identity())
    ml[-1] = nn.Sigmoid()
    assert len(ml) == 5 and ml[0] is layers[0] and ml[-2] is layers[2] and isinstance(ml[1], nn.Identity)
    assert [type(m).__name__ for m in ml] == ["Linear", "Identity", "ReLU", "Linear", "Sigmoid"]
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    assert list(ml.state_dict()) == ["0.weight", "0.bias", "3.weight", "3.bias"]
    tl = torch.nn.ModuleList([torch.nn.Linear(2, 2), torch.nn.Identity(), torch.nn.ReLU(), torch.nn.Linear(2, 3),
                              torch.nn.Sigmoid()])
    assert list(ml.state_dict()) == list(tl.state_dict())
    del ml[1]
    assert list(ml.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"] and len(ml) == 4
    assert len(list(ml.parameters())) == 4
    with pytest.raises(IndexError):
        ml[4]
    with pytest.raises(ArgumentTypeError, match="expected a Module"):
        ml.append(lambda x: x)


def test_module_dict_behaves_as_torch(torch):
    md = nn.ModuleDict({"enc": nn.Linear(2, 3), "act": nn.ReLU()})
    md["dec"] = nn.Linear(3, 2)
    md.update([("norm", nn.LayerNorm(2))])
    assert list(md) == ["enc", "act", "dec", "norm"] and md.keys() == list(md)
    assert "dec" in md and "x" not in md and len(md) == 4
    assert list(md.state_dict()) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias", "norm.weight", "norm.bias"]
    td = torch.nn.ModuleDict({"enc": torch.nn.Linear(2, 3), "act": torch.nn.ReLU(), "dec": torch.nn.Linear(3, 2),
                              "norm": torch.nn.LayerNorm(2)})
    assert list(md.state_dict()) == list(td.state_dict())
    assert isinstance(md.pop("act"), nn.ReLU) and list(md) == ["enc", "dec", "norm"]
    del md["enc"]
    assert [k for k, _ in md.items()] == ["dec", "norm"]
    with pytest.raises(KeyError, match="no module 'enc'"):
        md["enc"]
    with pytest.raises(ArgumentError, match="attribute"):
        md["forward"] = nn.ReLU()
    md.clear()
    assert len(md) == 0 and not list(md.parameters())


def test_apply_visits_children_then_self_as_torch(torch):
    mine = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Linear(2, 1)))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(2, 1)))
    seen_mine, seen_theirs = [], []
    assert mine.apply(lambda m: seen_mine.append(type(m).__name__)) is mine
    theirs.apply(lambda m: seen_theirs.append(type(m).__name__))
    assert seen_mine == seen_theirs == ["Linear", "ReLU", "Linear", "Sequential", "Sequential"]


# -- the same layers on the strict stand-in device (no host array may leak into device code) ----------------------
def test_layers_run_on_the_strict_device_with_the_cpu_results():
    rng = np.random.default_rng(10)
    mdl.manual_seed(2)
    gpt = GPT(vocab_size=9, block_size=6, n_layer=1, n_head=2, n_embd=8)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    idx = rng.integers(0, 9, (2, 5))
    x = rng.standard_normal((2, 5, 8)).astype(np.float32)
    pad = np.array([[False] * 4 + [True]] * 2)
    forbidden = rng.random((5, 5)) < 0.2
    results = {}
    for device in ("cpu", "strict"):
        gpt.to(device), mha.to(device)
        gpt.zero_grad(), mha.zero_grad()
        logits = gpt(mdl.tensor(idx, device=device))
        xm = mdl.tensor(x, device=device)
        out, weights = mha(xm, xm, xm, key_padding_mask=pad, is_causal=True)
        out2, _ = mha(xm, xm, xm, attn_mask=mdl.tensor(forbidden, device=device), need_weights=False)
        (logits.sum() + out.sum() + weights.sum() + out2.sum()).backward()
        results[device] = [t.numpy() for t in (logits, out, weights)] + \
            [p.grad.numpy() for p in list(gpt.parameters()) + list(mha.parameters())]
    for a, b in zip(results["cpu"], results["strict"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
