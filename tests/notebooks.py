"""Executing a notebook in a fresh Jupyter kernel, for tests (the display tests, the tutorials).

    nb = execute_notebook("docs/tutorials/01_backprop_by_hand.ipynb", tmp_path)
    images(nb)            # every image/png output, in order

The kernel is "python3": the environment's own ipykernel (jupyter_client starts it with this interpreter).
It imports minidl from this checkout (the repository root first on PYTHONPATH), runs in `workdir` (also
its TMPDIR), and has MPLBACKEND unset, so matplotlib's inline backend turns figures into image/png
outputs as in a user's notebook. Any cell that raises fails the test with that cell's traceback.
"""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def notebook_of(cells):
    """A notebook (nbformat node) with one code cell per source string."""
    nbformat = pytest.importorskip("nbformat", reason="the notebook tests need nbformat (pip install minidl[test])")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    return nb


def execute_notebook(notebook, workdir, env=None, cell_timeout=600):
    """Run every cell of `notebook` (a path, or an nbformat node) in a new python3 kernel; return the
    executed notebook. `env`: extra environment variables for the kernel."""
    nbformat = pytest.importorskip("nbformat", reason="the notebook tests need nbformat (pip install minidl[test])")
    nbclient = pytest.importorskip("nbclient", reason="the notebook tests need nbclient (pip install minidl[test])")
    pytest.importorskip("ipykernel", reason="the notebook tests need ipykernel (pip install minidl[test])")
    nb = nbformat.read(str(notebook), as_version=4) if isinstance(notebook, (str, os.PathLike)) else notebook
    kernel_env = dict(os.environ)
    kernel_env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO)] + [p for p in kernel_env.get("PYTHONPATH", "").split(os.pathsep) if p])
    kernel_env["TMPDIR"] = str(workdir)
    kernel_env.pop("MPLBACKEND", None)
    kernel_env.update(env or {})
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=cell_timeout,
                                     resources={"metadata": {"path": str(workdir)}})
    client.execute(env=kernel_env)  # raises CellExecutionError, with the cell and its traceback, on any error
    return nb


def outputs(nb_or_cell, kind=None):
    """Every output of a cell, or of every code cell of a notebook (only those of `output_type` kind, when given)."""
    cells = [nb_or_cell] if "outputs" in nb_or_cell else [c for c in nb_or_cell.cells if c.cell_type == "code"]
    return [o for cell in cells for o in cell.outputs if kind is None or o.output_type == kind]


def printed(nb_or_cell, stream="stdout"):
    """All text printed to `stream` ("stdout" or "stderr"), in order."""
    return "".join(o.text for o in outputs(nb_or_cell, "stream") if o.name == stream)


def with_data(nb_or_cell, mime):
    """The outputs (display_data or execute_result) that carry `mime`, e.g. "image/png"."""
    return [o for o in outputs(nb_or_cell) if "data" in o and mime in o.data]


def images(nb_or_cell):
    return with_data(nb_or_cell, "image/png")
