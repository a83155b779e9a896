"""Trainer: the loop, History, modes, per-sample averages, penalties, metrics, schedulers, stopping, errors."""

import csv
import functools
import math
import os
import re
import signal
import sys

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
import minidl.optim as optim
from minidl import metrics
from minidl.data import DataLoader, TensorDataset
from minidl.data.datasets import load_digits
from minidl.train import (Callback, CSVLogger, EarlyStopping, History, LambdaCallback, ModelCheckpoint, ProgressBar,
                          SchedulerCallback, Trainer)


@functools.lru_cache(maxsize=None)
def _digits():
    X, y = load_digits()
    return X.reshape(len(X), -1), y


def digits(n=300, offset=0):
    X, y = _digits()
    return X[offset:offset + n], y[offset:offset + n]


def mlp(seed=0, hidden=16, out=10, dropout=0.0):
    mdl.manual_seed(seed)
    layers = [nn.Linear(64, hidden), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(hidden, out))


def trainer(model=None, lr=1e-2, opt="adam", **kwargs):
    model = model or mlp()
    optimizer = optim.Adam(model.parameters(), lr=lr) if opt == "adam" else optim.SGD(model.parameters(), lr=lr)
    kwargs.setdefault("progress", False)
    return Trainer(model, kwargs.pop("loss_fn", nn.CrossEntropyLoss()), optimizer, **kwargs)


def test_fit_returns_a_keras_history():
    X, y = digits()
    h = trainer(metrics=("accuracy", "f1")).fit((X[:200], y[:200]), val=(X[200:], y[200:]), epochs=3, seed=0)
    assert isinstance(h, History)
    assert list(h.keys()) == ["loss", "accuracy", "f1", "val_loss", "val_accuracy", "val_f1", "lr"]
    assert h.epochs == 3 and h.epoch == [0, 1, 2]
    assert all(len(v) == 3 and all(isinstance(x, float) for x in v) for v in h.history.values())
    assert h["loss"][-1] < h["loss"][0]
    assert h.best_epoch == int(np.argmin(h["val_loss"]))
    assert not h.interrupted and not h.stopped_early and h.stop_reason is None


def test_history_plot_and_round_trip(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    X, y = digits(100)
    h = trainer().fit((X, y), val=(X, y), epochs=2, seed=0)
    fig = h.plot()
    assert len(fig.axes) == 2  # loss and accuracy, each with its val_ curve
    assert History.from_dict(h.to_dict()) == h


def test_losses_and_metrics_are_per_sample_averages():
    # lr = 0: the model never changes, so the epoch's training loss must equal the loss of all samples at
    # once, although batches of 7 leave a last batch of 2 (a per-batch average would differ).
    X, y = digits(30)
    t = trainer(lr=0.0, opt="sgd", metrics=("accuracy",))
    h = t.fit((X, y), val=(X, y), epochs=1, batch_size=7, shuffle=False)
    logits = t.model(mdl.tensor(X))
    full = nn.CrossEntropyLoss()(logits, mdl.tensor(y)).item()
    assert h["loss"][0] == pytest.approx(full, rel=1e-6)
    assert h["val_loss"][0] == pytest.approx(full, rel=1e-6)
    assert h["accuracy"][0] == metrics.accuracy(y, logits.numpy().argmax(axis=1))
    batch_mean = np.mean([nn.CrossEntropyLoss()(t.model(mdl.tensor(X[i:i + 7])), mdl.tensor(y[i:i + 7])).item()
                          for i in range(0, 30, 7)])
    assert abs(batch_mean - full) > 1e-4  # the test can tell the two averages apart


class ModeSpy(nn.Module):
    """Records (training flag, grad mode) at every forward."""

    def __init__(self):
        super().__init__()
        self.inner = mlp()
        self.seen = []

    def forward(self, x):
        self.seen.append((self.training, mdl.is_grad_enabled()))
        return self.inner(x)


def test_train_eval_and_no_grad_switch_at_the_right_moments():
    X, y = digits(40)
    spy = ModeSpy()
    t = trainer(spy)
    t.fit((X, y), val=(X[:10], y[:10]), epochs=2, batch_size=20)
    # per epoch: 2 training batches (train mode, grad on), then 1 validation batch (eval, no grad)
    assert spy.seen == [(True, True), (True, True), (False, False)] * 2
    assert spy.training
    spy.seen.clear()
    t.evaluate((X, y))
    t.predict(X)
    assert spy.seen == [(False, False), (False, False)] and spy.training


def test_l1_l2_penalty_is_logged_apart_and_enters_the_gradient():
    X, y = digits(20)
    model = mlp()
    w0 = [p.numpy() for p in model.parameters()]
    t = trainer(model, lr=0.1, opt="sgd", l1=1e-3, l2=1e-2)
    h = t.fit((X, y), epochs=1, batch_size=20, shuffle=False)
    expected_penalty = sum(1e-3 * np.abs(w).sum() + 1e-2 * (w.astype(np.float64) ** 2).sum() for w in w0)
    assert h["penalty"][0] == pytest.approx(expected_penalty, rel=1e-5)
    ref = mlp()
    ref_loss = nn.CrossEntropyLoss()(ref(mdl.tensor(X)), mdl.tensor(y))
    assert h["loss"][0] == pytest.approx(ref_loss.item(), rel=1e-6)  # data loss only
    # one SGD step on data loss + penalty, by hand
    total = ref_loss + 1e-3 * nn.functional.l1_penalty(ref.parameters()) \
        + 1e-2 * nn.functional.l2_penalty(ref.parameters())
    total.backward()
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.numpy(), q.numpy() - 0.1 * q.grad.numpy(), rtol=1e-5, atol=1e-7)
    assert "penalty" not in trainer().fit((X, y), epochs=1)


