"""Callbacks: what happens around the training loop, at fixed hook points (Keras's contract).

The Trainer calls, in this order:

    on_train_begin(logs)
    for each epoch:  on_epoch_begin(epoch, logs)
                     for each batch:  on_batch_begin(batch, logs)  ...step...  on_batch_end(batch, logs)
                     (validation)
                     on_epoch_end(epoch, logs)      logs: {"loss": ..., "accuracy": ..., "val_loss": ..., "lr": ...}
    on_train_end(logs)

`epoch` and `batch` are 0-based. A callback reaches the Trainer as `self.trainer` (its `model`,
`optimizer`, `history`, `epochs`, `initial_epoch`, `log_names`) and ends training by setting
`self.trainer.stop_training = True`. Callbacks run in order of their `priority` (lower first, then
in the order given): schedulers first, then yours, then checkpoints (so a checkpoint saves every
other callback's state after its update), then the progress bar.

A callback whose state matters for an exact resume returns it from `state_dict()` (numbers, strings,
lists, dicts and arrays: what `mdl.save` stores) and takes it back in `load_state_dict(state)`;
`ModelCheckpoint` saves it and `fit(resume_from=...)` restores it after `on_train_begin`.
"""

import csv
import io
import math
import os
import sys
import time

from minidl.display import in_notebook
from minidl.errors import ArgumentError, ArgumentTypeError
from minidl.metrics import lower_is_better
from minidl.optim.lr_scheduler import ReduceLROnPlateau
from minidl.serialization import atomic_write, save


class Callback:
    """Base class: override the hooks you need. Every hook receives a `logs` dict (possibly empty)."""

    priority = 0

    def set_trainer(self, trainer):
        self.trainer = trainer

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def state_dict(self):
        """What an exact resume needs of this callback (empty by default)."""
        return {}

    def load_state_dict(self, state):
        pass


class LambdaCallback(Callback):
    """A callback from plain functions: `LambdaCallback(on_epoch_end=lambda epoch, logs: print(logs))`."""

    def __init__(self, on_train_begin=None, on_train_end=None, on_epoch_begin=None, on_epoch_end=None,
                 on_batch_begin=None, on_batch_end=None):
        for name, fn in (("on_train_begin", on_train_begin), ("on_train_end", on_train_end),
                         ("on_epoch_begin", on_epoch_begin), ("on_epoch_end", on_epoch_end),
                         ("on_batch_begin", on_batch_begin), ("on_batch_end", on_batch_end)):
            if fn is not None:
                setattr(self, name, fn)


