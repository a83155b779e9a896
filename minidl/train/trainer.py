"""`Trainer`: the training loop, written out once: train, validate every epoch, call the callbacks.

    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3),
                      metrics=("accuracy",), callbacks=[EarlyStopping(patience=5, restore_best_weights=True)])
    history = trainer.fit((X_train, y_train), val=(X_val, y_val), epochs=50, batch_size=32, seed=0)
    trainer.evaluate((X_test, y_test))     # {"loss": ..., "accuracy": ...}
    trainer.predict(X_test)                # the model's outputs as a NumPy array

One epoch: `model.train()`, then for every batch: zero the gradients, forward, loss (+ λ₁·Σ|w| + λ₂·Σw²
when `l1`/`l2` are set), backward, optimizer step. Then, with `model.eval()` and `no_grad()`, the
validation data. Losses and metrics are averaged per sample (each batch weighted by its size).
Training metrics come from the predictions made during the epoch, as in Keras (the weights change
while they are made); validation metrics from the model as it is at the end of the epoch.

How outputs become predictions for the metrics (`task`, inferred from the loss unless given):
- "multiclass" (CrossEntropyLoss, NLLLoss, or any loss with outputs (N, C), C > 1): the predicted
  class is `argmax` over axis 1; probabilities (for "roc_auc") are `softmax` of the outputs (exact
  for logits and for NLLLoss's log-probabilities).
- "binary" (BCEWithLogitsLoss; BCELoss): outputs (N,) or (N, 1) are logits (BCELoss: probabilities);
  p = sigmoid(output), the predicted class is p > 0.5, "roc_auc" uses p.
- "regression" (MSELoss, L1Loss, HuberLoss, or a single output with another loss): metrics such as
  "mse", "mae", "r2" see the outputs themselves; classification metrics are refused. The default
  metrics ("accuracy",) are dropped for regression.
A metric may also be a function `f(y_true, outputs) -> float` on NumPy arrays, logged by its `__name__`.

Stopping: a callback sets `trainer.stop_training` (EarlyStopping does). A non-finite loss stops at once,
before its update, with a RuntimeWarning naming the epoch and batch (`history.stop_reason`); callbacks
still get `on_train_end`, so EarlyStopping(restore_best_weights=True) puts back its best weights.
Ctrl-C during `fit` finishes the current batch, then stops: the History of the finished epochs is
returned with `history.interrupted = True`, and the last checkpoint is left as it was (a second
Ctrl-C stops at once).
"""

import math
import signal
import threading
import warnings

import numpy as np

from minidl.autograd import no_grad
from minidl.backend import get_backend
from minidl.data import DataLoader, Dataset, TensorDataset
from minidl.errors import ArgumentError, ArgumentTypeError, MinidlError, SerializationError
from minidl.metrics import get_metric, to_numpy
from minidl.nn import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, Module, NLLLoss
from minidl.nn import functional as F
from minidl.serialization import load, save
from minidl.tensor import Tensor
from minidl.train.callbacks import Callback, ProgressBar, SchedulerCallback
from minidl.train.history import History

DEFAULT_METRICS = ("accuracy",)
TASKS = ("multiclass", "binary", "regression")
CHECKPOINT_FORMAT = "minidl-checkpoint"
_CHECKPOINT_KEYS = ("epoch", "model", "optimizer", "history")

_TASK_OF_LOSS = [
    ((CrossEntropyLoss, NLLLoss, F.cross_entropy, F.nll_loss), "multiclass"),
    ((BCEWithLogitsLoss, F.binary_cross_entropy_with_logits), "binary"),
    ((BCELoss, F.binary_cross_entropy), "binary"),
    ((MSELoss, L1Loss, HuberLoss, F.mse_loss, F.l1_loss, F.huber_loss), "regression"),
]


def infer_task(loss_fn):
    """'multiclass', 'binary' or 'regression' from the loss (a module or an F function); None if unknown."""
    for kinds, task in _TASK_OF_LOSS:
        for kind in kinds:
            if (isinstance(kind, type) and isinstance(loss_fn, kind)) or loss_fn is kind:
                return task
    return None


