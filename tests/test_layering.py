"""The layering of docs/ARCHITECTURE.md: every import points down; only the backend imports CuPy; the
core has one late import.

The core's dependency order is backend -> autograd (Function, the engine) -> tensor -> creation -> ops:
each imports only the ones before it, at the top of the file. The one exception is documented in
tensor.py and ARCHITECTURE.md: Tensor's operators call into ops, so tensor.py imports ops at its end.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "minidl"

# Lowest first. Modules in one layer may import each other.
LAYERS = [
    {"errors", "display", "habits"},  # display: a result shown once; habits: hints for PyTorch spellings
    {"backend", "anomaly"},
    {"autograd", "arrays"},   # arrays: data -> backend array (dtypes, devices), what Tensor(data) needs
    {"tensor"},
    {"creation", "random", "cuda", "arguments"},
    {"ops"},
    {"gradcheck", "testing", "serialization"},
    {"nn"},
    {"op_table"},             # every differentiable op with its references and an example (CLI and tests)
    {"optim"},
    {"data"},
    {"train", "metrics"},
    {"viz", "cli", "zoo", "saved_run", "benchmark", "step_profile", "parity", "__main__"},
]
# Tensor's operator methods are thin calls into ops/ (ARCHITECTURE.md: "Operators are explicit methods
# on Tensor that call ops/"): the one sanctioned upward edge of the core.
ALLOWED_UP = {("tensor", "ops"), ("train", "viz")}  # train->viz: History.plot is a thin call to viz.plot_history

# Imports of minidl modules that are not at the top of their file (inside a function, or below the
# first definition). The core allows exactly one, listed here; outside the core, a few import an upper
# layer or a heavy optional one only when called. A new late import fails the test below: restructure
# instead (move the shared code down a layer), or, if it must stay, add it here with its reason.
ALLOWED_LATE_IMPORTS = {
    ("tensor.py", "minidl.ops"),  # THE one of the core: Tensor's operators call ops, which build on Tensor
    # The fast-path table (ops/fast/__init__.py: fast_path_table) imports the fast modules on first use: they
    # build on the reference ops, whose public functions ask the table. A second late import in the core, to
    # be cut (e.g. the table in ops/fast/table.py, imported at the end of ops/__init__.py, filling the slot
    # `choose` reads, as tensor.py fills autograd's) or documented in docs/ARCHITECTURE.md.
    ("ops/fast/__init__.py", "minidl.ops.fast.*"),
    ("train/history.py", "minidl.viz.plots"),  # History.plot -> viz (upper layer), see ALLOWED_UP
    ("viz/plots.py", "minidl.train.history"),  # plot_history(dict) builds a History: viz/ <-> train/ would cycle
}
CORE = {"backend", "autograd", "arrays", "tensor", "creation", "ops", "anomaly", "errors"}
# The command line imports each command's modules when the command runs, so `minidl --help` starts fast;
# nothing imports the CLI, so its lazy imports cannot hide a cycle.
LAZY_BY_DESIGN = {"cli", "__main__"}


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


def late_minidl_imports(path):
    """(line, module) for each import of a minidl module that is not among the file's top imports: inside a
    function or class, or at module level below the first definition (the 'import at the bottom' idiom)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    top = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            break
        top.add(id(node))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top:
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [f"minidl.{alias.name}" if node.module == "minidl" else node.module for alias in node.names])
            for name in names:
                if name.startswith("minidl.") and not name.startswith("minidl.__"):
                    yield node.lineno, name


def allowed_late(rel, name):
    return any(rel == file and (name == module or module.endswith(".*") and name.startswith(module[:-1]))
               for file, module in ALLOWED_LATE_IMPORTS)


def test_no_late_imports_beyond_the_allowed():
    found = []
    for path in sorted(package_files()) + [PACKAGE / "__init__.py"]:
        if top_part(path) in LAZY_BY_DESIGN:
            continue
        rel = path.relative_to(PACKAGE).as_posix()
        found += [(rel, name, line) for line, name in late_minidl_imports(path) if not allowed_late(rel, name)]
    assert not found, ("late imports (inside a function or below the first definition); move them to the top "
                       "or restructure (docs/ARCHITECTURE.md, 'Layers'):\n"
                       + "\n".join(f"  minidl/{rel}:{line} imports {name}" for rel, name, line in found))


def test_the_core_allows_no_new_late_import():
    """tensor.py's `ops` is the one late import of the core's design; ops/fast's table the one pending."""
    core = {(rel, name) for rel, name in ALLOWED_LATE_IMPORTS if Path(rel).parts[0].removesuffix(".py") in CORE}
    assert core == {("tensor.py", "minidl.ops"), ("ops/fast/__init__.py", "minidl.ops.fast.*")}
    late = list(late_minidl_imports(PACKAGE / "tensor.py"))
    assert [name for _, name in late] == ["minidl.ops"], late


def test_architecture_document_is_in_the_repository():
    doc = PACKAGE.parent / "docs" / "ARCHITECTURE.md"
    assert doc.is_file(), "docs/ARCHITECTURE.md, the design this test enforces, is missing"
    text = doc.read_text()
    for heading in ("Layers", "How to add an op"):
        assert heading in text


def test_backend_subpackage_is_not_shadowed():
    """`mdl.get_backend` is the function; `mdl.backend` stays the subpackage (callable, deprecated)."""
    import subprocess
    import sys

    code = ("import warnings, numpy, minidl as mdl; import minidl.backend.numpy_backend as nb; "
            "assert mdl.get_backend('cpu').xp is numpy; assert isinstance(mdl.get_backend('cpu'), nb.NumpyBackend); "
            "import minidl.backend; assert mdl.backend is minidl.backend; "
            "warnings.simplefilter('error');\n"
            "try:\n    mdl.backend('cpu')\nexcept DeprecationWarning:\n    print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
