"""Every example runs to completion with --quick (the README's first command runs one of them)."""

import re
import runpy
import sys
from pathlib import Path

import pytest

from minidl.data import DatasetNotFoundError

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# An example that reads a downloaded data set (not a bundled one) is marked needs_data: it skips without MINIDL_DATA.
DOWNLOADED = re.compile(r'load_(mnist|fashion_mnist|tiny_shakespeare|names)\b|prepare_data\(\s*"(mnist|fashion-mnist|'
                        r'tinyshakespeare|tiny-shakespeare|shakespeare|names)"')


def _script(path):
    return pytest.param(path.name, marks=[pytest.mark.needs_data] if DOWNLOADED.search(path.read_text()) else [])


@pytest.mark.parametrize("script", [_script(p) for p in sorted(EXAMPLES.glob("*.py"))])
def test_example_runs_quick(script, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [script, "--quick", "--out", str(tmp_path)])
    try:
        runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    except DatasetNotFoundError as error:  # the real data sets are not downloaded in tests
        pytest.skip(f"{script} needs data that MINIDL_DATA does not hold: {str(error).splitlines()[0]}")
    out = capsys.readouterr().out
    assert "test" in out  # each example ends by printing its test result
    assert any(tmp_path.iterdir())
