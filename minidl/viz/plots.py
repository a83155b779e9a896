"""Training plots with matplotlib: curves, confusion matrix, ROC, learning rate, conv kernels, and the
activation and gradient histograms a `Monitor` recorded.

    from minidl.viz import plot_history, plot_confusion_matrix, plot_roc, plot_kernels

    fig = plot_history(history, path="out/curves.png")      # loss and each metric, train vs validation
    fig = plot_confusion_matrix(y_test, y_pred, class_names=[str(d) for d in range(10)])
    fig = plot_roc(y_test, scores)                           # binary; the AUC in the legend
    fig = plot_kernels(model[0])                             # a Conv2d (or its weight) as an image grid

Every function RETURNS the matplotlib Figure. With `path=` it also saves the figure there (the format
from the extension, parent folders created) and releases it from pyplot, so scripts and tests that make
many figures do not accumulate open windows; without `path` the figure stays open for `plt.show()` or a
notebook. Functions that draw on one axes take `ax=` to draw into an axes of your own figure instead.
Nothing here needs a display: with no GUI, matplotlib falls back to its Agg backend (`MPLBACKEND=Agg`
forces it).
"""

import io
import math
import os

import numpy as np

from minidl.metrics import confusion_matrix, roc_auc, to_numpy

_BEST_COLOR, _STOP_COLOR = "tab:green", "tab:red"


# -- figure plumbing -------------------------------------------------------------------------------------------
def _subplots(n, ncols=None, size=(4.5, 3.5)):
    """A new pyplot figure with n axes (a flat list) in rows of `ncols`."""
    import matplotlib.pyplot as plt

    ncols = ncols or n
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), squeeze=False,
                             FigureClass=_figure_class())
    axes = list(axes.ravel())
    for extra in axes[n:]:
        extra.set_visible(False)
    return fig, axes[:n]


_FIGURE_CLASS = []


def _figure_class():
    """matplotlib's Figure, shown exactly once in a notebook, whether the cell ends with `plot_x(...)` (the
    returned figure is the cell's value) or with `fig = plot_x(...)` (pyplot's inline backend shows it).

    Plain Figures are shown twice in the first case: once as the cell's value, once more by the inline
    backend at the end of the cell. This one, when displayed (by either), shows itself as a PNG and, under
    the inline backend, closes itself in pyplot so that it is not shown again. Under a GUI or widget
    backend, which shows the figure itself, it adds nothing.
    """
    if not _FIGURE_CLASS:
        import matplotlib.figure

        class Figure(matplotlib.figure.Figure):  # the same name, so its repr reads as any figure's
            def _ipython_display_(self):
                import matplotlib
                import matplotlib.pyplot as plt
                from IPython.display import display

                backend = matplotlib.get_backend().lower()
                manager = self.canvas.manager
                held = manager is not None and manager.num in plt.get_fignums()
                inline = "inline" in backend
                if held and not inline and backend not in _NON_DISPLAY_BACKENDS:
                    return  # a window or a widget shows it
                buffer = io.BytesIO()
                self.savefig(buffer, format="png", bbox_inches="tight")
                display({"image/png": buffer.getvalue(), "text/plain": repr(self)}, raw=True)
                if held and inline:
                    plt.close(self)  # shown: the inline backend must not show it again when the cell ends

        _FIGURE_CLASS.append(Figure)
    return _FIGURE_CLASS[0]


_NON_DISPLAY_BACKENDS = ("agg", "pdf", "svg", "ps", "cairo", "pgf", "template")


def _one_axes(ax, size=(5, 4)):
    """(figure, axes, owned): the given axes and its figure, or a new figure of one axes."""
    if ax is not None:
        return ax.figure, ax, False
    fig, (ax,) = _subplots(1, size=size)
    return fig, ax, True


def _finish(fig, path, owned=True):
    """Lay out, save to `path` when given (then release it from pyplot if we made it), return the figure."""
    if owned:
        fig.tight_layout()
    if path is not None:
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        fig.savefig(path, dpi=100, bbox_inches="tight")  # nothing clipped, whatever the layout
        if owned:
            import matplotlib.pyplot as plt

            plt.close(fig)
    return fig


def _epochs_axis(history):
    """1-based epoch numbers for the x axis (History.epoch holds 0-based indices)."""
    epochs = getattr(history, "epoch", None)
    if epochs:
        return [int(e) + 1 for e in epochs]
    values = next(iter(history.values()), []) if hasattr(history, "values") else []
    return list(range(1, len(values) + 1))