class Trainer:
    """Trains `model` with `loss_fn` and `optimizer`; see the module docstring for the loop.

    Args:
        model:     an nn.Module (moved to `device`)
        loss_fn:   `loss_fn(outputs, targets)` -> a scalar Tensor averaged over the batch (an nn loss
                   module or an F function)
        optimizer: a minidl.optim optimizer over the model's parameters
        metrics:   names from `minidl.metrics.METRICS` ("accuracy", "precision", "recall", "f1", "roc_auc",
                   "mse", "mae", "r2") or functions f(y_true, outputs)
        callbacks: Callback objects (EarlyStopping, ModelCheckpoint, CSVLogger, ...)
        device:    "cpu" or "cuda": where the model and the batches live
        l1, l2:    penalty weights λ₁, λ₂: the loss for the gradient is data loss + λ₁·Σ|w| + λ₂·Σw² over
                   the parameters that require grad; History logs "loss" (data) and "penalty" apart
        scheduler: an LR scheduler, stepped after every epoch (ReduceLROnPlateau with "val_loss"; wrap it
                   in `SchedulerCallback(s, monitor=...)` to watch something else)
        progress:  show progress (a ProgressBar): a tqdm bar in a terminal, a widget in a notebook, one plain
                   line per epoch elsewhere; False: none unless a ProgressBar is among `callbacks`
        task:      "multiclass", "binary" or "regression"; None: inferred from the loss (module doc)
    """

    def __init__(self, model, loss_fn, optimizer, metrics=DEFAULT_METRICS, callbacks=(), device="cpu", l1=0.0,
                 l2=0.0, scheduler=None, progress=True, task=None):
        if not isinstance(model, Module):
            raise ArgumentTypeError(f"Trainer: model must be an nn.Module, got {type(model).__name__}")
        if not callable(loss_fn):
            raise ArgumentTypeError(f"Trainer: loss_fn must be callable as loss_fn(outputs, targets), got {loss_fn!r}")
        if not hasattr(optimizer, "step") or not hasattr(optimizer, "param_groups"):
            raise ArgumentTypeError(f"Trainer: optimizer must be a minidl.optim optimizer, got {type(optimizer).__name__}")
        for name, value in (("l1", l1), ("l2", l2)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ArgumentError(f"Trainer: {name} must be a number >= 0 (the penalty's weight), got {value!r}")
        if task is not None and task not in TASKS:
            raise ArgumentError(f"Trainer: task must be one of {TASKS} or None (inferred from the loss), got {task!r}")
        self.device = get_backend(device).device
        self.model = model.to(self.device)
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.l1, self.l2 = float(l1), float(l2)
        self.task = task or infer_task(loss_fn)
        self.metrics = self._resolve_metrics(metrics)
        callbacks = list(callbacks) if callbacks is not None else []
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise ArgumentTypeError(f"Trainer: callbacks must be Callback objects, got {type(cb).__name__}")
        self.callbacks = callbacks
        if scheduler is not None and not isinstance(scheduler, SchedulerCallback):
            scheduler = SchedulerCallback(scheduler)
        self.scheduler = scheduler
        self.progress = bool(progress)
        self.history = History()
        self.stop_training = False
        self.epochs = 0
        self.initial_epoch = 0
        self.log_names = set()
        self.batches_per_epoch = None
        self._train_loader = None
        self._epoch = None

    def _resolve_metrics(self, metrics):
        if isinstance(metrics, str) or callable(metrics):
            metrics = (metrics,)
        if metrics is DEFAULT_METRICS and self.task == "regression":
            metrics = ()
        resolved, names = [], set()
        for metric in metrics:
            if callable(metric):
                name, fn, needs = getattr(metric, "__name__", type(metric).__name__), metric, "outputs"
            else:
                fn, needs = get_metric(metric)
                name = metric
                if needs in ("labels", "scores") and self.task == "regression":
                    raise ArgumentError(f"Trainer: metric {name!r} needs class predictions, but the loss "
                                     f"{_name(self.loss_fn)} makes this a regression task; use 'mse', 'mae' or 'r2', "
                                     f"or pass task='multiclass'/'binary'")
                if needs == "values" and self.task in ("multiclass", "binary"):
                    raise ArgumentError(f"Trainer: metric {name!r} is a regression metric, but the loss "
                                     f"{_name(self.loss_fn)} makes this a {self.task} classification task; use "
                                     f"'accuracy', 'precision', 'recall', 'f1' or 'roc_auc'")
            if name in names or name in ("loss", "penalty", "lr"):
                raise ArgumentError(f"Trainer: metric name {name!r} is given twice or clashes with a logged name")
            names.add(name)
            resolved.append((name, fn, needs))
        return resolved

    # -- training ----------------------------------------------------------------------------------------
    def fit(self, train, val=None, epochs=10, batch_size=32, shuffle=True, seed=None, resume_from=None,
            val_batch_size=None):
        """Train for `epochs` epochs (in total, counting those of a resumed checkpoint); returns the History.

        train, val: `(X, y)` arrays, a Dataset or a DataLoader (arrays and Datasets are batched here with
                    `batch_size`, shuffled every epoch with `seed` when `shuffle`).
        resume_from: a file written by ModelCheckpoint: model, optimizer, scheduler and callback states,
                    History, epoch and random generator states are restored and training goes on from
                    the next epoch, exactly as if it had never stopped.
        """
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ArgumentError(f"Trainer.fit: epochs must be an integer >= 1, got {epochs!r}")
        train_loader = self._loader(train, batch_size, shuffle, seed, "train")
        val_loader = None if val is None else self._loader(val, val_batch_size or max(batch_size, 256), False, 0,
                                                           "val")
        self._train_loader = train_loader
        self.batches_per_epoch = len(train_loader)
        self.epochs = int(epochs)
        self.stop_training = False
        self.history = History()
        self.initial_epoch = 0
        checkpoint = None
        if resume_from is not None:
            checkpoint = self._read_checkpoint(resume_from)
            try:
                self.model.load_state_dict(checkpoint["model"])
                self.optimizer.load_state_dict(checkpoint["optimizer"])
                self.history = History.from_dict(checkpoint["history"])
                self.initial_epoch = int(checkpoint["epoch"])
            except (MinidlError, KeyError, TypeError, ValueError) as exc:
                raise SerializationError(f"Trainer.fit(resume_from={str(resume_from)!r}): the checkpoint does not fit "
                                         f"this model, optimizer or run: {exc}") from exc
        self.log_names = self._log_names(val_loader is not None)
        self.callback_list = self._all_callbacks()
        for cb in self.callback_list:
            cb.set_trainer(self)

        self._call("on_train_begin", {})
        if checkpoint is not None:
            self._load_callback_states(checkpoint.get("callbacks", {}))
            self._set_rng_state(checkpoint.get("rng", {}))
        logs = {}
        with _GracefulInterrupt() as interrupt:
            epoch, batch = self.initial_epoch, None
            try:
                for epoch in range(self.initial_epoch, self.epochs):
                    self._epoch = epoch
                    logs = self._train_epoch(epoch, train_loader, interrupt)
                    if logs is None:  # non-finite loss
                        break
                    if val_loader is not None:
                        logs.update({f"val_{k}": v for k, v in self._run_eval(val_loader).items()})
                    logs["lr"] = logs.pop("lr")  # last, as in Keras
                    self._call("on_epoch_end", epoch, logs)  # _Recorder appends `logs` to the History
                    if self.stop_training:
                        self.history.stopped_early = True
                        break
            except KeyboardInterrupt:
                batch = self._batch
                self.history.interrupted = True
                where = f"epoch {epoch + 1}" + ("" if batch is None else f", after batch {batch + 1}")
                self.history.stop_reason = (f"interrupted (Ctrl-C) during {where}; the History holds the "
                                            f"{self.history.epochs} finished epoch(s)")
                warnings.warn(f"Trainer.fit: {self.history.stop_reason}", RuntimeWarning, stacklevel=2)
        self._call("on_train_end", logs or {})
        self._epoch = None
        return self.history

    def request_stop(self, reason):
        """Ask the loop to stop after this epoch (what EarlyStopping calls); `reason` goes to the History."""
        self.stop_training = True
        self.history.stop_reason = reason

    DIVERGENCE_FACTOR = 1e3  # a loss this many times the first batch's: diverging (warned once per fit)

    def _watch_divergence(self, loss_value, epoch, b):
        """Warn once per fit when the loss grows by orders of magnitude over the first batch's loss."""
        if epoch == self.initial_epoch and b == 0:
            self._first_loss, self._divergence_warned = loss_value, False
        first = getattr(self, "_first_loss", None)
        if first is None or self._divergence_warned or not loss_value > self.DIVERGENCE_FACTOR * abs(first) > 0:
            return
        self._divergence_warned = True
        warnings.warn(f"Trainer.fit: the loss grew from {first:.4g} (first batch) to {loss_value:.4g} at epoch "
                      f"{epoch + 1}, batch {b + 1} (1-based): training is diverging; try a smaller learning rate, "
                      f"scaled inputs or gradient clipping", RuntimeWarning, stacklevel=4)

    def _train_epoch(self, epoch, loader, interrupt):
        """One pass over the training data; the epoch's logs, or None when the loss became non-finite."""
        self.model.train()
        lr = float(self.optimizer.param_groups[0]["lr"])
        self._call("on_epoch_begin", epoch, {})
        weights = [p for p in self.model.parameters() if p.requires_grad]
        self._acc = acc = _Accumulator(keep_outputs=bool(self.metrics))
        self._batch = None
        for b, batch in enumerate(loader):
            x, y = self._split(batch)
            n = len(x)
            self._call("on_batch_begin", b, {"size": n})
            self.optimizer.zero_grad()
            out = self.model(x)
            loss = self.loss_fn(out, y)
            total, penalty_value = loss, None
            if self.l1 or self.l2:
                penalty = _penalty(weights, self.l1, self.l2)
                total = loss + penalty
                penalty_value = penalty.item()
            loss_value = loss.item()
            if not math.isfinite(loss_value) or (penalty_value is not None and not math.isfinite(penalty_value)):
                what = "loss" if not math.isfinite(loss_value) else "L1/L2 penalty"
                value = loss_value if what == "loss" else penalty_value
                self.request_stop(f"the {what} became {value} at epoch {epoch + 1}, batch {b + 1} (1-based); "
                                  f"training stopped before that batch's update (try a smaller learning rate, "
                                  f"scaled inputs, or gradient clipping)")
                warnings.warn(f"Trainer.fit: {self.history.stop_reason}", RuntimeWarning, stacklevel=3)
                return None
            self._watch_divergence(loss_value, epoch, b)
            total.backward()
            self.optimizer.step()
            acc.add(n, loss_value, penalty_value, out, y)
            self._batch = b
            self._call("on_batch_end", b, {"size": n, "loss": acc.loss})
            if interrupt.requested:
                raise KeyboardInterrupt
        if acc.n == 0:
            raise ArgumentError("Trainer.fit: the training data gave no batches (empty data, or drop_last with fewer "
                             "samples than batch_size)")
        logs = {"loss": acc.loss}
        logs.update(self._compute_metrics(acc))
        if self.l1 or self.l2:
            logs["penalty"] = acc.penalty
        logs["lr"] = lr
        return logs

    def running_metrics(self):
        """Metrics on the training batches of the current epoch so far (for progress bars)."""
        acc = getattr(self, "_acc", None)
        if acc is None or acc.n == 0:
            return {}
        try:
            return self._compute_metrics(acc)
        except ValueError:  # e.g. roc_auc before both classes were seen
            return {}

    # -- evaluation --------------------------------------------------------------------------------------------
    def evaluate(self, data, batch_size=256):
        """{"loss": ..., metric: ...} on `data` ((X, y) arrays, a Dataset or a DataLoader), per-sample
        averages, with model.eval() and no_grad()."""
        return self._run_eval(self._loader(data, batch_size, False, 0, "evaluate"))

    def _run_eval(self, loader):
        was_training = self.model.training
        self.model.eval()
        acc = _Accumulator(keep_outputs=bool(self.metrics))
        try:
            with no_grad():
                for batch in loader:
                    x, y = self._split(batch)
                    out = self.model(x)
                    acc.add(len(x), self.loss_fn(out, y).item(), None, out, y)
        finally:
            self.model.train(was_training)
        if acc.n == 0:
            raise ArgumentError("Trainer: the evaluation data gave no batches")
        return {"loss": acc.loss, **self._compute_metrics(acc)}

    def predict(self, X, batch_size=256):
        """The model's outputs on `X` (an array, a Tensor, a Dataset or a DataLoader of inputs; targets
        in the batches are ignored) as one NumPy array, with model.eval() and no_grad()."""
        if isinstance(X, DataLoader):
            loader = X
        else:
            dataset = X if isinstance(X, Dataset) else TensorDataset(to_numpy(X) if isinstance(X, Tensor) else X)
            loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, seed=0, device=self.device)
        was_training = self.model.training
        self.model.eval()
        outputs = []
        try:
            with no_grad():
                for batch in loader:
                    x = batch[0] if isinstance(batch, (tuple, list)) else batch
                    outputs.append(self.model(x.to(self.device)).numpy())
        finally:
            self.model.train(was_training)
        return np.concatenate(outputs)

    # -- metrics ------------------------------------------------------------------------------------------------
    def _compute_metrics(self, acc):
        if not self.metrics:
            return {}
        outputs, targets = acc.outputs(), acc.targets()
        task = self.task
        if task is None:
            task = "multiclass" if outputs.ndim == 2 and outputs.shape[1] > 1 else "regression"
        result = {}
        for name, fn, needs in self.metrics:
            if needs == "outputs":
                result[name] = float(fn(targets, outputs))
                continue
            if (needs == "values") != (task == "regression"):
                raise ArgumentError(f"Trainer: metric {name!r} does not fit this {task} task (outputs of shape "
                                 f"{outputs.shape}); pass task=... to the Trainer")
            if needs == "values":
                result[name] = float(fn(targets, outputs))
            else:
                labels, scores = _predictions(outputs, task, probabilities=isinstance(self.loss_fn, BCELoss)
                                              or self.loss_fn is F.binary_cross_entropy)
                result[name] = float(fn(targets, labels if needs == "labels" else scores))
        return result

    # -- data -------------------------------------------------------------------------------------------------
    def _loader(self, data, batch_size, shuffle, seed, what):
        if isinstance(data, DataLoader):
            return data
        if isinstance(data, Dataset):
            dataset = data
        elif isinstance(data, (tuple, list)) and len(data) == 2:
            X, y = (to_numpy(a) if isinstance(a, Tensor) else np.asarray(a) for a in data)
            if len(X) != len(y):
                raise ArgumentError(f"Trainer ({what} data): X has {len(X)} samples but y has {len(y)}")
            dataset = TensorDataset(X, y)
        else:
            raise ArgumentTypeError(f"Trainer ({what} data): expected (X, y) arrays, a Dataset or a DataLoader, got "
                            f"{type(data).__name__}" + (f" of length {len(data)}" if isinstance(data, (tuple, list))
                                                        else ""))
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ArgumentError(f"Trainer: batch_size must be an integer >= 1, got {batch_size!r}")
        return DataLoader(dataset, batch_size=int(batch_size), shuffle=shuffle, seed=seed, device=self.device)

    def _split(self, batch):
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            got = f"{len(batch)} arrays" if isinstance(batch, (tuple, list)) else "a single array"
            raise ArgumentError(f"Trainer: each batch must be (inputs, targets); the data gave {got}")
        x, y = batch
        return x.to(self.device), y.to(self.device)

    # -- callbacks ----------------------------------------------------------------------------------------------
    def _all_callbacks(self):
        callbacks = list(self.callbacks)
        if self.scheduler is not None and self.scheduler not in callbacks:
            callbacks.append(self.scheduler)
        callbacks.append(_Recorder())
        if self.progress and not any(isinstance(cb, ProgressBar) for cb in callbacks):
            if not hasattr(self, "_progress_bar"):
                self._progress_bar = ProgressBar()
            callbacks.append(self._progress_bar)
        return sorted(callbacks, key=lambda cb: cb.priority)  # stable: equal priorities keep their order

    def _call(self, hook, *args):
        for cb in self.callback_list:
            getattr(cb, hook)(*args)

    def _log_names(self, has_val):
        names = ["loss"] + [name for name, _, _ in self.metrics]
        if self.l1 or self.l2:
            names.append("penalty")
        if has_val:
            names += ["val_loss"] + [f"val_{name}" for name, _, _ in self.metrics]
        return set(names) | {"lr"}

    def _callback_keys(self):
        return [f"{i}:{type(cb).__name__}" for i, cb in enumerate(self.callback_list)]

    def _load_callback_states(self, states):
        for key, cb in zip(self._callback_keys(), self.callback_list):
            if key in states:
                cb.load_state_dict(states[key])

    # -- checkpoints ------------------------------------------------------------------------------------------
    def save_checkpoint(self, path):
        """Write everything an exact resume needs (see `fit(resume_from=)`) to `path` with `mdl.save`."""
        state = {
            "format": CHECKPOINT_FORMAT,
            "epoch": self.history.epochs and self.history.epoch[-1] + 1,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "history": self.history.to_dict(),
            "callbacks": {key: cb.state_dict() for key, cb in zip(self._callback_keys(), self.callback_list)},
            "rng": self._rng_state(),
        }
        save(state, path)

    @staticmethod
    def _read_checkpoint(path):
        """The checkpoint dict at `path`; SerializationError for a missing, damaged or foreign file."""
        checkpoint = load(path)  # SerializationError for a missing, truncated or corrupted file
        if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
            raise SerializationError(f"Trainer.fit(resume_from={str(path)!r}): not a checkpoint written by "
                                     f"ModelCheckpoint (a plain state dict? load it with "
                                     f"model.load_state_dict(mdl.load(path)))")
        missing = [key for key in _CHECKPOINT_KEYS if key not in checkpoint]
        if missing:
            raise SerializationError(f"Trainer.fit(resume_from={str(path)!r}): the checkpoint lacks {missing}; "
                                     f"it is damaged or was written by another program")
        return checkpoint

    def _rng_state(self):
        """The generator states an exact resume needs: the training loader's (shuffling, transforms) and the
        devices' (dropout masks). NumPy generators only (a CuPy generator's state is not saved)."""
        state = {}
        loader_rng = getattr(self._train_loader, "rng", None)
        if hasattr(loader_rng, "bit_generator"):
            state["loader"] = loader_rng.bit_generator.state
        for device in dict.fromkeys(("cpu", self.device)):
            rng = get_backend(device).rng
            if hasattr(rng, "bit_generator"):
                state[f"device:{device}"] = rng.bit_generator.state
        return state

    def _set_rng_state(self, state):
        for key, value in state.items():
            if key == "loader":
                rng = getattr(self._train_loader, "rng", None)
            else:
                rng = get_backend(key.split(":", 1)[1]).rng
            if hasattr(rng, "bit_generator"):
                rng.bit_generator.state = value

    def __repr__(self):
        return (f"Trainer({type(self.model).__name__}, loss={_name(self.loss_fn)}, "
                f"optimizer={type(self.optimizer).__name__}, metrics={[m[0] for m in self.metrics]}, "
                f"device={self.device!r})")


