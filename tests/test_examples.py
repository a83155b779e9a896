"""Every example runs to completion with --quick (the README's first command runs one of them)."""

import runpy
import sys
from pathlib import Path

import pytest

from minidl.data import DatasetNotFoundError

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_example_runs_quick(script, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [script, "--quick", "--out", str(tmp_path)])
    try:
        runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    except DatasetNotFoundError as error:  # the real data sets are not downloaded in tests
        pytest.skip(f"{script} needs data that MINIDL_DATA does not hold: {str(error).splitlines()[0]}")
    out = capsys.readouterr().out
    assert "test" in out  # each example ends by printing its test result
    assert any(tmp_path.iterdir())
