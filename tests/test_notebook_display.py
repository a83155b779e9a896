"""In a Jupyter notebook, minidl shows each thing once: training progress as a widget (one per epoch),
figures, graphs, traces, History and model summaries inline, none of them twice.

Each cell below is run by a real kernel (tests/notebooks.py) and its outputs are counted.
"""

import pytest

from notebooks import execute_notebook, images, notebook_of, outputs, printed, with_data

CELLS = {
    "setup": """
import numpy as np
import minidl as mdl
import minidl.nn as nn
import minidl.optim as optim
import minidl.viz
from minidl.train import Trainer
mdl.manual_seed(0)
X = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
y = (X[:, 0] > 0).astype(np.int64)
model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-2))
""",
    "fit": "history = trainer.fit((X, y), val=(X, y), epochs=3, batch_size=16)",
    "plot_last_line": "history.plot()",
    "plot_assigned": "fig = history.plot()\nprint('made it')",
    "plot_saved": "mdl.viz.plot_history(history, path='curves.png')  # saved, so released from pyplot",
    "history": "history",
    "graph": "loss = nn.CrossEntropyLoss()(model(mdl.tensor(X)), mdl.tensor(y))\nmdl.viz.draw_graph(loss, model=model)",
    "trace": "mdl.viz.trace(loss, model=model)",
    "summary": "model.summary((4,))",
}


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    nb = execute_notebook(notebook_of(list(CELLS.values())), tmp_path_factory.mktemp("notebook"))
    return dict(zip(CELLS, nb.cells))


def test_training_progress_is_one_widget_per_epoch_and_no_plain_lines(cells):
    fit = cells["fit"]
    widgets = with_data(fit, "application/vnd.jupyter.widget-view+json")
    assert len(widgets) == 3, outputs(fit)
    assert "epoch 1/3:" not in printed(fit, "stderr")  # the plain lines are for logs, not notebooks


def test_history_plot_shows_the_figure_once_whether_or_not_it_ends_the_cell(cells):
    assert len(images(cells["plot_last_line"])) == 1, outputs(cells["plot_last_line"])
    assert len(images(cells["plot_assigned"])) == 1, outputs(cells["plot_assigned"])
    assert len(images(cells["plot_saved"])) == 1, outputs(cells["plot_saved"])


def test_history_shows_as_a_table(cells):
    (table,) = with_data(cells["history"], "text/html")
    assert "<table>" in table.data["text/html"] and "val_loss" in table.data["text/html"]
    assert table.data["text/html"].count("<tr") == 1 + 3  # header and one row per epoch


def test_draw_graph_shows_the_graph_as_one_picture(cells):
    assert len(images(cells["graph"])) == 1, outputs(cells["graph"])


def test_trace_shows_its_table_once(cells):
    trace_cell = cells["trace"]
    assert len(with_data(trace_cell, "text/html")) == 1, outputs(trace_cell)
    assert not outputs(trace_cell, "execute_result")
    assert "trace runs it now, once" in printed(trace_cell)


def test_model_summary_is_printed_once(cells):
    summary = cells["summary"]
    assert printed(summary).count("Total params") == 1
    assert not outputs(summary, "execute_result") and not outputs(summary, "display_data")