def _as_history(history):
    """A History (or anything with `history`, `epoch`, `best_epoch`) from a History or a {name: list} dict."""
    if hasattr(history, "best_epoch"):
        return history
    if isinstance(history, dict):
        from minidl.train.history import History

        h = History()
        n = max((len(v) for v in history.values()), default=0)
        h.history = {k: [float(x) for x in v] for k, v in history.items()}
        h.epoch = list(range(n))
        return h
    raise TypeError(f"expected a minidl History or a {{name: [value per epoch]}} dict, got {type(history).__name__}")


# -- training curves ---------------------------------------------------------------------------------------------
def plot_history(history, keys=None, path=None, ax=None, title=None):
    """The loss and every metric against the epoch: training and validation curves on one axes per
    quantity, the best epoch (by `history.monitor`, "val_loss" by default) marked with a dashed green line
    on every axes and a star on the monitored curve, and where training stopped early a dotted red line.

    keys: training names to plot (default: every logged name but "lr", "penalty" and the "val_" ones; a
          "val_x" without a training "x" is plotted on its own). ax: one axes for everything, or one per key.
    Returns the Figure.
    """
    from matplotlib.ticker import MaxNLocator

    history = _as_history(history)
    logged = list(history.keys())
    if keys is None:
        keys = [k for k in logged if not k.startswith("val_") and k not in ("lr", "penalty")]
        keys += [k for k in logged if k.startswith("val_") and k[4:] not in logged]
    keys = [keys] if isinstance(keys, str) else list(keys)
    if not keys:
        raise ValueError(f"plot_history: nothing to plot; the History has {sorted(logged)}")
    owned = ax is None
    if ax is None:
        fig, axes = _subplots(len(keys))
    else:
        axes = list(ax) if isinstance(ax, (list, tuple, np.ndarray)) else [ax] * len(keys)
        fig = axes[0].figure
    x = _epochs_axis(history)
    best = history.best_epoch
    monitor = history.monitor or ("val_loss" if "val_loss" in history else "loss")
    style = {"marker": "o", "markersize": 3} if len(x) <= 30 else {}
    for a, key in zip(axes, keys):
        name = key[4:] if key.startswith("val_") else key
        if key in history:
            a.plot(x, history[key], label="train" if key == name else key, color="tab:blue", **style)
        if key == name and "val_" + key in history:
            a.plot(x, history["val_" + key], label="validation", color="tab:orange", **style)
        if best is not None:
            a.axvline(x[best], color=_BEST_COLOR, linestyle="--", linewidth=1, label=f"best epoch ({x[best]})")
            if monitor in (key, "val_" + key) and monitor in history:
                a.plot([x[best]], [history[monitor][best]], linestyle="", marker="*", markersize=13,
                       color=_BEST_COLOR, label=f"best {monitor} = {history[monitor][best]:.4g}")
        if getattr(history, "stopped_early", False) and x:
            a.axvline(x[-1], color=_STOP_COLOR, linestyle=":", linewidth=1.5, label=f"early stop (epoch {x[-1]})")
        a.set_xlabel("epoch")
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
        a.set_ylabel(name)
        a.set_title(name if key == name else key)
        a.grid(alpha=0.3)
        a.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return _finish(fig, path, owned)


def plot_lr(history, path=None, ax=None, title="learning-rate schedule"):
    """The learning rate of each epoch (`history["lr"]`, as the Trainer logs it; or a plain list), on a
    log scale when it spans more than a factor of 20. Returns the Figure."""
    from matplotlib.ticker import MaxNLocator

    if isinstance(history, (list, tuple, np.ndarray)):
        lrs, x = [float(v) for v in history], list(range(1, len(history) + 1))
    else:
        history = _as_history(history)
        if "lr" not in history:
            raise ValueError(f"plot_lr: the History has no 'lr'; it has {sorted(history.keys())}")
        lrs, x = list(history["lr"]), _epochs_axis(history)
    fig, ax, owned = _one_axes(ax, size=(5, 3.5))
    ax.plot(x, lrs, marker="o", markersize=3, color="tab:purple", label="lr")
    positive = [v for v in lrs if v > 0]
    if positive and len(positive) == len(lrs) and max(positive) / min(positive) > 20:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("learning rate")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return _finish(fig, path, owned)


