"""The language models of minidl.zoo against PyTorch twins with the same weights (float64: logits, loss and
every parameter's gradient), generation on a model with known logits, saved runs, and training by steps."""

import json
import math

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl.data.text import CharVocab
from minidl.optim import SGD
from minidl.optim.lr_scheduler import LambdaLR, WarmupCosine
from minidl.train.language_model import fit_steps, mean_loss, ordered_windows, sequence_loss, train_on_text
from minidl.zoo import GPT, LSTMLanguageModel, NamesMLP, generate, load_language_model, save_language_model

V = 11


def torch_params(torch, model):
    return {name: torch.tensor(np.array(p.data), dtype=torch.float64, requires_grad=True)
            for name, p in model.named_parameters()}


def torch_gpt(torch, P, idx, n_layer, n_head):
    """nanoGPT's GPT.forward written with torch.nn.functional on the parameters P (same names as minidl's)."""
    F = torch.nn.functional
    n, t = idx.shape
    x = P["transformer.wte.weight"][idx] + P["transformer.wpe.weight"][torch.arange(t)]
    c = x.shape[-1]
    for i in range(n_layer):
        p = lambda name: P[f"transformer.h.{i}.{name}"]   # noqa: E731
        h = F.layer_norm(x, (c,), p("ln_1.weight"), p("ln_1.bias"))
        q, k, v = F.linear(h, p("attn.c_attn.weight"), p("attn.c_attn.bias")).split(c, dim=2)
        q, k, v = (z.view(n, t, n_head, c // n_head).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(n, t, c)
        x = x + F.linear(y, p("attn.c_proj.weight"), p("attn.c_proj.bias"))
        h = F.layer_norm(x, (c,), p("ln_2.weight"), p("ln_2.bias"))
        x = x + F.linear(F.gelu(F.linear(h, p("mlp.c_fc.weight"), p("mlp.c_fc.bias"))), p("mlp.c_proj.weight"),
                         p("mlp.c_proj.bias"))
    x = F.layer_norm(x, (c,), P["transformer.ln_f.weight"], P["transformer.ln_f.bias"])
    return x @ P["lm_head.weight"].T


def assert_matches(torch, model, torch_logits, P, idx, targets):
    logits = model(mdl.tensor(idx))
    np.testing.assert_allclose(logits.numpy(), torch_logits.detach().numpy(), rtol=1e-10, atol=1e-10)
    loss = sequence_loss(logits, mdl.tensor(targets))
    loss.backward()
    t_loss = torch.nn.functional.cross_entropy(torch_logits.reshape(-1, torch_logits.shape[-1]),
                                               torch.tensor(targets).reshape(-1))
    t_loss.backward()
    assert loss.item() == pytest.approx(t_loss.item(), rel=1e-12)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), P[name].grad.numpy(), rtol=1e-8, atol=1e-12, err_msg=name)


def test_gpt_is_nanogpt(torch):
    mdl.manual_seed(0)
    model = GPT(V, block_size=8, n_layer=2, n_head=2, n_embd=16).astype(mdl.float64)
    for p in model.parameters():   # random norms and biases too, so every parameter's role is checked
        p.data[...] = np.random.default_rng(p.size).normal(0, 0.3, p.shape)
    rng = np.random.default_rng(1)
    idx, targets = rng.integers(0, V, (3, 8)), rng.integers(0, V, (3, 8))
    P = torch_params(torch, model)
    assert_matches(torch, model, torch_gpt(torch, P, torch.tensor(idx), 2, 2), P, idx, targets)


def test_gpt_initialisation_is_nanogpts():
    mdl.manual_seed(0)
    model = GPT(65, block_size=64, n_layer=4, n_head=4, n_embd=128)
    params = dict(model.named_parameters())
    assert sum(p.size for p in params.values()) == 2 * 65 * 128 + 64 * 128 + 4 * (12 * 128 * 128 + 13 * 128) + 2 * 128
    assert np.std(params["transformer.wte.weight"].numpy()) == pytest.approx(0.02, rel=0.05)
    assert np.std(params["transformer.h.0.mlp.c_fc.weight"].numpy()) == pytest.approx(0.02, rel=0.05)
    assert np.std(params["transformer.h.0.attn.c_proj.weight"].numpy()) == pytest.approx(0.02 / math.sqrt(8), rel=0.05)
    assert not params["transformer.h.0.attn.c_attn.bias"].numpy().any()
    assert model.config() == dict(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128, dropout=0.0)
    with pytest.raises(ValueError, match="block_size"):
        model(mdl.tensor(np.zeros((1, 65), dtype=np.int64)))


def test_lstm_language_model_matches_pytorch(torch):
    mdl.manual_seed(0)
    model = LSTMLanguageModel(V, embed_dim=5, hidden_size=7, num_layers=2, block_size=6).astype(mdl.float64)
    twin = torch.nn.ModuleDict({"embedding": torch.nn.Embedding(V, 5),
                                "lstm": torch.nn.LSTM(5, 7, num_layers=2, batch_first=True),
                                "head": torch.nn.Linear(7, V)}).double()
    twin.load_state_dict({k: torch.tensor(np.array(v)) for k, v in model.state_dict().items()})
    rng = np.random.default_rng(2)
    idx, targets = rng.integers(0, V, (4, 6)), rng.integers(0, V, (4, 6))
    out, _ = twin["lstm"](twin["embedding"](torch.tensor(idx)))
    logits = twin["head"](out)
    assert_matches(torch, model, logits, dict(twin.named_parameters()), idx, targets)