# -- watching one logged quantity ------------------------------------------------------------------------------
def resolve_mode(owner, monitor, mode):
    """'min' or 'max' for `monitor`: "auto" is 'min' for losses and errors, 'max' for accuracy-like scores."""
    if mode not in ("auto", "min", "max"):
        raise ArgumentError(f"{owner}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return "min" if lower_is_better(monitor) else "max"
    return mode


def improves(current, best, mode, min_delta=0.0):
    """The one rule for "is this epoch an improvement" (EarlyStopping, ModelCheckpoint): Keras's.

        mode "min":  current + min_delta < best        mode "max":  current - min_delta > best
    with min_delta >= 0: beating the best by exactly min_delta (or tying it) is not an improvement.
    (Keras writes it monitor_op(current - min_delta, best), min_delta negated in "min" mode.)
    A value that is not finite (NaN, ±inf: a diverged run) never improves.
    """
    if not math.isfinite(current):
        return False
    if mode == "min":
        return current + min_delta < best
    return current - min_delta > best


def worst_value(mode):
    """The starting "best" that any finite first value improves on: +inf for "min", -inf for "max"."""
    return math.inf if mode == "min" else -math.inf


def check_monitor(owner, monitor, available):
    """A clear error when `monitor` is not among the names the Trainer will log."""
    if monitor not in available:
        hint = ""
        if monitor.startswith("val_") and monitor[4:] in available:
            hint = " (validation metrics exist only when fit() is given val data)"
        raise ArgumentError(f"{owner}: monitor={monitor!r} is not logged by this training run{hint}; "
                         f"available: {sorted(available)}")


class EarlyStopping(Callback):
    """Stop training when `monitor` has stopped improving (Keras's EarlyStopping).

    Args:
        monitor:   the logged quantity to watch ("val_loss", "val_accuracy", "loss", ...)
        min_delta: an epoch improves only when it beats the best so far by more than |min_delta|
        patience:  number of epochs without improvement after which training stops; a run whose
                   monitor never improves after its first epoch stops after exactly patience + 1 epochs
        mode:      "min", "max" or "auto" (min for losses and errors, max for accuracy-like scores)
        restore_best_weights: at the end of training (stopped early or not), put back the weights
                   (and buffers) of the best epoch, bit for bit
        baseline:  a value the monitor must beat at all (None: any first value counts as improvement)

    After training: `best` (best value), `best_epoch` (0-based), `stopped_epoch` (0-based or None).
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=5, mode="auto", restore_best_weights=False,
                 baseline=None):
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ArgumentError(f"EarlyStopping: patience must be an integer >= 0 (epochs), got {patience!r}")
        if not isinstance(min_delta, (int, float)) or not math.isfinite(min_delta):
            raise ArgumentError(f"EarlyStopping: min_delta must be a finite number, got {min_delta!r}")
        self.monitor = monitor
        self.mode = resolve_mode("EarlyStopping", monitor, mode)
        self.min_delta = abs(float(min_delta))
        self.patience = patience
        self.restore_best_weights = bool(restore_best_weights)
        self.baseline = baseline
        self._reset()

    def _reset(self):
        self.wait = 0
        self.best = self.baseline if self.baseline is not None else worst_value(self.mode)
        self.best_epoch = None
        self.best_weights = None
        self.stopped_epoch = None

    def improves(self, current, best):
        """Whether `current` beats `best` by more than min_delta (the shared rule, `improves` above)."""
        return improves(current, best, self.mode, self.min_delta)

    def on_train_begin(self, logs=None):
        check_monitor("EarlyStopping", self.monitor, self.trainer.log_names)
        self._reset()
        self.trainer.history.monitor, self.trainer.history.mode = self.monitor, self.mode

    def on_epoch_end(self, epoch, logs=None):
        current = float(logs[self.monitor])
        self.wait += 1
        if self.improves(current, self.best):
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights:
                self.best_weights = {k: v.copy() for k, v in self.trainer.model.state_dict().items()}
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            best = "none yet" if self.best_epoch is None else f"{self.best:.6g} at epoch {self.best_epoch + 1}"
            self.trainer.request_stop(f"EarlyStopping: {self.monitor} did not improve by more than {self.min_delta} "
                                      f"for {self.wait} epoch(s) (best {best})")

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.trainer.model.load_state_dict(self.best_weights)

    def state_dict(self):
        return {"wait": self.wait, "best": self.best, "best_epoch": self.best_epoch,
                "stopped_epoch": self.stopped_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state):
        self.wait, self.best = int(state["wait"]), float(state["best"])
        self.best_epoch, self.stopped_epoch = state["best_epoch"], state["stopped_epoch"]
        self.best_weights = state["best_weights"]


class ModelCheckpoint(Callback):
    """Save a checkpoint after an epoch: the model, optimizer, scheduler and callback states, the
    epoch, the History and the random generator states, so that `fit(..., resume_from=path)` continues
    exactly where it left off. Written with `mdl.save` (an `.npz`, never pickle) atomically: an
    interrupted save leaves the previous checkpoint intact.

    Args:
        path:           file to write; may hold `{epoch}` (1-based) and logged names, e.g.
                        "ckpt-{epoch:02d}-{val_loss:.3f}.npz"
        monitor:        the logged quantity that decides what "best" is
        save_best_only: save only when `monitor` improves on the best so far (else: every epoch)
        save_weights_only: write only the model's state dict (Keras's flag), for
                        `model.load_state_dict(mdl.load(path))`; no resuming from it
        mode:           "min", "max" or "auto"
    """

    priority = 100  # after every other callback has updated its state for this epoch

    def __init__(self, path, monitor="val_loss", save_best_only=True, save_weights_only=False, mode="auto"):
        if not isinstance(path, (str, os.PathLike)):
            raise ArgumentTypeError(f"ModelCheckpoint: path must be a file path (str or os.PathLike), got {path!r}")
        self.path = os.fspath(path)
        self.monitor = monitor
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.mode = resolve_mode("ModelCheckpoint", monitor, mode)
        self.best = worst_value(self.mode)
        self.last_saved = None

    def on_train_begin(self, logs=None):
        if self.save_best_only:
            check_monitor("ModelCheckpoint", self.monitor, self.trainer.log_names)
        self.best = worst_value(self.mode)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_best_only:
            current = float(logs[self.monitor])
            if not improves(current, self.best, self.mode):  # Keras's checkpoint: no min_delta
                return
            self.best = current
        try:
            path = self.path.format(epoch=epoch + 1, **logs) if "{" in self.path else self.path
        except (KeyError, IndexError, ValueError) as exc:
            raise ArgumentError(f"ModelCheckpoint: cannot fill in path {self.path!r} ({exc!r}); it may name "
                                f"{{epoch}} and the logged quantities {sorted(logs)}") from exc
        if self.save_weights_only:
            save(self.trainer.model.state_dict(), path)
        else:
            self.trainer.save_checkpoint(path)
        self.last_saved = path

    def state_dict(self):
        return {"best": self.best}

    def load_state_dict(self, state):
        self.best = float(state["best"])


class CSVLogger(Callback):
    """Write one CSV row per epoch: `epoch` and every logged quantity.

    Epochs are numbered from 1, as the progress log, the plots and the report number them (Keras's
    CSVLogger writes the 0-based index instead; History.epoch keeps those 0-based indices for Python).

    The file is rewritten at the start of training unless `append`; when `fit` resumes from a
    checkpoint, rows of the epochs before the checkpoint are kept and later ones replaced. Each row
    is flushed as soon as its epoch ends.
    """

    def __init__(self, path, separator=",", append=False):
        if not isinstance(path, (str, os.PathLike)):
            raise ArgumentTypeError(f"CSVLogger: path must be a file path (str or os.PathLike), got {path!r}")
        self.path = os.fspath(path)
        self.separator = separator
        self.append = bool(append)
        self.fieldnames = None

    def on_train_begin(self, logs=None):
        start = self.trainer.initial_epoch
        self.fieldnames = None
        if (self.append or start > 0) and os.path.exists(self.path):
            with open(self.path, newline="") as f:
                rows = list(csv.DictReader(f, delimiter=self.separator))
                header = rows and list(rows[0].keys())
            if start > 0:
                rows = [row for row in rows if int(row["epoch"]) <= start]  # epochs 1..start came before
            if header:
                self.fieldnames = header
                buffer = io.StringIO()
                writer = csv.DictWriter(buffer, header, delimiter=self.separator, lineterminator="\n")
                writer.writeheader()
                writer.writerows(rows)
                atomic_write(self.path, lambda f: f.write(buffer.getvalue().encode()))
                return
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, exist_ok=True)
        open(self.path, "w").close()

    def on_epoch_end(self, epoch, logs=None):
        if self.fieldnames is None:
            self.fieldnames = ["epoch"] + list(logs)
            with open(self.path, "w", newline="") as f:
                csv.DictWriter(f, self.fieldnames, delimiter=self.separator, lineterminator="\n").writeheader()
        row = {"epoch": epoch + 1, **{k: logs.get(k, "") for k in self.fieldnames if k != "epoch"}}
        with open(self.path, "a", newline="") as f:
            csv.DictWriter(f, self.fieldnames, delimiter=self.separator, lineterminator="\n",
                           extrasaction="ignore").writerow(row)
            f.flush()


class SchedulerCallback(Callback):
    """Step an LR scheduler once per epoch, after the epoch's updates and validation.

    `ReduceLROnPlateau` is stepped with the logged `monitor` (default "val_loss"); every other
    scheduler with `step()`. `Trainer(scheduler=...)` wraps its scheduler in one of these.
    """

    priority = -100  # first, so later callbacks (checkpoints) see the updated schedule

    def __init__(self, scheduler, monitor="val_loss"):
        if not hasattr(scheduler, "step"):
            raise ArgumentTypeError(f"SchedulerCallback: expected an LR scheduler with step(), got {type(scheduler).__name__}")
        self.scheduler = scheduler
        self.monitor = monitor

    @property
    def needs_metric(self):
        return isinstance(self.scheduler, ReduceLROnPlateau)

    def on_train_begin(self, logs=None):
        if self.needs_metric:
            check_monitor("ReduceLROnPlateau (SchedulerCallback)", self.monitor, self.trainer.log_names)

    def on_epoch_end(self, epoch, logs=None):
        if self.needs_metric:
            self.scheduler.step(float(logs[self.monitor]))
        else:
            self.scheduler.step()

    def state_dict(self):
        return self.scheduler.state_dict()

    def load_state_dict(self, state):
        self.scheduler.load_state_dict(state)


class ProgressBar(Callback):
    """Training progress, wherever it is watched: a tqdm bar per epoch in a terminal, a progress widget in
    a Jupyter notebook (both through `tqdm.auto`), and one plain line per epoch anywhere else (CI logs,
    output redirected to a file, worker processes).

    The bar is compact so an 80-column terminal keeps the validation metrics in view:
        3/10 100%|██████| 00:02, loss 0.123 acc 0.95 val_loss 0.234 val_acc 0.93
    and a plain line reads `epoch 3/10: loss 0.123 acc 0.95 val_loss 0.234 val_acc 0.93 (2.1 s)`.
    Metrics on the batches so far are recomputed at most every `metrics_interval` seconds.
    `file`: where to write (default: standard error); `force=True`: a bar even off a terminal.
    `Trainer(progress=False)` leaves progress out altogether.
    """

    priority = 1000
    BAR = "{desc} {percentage:3.0f}%|{bar:6}| {elapsed}<{remaining}{postfix}"
    DONE = "{desc} {percentage:3.0f}%|{bar:6}| {elapsed}{postfix}"  # at the epoch's end: room for val_ metrics

    def __init__(self, file=None, metrics_interval=0.5, force=False):
        self.file = file
        self.metrics_interval = metrics_interval
        self.force = force
        self.bar = None

    @property
    def mode(self):
        """"bar" (a terminal, a notebook, or `force`), else "lines"."""
        file = self.file or sys.stderr
        if self.force or (self.file is None and in_notebook()):
            return "bar"
        try:
            return "bar" if file.isatty() else "lines"
        except (AttributeError, ValueError):
            return "lines"

    @property
    def enabled(self):
        """True when a bar is drawn (a plain line per epoch otherwise)."""
        return self.mode == "bar"

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.monotonic()
        if not self.enabled:
            return
        from tqdm.auto import tqdm

        self.bar = tqdm(total=self.trainer.batches_per_epoch, desc=self._epoch_name(epoch),
                        file=self.file or sys.stderr, leave=True, unit="batch", bar_format=self.BAR)
        self._last_metrics = time.monotonic()

    def on_batch_end(self, batch, logs=None):
        if self.bar is None:
            return
        self.bar.update(1)
        shown = {"loss": logs["loss"]}
        now = time.monotonic()
        if now - self._last_metrics > self.metrics_interval:
            self._last_metrics = now
            self._running = self.trainer.running_metrics()
        shown.update(getattr(self, "_running", {}))
        self.bar.set_postfix_str(compact_logs(shown), refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        if self.bar is None:
            seconds = time.monotonic() - getattr(self, "_started", time.monotonic())
            print(f"{self._epoch_name(epoch, 'epoch ')}: {compact_logs(logs)} ({seconds:.1f} s)",
                  file=self.file or sys.stderr, flush=True)
            return
        self.bar.bar_format = self.DONE
        self.bar.set_postfix_str(compact_logs(logs), refresh=True)
        self.close()

    def on_train_end(self, logs=None):
        self.close()

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        self._running = {}

    def _epoch_name(self, epoch, prefix=""):
        return f"{prefix}{epoch + 1}/{self.trainer.epochs}"


SHORT_NAMES = {"accuracy": "acc", "precision": "prec", "recall": "rec", "f1_score": "f1", "roc_auc": "auc",
               "mean_squared_error": "mse", "mean_absolute_error": "mae", "r2_score": "r2"}


def compact_logs(logs):
    """`loss 0.123 acc 0.95 val_loss 0.234 val_acc 0.93`: 3 significant digits, metric names shortened,
    the learning rate and the penalty left out (they are in the History)."""
    parts = []
    for key, value in logs.items():
        if key in ("lr", "penalty"):
            continue
        val = key.startswith("val_")
        name = key[4:] if val else key
        parts.append(f"{'val_' if val else ''}{SHORT_NAMES.get(name, name)} {value:.3g}")
    return " ".join(parts)
