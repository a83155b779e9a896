"""The layering of ARCHITECTURE.md: every import points down; only the backend imports CuPy."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "minidl"

# Lowest first. Modules in one layer may import each other.
LAYERS = [
    {"errors", "backend"},
    {"autograd", "tensor", "creation", "random", "cuda", "anomaly"},
    {"ops"},
    {"gradcheck", "testing", "serialization"},
    {"nn"},
    {"optim"},
    {"data"},
    {"train", "metrics"},
    {"viz", "cli", "zoo", "saved_run", "benchmark", "parity", "__main__"},
]
# Tensor's operator methods are thin calls into ops/ (ARCHITECTURE.md: "Operators are explicit methods
# on Tensor that call ops/"): the one sanctioned upward edge.
ALLOWED_UP = {("tensor", "ops"), ("train", "viz")}  # train->viz: History.plot is a thin call to viz.plot_history


def layer_of(part):
    for level, names in enumerate(LAYERS):
        if part in names:
            return level
    raise AssertionError(f"minidl.{part} is in no layer of tests/test_layering.py: add it")


def imports_of(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level:
                raise AssertionError(f"{path}: relative import; use absolute `from minidl...` imports")
            if node.module == "minidl":
                yield from (f"minidl.{alias.name}" for alias in node.names)
            else:
                yield node.module


def top_part(path):
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def package_files():
    return [p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts != ("__init__.py",)]


def test_every_import_points_down():
    violations = []
    for path in package_files():
        here = top_part(path)
        for name in imports_of(path):
            if not name.startswith("minidl."):
                continue
            there = name.split(".")[1]
            if there.startswith("__"):  # package metadata such as minidl.__version__
                continue
            if layer_of(there) > layer_of(here) and (here, there) not in ALLOWED_UP:
                violations.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not violations, "imports that point up the layers:\n" + "\n".join(violations)


def test_only_the_backend_imports_cupy():
    offenders = [str(path.relative_to(PACKAGE)) for path in package_files()
                 if top_part(path) != "backend"
                 and any(name == "cupy" or name.startswith(("cupy.", "cupyx")) for name in imports_of(path))]
    assert not offenders, f"modules outside backend/ import CuPy: {offenders}"


def test_importing_minidl_does_not_import_cupy():
    import subprocess
    import sys

    code = "import sys, minidl, minidl.nn; print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