def test_names_mlp_matches_pytorch(torch):
    mdl.manual_seed(0)
    model = NamesMLP(27, context=3, embed_dim=10, hidden=200).astype(mdl.float64)
    assert sum(p.size for p in model.parameters()) == 11_897   # the lecture's count
    P = torch_params(torch, model)
    rng = np.random.default_rng(3)
    idx, targets = rng.integers(0, 27, (32, 3)), rng.integers(0, 27, 32)
    emb = P["embedding.weight"][torch.tensor(idx)].reshape(32, 30)
    h = torch.tanh(emb @ P["hidden_layer.weight"].T + P["hidden_layer.bias"])
    assert_matches(torch, model, h @ P["output.weight"].T + P["output.bias"], P, idx, targets)


class NextOfLast(nn.Module):
    """A stand-in language model whose logits say: the next token is (last + 1) mod V; records its inputs."""

    block_size = 4

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, idx):
        x = idx.numpy()
        self.seen.append(x.shape)
        logits = np.full(x.shape + (V,), -5.0)
        np.put_along_axis(logits, ((x + 1) % V)[..., None], 5.0, axis=-1)
        return mdl.tensor(logits)


def test_generate_feeds_the_last_block_and_samples_the_last_position():
    model = NextOfLast()
    out = generate(model, [3], max_new_tokens=12, temperature=0)
    np.testing.assert_array_equal(out, (3 + np.arange(13)) % V)
    assert [s[1] for s in model.seen] == [1, 2, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4]   # cropped to block_size
    # sampling: 10 logits apart, so (last + 1) has probability 1 - 10·e^-10; top_k=1 is certain
    np.testing.assert_array_equal(generate(NextOfLast(), [0], 5, temperature=1.0, top_k=1, seed=0), np.arange(6))


def test_a_saved_run_loads_and_predicts_the_same(tmp_path):
    mdl.manual_seed(0)
    vocab = CharVocab.from_text("hello world")
    for model in (GPT(len(vocab), block_size=8, n_layer=1, n_head=2, n_embd=8),
                  LSTMLanguageModel(len(vocab), embed_dim=4, hidden_size=6, block_size=8),
                  NamesMLP(len(vocab), context=3, embed_dim=2, hidden=5)):
        folder = tmp_path / type(model).__name__
        save_language_model(folder, model, vocab, dataset="test", val_loss=1.5)
        config = json.loads((folder / "config.json").read_text())
        assert config["dataset"] == "test" and config["config"]["vocab_size"] == len(vocab)
        loaded, loaded_vocab, _ = load_language_model(folder)
        assert type(loaded) is type(model) and loaded_vocab == vocab
        idx = mdl.tensor(np.array([[1, 2, 3]]))
        model.eval()
        np.testing.assert_array_equal(loaded(idx).numpy(), model(idx).numpy())
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_language_model(tmp_path)


def test_ordered_windows_cover_the_text_once():
    tokens = np.arange(23)
    batches = list(ordered_windows(tokens, block_size=5, batch_size=3))
    xs = np.concatenate([x for x, _ in batches])
    ys = np.concatenate([y for _, y in batches])
    np.testing.assert_array_equal(xs.reshape(-1), np.arange(20))
    np.testing.assert_array_equal(ys.reshape(-1), np.arange(1, 21))
    assert [len(x) for x, _ in batches] == [3, 1]


def test_mean_loss_is_the_per_target_mean(torch):
    mdl.manual_seed(0)
    model = LSTMLanguageModel(V, embed_dim=3, hidden_size=4, block_size=5)
    rng = np.random.default_rng(4)
    batches = [(rng.integers(0, V, (n, 5)), rng.integers(0, V, (n, 5))) for n in (3, 1)]   # unequal batches
    with mdl.no_grad():
        logits = np.concatenate([model(mdl.tensor(x)).numpy() for x, _ in batches]).reshape(-1, V)
    targets = np.concatenate([y for _, y in batches]).reshape(-1)
    expected = torch.nn.functional.cross_entropy(torch.tensor(logits, dtype=torch.float64), torch.tensor(targets))
    assert mean_loss(model, batches) == pytest.approx(expected.item(), rel=1e-5)


def test_fit_steps_follows_its_schedule_and_checks():
    mdl.manual_seed(0)
    model = NamesMLP(5, context=2, embed_dim=2, hidden=4)
    opt = SGD(model.parameters(), lr=0.5)
    sched = LambdaLR(opt, WarmupCosine(3, 20, 0.1))
    X, Y = np.array([[0, 1], [1, 2]]), np.array([2, 3])
    history = fit_steps(model, lambda: (X, Y), opt, 20, scheduler=sched, log=None,
                        evaluate=lambda: {"val_loss": mean_loss(model, [(X, Y)])}, eval_every=8)
    np.testing.assert_allclose(history["lr"], [0.5 * WarmupCosine(3, 20, 0.1)(s) for s in range(20)], rtol=1e-12)
    assert history["eval_step"] == [8, 16, 20] and len(history["loss"]) == 20
    assert history["val_loss"][-1] < history["loss"][0]


def test_a_gpt_learns_a_periodic_text():
    """A text with period 5 has zero entropy after its first characters: the loss must fall far below ln 5."""
    mdl.manual_seed(0)
    tokens = np.tile(np.array([0, 3, 1, 4, 2]), 400)
    model = GPT(5, block_size=8, n_layer=1, n_head=2, n_embd=16)
    history = train_on_text(model, tokens[:1600], tokens[1600:], steps=150, batch_size=8, block_size=8, lr=1e-2,
                            warmup=10, eval_every=50, eval_batches=2, log=None)
    assert history["val_loss_full"] < 0.2 < math.log(5)
