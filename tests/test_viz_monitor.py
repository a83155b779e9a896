"""The Monitor callback (minidl.viz.Monitor): dead ReLUs counted exactly, vanishing and exploding
gradients flagged, hooks removed, nothing of the graph kept."""

import gc
import weakref

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import minidl as mdl  # noqa: E402
import minidl.nn as nn  # noqa: E402
import minidl.optim as optim  # noqa: E402
from minidl.data.datasets import load_digits  # noqa: E402
from minidl.tensor import Tensor  # noqa: E402
from minidl.train import Trainer  # noqa: E402
from minidl.viz import ActivationStats, GradientStats, Monitor, plot_activation_histograms  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits()
    return X.reshape(len(X), -1)[:400], y[:400]


def mlp(hidden=32, seed=0):
    mdl.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def fit(model, data, monitor, lr=0.05, epochs=2, device="cpu"):
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr), callbacks=[monitor],
                      progress=False, device=device)
    return trainer.fit(data, epochs=epochs, batch_size=50, seed=0)


def dead_by_numpy(model, X):
    """Units of the first hidden layer whose ReLU is 0 for every sample of X, computed apart from minidl."""
    W, b = model[0].weight.numpy().astype(np.float64), model[0].bias.numpy().astype(np.float64)
    return np.flatnonzero((np.maximum(X @ W.T + b, 0) == 0).all(axis=0))


def test_dead_relus_made_by_a_large_negative_bias_are_counted_exactly(digits, capsys):
    X, _ = digits
    model = mlp()
    model[0].bias.data[:10] = -50.0  # units 0..9: w·x + b < 0 for every input in [0, 1]
    model[0].bias.data[10:] = 1.0    # units 10..31: alive for every input
    before = dead_by_numpy(model, X)
    monitor = Monitor(every=1)
    fit(model, digits, monitor)
    after = dead_by_numpy(model, X)
    np.testing.assert_array_equal(before, np.arange(10))
    np.testing.assert_array_equal(after, np.arange(10))  # no gradient reaches a dead unit: still dead
    np.testing.assert_array_equal(monitor.dead_units["1"], np.arange(10))
    assert monitor.dead_counts == {"1": (10, 32)}
    issues = monitor.issues()
    assert len(issues) == 1 and "dead ReLU units in layer '1': 10 of 32" in issues[0] and "800 samples" in issues[0]
    text = monitor.report()
    assert capsys.readouterr().out.strip() == text.strip()
    assert "10 / 32" in text and "1 issue(s)" in text


@pytest.mark.parametrize("seed", [0, 1])
def test_dead_units_of_a_default_init_match_an_independent_count(digits, seed, device):
    # lr = 0: the weights never change, so "0 for every sample seen" is a fixed set numpy can compute.
    X, _ = digits
    model = mlp(hidden=64, seed=seed)
    expected = dead_by_numpy(model, X)
    monitor = Monitor(every=1)
    fit(model, digits, monitor, lr=0.0, epochs=1, device=device)
    np.testing.assert_array_equal(monitor.dead_units["1"], expected)
    assert monitor.dead_counts["1"] == (len(expected), 64)
    assert len(expected) > 0  # the digits' always-blank pixels leave some default-initialised units dead


def test_a_healthy_network_reports_no_issues(digits):
    model = mlp()
    model[0].bias.data[...] = 0.5
    monitor = Monitor(every=1)
    fit(model, digits, monitor)
    assert len(dead_by_numpy(model, digits[0])) == 0
    assert monitor.issues() == [] and monitor.healthy
    assert monitor.dead_counts == {"1": (0, 32)} and monitor.vanishing == {} and monitor.exploding == {}
    assert "no issues" in monitor.report(show=False)


def test_a_huge_weight_scale_is_flagged_as_exploding(digits):
    mdl.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    for p in model.parameters():
        p.data *= 100.0
    monitor = Monitor(every=1)
    history = fit(model, digits, monitor, lr=1e-6, epochs=1)
    assert np.isfinite(history["loss"][0])  # a finite loss: the gradients, not the loss, blow up
    exploding = monitor.exploding
    assert "0.weight" in exploding and exploding["0.weight"]["worst_norm"] > 1e3
    for name, entry in exploding.items():
        norms = [s.norm for s in monitor.records["gradients"][name]]
        assert entry["steps"] == sum(n > 1e3 for n in norms) and entry["of"] == len(norms) == 8
    assert any(text.startswith("exploding gradient in '0.weight'") for text in monitor.issues())
    assert "EXPLODING" in monitor.report(show=False)


