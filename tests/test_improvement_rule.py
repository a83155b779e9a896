"""The one "is this an improvement" rule (minidl/train/callbacks.py: `improves`) that EarlyStopping and
ModelCheckpoint share, against Keras's semantics in closed-form cases.

Keras: EarlyStopping improves when monitor_op(current - min_delta, best), min_delta negated in "min"
mode (np.less for min, np.greater for max): a strict inequality, so a tie, or a gain of exactly
min_delta, is no improvement. ModelCheckpoint(save_best_only=True) compares monitor_op(current, best),
no min_delta. "auto" picks min for losses and errors, max for accuracy-like names.
"""

import math

import pytest

from minidl.train import EarlyStopping, ModelCheckpoint
from minidl.train.callbacks import improves, resolve_mode, worst_value
from test_callbacks import Script, digits, make_trainer

# (mode, min_delta, current, best, improves?) worked by hand from the rule above
CASES = [
    ("min", 0.0, 0.5, 1.0, True),
    ("min", 0.0, 1.0, 1.0, False),          # a tie is not an improvement
    ("min", 0.0, 1.5, 1.0, False),
    ("min", 0.25, 0.5, 1.0, True),          # 0.5 + 0.25 = 0.75 < 1
    ("min", 0.5, 0.5, 1.0, False),          # 0.5 + 0.5 = 1.0, not < 1: exactly min_delta is not enough
    ("min", 0.75, 0.5, 1.0, False),
    ("max", 0.0, 0.75, 0.5, True),
    ("max", 0.0, 0.5, 0.5, False),
    ("max", 0.25, 0.75, 0.5, False),        # 0.75 - 0.25 = 0.5, not > 0.5
    ("max", 0.125, 0.75, 0.5, True),        # 0.625 > 0.5
    ("min", 0.0, 1.0, math.inf, True),      # any finite first value improves on the starting best
    ("max", 0.0, -1e300, -math.inf, True),
    ("min", 0.0, math.nan, 1.0, False),     # a diverged run never improves
    ("max", 0.0, math.inf, 0.5, False),
]


@pytest.mark.parametrize("mode, min_delta, current, best, expected", CASES)
def test_improves_closed_form(mode, min_delta, current, best, expected):
    assert improves(current, best, mode, min_delta) is expected


@pytest.mark.parametrize("mode, min_delta, current, best, expected", CASES)
def test_early_stopping_uses_the_rule(mode, min_delta, current, best, expected):
    assert EarlyStopping(mode=mode, min_delta=min_delta).improves(current, best) is expected
    assert EarlyStopping(mode=mode, min_delta=-min_delta).improves(current, best) is expected  # |min_delta|, as Keras


def test_worst_value_and_auto_mode():
    assert worst_value("min") == math.inf and worst_value("max") == -math.inf
    assert resolve_mode("X", "val_loss", "auto") == "min"
    assert resolve_mode("X", "val_accuracy", "auto") == "max"
    assert resolve_mode("X", "val_accuracy", "min") == "min"
    assert ModelCheckpoint("x.npz", monitor="val_accuracy").mode == "max"


class RecordingCheckpoint(ModelCheckpoint):
    """Notes the epochs it would save at, instead of writing files."""

    def __init__(self, **kwargs):
        super().__init__("unused.npz", **kwargs)
        self.saved_epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.trainer.save_checkpoint = lambda path: self.saved_epochs.append(epoch)
        super().on_epoch_end(epoch, logs)


def test_checkpoint_saves_at_each_strict_improvement():
    """val_loss 1.0, 0.8, 0.8 (tie), 0.9, 0.5, nan, 0.4: Keras saves at epochs 0, 1, 4 and 6."""
    values = [1.0, 0.8, 0.8, 0.9, 0.5, math.nan, 0.4]
    X, y = digits(30)
    ckpt = RecordingCheckpoint(monitor="val_loss")
    make_trainer(lr=0.0, callbacks=[Script(values), ckpt]).fit((X, y), val=(X, y), epochs=len(values))
    assert ckpt.saved_epochs == [0, 1, 4, 6]
    assert ckpt.best == 0.4


def test_early_stopping_best_epoch_follows_the_same_rule():
    """The same sequence with patience 10: the best epoch is the last strict improvement, epoch 6."""
    values = [1.0, 0.8, 0.8, 0.9, 0.5, math.nan, 0.4]
    X, y = digits(30)
    es = EarlyStopping(patience=10)
    make_trainer(lr=0.0, callbacks=[Script(values), es]).fit((X, y), val=(X, y), epochs=len(values))
    assert es.best_epoch == 6 and es.best == 0.4
