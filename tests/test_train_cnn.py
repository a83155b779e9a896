"""The course's method end to end: a small CNN trained by Trainer on digits reaches >= 97 % test accuracy."""

import time

import pytest

import minidl as mdl
import minidl.nn as nn
import minidl.optim as optim
from minidl.data import train_val_test_split
from minidl.data.datasets import load_digits
from minidl.train import EarlyStopping, Trainer


@pytest.mark.slow
def test_small_cnn_on_digits_reaches_97_percent_test_accuracy():
    X, y = load_digits()  # (1797, 1, 8, 8)
    X_train, X_val, X_test, y_train, y_val, y_test = train_val_test_split(X, y, val_size=0.15, test_size=0.2, seed=0)
    mdl.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # 16 x 4 x 4
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 32 x 2 x 2
        nn.Flatten(), nn.Linear(32 * 2 * 2, 64), nn.ReLU(), nn.Linear(64, 10))
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=3e-3), metrics=("accuracy",),
                      callbacks=[EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)])
    start = time.perf_counter()
    history = trainer.fit((X_train, y_train), val=(X_val, y_val), epochs=30, batch_size=32, seed=0)
    test = trainer.evaluate((X_test, y_test))  # tested once, at the end
    print(f"\nCNN on digits: {history.epochs} epochs (best {history.best_epoch + 1}), "
          f"test accuracy {test['accuracy']:.4f}, {time.perf_counter() - start:.1f} s")
    assert test["accuracy"] >= 0.97