# -- classification ------------------------------------------------------------------------------------------------
def plot_confusion_matrix(y_true, y_pred, class_names=None, normalize=None, path=None, ax=None, cmap="Blues",
                          title=None):
    """The confusion matrix as an image: row i, column j counts samples of true class i predicted as j
    (scikit-learn's layout), each cell annotated.

    class_names: names of classes 0..C-1 (then every class gets a row and a column, seen or not);
                 default: the labels present in y_true or y_pred.
    normalize:   None (counts), "true" (rows sum to 1), "pred" or "all", as sklearn's.
    Returns the Figure.
    """
    y_true, y_pred = to_numpy(y_true).ravel(), to_numpy(y_pred).ravel()
    if class_names is not None:
        labels = np.arange(len(class_names))
        names = [str(c) for c in class_names]
    else:
        labels = np.unique(np.concatenate([y_true, y_pred]))
        names = [str(c) for c in labels]
    cm = confusion_matrix(y_true, y_pred, labels=labels, normalize=normalize)
    n = len(labels)
    fig, ax, owned = _one_axes(ax, size=(max(4.5, 0.45 * n + 2.5), max(4, 0.45 * n + 1.5)))
    image = ax.imshow(cm, cmap=cmap, interpolation="nearest")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="fraction" if normalize else "samples")
    if n <= 30:
        threshold = (cm.max() + cm.min()) / 2
        for i in range(n):
            for j in range(n):
                text = f"{cm[i, j]:.2f}" if normalize else f"{int(cm[i, j])}"
                ax.text(j, i, text, ha="center", va="center", fontsize="small" if n <= 12 else "x-small",
                        color="white" if cm[i, j] > threshold else "black")
    ax.set_xticks(range(n), names, rotation=45 if max(map(len, names), default=0) > 2 else 0)
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if title is None:
        correct = np.trace(confusion_matrix(y_true, y_pred, labels=labels))
        title = f"confusion matrix (accuracy {correct / max(len(y_true), 1):.3f})"
    ax.set_title(title)
    return _finish(fig, path, owned)


def plot_roc(y_true, scores, path=None, ax=None, label="model", title="ROC curve"):
    """The ROC curve of a binary classifier, its AUC in the legend, and the chance diagonal.

    scores: (N,) scores of class 1 (probabilities or logits), or (N, 2) probabilities (column 1 is used).
    Several models on one axes: call again with `ax=` and another `label`. Returns the Figure.
    """
    from sklearn.metrics import roc_curve

    y_true = to_numpy(y_true).ravel()
    scores = to_numpy(scores).astype(np.float64)
    if scores.ndim == 2 and scores.shape[1] in (1, 2):
        scores = scores[:, -1]
    if scores.ndim != 1:
        raise ValueError(f"plot_roc is for binary classification: scores must be (N,) or (N, 2), got shape "
                         f"{scores.shape}; for class k of C, pass scores[:, k] and (y_true == k)")
    classes = np.unique(y_true)
    if len(classes) != 2:
        raise ValueError(f"plot_roc needs exactly two classes in y_true, got {classes.tolist()}; for class k of "
                         f"several, pass (y_true == k) and that class's scores")
    fpr, tpr, _ = roc_curve(y_true, scores, pos_label=classes[1])
    auc = roc_auc(y_true == classes[1], scores)
    fig, ax, owned = _one_axes(ax, size=(4.8, 4.5))
    ax.plot(fpr, tpr, linewidth=2, label=f"{label} (AUC = {auc:.3f})")
    if not any(line.get_gid() == "chance" for line in ax.lines):
        ax.plot([0, 1], [0, 1], linestyle="--", color="gray", linewidth=1, label="chance (AUC = 0.5)", gid="chance")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    return _finish(fig, path, owned)


# -- convolution kernels -------------------------------------------------------------------------------------------
def _weight_array(layer_or_weight):
    """The 4-D weight (out, in, kh, kw) of a Conv2d, a Tensor or an array, as a NumPy copy."""
    w = getattr(layer_or_weight, "weight", layer_or_weight)
    w = w.numpy() if hasattr(w, "numpy") and not isinstance(w, np.ndarray) else np.asarray(w)
    if w.ndim == 3:
        w = w[:, None]
    if w.ndim != 4:
        raise ValueError(f"plot_kernels: expected a Conv2d or a weight of shape (out_channels, in_channels, kh, "
                         f"kw), got shape {w.shape}")
    return w.astype(np.float64)


