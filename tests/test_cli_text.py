"""`minidl train --dataset names|shakespeare` and `minidl sample RUN_DIR`: a quick run writes every file,
its losses are in nats and bits per character, the run can be sampled from, and wrong flags are refused."""

import json
import math
import os
from pathlib import Path

import pytest

from minidl import cli
from minidl.zoo import load_language_model

FILES = {"config.json", "curves.png", "history.json", "model.npz", "report.md", "samples.txt", "vocab.json"}


def needs(relative):
    folder = os.environ.get("MINIDL_DATA")
    if not folder or not (Path(folder) / relative).is_file():
        pytest.skip(f"MINIDL_DATA does not point at a data folder holding {relative} (see shared/data/README.md)")


def test_names_quick_run_writes_everything_and_samples(tmp_path, capsys):
    needs("names/names.txt")
    out = tmp_path / "names"
    assert cli.main(["train", "--dataset", "names", "--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert FILES <= {p.name for p in out.iterdir()}
    config = json.loads((out / "config.json").read_text())
    assert config["kind"] == "names-mlp" and config["dataset"] == "names"
    val = config["val_loss"]
    assert f"val_loss {val:.4f} nats/char ({val / math.log(2):.3f} bits)" in printed
    assert 1.5 < val < math.log(27)   # it learned something: below the uniform guess over 27 characters
    assert "bits per character" in (out / "report.md").read_text()
    assert cli.main(["sample", str(out), "--count", "7", "--seed", "3"]) == 0
    names = capsys.readouterr().out.split()
    assert len(names) <= 7 and all(set(n) <= set("abcdefghijklmnopqrstuvwxyz") for n in names)


@pytest.mark.parametrize("model", ["gpt", "lstm"])
def test_shakespeare_quick_run_and_sample(tmp_path, capsys, model):
    needs("tinyshakespeare/input.txt")
    out = tmp_path / model
    args = ["train", "--dataset", "shakespeare", "--model", model, "--quick", "--steps", "8", "--out", str(out)]
    assert cli.main(args) == 0
    assert FILES <= {p.name for p in out.iterdir()}
    loaded, vocab, config = load_language_model(out)
    assert config["kind"] == model and len(vocab) == 65 and config["steps"] == 8
    assert config["val_loss"] < math.log(65) + 0.1   # about the uniform guess after 8 steps, never far above
    capsys.readouterr()
    assert cli.main(["sample", str(out), "--length", "40", "--start", "ROMEO:", "--temperature", "0"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("ROMEO:") and len(text.rstrip("\n")) >= 46


@pytest.mark.parametrize("args, words", [
    (["train", "--dataset", "names", "--model", "gpt"], ["--model gpt", "mlp"]),
    (["train", "--dataset", "shakespeare", "--epochs", "3"], ["--epochs", "--steps"]),
    (["train", "--dataset", "names", "--optimizer", "adam"], ["--optimizer"]),
])
def test_flags_that_do_not_apply_are_usage_errors(args, words, capsys):
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and all(w in err for w in words)


def test_sample_from_a_folder_without_a_run_is_a_usage_error(tmp_path, capsys):
    assert cli.main(["sample", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "config.json" in err and len(err.strip().splitlines()) == 1
