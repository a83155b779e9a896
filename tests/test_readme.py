"""The README's Python snippets run as written, top to bottom in one namespace (a snippet a newcomer
copies must not fail on a missing import). A block that needs something this machine may lack says so
in its first line with a comment `# needs: gpu` or `# needs: data`, and is skipped here."""

import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_every_python_snippet_in_the_readme_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # snippets that write files write them here
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {}
    ran = 0
    for i, block in enumerate(python_blocks()):
        first = block.splitlines()[0] if block.strip() else ""
        if "# needs: gpu" in first or ("# needs: data" in first and not os.environ.get("MINIDL_DATA")):
            continue
        try:
            exec(compile(block, f"README.md python block {i + 1}", "exec"), namespace)
        except Exception as error:  # the message names the block
            pytest.fail(f"README.md python block {i + 1} fails: {type(error).__name__}: {error}\n{block}")
        ran += 1
    assert ran >= 3