def kernel_grid(weight, max_out=64, max_in=16, pad=1):
    """Tile conv kernels into one 2-D array with NaN gaps (drawn as background), for `plot_kernels`.

    One input channel: the out_channels kernels in a near-square grid, row-major, `ceil(sqrt(n))` per
    row. Several: one row per output channel, one column per input channel. Kernel at grid cell (r, c)
    starts at array index (pad + r * (kh + pad), pad + c * (kw + pad)).
    Returns (mosaic, cells) with cells[(o, i)] = (r, c) for output channel o, input channel i.
    """
    w = _weight_array(weight)
    n_out, n_in, kh, kw = w.shape
    n_out, n_in = min(n_out, max_out), min(n_in, max_in)
    if n_in == 1:
        ncols = math.ceil(math.sqrt(n_out))
        nrows = math.ceil(n_out / ncols)
        cells = {(o, 0): divmod(o, ncols) for o in range(n_out)}
    else:
        nrows, ncols = n_out, n_in
        cells = {(o, i): (o, i) for o in range(n_out) for i in range(n_in)}
    mosaic = np.full((pad + nrows * (kh + pad), pad + ncols * (kw + pad)), np.nan)
    for (o, i), (r, c) in cells.items():
        top, left = pad + r * (kh + pad), pad + c * (kw + pad)
        mosaic[top:top + kh, left:left + kw] = w[o, i]
    return mosaic, cells