def test_binary_logits_use_sigmoid_threshold():
    X, y = digits(200)
    yb = (y >= 5).astype(np.float32)
    model = mlp(out=1)
    t = Trainer(model, nn.BCEWithLogitsLoss(), optim.Adam(model.parameters(), lr=1e-2),
                metrics=("accuracy", "roc_auc", "f1"), progress=False)

    class Squeeze(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            return self.m(x).reshape(-1)

    t.model = Squeeze(model)
    t.fit((X, yb), epochs=3, seed=0)
    result = t.evaluate((X, yb))
    logits = t.predict(X)
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    assert result["accuracy"] == metrics.accuracy(yb.astype(int), (p > 0.5).astype(int))
    assert result["roc_auc"] == pytest.approx(metrics.roc_auc(yb.astype(int), p), abs=1e-12)
    assert result["accuracy"] > 0.8


def test_regression_drops_default_accuracy_and_refuses_class_metrics():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3)).astype(np.float32)
    y = (X @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32))
    mdl.manual_seed(0)
    model = nn.Linear(3, 1)
    t = Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.05), progress=False)
    assert t.metrics == []
    t = Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.05), metrics=("mse", "r2"), progress=False)
    h = t.fit((X, y), val=(X, y), epochs=5, seed=0)
    assert h["val_mse"][-1] == pytest.approx(h["val_loss"][-1], rel=1e-5)
    assert h["val_r2"][-1] > 0.5
    with pytest.raises(ValueError, match="regression task"):
        Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), metrics=("accuracy",))
    with pytest.raises(ValueError, match="regression metric"):
        Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), metrics=("r2",))


def test_metric_functions_and_inputs_as_datasets_and_loaders():
    X, y = digits(60)

    def top_class_share(y_true, outputs):
        return float(np.mean(outputs.argmax(axis=1) == 0))

    t = trainer(metrics=("accuracy", top_class_share))
    loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True, seed=0)
    h = t.fit(loader, val=TensorDataset(X, y), epochs=1)
    assert "val_top_class_share" in h
    assert set(t.evaluate(loader)) == {"loss", "accuracy", "top_class_share"}
    assert t.predict(X).shape == (60, 10)
    assert t.predict(mdl.tensor(X)).shape == (60, 10)
    assert t.predict(TensorDataset(X, y)).shape == (60, 10)


