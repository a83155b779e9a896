"""EarlyStopping (Keras semantics), ModelCheckpoint, and an exact resume from a checkpoint."""

import csv
import functools

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
import minidl.optim as optim
from minidl.data.datasets import load_digits
from minidl.train import Callback, CSVLogger, EarlyStopping, ModelCheckpoint, Trainer


@functools.lru_cache(maxsize=None)
def _digits():
    X, y = load_digits()
    return X.reshape(len(X), -1), y


def digits(n=200):
    X, y = _digits()
    return X[:n], y[:n]


def make_trainer(seed=0, lr=1e-2, callbacks=(), dropout=0.0, scheduler=False, **kwargs):
    mdl.manual_seed(seed)
    layers = [nn.Linear(64, 16), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else []) + [nn.Linear(16, 10)]
    model = nn.Sequential(*layers)
    opt = optim.Adam(model.parameters(), lr=lr) if lr else optim.SGD(model.parameters(), lr=0.0)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5) if scheduler else None
    return Trainer(model, nn.CrossEntropyLoss(), opt, callbacks=list(callbacks), scheduler=sched, progress=False,
                   **kwargs)


class Script(Callback):
    """Replaces the logged val_loss by a scripted sequence (runs before EarlyStopping: same priority, first)."""

    def __init__(self, values):
        self.values = values

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[epoch]


@pytest.mark.parametrize("patience", [1, 2, 4])
def test_early_stopping_stops_after_exactly_patience_plus_one_epochs(patience):
    X, y = digits(60)
    es = EarlyStopping(patience=patience)
    h = make_trainer(lr=0.0, callbacks=[es]).fit((X, y), val=(X, y), epochs=20)  # val_loss cannot improve
    assert h.epochs == patience + 1
    assert es.best_epoch == 0 and es.stopped_epoch == patience
    assert h.stopped_early and "did not improve" in h.stop_reason


@pytest.mark.parametrize("min_delta, expected_epochs", [(0.0, 7), (0.05, 5), (0.2, 4)])
def test_early_stopping_respects_min_delta(min_delta, expected_epochs):
    # improvements: 1.0 -> 0.9 (0.1) -> 0.87 (0.03) -> 0.86 (0.01) -> 0.86 -> 0.86 ...
    values = [1.0, 0.9, 0.87, 0.86, 0.86, 0.86, 0.86, 0.86, 0.86, 0.86]
    X, y = digits(30)
    es = EarlyStopping(patience=3, min_delta=min_delta)
    h = make_trainer(lr=0.0, callbacks=[Script(values), es]).fit((X, y), val=(X, y), epochs=10)
    # last improving epoch (by more than min_delta) + patience + 1
    assert h.epochs == expected_epochs


def test_early_stopping_mode_auto_is_max_for_accuracy_and_min_delta_is_strict():
    assert EarlyStopping(monitor="val_accuracy").mode == "max"
    assert EarlyStopping(monitor="val_loss").mode == "min"
    es = EarlyStopping(min_delta=0.1)
    assert not es.improves(0.9, 1.0)  # exactly min_delta is not "more than"
    assert es.improves(0.89, 1.0)
    with pytest.raises(ValueError, match="mode must be"):
        EarlyStopping(mode="maximum")
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=-1)


