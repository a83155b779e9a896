"""Diverging training is said, not silent: one warning when the loss grows by orders of magnitude, and a stop
naming the epoch and batch when it stops being finite."""

import warnings

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
import minidl.optim as optim
from minidl.train import Trainer


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 5)).astype(np.float32)
    return X, X @ rng.standard_normal((5, 1)).astype(np.float32)


def _fit(lr, epochs=3):
    X, y = _data()
    mdl.manual_seed(0)
    model = nn.Linear(5, 1)
    trainer = Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=lr), metrics=(), progress=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = trainer.fit((X, y), epochs=epochs, batch_size=8)
    return history, [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


def test_diverging_loss_is_warned_once_then_stopped_naming_epoch_and_batch():
    # SGD on least squares diverges for lr > 2 / λmax(XᵀX/n) (≈ 0.3 here): lr = 5 multiplies the error each step
    history, messages = _fit(lr=5.0, epochs=20)
    diverging = [m for m in messages if "diverging" in m]
    assert len(diverging) == 1 and "first batch" in diverging[0] and "epoch 1" in diverging[0]
    stopped = [m for m in messages if "became" in m]
    assert len(stopped) == 1 and history.stop_reason is not None
    assert "epoch" in history.stop_reason and "batch" in history.stop_reason


def test_converging_training_says_nothing():
    history, messages = _fit(lr=0.05)
    assert messages == [] and history.stop_reason is None
    assert history["loss"][-1] < history["loss"][0]
