"""Training plots (minidl.viz.plots): every function saves a real image and returns a Figure whose
artists carry the data they claim to show, checked on the Figure object, not by eye."""

import re

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import StepPatch  # noqa: E402
from sklearn.metrics import confusion_matrix as sk_confusion_matrix  # noqa: E402
from sklearn.metrics import roc_auc_score, roc_curve  # noqa: E402

import minidl as mdl  # noqa: E402
import minidl.nn as nn  # noqa: E402
from minidl.train import History  # noqa: E402
from minidl.viz import (ActivationStats, GradientStats, kernel_grid, plot_activation_histograms,  # noqa: E402
                        plot_confusion_matrix, plot_gradient_histograms, plot_gradient_norms, plot_history,
                        plot_kernels, plot_lr, plot_roc)

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG and len(data) > 2000


def line(ax, label):
    found = [ln for ln in ax.lines if ln.get_label() == label]
    assert len(found) == 1, f"no single line labelled {label!r}: {[ln.get_label() for ln in ax.lines]}"
    return found[0]


def line_starting(ax, prefix):
    found = [ln for ln in ax.lines if ln.get_label().startswith(prefix)]
    assert len(found) == 1, f"no single line labelled {prefix!r}...: {[ln.get_label() for ln in ax.lines]}"
    return found[0]


def make_history(stopped_early=True):
    h = History()
    losses = [1.0, 0.6, 0.45, 0.5, 0.55]
    for epoch, (loss, val) in enumerate(zip([1.2, 0.8, 0.5, 0.4, 0.35], losses)):
        h.append(epoch, {"loss": loss, "accuracy": 0.5 + 0.1 * epoch, "val_loss": val,
                         "val_accuracy": 0.55 + 0.08 * epoch - 0.02 * epoch ** 2, "lr": 0.1 * 0.5 ** epoch})
    h.stopped_early = stopped_early
    return h


def test_plot_history_draws_every_curve_and_marks_best_epoch_and_early_stop(tmp_path):
    h = make_history()
    assert h.best_epoch == 2
    fig = plot_history(h, path=tmp_path / "h.png")
    assert_png(tmp_path / "h.png")
    loss_ax, acc_ax = fig.axes
    assert (loss_ax.get_xlabel(), loss_ax.get_ylabel(), loss_ax.get_title()) == ("epoch", "loss", "loss")
    assert acc_ax.get_ylabel() == "accuracy"
    epochs = [1, 2, 3, 4, 5]
    np.testing.assert_array_equal(line(loss_ax, "train").get_xdata(), epochs)
    np.testing.assert_array_equal(line(loss_ax, "train").get_ydata(), h["loss"])
    np.testing.assert_array_equal(line(loss_ax, "validation").get_ydata(), h["val_loss"])
    np.testing.assert_array_equal(line(acc_ax, "validation").get_ydata(), h["val_accuracy"])
    for ax in fig.axes:  # the best epoch (0-based index 2: the third epoch) on every axes, the stop at the last
        assert list(line_starting(ax, "best epoch").get_xdata()) == [h.best_epoch + 1] * 2
        assert list(line_starting(ax, "early stop").get_xdata()) == [5, 5]
    star = line_starting(loss_ax, "best val_loss")
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (h.best_epoch + 1, h["val_loss"][h.best_epoch])
    assert {t.get_text() for t in loss_ax.get_legend().get_texts()} >= {"train", "validation", "best epoch (3)"}
    assert not [ln for ln in acc_ax.lines if ln.get_label().startswith("best val_loss")]  # the star: loss only


def test_plot_history_without_early_stop_and_with_a_monitor_of_higher_is_better():
    h = make_history(stopped_early=False)
    h.monitor = "val_accuracy"
    fig = plot_history(h, keys=["accuracy"])
    (ax,) = fig.axes
    best = int(np.argmax(h["val_accuracy"]))
    assert list(line_starting(ax, "best epoch").get_xdata()) == [best + 1] * 2
    assert line_starting(ax, "best val_accuracy").get_ydata()[0] == max(h["val_accuracy"])
    assert not [ln for ln in ax.lines if ln.get_label().startswith("early stop")]


def test_history_plot_is_plot_history(tmp_path):
    h = make_history()
    fig = h.plot(path=tmp_path / "h.png")
    assert_png(tmp_path / "h.png")
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]
    np.testing.assert_array_equal(line(fig.axes[0], "validation").get_ydata(), h["val_loss"])


