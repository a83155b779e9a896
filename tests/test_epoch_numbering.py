"""One epoch numbering for people: history.csv, the printed log, the plots and the best-epoch mark count from 1
(History.epoch and History.best_epoch stay 0-based Python indices)."""

import csv
import re

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

import minidl as mdl  # noqa: E402
import minidl.nn as nn  # noqa: E402
import minidl.optim as optim  # noqa: E402
from minidl.data.datasets import load_digits  # noqa: E402
from minidl.train import CSVLogger, Trainer  # noqa: E402


def test_csv_log_and_plot_number_epochs_alike(tmp_path, capsys):
    X, y = load_digits()
    X = X.reshape(len(X), -1).astype(np.float32)[:200] / 16
    y = y[:200]
    mdl.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    # progress=True off a terminal (pytest captures stderr): the ProgressBar prints one line per epoch
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.05), progress=True,
                      callbacks=[CSVLogger(tmp_path / "history.csv")])
    history = trainer.fit((X[:150], y[:150]), val=(X[150:], y[150:]), epochs=4, batch_size=16)

    rows = list(csv.DictReader(open(tmp_path / "history.csv")))
    csv_epochs = [int(r["epoch"]) for r in rows]
    printed = [int(m) for m in re.findall(r"^epoch\s+(\d+)/4", capsys.readouterr().err, flags=re.M)]
    figure = history.plot()
    plotted = [list(map(int, line.get_xdata())) for line in figure.axes[0].get_lines() if len(line.get_xdata()) == 4]
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]

    assert csv_epochs == printed == plotted[0] == [1, 2, 3, 4]
    best_in_csv = csv_epochs[int(np.argmin([float(r["val_loss"]) for r in rows]))]
    assert f"best epoch ({best_in_csv})" in labels
    assert history.epoch == [0, 1, 2, 3] and history.best_epoch == best_in_csv - 1
