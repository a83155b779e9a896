"""A bad argument prints one line and exits with status 2 (README): no traceback, no usage block."""

import runpy
import sys
from pathlib import Path

import pytest

import minidl as mdl
from minidl.cli import main

README = str(Path(__file__).resolve().parents[1] / "README.md")
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(argv, capsys):
    try:
        status = main(argv)
    except SystemExit as exit_:  # argparse's way out
        status = exit_.code
    captured = capsys.readouterr()
    return status, captured.err.strip().splitlines()


@pytest.mark.parametrize("argv, expected", [
    (["train", "--out", README, "--quick"], "is a file, not a folder"),
    (["train", "--out", "/proc/nope/run", "--quick"], "cannot create the folder"),
    (["parity", "--devices", "cpu,gpu"], "unknown device 'gpu'"),
    (["train", "--kfold", "3", "--limit", "5", "--quick"], "--kfold 3"),
    (["bench", "--batch-sizes", "-4"], "must be an integer >= 1"),
    (["bench", "--batch-sizes", "0"], "must be an integer >= 1"),
    (["bench", "--rounds", "0"], "must be an integer >= 1"),
    (["bench", "--block", "-1"], "must be a number > 0"),
    (["bench", "--out", README], "is a file, not a folder"),
    (["bench", "--models", "foo"], "invalid choice: 'foo'"),
])
def test_bad_argument_is_one_line_and_status_2(argv, expected, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing is written beside the checkout
    status, lines = _run(argv, capsys)
    assert status == 2, lines
    assert len(lines) == 1 and expected in lines[0], lines
    assert lines[0].startswith(f"minidl {argv[0]}: error:")


def test_missing_data_message_keeps_where_to_get_the_files(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MINIDL_DATA", str(tmp_path / "data"))
    from minidl.data import datasets

    monkeypatch.setattr(datasets, "MNIST_URLS", ("http://127.0.0.1:9/",))  # nothing answers: no download
    status, lines = _run(["train", "--dataset", "mnist", "--quick", "--out", str(tmp_path / "run")], capsys)
    assert status == 1
    message = "\n".join(lines)
    assert "train-images-idx3-ubyte.gz" in message and f"put them in {tmp_path / 'data' / 'mnist'}" in message


@pytest.mark.skipif(mdl.cuda.is_available(), reason="checks the message given where no GPU works")
@pytest.mark.parametrize("script", ["mnist_dense.py", "train_digits.py", "inside_digits.py", "fashion_mnist_lenet.py"])
def test_example_device_cuda_without_gpu_is_one_line(script, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", [script, "--device", "cuda"])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 2 and len(lines) == 1 and "no working GPU" in lines[0]