def test_plot_history_into_given_axes():
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    assert plot_history(make_history(), ax=axes) is fig
    assert axes[1].get_ylabel() == "accuracy"
    plt.close(fig)


def test_plot_lr(tmp_path):
    h = make_history()
    fig = plot_lr(h, path=tmp_path / "lr.png")
    assert_png(tmp_path / "lr.png")
    (ax,) = fig.axes
    np.testing.assert_allclose(line(ax, "lr").get_ydata(), h["lr"])
    np.testing.assert_array_equal(line(ax, "lr").get_xdata(), [1, 2, 3, 4, 5])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("epoch", "learning rate")
    assert ax.get_yscale() == "linear"  # spans a factor of 16
    assert plot_lr([1.0, 1e-3]).axes[0].get_yscale() == "log"
    with pytest.raises(ValueError, match="no 'lr'"):
        plot_lr({"loss": [1.0]})


def test_plot_confusion_matrix_shows_sklearns_matrix(tmp_path):
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, 200)
    y_pred = np.where(rng.random(200) < 0.7, y_true, rng.integers(0, 4, 200))
    names = ["cat", "dog", "eel", "fox", "gnu"]  # "gnu" never occurs: it still gets a row and a column
    fig = plot_confusion_matrix(y_true, y_pred, class_names=names, path=tmp_path / "cm.png")
    assert_png(tmp_path / "cm.png")
    ax = fig.axes[0]
    expected = sk_confusion_matrix(y_true, y_pred, labels=range(5))
    np.testing.assert_array_equal(ax.images[0].get_array(), expected)
    assert [t.get_text() for t in ax.get_xticklabels()] == names
    assert [t.get_text() for t in ax.get_yticklabels()] == names
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert cells[(1, 2)] == str(expected[1, 2]) and len(cells) == 25
    assert f"{np.mean(y_true == y_pred):.3f}" in ax.get_title()


def test_plot_confusion_matrix_normalized_and_with_tensors():
    y_true, y_pred = mdl.tensor([0, 0, 1, 1, 2]), mdl.tensor([0, 1, 1, 1, 0])
    fig = plot_confusion_matrix(y_true, y_pred, normalize="true")
    expected = sk_confusion_matrix(y_true.numpy(), y_pred.numpy(), normalize="true")
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(), expected)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["0", "1", "2"]


def test_plot_roc_shows_the_curve_and_sklearns_auc(tmp_path):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    scores = y * 0.8 + rng.normal(0, 0.6, 300)
    fig = plot_roc(y, scores, path=tmp_path / "roc.png")
    assert_png(tmp_path / "roc.png")
    ax = fig.axes[0]
    curve = line_starting(ax, "model")
    fpr, tpr, _ = roc_curve(y, scores)
    np.testing.assert_allclose(curve.get_xdata(), fpr)
    np.testing.assert_allclose(curve.get_ydata(), tpr)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    auc = float(re.search(r"AUC = ([0-9.]+)", legend[0]).group(1))
    assert auc == pytest.approx(roc_auc_score(y, scores), abs=5e-4)
    assert "chance (AUC = 0.5)" in legend
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("false positive rate", "true positive rate")