def test_restore_best_weights_bit_for_bit():
    values = [1.0, 0.8, 0.7, 0.75, 0.9, 0.95, 0.99]  # best: epoch 2
    snapshots = []

    class Snapshot(Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append({k: v.copy() for k, v in self.trainer.model.state_dict().items()})

    X, y = digits(60)
    es = EarlyStopping(patience=3, restore_best_weights=True)
    t = make_trainer(callbacks=[Script(values), Snapshot(), es])
    h = t.fit((X, y), val=(X, y), epochs=7, batch_size=16)
    assert h.epochs == 6 and es.best_epoch == 2 and h.best_epoch == 2
    final = t.model.state_dict()
    assert not all(np.array_equal(final[k], v) for k, v in snapshots[-1].items())  # weights did move on
    for key, value in snapshots[2].items():
        np.testing.assert_array_equal(final[key], value)
        assert final[key].dtype == value.dtype


def test_restore_best_weights_also_without_stopping_early():
    values = [1.0, 0.5, 0.7]
    X, y = digits(60)
    es = EarlyStopping(patience=5, restore_best_weights=True)
    t = make_trainer(callbacks=[Script(values), es])
    h = t.fit((X, y), val=(X, y), epochs=3)
    assert not h.stopped_early
    for key, value in es.best_weights.items():
        np.testing.assert_array_equal(t.model.state_dict()[key], value)


def test_model_checkpoint_saves_best_only_atomically(tmp_path):
    values = [1.0, 0.8, 0.9, 0.7, 0.75]
    X, y = digits(60)
    path = tmp_path / "best.npz"
    saved_epochs = []

    class Watch(Callback):
        priority = 200  # after the checkpoint

        def on_epoch_end(self, epoch, logs=None):
            if path.exists():
                saved_epochs.append(int(mdl.load(path)["epoch"]))

    ckpt = ModelCheckpoint(path, monitor="val_loss")
    make_trainer(callbacks=[Script(values), ckpt, Watch()]).fit((X, y), val=(X, y), epochs=5)
    assert saved_epochs == [1, 2, 2, 4, 4]  # saved after epochs 1, 2 and 4 (1-based)
    state = mdl.load(path)
    assert set(state) >= {"model", "optimizer", "history", "epoch", "rng", "callbacks"}
    assert set(state["model"]) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.npz"]
    pattern = tmp_path / "ckpt-{epoch:02d}.npz"
    make_trainer(callbacks=[ModelCheckpoint(pattern, save_best_only=False)]).fit((X, y), epochs=2)
    assert (tmp_path / "ckpt-01.npz").exists() and (tmp_path / "ckpt-02.npz").exists()


class StopAt(Callback):
    """Simulates a crash: KeyboardInterrupt in the middle of epoch `epoch` (0-based)."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        if self.trainer._epoch == self.epoch and batch == 1:
            raise KeyboardInterrupt


def test_resume_from_checkpoint_matches_an_uninterrupted_run(tmp_path):
    X, y = digits(200)
    train, val = (X[:150], y[:150]), (X[150:], y[150:])

    def callbacks(path, extra=()):
        return [*extra, EarlyStopping(patience=50, restore_best_weights=True), CSVLogger(path.with_suffix(".csv")),
                ModelCheckpoint(path, save_best_only=False)]

    # the reference: 6 epochs in one go (dropout, shuffling, Adam, StepLR: every source of state)
    ref_path = tmp_path / "ref.npz"
    ref = make_trainer(seed=0, dropout=0.2, scheduler=True, callbacks=callbacks(ref_path))
    h_ref = ref.fit(train, val, epochs=6, batch_size=32)

    # the same run, interrupted during epoch 3 (0-based: after 3 finished epochs) ...
    path = tmp_path / "run.npz"
    first = make_trainer(seed=0, dropout=0.2, scheduler=True, callbacks=callbacks(path, [StopAt(3)]))
    with pytest.warns(RuntimeWarning, match="interrupted"):
        h1 = first.fit(train, val, epochs=6, batch_size=32)
    assert h1.interrupted and h1.epochs == 3 and int(mdl.load(path)["epoch"]) == 3

    # ... and resumed in a fresh process-like setting: other seed, new model and optimizer
    second = make_trainer(seed=123, dropout=0.2, scheduler=True, callbacks=callbacks(path))
    h2 = second.fit(train, val, epochs=6, batch_size=32, resume_from=path)

    assert h2.epochs == 6 and h2.history == h_ref.history
    for key, value in ref.model.state_dict().items():
        np.testing.assert_array_equal(second.model.state_dict()[key], value)
    ref_opt, opt = ref.optimizer.state_dict(), second.optimizer.state_dict()
    for i in ref_opt["state"]:
        for field, value in ref_opt["state"][i].items():
            np.testing.assert_array_equal(opt["state"][i][field], value)
    assert second.optimizer.param_groups[0]["lr"] == ref.optimizer.param_groups[0]["lr"]
    rows = list(csv.DictReader(open(path.with_suffix(".csv"))))
    assert [int(r["epoch"]) for r in rows] == list(range(1, 7))  # rows of the lost partial epoch replaced


def test_resume_rejects_a_plain_state_dict(tmp_path):
    X, y = digits(30)
    t = make_trainer()
    mdl.save(t.model.state_dict(), tmp_path / "weights.npz")
    with pytest.raises(ValueError, match="not a checkpoint"):
        t.fit((X, y), epochs=1, resume_from=tmp_path / "weights.npz")
