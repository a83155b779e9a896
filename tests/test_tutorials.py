"""The tutorial notebooks in docs/tutorials run top to bottom, and show what they claim.

Each notebook is executed by a fresh Jupyter kernel ("python3", from the environment's ipykernel) through
nbclient, with the repository root on PYTHONPATH (so the kernel imports this checkout's minidl) and a
temporary folder as its working directory and TMPDIR (anything it writes lands there). The default run
sets MINIDL_TUTORIAL_QUICK=1 (small data, few epochs: seconds per notebook); the full-size run is `slow`.
Any cell that raises fails the test with the cell's traceback.
"""

import importlib.util
import os
import re
import time
from pathlib import Path

import pytest
from notebooks import execute_notebook, images, outputs, printed

REPO = Path(__file__).resolve().parents[1]
TUTORIALS = REPO / "docs" / "tutorials"
NOTEBOOKS = ["01_backprop_by_hand.ipynb", "02_write_your_own_op.ipynb", "03_course_method.ipynb",
             "04_inside_a_cnn.ipynb", "05_cpu_vs_gpu.ipynb"]


# -- executing a notebook: tests/notebooks.py (shared with the notebook-display tests) -------------------------
def run_notebook(path, workdir, quick=True):
    """Execute a tutorial in a fresh kernel, in CI's small size (MINIDL_TUTORIAL_QUICK=1) or full size."""
    return execute_notebook(path, workdir, env={"MINIDL_TUTORIAL_QUICK": "1" if quick else "0"})


# -- what each notebook must show ------------------------------------------------------------------------------------
def check_backprop_by_hand(nb):
    text = printed(nb)
    match = re.search(r"max abs difference: (\S+)", text)
    assert match, "notebook 01 printed no 'max abs difference'"
    assert float(match.group(1)) < 1e-6
    hand, minidl = re.search(r"loss by minidl: (\S+)\s+by hand: (\S+)", text).groups()
    assert float(hand) == pytest.approx(float(minidl), rel=1e-12)
    fd = re.search(r"finite differences (\S+)\s+by hand (\S+)\s+minidl (\S+)", text).groups()
    assert float(fd[0]) == pytest.approx(float(fd[2]), abs=1e-6)  # an independent check of minidl's gradient


def check_write_your_own_op(nb):
    text = printed(nb)
    assert "gradcheck: True" in text
    assert text.count("GradcheckError") >= 2  # the broken op, caught by gradcheck and by the hypothesis test
    assert "no error?!" not in text and "no failure?!" not in text
    assert "both properties held" in text
    assert "Softplus" in text and "sigmoid(x)" in text  # trace shows the op's own formula line


def check_course_method(nb):
    text = printed(nb)
    accuracy = float(re.search(r"test accuracy (\S+)", text).group(1))
    assert 0.1 < accuracy <= 1.0  # above chance (10 classes) even in the quick run
    assert "best:" in text and "mean ± sd" in text
    assert len(images(nb)) >= 4  # folds' curves, grid search, training curves, confusion matrix


def check_inside_a_cnn(nb):
    text = printed(nb)
    dead = re.search(r"dead channels of the first ReLU: \[([\d\s]*)\]", text).group(1).split()
    assert {"0", "1", "2", "3"} <= set(dead)  # the four channels killed on purpose
    assert len(images(nb)) >= 8  # kernels x3, histograms x3, gradient norms, the graph


def check_cpu_vs_gpu(nb):
    tables = [o.data["text/markdown"] for o in outputs(nb) if "data" in o and "text/markdown" in o.data]
    assert tables and "minidl cpu" in tables[0] and "ms/step" in tables[0]
    assert "ms per step, in order" in printed(nb)
    assert len(images(nb)) >= 1  # the crossover plot


CHECKS = {"01_backprop_by_hand.ipynb": check_backprop_by_hand,
          "02_write_your_own_op.ipynb": check_write_your_own_op,
          "03_course_method.ipynb": check_course_method,
          "04_inside_a_cnn.ipynb": check_inside_a_cnn,
          "05_cpu_vs_gpu.ipynb": check_cpu_vs_gpu}


def run_and_check(name, tmp_path, quick):
    before = sorted(os.listdir(REPO)), sorted(os.listdir(TUTORIALS))
    start = time.perf_counter()
    nb = run_notebook(TUTORIALS / name, tmp_path, quick=quick)
    print(f"{name}: {time.perf_counter() - start:.1f} s ({'quick' if quick else 'full'} mode)")
    assert not outputs(nb, "error")
    CHECKS[name](nb)
    assert (sorted(os.listdir(REPO)), sorted(os.listdir(TUTORIALS))) == before, "the notebook wrote into the repository"
    # The working folder stands for docs/tutorials when a student runs the notebook: it may hold only temporary
    # folders (tempfile.mkdtemp(prefix="minidl-tutorial-"), and PyTorch's cache when torch is imported).
    stray = [p for p in os.listdir(tmp_path) if not p.startswith(("minidl-tutorial-", "torchinductor_"))]
    assert not stray, f"{name} wrote {stray} into its working folder"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_tutorial_runs_quick(name, tmp_path):
    run_and_check(name, tmp_path, quick=True)


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_tutorial_runs_full_size(name, tmp_path):
    run_and_check(name, tmp_path, quick=False)


# -- the notebooks as committed ------------------------------------------------------------------------------------
def test_tutorials_folder_holds_the_five_notebooks():
    assert sorted(p.name for p in TUTORIALS.glob("*.ipynb")) == NOTEBOOKS
    assert set(CHECKS) == set(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_committed_without_outputs_and_as_generated(name):
    """Outputs are stripped, and the file is what docs/tutorials/make_notebooks.py (the single source) writes."""
    nbformat = pytest.importorskip("nbformat", reason="needs nbformat (pip install minidl[test])")
    nb = nbformat.read(str(TUTORIALS / name), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{name}: outputs not stripped"
    spec = importlib.util.spec_from_file_location("make_notebooks", TUTORIALS / "make_notebooks.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    expected = generator.build(name)
    assert [(c.cell_type, c.source) for c in nb.cells] == [(c.cell_type, c.source) for c in expected.cells], \
        f"{name} differs from what make_notebooks.py writes: edit make_notebooks.py and run it"
    first_code = next(c.source for c in nb.cells if c.cell_type == "code")
    assert "MINIDL_TUTORIAL_QUICK" in first_code  # the small-size switch is read in the first code cell