def test_plot_roc_two_models_on_one_axes_and_two_column_scores():
    y = np.array([0, 0, 1, 1, 0, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    fig = plot_roc(y, np.stack([1 - p, p], axis=1), label="a")
    plot_roc(y, -p, ax=fig.axes[0], label="b")
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert texts[0] == f"a (AUC = {roc_auc_score(y, p):.3f})"
    assert f"b (AUC = {roc_auc_score(y, -p):.3f})" in texts
    assert sum(t.startswith("chance") for t in texts) == 1


def test_plot_roc_refuses_multiclass():
    with pytest.raises(ValueError, match="two classes"):
        plot_roc([0, 1, 2, 1], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="binary"):
        plot_roc([0, 1, 2], np.eye(3))


def test_plot_kernels_shows_each_kernel_of_a_single_channel_conv(tmp_path):
    mdl.manual_seed(0)
    conv = nn.Conv2d(1, 5, 3)
    w = conv.weight.numpy()
    fig = plot_kernels(conv, path=tmp_path / "k.png")
    assert_png(tmp_path / "k.png")
    ax = fig.axes[0]
    image = np.asarray(ax.images[0].get_array().filled(np.nan))
    ncols = 3  # ceil(sqrt(5)) per row, one pixel of gap around each kernel
    for o in range(5):
        r, c = divmod(o, ncols)
        np.testing.assert_allclose(image[1 + 4 * r:4 + 4 * r, 1 + 4 * c:4 + 4 * c], w[o, 0], rtol=1e-6)
    assert np.isnan(image[0]).all() and np.isnan(image[4]).all() and np.isnan(image[:, 4]).all()  # gaps
    assert np.isnan(image[5:8, 9:12]).all()  # the 6th grid cell stays empty: only 5 kernels
    vmin, vmax = ax.images[0].get_clim()
    assert vmin == -vmax == pytest.approx(-np.abs(w).max())  # one colour scale, symmetric about 0
    assert "(5, 1, 3, 3)" in ax.get_title()


def test_plot_kernels_of_a_multichannel_weight_has_one_row_per_output_channel():
    mdl.manual_seed(1)
    conv = nn.Conv2d(3, 4, (2, 3))
    w = conv.weight.numpy()
    fig = plot_kernels(conv.weight)
    ax = fig.axes[0]
    image = np.asarray(ax.images[0].get_array().filled(np.nan))
    assert image.shape == (1 + 4 * 3, 1 + 3 * 4)
    for o in range(4):
        for i in range(3):
            np.testing.assert_allclose(image[1 + 3 * o:3 + 3 * o, 1 + 4 * i:4 + 4 * i], w[o, i], rtol=1e-6)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("input channel", "output channel")
    mosaic, cells = kernel_grid(w)
    np.testing.assert_array_equal(np.isnan(mosaic), np.isnan(image))
    assert cells[(3, 2)] == (3, 2)
    with pytest.raises(ValueError, match="out_channels, in_channels"):
        plot_kernels(np.zeros((3, 3)))


def fake_records():
    """Monitor-like records over 3 epochs, 2 steps each, for two layers and one parameter."""
    rng = np.random.default_rng(2)
    acts, grads = {"0": [], "1": []}, {"0.weight": []}
    for step in range(6):
        epoch = step // 2
        for name, shift in (("0", 0.0), ("1", 1.0)):
            sample = rng.normal(shift + epoch, 1.0, 200)
            acts[name].append(ActivationStats(epoch, step % 2, step, (20, 10), sample.mean(), sample.std(), 0.0,
                                              sample.min(), sample.max(), True, sample))
        g = rng.normal(0, 10.0 ** -step, 100)
        grads["0.weight"].append(GradientStats(epoch, step % 2, step, (10, 10), float(np.linalg.norm(g)), 1.0,
                                               True, g))
    return {"activations": acts, "gradients": grads}


def test_activation_histograms_per_layer_and_epoch(tmp_path):
    records = fake_records()
    fig = plot_activation_histograms(records, bins=20, path=tmp_path / "a.png")
    assert_png(tmp_path / "a.png")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title().split()[0] for ax in axes] == ["0", "1"]
    for ax, name in zip(axes, ["0", "1"]):
        stats = records["activations"][name]
        edges = np.histogram_bin_edges(np.concatenate([s.sample for s in stats]), bins=20)
        patches = [p for p in ax.patches if isinstance(p, StepPatch)]
        assert [p.get_label() for p in patches] == ["epoch 1", "epoch 2", "epoch 3"]
        for epoch, patch in enumerate(patches):
            values, patch_edges, _ = patch.get_data()
            expected, _ = np.histogram(np.concatenate([s.sample for s in stats if s.epoch == epoch]), edges,
                                       density=True)
            np.testing.assert_allclose(patch_edges, edges)
            np.testing.assert_allclose(values, expected)
        assert ax.get_xlabel() == "activation value" and ax.get_ylabel() == "density"
    with pytest.raises(ValueError, match="no activations recorded for"):
        plot_activation_histograms(records, layers=["nope"])


def test_gradient_histograms_and_norms(tmp_path):
    records = fake_records()
    fig = plot_gradient_histograms(records, path=tmp_path / "g.png")
    assert_png(tmp_path / "g.png")
    assert fig.axes[0].get_title() == "0.weight" and fig.axes[0].get_xlabel() == "gradient value"
    fig = plot_gradient_norms(records, path=tmp_path / "n.png")
    assert_png(tmp_path / "n.png")
    ax = fig.axes[0]
    norms = line(ax, "0.weight")
    np.testing.assert_array_equal(norms.get_xdata(), range(6))
    np.testing.assert_allclose(norms.get_ydata(), [s.norm for s in records["gradients"]["0.weight"]])
    assert ax.get_yscale() == "log"