def plot_kernels(conv_layer_or_weight, path=None, ax=None, max_out=64, max_in=16, cmap="RdBu_r", title=None):
    """A Conv2d's kernels as an image grid (see `kernel_grid` for the layout), on one colour scale
    symmetric about 0 (red positive, blue negative), so kernels compare with each other.
    Returns the Figure."""
    import matplotlib

    w = _weight_array(conv_layer_or_weight)
    n_out, n_in, kh, kw = w.shape
    mosaic, cells = kernel_grid(w, max_out, max_in)
    shown_out, shown_in = min(n_out, max_out), min(n_in, max_in)
    nrows = max(r for r, _ in cells.values()) + 1
    ncols = max(c for _, c in cells.values()) + 1
    inch = min(0.25, 8.0 / max(mosaic.shape))  # per mosaic pixel: the longer side at most 8 inches
    fig, ax, owned = _one_axes(ax, size=(max(3.5, mosaic.shape[1] * inch + 1.6), max(3, mosaic.shape[0] * inch + 1)))
    limit = float(np.nanmax(np.abs(mosaic))) or 1.0
    colormap = matplotlib.colormaps[cmap].with_extremes(bad="#e8e8e8")
    image = ax.imshow(mosaic, cmap=colormap, vmin=-limit, vmax=limit, interpolation="nearest")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="weight")
    centres = lambda count, size: [1 + k * (size + 1) + (size - 1) / 2 for k in range(count)]  # noqa: E731
    if n_in == 1:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(f"{shown_out} kernels {kh}×{kw} (one per output channel)")
    else:
        step = max(1, shown_in // 16)
        ax.set_xticks(centres(shown_in, kw)[::step], [str(i) for i in range(shown_in)][::step], fontsize="x-small")
        step = max(1, shown_out // 16)
        ax.set_yticks(centres(shown_out, kh)[::step], [str(o) for o in range(shown_out)][::step], fontsize="x-small")
        ax.set_xlabel("input channel")
        ax.set_ylabel("output channel")
    if title is None:
        more = "" if (shown_out, shown_in) == (n_out, n_in) else f", first {shown_out}×{shown_in} shown"
        title = f"conv kernels {tuple(w.shape)}{more}"
    ax.set_title(title)
    return _finish(fig, path, owned)


# -- what a Monitor recorded -------------------------------------------------------------------------------------
def _records(monitor, kind):
    records = getattr(monitor, "records", monitor)
    if not isinstance(records, dict) or kind not in records:
        raise TypeError(f"expected a minidl.viz.Monitor (or its .records dict with {kind!r}), got "
                        f"{type(monitor).__name__}")
    return records[kind]


def histograms_by_epoch(stats, bins=40):
    """(edges, [(epoch, density)]) for a list of recorded stats (each with .epoch and .sample): one
    histogram per epoch of all that epoch's samples, on bin edges shared by every epoch (finite values)."""
    by_epoch = {}
    for s in stats:
        by_epoch.setdefault(s.epoch, []).append(np.asarray(s.sample, dtype=np.float64).ravel())
    by_epoch = {e: np.concatenate(v) for e, v in sorted(by_epoch.items())}
    by_epoch = {e: v[np.isfinite(v)] for e, v in by_epoch.items()}
    every = np.concatenate(list(by_epoch.values())) if by_epoch else np.zeros(0)
    if every.size == 0:
        return None, []
    edges = np.histogram_bin_edges(every, bins=bins)
    return edges, [(e, np.histogram(v, bins=edges, density=True)[0]) for e, v in by_epoch.items() if v.size]


def _plot_histograms(stats_by_name, names, bins, path, what, xlabel, log, title, kinds):
    import matplotlib
    from matplotlib.ticker import MaxNLocator, NullLocator

    names = list(stats_by_name) if names is None else [names] if isinstance(names, str) else list(names)
    missing = [n for n in names if n not in stats_by_name]
    if missing:
        raise ValueError(f"no {what} recorded for {missing}; recorded: {list(stats_by_name)}")
    names = [n for n in names if stats_by_name[n]]
    if not names:
        raise ValueError(f"no {what} were recorded (was the Monitor passed to Trainer.fit(callbacks=...)?)")
    ncols = min(len(names), 4)
    fig, axes = _subplots(len(names), ncols=ncols, size=(3.8, 3.0))
    colors = matplotlib.colormaps["viridis"]
    for ax, name in zip(axes, names):
        edges, hists = histograms_by_epoch(stats_by_name[name], bins)
        last = max(s.epoch for s in stats_by_name[name])
        for epoch, density in hists:
            ax.stairs(density, edges, color=colors(epoch / max(last, 1)), linewidth=1.3, label=f"epoch {epoch + 1}")
        zeros = getattr(stats_by_name[name][-1], "zero_fraction", None)
        label = f"{name} {kinds[name]}" if name in kinds else name
        ax.set_title(label if zeros is None else f"{label}  (zeros {zeros:.0%})", fontsize="medium")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("density")
        if log:
            ax.set_yscale("log")
            ax.yaxis.set_minor_locator(NullLocator())  # minor log ticks cost more to lay out than to read
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    if len(labels) <= 10:
        axes[0].legend(fontsize="x-small")
    fig.suptitle(title)
    return _finish(fig, path)


def plot_activation_histograms(monitor, layers=None, bins=40, path=None, log=True,
                               title="activations per layer, by epoch"):
    """For each monitored layer, the histogram of its sampled output values, one curve per epoch
    (dark: early, yellow: late); y on a log scale by default, so the spike of exact zeros after a ReLU
    does not hide the rest. `monitor`: a Monitor or its `.records`. Returns the Figure."""
    return _plot_histograms(_records(monitor, "activations"), layers, bins, path, "activations",
                            "activation value", log, title, getattr(monitor, "layer_types", {}))


def plot_gradient_histograms(monitor, params=None, bins=40, path=None, log=True,
                             title="gradients per parameter, by epoch"):
    """For each parameter, the histogram of its sampled gradient entries, one curve per epoch.
    `monitor`: a Monitor or its `.records`. Returns the Figure."""
    return _plot_histograms(_records(monitor, "gradients"), params, bins, path, "gradients", "gradient value",
                            log, title, {})


def plot_gradient_norms(monitor, params=None, path=None, ax=None, title="gradient norm per parameter"):
    """‖grad‖ of each parameter at every recorded training step, on a log scale, with the Monitor's
    exploding and vanishing thresholds as dashed lines. Returns the Figure."""
    from matplotlib.ticker import NullLocator

    grads = _records(monitor, "gradients")
    names = list(grads) if params is None else [params] if isinstance(params, str) else list(params)
    fig, ax, owned = _one_axes(ax, size=(6.5, 4))
    for name in names:
        steps = [s.step for s in grads[name]]
        norms = [s.norm if np.isfinite(s.norm) else np.nan for s in grads[name]]
        ax.plot(steps, norms, marker=".", linewidth=1, label=name)
    ax.set_yscale("log")
    ax.yaxis.set_minor_locator(NullLocator())
    for value, label, color in ((getattr(monitor, "explode_threshold", None), "exploding", _STOP_COLOR),
                                (getattr(monitor, "vanish_threshold", None), "vanishing", "tab:gray")):
        if value is not None:
            ax.axhline(value, linestyle="--", color=color, linewidth=1, label=f"{label} threshold ({value:g})")
    ax.set_xlabel("training step (batch)")
    ax.set_ylabel("gradient norm ‖g‖")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _finish(fig, path, owned)