def test_bad_inputs_give_clear_errors():
    X, y = digits(30)
    with pytest.raises(ValueError, match="unknown metric 'acc'.*'accuracy'"):
        trainer(metrics=("acc",))
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        trainer().fit((X, y), epochs=0)
    with pytest.raises(ValueError, match="X has 30 samples but y has 29"):
        trainer().fit((X, y[:-1]), epochs=1)
    with pytest.raises(ValueError, match="X has 30 samples but y has 29"):
        trainer().fit((X, y), val=(X, y[:-1]), epochs=1)
    with pytest.raises(ValueError, match=r"monitor='val_acc'.*available: \['accuracy', 'loss', 'lr', "
                                         r"'val_accuracy', 'val_loss'\]"):
        trainer(callbacks=[EarlyStopping(monitor="val_acc")]).fit((X, y), val=(X, y), epochs=1)
    with pytest.raises(ValueError, match="only when fit\\(\\) is given val data"):
        trainer(callbacks=[EarlyStopping()]).fit((X, y), epochs=1)
    with pytest.raises(TypeError, match="expected \\(X, y\\) arrays"):
        trainer().fit(X, epochs=1)
    with pytest.raises(ValueError, match="l2 must be a number >= 0"):
        trainer(l2=-1.0)


def test_non_finite_loss_stops_with_epoch_and_batch_and_restores_best_weights():
    X, y = digits(64)
    calls = {"n": 0}

    def loss_fn(out, target):  # finite for 2 epochs of 4 batches, then NaN at epoch 3, batch 2
        calls["n"] += 1
        loss = nn.functional.cross_entropy(out, target)
        return loss * float("nan") if calls["n"] == 10 else loss

    es = EarlyStopping(monitor="loss", patience=10, restore_best_weights=True)
    model = mlp()
    t = Trainer(model, loss_fn, optim.Adam(model.parameters(), lr=1e-2), callbacks=[es], progress=False)
    with pytest.warns(RuntimeWarning, match=r"loss became nan at epoch 3, batch 2"):
        h = t.fit((X, y), epochs=10, batch_size=16, seed=0)
    assert h.epochs == 2 and "epoch 3, batch 2" in h.stop_reason
    assert all(np.isfinite(p.numpy()).all() for p in model.parameters())
    for key, value in es.best_weights.items():
        np.testing.assert_array_equal(model.state_dict()[key], value)


def test_keyboard_interrupt_stops_after_the_batch_and_keeps_history_and_checkpoint(tmp_path):
    X, y = digits(64)
    path = tmp_path / "ckpt.npz"
    seen, ended = [], []

    class Interrupt(Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append((self.trainer._epoch, batch))
            if self.trainer._epoch == 2 and batch == 1:
                raise KeyboardInterrupt

        def on_train_end(self, logs=None):
            ended.append(True)

    t = trainer(callbacks=[Interrupt(), ModelCheckpoint(path, save_best_only=False)])
    with pytest.warns(RuntimeWarning, match="interrupted"):
        h = t.fit((X, y), val=(X, y), epochs=5, batch_size=16, seed=0)
    assert h.interrupted and h.epochs == 2 and ended == [True]
    assert seen[-1] == (2, 1)
    saved = mdl.load(path)
    assert saved["epoch"] == 2 and len(saved["history"]["epoch"]) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]  # no temporary files left behind


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_signal_finishes_the_current_batch():
    X, y = digits(64)
    steps = []

    class SendSigint(Callback):
        def on_batch_begin(self, batch, logs=None):
            if self.trainer._epoch == 1 and batch == 2:
                os.kill(os.getpid(), signal.SIGINT)  # arrives during this batch

        def on_batch_end(self, batch, logs=None):
            steps.append((self.trainer._epoch, batch))

    previous = signal.getsignal(signal.SIGINT)
    with pytest.warns(RuntimeWarning):
        h = trainer(callbacks=[SendSigint()]).fit((X, y), epochs=4, batch_size=16, seed=0)
    assert steps[-1] == (1, 2)  # batch 2 of epoch 1 was finished, nothing after it ran
    assert h.interrupted and h.epochs == 1
    assert signal.getsignal(signal.SIGINT) is previous


