"""Every autograd Function in minidl opens its docstring with its formula line.

The rule, checked on the FIRST line of the docstring of every subclass of minidl.autograd.Function
defined anywhere in the package (every module is imported, then `Function.__subclasses__()` is walked
recursively, so ops added in new files are checked too):

    1. it states the forward, with "=":           y = exp(x)
    2. and the backward, with "dL/d" and "=":     dL/dx = dL/dy * y
       one gradient per input where there are several (dL/da = …,  dL/db = …); a loss may name its
       output loss (loss = …;  dL/dx = …). Details (shapes, what is saved) go on the lines after.
    3. an op without a gradient says so instead, with the words "no gradient":   y = argmax(x);  no gradient

Classes whose name starts with "_" are shared bases, not ops, and are exempt. `trace` prints this line
for every node of a graph (minidl.viz), so it is what a learner reads for each step of backward.
"""

import importlib
import pkgutil

import pytest

import minidl
from minidl.autograd import Function


def all_function_classes():
    for module in pkgutil.walk_packages(minidl.__path__, "minidl."):
        if module.name.rsplit(".", 1)[-1] == "__main__":  # running it is the command line
            continue
        importlib.import_module(module.name)
    found, stack = {}, [Function]
    while stack:
        for cls in stack.pop().__subclasses__():
            if cls.__module__.startswith("minidl."):
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
            stack.append(cls)
    return found


def formula_problem(cls):
    """'' when the first docstring line follows the rule (see the module docstring), else what is wrong."""
    doc = cls.__dict__.get("__doc__") or ""
    first = doc.strip().split("\n", 1)[0]
    if not first:
        return "no docstring of its own"
    if "=" not in first:
        return f"its first docstring line has no formula (no '='): {first!r}"
    if "dL/d" not in first and "no gradient" not in first.lower():
        return f"its first docstring line has no backward ('dL/d…' or 'no gradient'): {first!r}"
    return ""


CLASSES = all_function_classes()


def test_the_walk_finds_the_ops_in_every_family():
    names = {name.rsplit(".", 1)[-1] for name in CLASSES}
    assert {"Exp", "MatMul", "Conv2d", "MaxPool2d", "CrossEntropy", "BatchNormTrain", "Reshape", "Dropout",
            "Conv2dRowBlocked", "Conv2dReLUMaxPool2d"} <= names


@pytest.mark.parametrize("name", sorted(name for name, cls in CLASSES.items() if not cls.__name__.startswith("_")))
def test_function_docstring_opens_with_its_formula_line(name):
    problem = formula_problem(CLASSES[name])
    assert not problem, f"{name}: {problem}"


def test_the_rule_rejects_what_it_should():
    class NoFormula(Function):
        """Adds one."""

    class NoBackward(Function):
        """y = x + 1."""

    class Fine(Function):
        """y = x + 1;   dL/dx = dL/dy"""

    class NoGradient(Function):
        """y = argmax(x);   no gradient"""

    assert formula_problem(NoFormula) and formula_problem(NoBackward)
    assert not formula_problem(Fine) and not formula_problem(NoGradient)