class _Recorder(Callback):
    """Appends each epoch's logs to the History: after your callbacks (which may add to the logs, as in
    Keras), before checkpoints (so a checkpoint holds the History up to its epoch)."""

    priority = 50

    def on_epoch_end(self, epoch, logs=None):
        self.trainer.history.append(epoch, logs)


# -- helpers ----------------------------------------------------------------------------------------------------------
class _Accumulator:
    """Per-sample sums over an epoch: loss·n, penalty·n, n; host copies of outputs and targets."""

    def __init__(self, keep_outputs):
        self.keep_outputs = keep_outputs
        self.n = 0
        self.loss_sum = 0.0
        self.penalty_sum = 0.0
        self._outputs, self._targets = [], []

    def add(self, n, loss, penalty, outputs, targets):
        self.n += n
        self.loss_sum += loss * n
        if penalty is not None:
            self.penalty_sum += penalty * n
        if self.keep_outputs:
            self._outputs.append(outputs.detach().numpy())
            self._targets.append(targets.numpy())

    @property
    def loss(self):
        return self.loss_sum / self.n

    @property
    def penalty(self):
        return self.penalty_sum / self.n

    def outputs(self):
        return np.concatenate(self._outputs)

    def targets(self):
        return np.concatenate(self._targets)


def _penalty(weights, l1, l2):
    penalty = None
    if l1:
        penalty = l1 * F.l1_penalty(weights)
    if l2:
        term = l2 * F.l2_penalty(weights)
        penalty = term if penalty is None else penalty + term
    return penalty


