"""`History`: what `Trainer.fit` returns, one float per epoch for every logged quantity (Keras's History).

    history = trainer.fit((X, y), val=(X_val, y_val), epochs=20)
    history["loss"]          # training data loss per epoch (the L1/L2 penalty is logged apart: "penalty")
    history["val_accuracy"]  # validation accuracy per epoch
    history.epochs           # number of epochs run
    history.best_epoch       # 0-based index of the best epoch (by `history.monitor`, "val_loss" by default)
"""

import math

from minidl.metrics import lower_is_better


class History:
    """Per-epoch logs of one training run.

    Attributes:
        history:     {name: [one float per epoch]}: "loss", each metric, their "val_" versions, "lr",
                     and "penalty" when l1/l2 regularisation is on.
        epoch:       the 0-based indices of the epochs run (Keras's name).
        monitor:     the quantity `best_epoch` is chosen by ("val_loss" when there is validation data,
                     "loss" otherwise; an EarlyStopping callback sets its own).
        interrupted: True when Ctrl-C stopped training (the epoch in progress is not recorded).
        stopped_early: True when a callback (e.g. EarlyStopping) ended training before `epochs`.
        stop_reason: None, or a sentence saying why training ended before `epochs`.
    """

    def __init__(self, monitor=None):
        self.history = {}
        self.epoch = []
        self.monitor = monitor
        self.mode = "auto"
        self.interrupted = False
        self.stopped_early = False
        self.stop_reason = None

    # -- recording --------------------------------------------------------------------------------------
    def append(self, epoch, logs):
        """Record the logs of one finished epoch (every key gets a value; missing ones become NaN)."""
        n = len(self.epoch)
        for key in logs:
            if key not in self.history:
                self.history[key] = [math.nan] * n
        for key, values in self.history.items():
            values.append(float(logs.get(key, math.nan)))
        self.epoch.append(int(epoch))

    # -- reading --------------------------------------------------------------------------------------------
    def __getitem__(self, key):
        try:
            return self.history[key]
        except KeyError:
            raise KeyError(f"History has no {key!r}; it has {sorted(self.history)}") from None

    def __contains__(self, key):
        return key in self.history

    def __len__(self):
        return len(self.epoch)

    def keys(self):
        return self.history.keys()

    def items(self):
        return self.history.items()

    @property
    def epochs(self):
        """The number of epochs run."""
        return len(self.epoch)

    @property
    def best_epoch(self):
        """0-based index of the best epoch by `monitor` (None before any epoch). Ties: the first."""
        monitor = self.monitor or ("val_loss" if "val_loss" in self.history else "loss")
        values = self.history.get(monitor)
        if not values:
            return None
        lower = lower_is_better(monitor) if self.mode == "auto" else self.mode == "min"
        finite = [(v if lower else -v, i) for i, v in enumerate(values) if math.isfinite(v)]
        return min(finite)[1] if finite else None

    def best(self, key=None):
        """The logs of the best epoch as {name: value} (or one value with `key`)."""
        i = self.best_epoch
        if i is None:
            return None
        logs = {name: values[i] for name, values in self.history.items()}
        return logs if key is None else logs[key]

    # -- saving (plain dicts of lists, for mdl.save and worker processes) ------------------------------------
    def to_dict(self):
        return {"history": {k: list(v) for k, v in self.history.items()}, "epoch": list(self.epoch),
                "monitor": self.monitor, "mode": self.mode, "interrupted": self.interrupted,
                "stopped_early": self.stopped_early, "stop_reason": self.stop_reason}

    @classmethod
    def from_dict(cls, state):
        h = cls(state.get("monitor"))
        h.history = {k: [float(v) for v in values] for k, values in state["history"].items()}
        h.epoch = [int(e) for e in state["epoch"]]
        h.mode = state.get("mode", "auto")
        h.interrupted = bool(state.get("interrupted", False))
        h.stopped_early = bool(state.get("stopped_early", False))
        h.stop_reason = state.get("stop_reason")
        return h

    def __eq__(self, other):
        return isinstance(other, History) and self.to_dict() == other.to_dict()

    # -- showing -------------------------------------------------------------------------------------------------
    def plot(self, keys=None, ax=None, path=None, title=None):
        """Plot the loss and each metric against the epoch, training and validation on one axes each, with
        the best epoch and any early stop marked; saved to `path` when given. Returns the matplotlib Figure,
        which a notebook shows once (as the cell's last line or not: the inline backend shows it, and the
        returned Figure does not show itself again).

        A thin convenience for `minidl.viz.plot_history(self, ...)` (imported here, not at module level:
        viz is the layer above train).
        """
        from minidl.viz.plots import plot_history

        return plot_history(self, keys=keys, path=path, ax=ax, title=title)

    def _repr_html_(self):
        """A notebook shows a History as a table: one row per epoch, the best epoch in bold."""
        import html

        keys = list(self.history)
        head = "".join(f"<th>{html.escape(k)}</th>" for k in ["epoch"] + keys)
        rows = []
        for i, epoch in enumerate(self.epoch):
            cells = "".join(f"<td>{self.history[k][i]:.4g}</td>" for k in keys)
            style = ' style="font-weight:bold"' if i == self.best_epoch else ""
            rows.append(f"<tr{style}><td>{epoch + 1}</td>{cells}</tr>")
        note = f"<p>{html.escape(self.stop_reason)}</p>" if self.stop_reason else ""
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{note}"

    def __repr__(self):
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        flags = " interrupted" if self.interrupted else (" stopped early" if self.stopped_early else "")
        return f"<History {self.epochs} epochs{flags}: {last}>"