def test_schedulers_are_stepped_per_epoch_and_lr_logged():
    X, y = digits(40)
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    t = Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5),
                progress=False)
    h = t.fit((X, y), epochs=5)
    assert h["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_reduce_lr_on_plateau_watches_the_validation_metric():
    X, y = digits(40)
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=1e-12)  # so small that val_loss stays flat
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    t = Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sched, progress=False)
    h = t.fit((X, y), val=(X, y), epochs=5)
    assert h["lr"] == pytest.approx([1e-12, 1e-12, 1e-12, 5e-13, 5e-13], rel=1e-9)
    with pytest.raises(ValueError, match="ReduceLROnPlateau.*val_loss"):
        t.fit((X, y), epochs=2)  # no validation data to watch
    h = Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=SchedulerCallback(sched, monitor="loss"),
                progress=False).fit((X, y), epochs=2)
    assert h.epochs == 2


def test_csv_logger(tmp_path):
    X, y = digits(40)
    path = tmp_path / "log.csv"
    h = trainer(callbacks=[CSVLogger(path)]).fit((X, y), val=(X, y), epochs=3)
    rows = list(csv.DictReader(open(path)))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]  # 1-based, as the log and the plots
    assert list(rows[0]) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    assert [float(r["val_loss"]) for r in rows] == pytest.approx(h["val_loss"])


def test_progress_off_a_terminal_is_one_plain_line_per_epoch(capsys):
    X, y = digits(40)
    trainer(progress=True).fit((X, y), val=(X, y), epochs=3)
    lines = capsys.readouterr().err.splitlines()  # pytest's stderr is neither a terminal nor a notebook
    assert [line.split(":")[0] for line in lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert all(re.search(r": loss \S+ acc \S+ val_loss \S+ val_acc \S+ \(\d+\.\d s\)$", line) for line in lines), lines


def test_progress_bar_shows_live_logs_and_keeps_the_validation_metrics_within_80_columns():
    import io

    X, y = digits(40)
    out = io.StringIO()
    h = trainer(callbacks=[ProgressBar(file=out, force=True, metrics_interval=0.0)]).fit((X, y), val=(X, y), epochs=2)
    text = out.getvalue()
    assert "2/2" in text and "loss " in text and " acc " in text
    final = [line for line in re.split(r"[\r\n]", text) if line.strip()][-1]  # the bar as the epoch ended
    assert final.startswith("2/2 100%|")
    assert final.endswith(f"val_loss {h['val_loss'][-1]:.3g} val_acc {h['val_accuracy'][-1]:.3g}")
    assert len(final) <= 80, final


def test_lambda_callback_sees_every_hook_in_order():
    X, y = digits(20)
    calls = []
    cb = LambdaCallback(on_train_begin=lambda logs: calls.append("train_begin"),
                        on_epoch_begin=lambda e, logs: calls.append(f"epoch_begin {e}"),
                        on_batch_end=lambda b, logs: calls.append(f"batch_end {b}"),
                        on_epoch_end=lambda e, logs: calls.append(f"epoch_end {e} {sorted(logs)}"),
                        on_train_end=lambda logs: calls.append("train_end"))
    trainer(callbacks=[cb]).fit((X, y), epochs=2, batch_size=10)
    assert calls == ["train_begin", "epoch_begin 0", "batch_end 0", "batch_end 1",
                     "epoch_end 0 ['accuracy', 'loss', 'lr']", "epoch_begin 1", "batch_end 0", "batch_end 1",
                     "epoch_end 1 ['accuracy', 'loss', 'lr']", "train_end"]


def test_strict_device_runs_without_host_leaks():
    X, y = digits(40)
    t = trainer(device="strict", metrics=("accuracy", "roc_auc"))
    h = t.fit((X, y), val=(X, y), epochs=2)
    assert math.isfinite(h["val_loss"][-1])
    assert t.predict(X).shape == (40, 10)
