"""The `minidl` command: help everywhere, one-line errors with exit status 2, a small training run that
writes every report file, `info` and `gradcheck`."""

import importlib.metadata
import os
import subprocess
import sys

import pytest

from minidl import cli

COMMANDS = ("train", "predict", "bench", "parity", "gradcheck", "info")


def run_minidl(*args, timeout=120):
    """`python -m minidl ARGS` in a fresh process (what the console script runs)."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "minidl", *args], capture_output=True, text=True, timeout=timeout,
                          env=env)


def test_console_script_is_declared():
    try:
        scripts = importlib.metadata.entry_points(group="console_scripts")
    except Exception:  # pragma: no cover - metadata unavailable
        pytest.skip("no installed metadata")
    found = [ep for ep in scripts if ep.name == "minidl"]
    if not found:
        pytest.skip("minidl is not installed with its metadata (pip install .)")
    assert found[0].value == "minidl.cli:main"


def test_top_level_help_lists_every_command():
    result = run_minidl("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: minidl " + command in out


def test_train_help_documents_the_flags_and_defaults(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    out = capsys.readouterr().out
    for flag in ("--model", "--dataset", "--epochs", "--batch-size", "--optimizer", "--lr", "--momentum",
                 "--weight-decay", "--dropout", "--patience", "--kfold", "--device", "--seed", "--out"):
        assert flag in out
    assert "digits: lenet" in " ".join(out.split())  # the per-data-set defaults


@pytest.mark.parametrize("args, words", [
    (["train", "--epochs", "zero"], "--epochs"),                             # refused by the parser
    (["train", "--dataset", "breast-cancer", "--model", "lenet"], "lenet"),  # refused after parsing
])
def test_bad_arguments_give_one_line_and_exit_2(args, words):
    result = run_minidl(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("minidl") and "error:" in lines[0] and words in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [
    ["train", "--lr", "-1"], ["train", "--kfold", "1"], ["train", "--dropout", "1.5"], ["train", "--batch-size", "0"],
    ["train", "--optimizer", "adam", "--momentum", "0.9"], ["train", "--device", "tpu"], [],
    ["train", "--dataset", "cifar"], ["frobnicate"],
])
def test_more_bad_arguments_exit_2_with_one_line(args, capsys):
    try:
        status = cli.main(args)
    except SystemExit as exit_info:
        status = exit_info.code
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error:" in err[0], err


def test_cuda_without_a_gpu_is_a_usage_error(capsys):
    import minidl as mdl

    if mdl.cuda.is_available():
        pytest.skip("a GPU is available here")
    assert cli.main(["train", "--device", "cuda", "--quick", "--out", "unused"]) == 2
    assert "no working GPU" in capsys.readouterr().err


def test_train_quick_writes_the_report(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "test_accuracy" in printed
    for name in ("model.npz", "history.csv", "curves.png", "confusion_matrix.png", "report.md"):
        assert (out / name).stat().st_size > 0, name
    report = (out / "report.md").read_text()
    assert "minidl train --quick" in report and "| train |" in report and "Total params" in report
    assert "| accuracy |" in report and "(curves.png)" in report and "(confusion_matrix.png)" in report
    header = (out / "history.csv").read_text().splitlines()[0]
    assert header.startswith("epoch,loss,accuracy,val_loss,val_accuracy")


def test_train_binary_writes_a_roc_curve_and_runs_kfold(tmp_path, capsys):
    out = tmp_path / "bc"
    status = cli.main(["train", "--dataset", "breast-cancer", "--epochs", "2", "--kfold", "2", "--out", str(out)])
    assert status == 0
    assert (out / "roc.png").stat().st_size > 0
    report = (out / "report.md").read_text()
    assert "2-fold cross-validation" in report and "roc_auc" in report and "(roc.png)" in report
    import minidl as mdl
    from minidl.zoo import build_model, prepare_data

    model = build_model("logreg", prepare_data("breast-cancer"))
    model.load_state_dict(mdl.load(out / "model.npz"))  # the saved model loads back


def test_info_runs():
    result = run_minidl("info")
    assert result.returncode == 0, result.stderr
    for words in ("minidl", "numpy", "cupy", "gpu works", "pytorch"):
        assert words in result.stdout


def test_gradcheck_passes_every_op(capsys):
    assert cli.main(["gradcheck"]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out
    for op in ("matmul", "conv2d", "max_pool2d", "batch_norm", "cross_entropy", "bce_with_logits"):
        assert op in out


def test_gradcheck_reports_a_wrong_backward(monkeypatch, capsys):
    import minidl as mdl

    def cases():
        x = mdl.tensor([[0.5, -1.0]], dtype=mdl.float64, requires_grad=True)
        wrong = mdl.Function  # a deliberately wrong op: y = 2x with dy/dx claimed to be 3

        class Double(wrong):
            def forward(self, a):
                return 2 * a

            def backward(self, gy):
                return 3 * gy

        return [("double (wrong)", lambda a: Double()(a), (x,))]

    monkeypatch.setattr(cli.gradcheck, "gradcheck_cases", cases)  # minidl/cli/gradcheck.py
    assert cli.main(["gradcheck"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_parity_on_the_stand_in_device_passes(capsys):
    assert cli.main(["parity", "--devices", "cpu,strict", "--batch-size", "4"]) == 0
    assert "parity OK" in capsys.readouterr().out


def test_parity_reports_a_differing_op_with_exit_status_1(monkeypatch, capsys):
    import minidl.ops.activation as activation

    real_forward = activation.ReLU.forward

    def skewed_forward(self, x):  # wrong by 1e-3 on the stand-in device only
        y = real_forward(self, x)
        return y + 1e-3 if self.backend.device == "strict" else y

    monkeypatch.setattr(activation.ReLU, "forward", skewed_forward)
    assert cli.main(["parity", "--model", "mlp", "--devices", "cpu,strict", "--batch-size", "4"]) == 1
    assert "first op that differs" in capsys.readouterr().out


def test_parity_with_cuda_but_no_gpu_is_a_usage_error(capsys):
    if __import__("minidl").cuda.is_available():
        pytest.skip("a GPU is available here")
    assert cli.main(["parity"]) == 2
    assert "cpu,strict" in capsys.readouterr().err