def _predictions(outputs, task, probabilities=False):
    """(predicted labels, scores for roc_auc) from model outputs (module docstring)."""
    outputs = outputs.astype(np.float64)
    if task == "multiclass":
        if outputs.ndim != 2:
            raise ArgumentError(f"Trainer: a multiclass model must output (N, C), got shape {outputs.shape}")
        z = outputs - outputs.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        return outputs.argmax(axis=1), p
    if outputs.ndim == 2 and outputs.shape[1] == 1:
        outputs = outputs[:, 0]
    if outputs.ndim != 1:
        raise ArgumentError(f"Trainer: a binary model must output (N,) or (N, 1), got shape {outputs.shape}")
    p = outputs if probabilities else 0.5 * (1.0 + np.tanh(0.5 * outputs))  # stable sigmoid
    return (p > 0.5).astype(np.int64), p


def _name(loss_fn):
    return type(loss_fn).__name__ if isinstance(loss_fn, Module) else getattr(loss_fn, "__name__", repr(loss_fn))


class _GracefulInterrupt:
    """While active (main thread only), the first Ctrl-C only sets `requested`; the loop stops after the
    current batch. A second Ctrl-C raises KeyboardInterrupt at once."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            try:
                self._previous = signal.signal(signal.SIGINT, self._handle)
            except (ValueError, OSError):  # e.g. an embedded interpreter
                self._previous = None
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        warnings.warn("Trainer.fit: Ctrl-C: stopping after the current batch (press again to stop at once)",
                      RuntimeWarning, stacklevel=2)

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False