def test_a_layer_that_gets_no_gradient_is_flagged_as_vanishing(digits):
    model = mlp()
    model[0].bias.data[...] = -50.0  # every hidden unit dead: the hidden output h is 0, so are the
    monitor = Monitor(every=2)       # gradients of the first layer (behind the ReLUs) and of 2.weight (h^T dy)
    fit(model, digits, monitor)
    assert set(monitor.vanishing) == {"0.weight", "0.bias", "2.weight"}  # only 2.bias still learns
    assert monitor.vanishing["0.weight"] == {"steps": 8, "of": 8, "worst_norm": 0.0}
    assert monitor.dead_counts == {"1": (32, 32)}


def test_records_every_nth_batch_as_numpy_and_removes_its_hooks(digits):
    model = mlp()
    monitor = Monitor(every=3, sample_size=100)
    fit(model, digits, monitor, epochs=2)  # 8 batches per epoch: steps 0, 3, ..., 15
    acts, grads = monitor.records["activations"], monitor.records["gradients"]
    assert list(acts) == ["0", "1", "2"] and list(grads) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [s.step for s in acts["1"]] == [0, 3, 6, 9, 12, 15]
    assert [(s.epoch, s.batch) for s in acts["1"]] == [(0, 0), (0, 3), (0, 6), (1, 1), (1, 4), (1, 7)]
    assert [s.step for s in grads["0.weight"]] == [0, 3, 6, 9, 12, 15]
    assert monitor.recorded_steps == 6
    for stats in [s for v in acts.values() for s in v] + [s for v in grads.values() for s in v]:
        assert isinstance(stats, (ActivationStats, GradientStats))
        assert isinstance(stats.sample, np.ndarray) and stats.sample.size <= 100
        assert not any(isinstance(v, Tensor) for v in vars(stats).values())
    first = acts["1"][0]
    assert first.shape == (50, 32) and 0 <= first.zero_fraction <= 1 and first.min >= 0
    assert all(not m._forward_hooks for m in model.modules())  # removed at train end


def test_gradient_norms_are_the_norms_of_grad(digits):
    model = mlp()
    monitor = Monitor(every=1)
    fit(model, digits, monitor, lr=0.0, epochs=1)  # lr 0: the last step's .grad is still on the parameters
    for name, p in model.named_parameters():
        last = monitor.records["gradients"][name][-1]
        assert last.norm == pytest.approx(float(np.linalg.norm(p.grad.numpy().astype(np.float64))))
    norms = {name: v[-1].norm for name, v in monitor.records["gradients"].items()}
    assert max(v[-1].ratio for v in monitor.records["gradients"].values()) == 1.0
    assert monitor.records["gradients"]["2.bias"][-1].ratio == pytest.approx(norms["2.bias"] / max(norms.values()))


def test_hooks_do_not_keep_the_graph_alive():
    model = mlp()
    monitor = Monitor(every=1).attach(model)
    monitor.on_batch_begin(0)
    out = model(mdl.rand(8, 64))
    loss = out.sum()
    loss.backward()
    monitor.on_batch_end(0)
    refs = [weakref.ref(out), weakref.ref(loss)]
    del out, loss
    gc.collect()
    assert all(r() is None for r in refs)
    assert len(monitor.records["activations"]["1"]) == 1
    monitor.detach()
    assert all(not m._forward_hooks for m in model.modules())


def test_choosing_layers_by_name_or_type(digits):
    model = mlp()
    monitor = Monitor(every=4, layers=[nn.ReLU, "2"])
    fit(model, digits, monitor, epochs=1)
    assert list(monitor.records["activations"]) == ["1", "2"]
    with pytest.raises(ValueError, match="no layer named"):
        Monitor(layers=["nope"]).attach(model)
    with pytest.raises(ValueError, match="every"):
        Monitor(every=0)


def test_the_monitor_records_feed_the_histogram_plots(digits, tmp_path):
    model = mlp()
    monitor = Monitor(every=2)
    fit(model, digits, monitor, epochs=2)
    fig = plot_activation_histograms(monitor, path=tmp_path / "a.png")
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles[1].startswith("1 ReLU") and "zeros" in titles[1]
    assert len([p for p in fig.axes[1].patches if p.get_label().startswith("epoch")]) == 2
