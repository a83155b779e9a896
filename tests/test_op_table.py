"""minidl/op_table.py, the one table of differentiable ops shared by `minidl gradcheck` and the tests.

The rows the hypothesis suites draw inputs for (tests/op_cases.py) are checked there; here every row's
fixed example (what `minidl gradcheck` runs) passes float64 gradcheck and matches PyTorch, forward and
backward, and the CLI and tests/op_cases.py read the same rows.
"""

import numpy as np
import pytest

import minidl as mdl
from minidl.cli.gradcheck import gradcheck_cases
from minidl.op_table import OPS
from op_cases import OPS as DRAWN
from op_cases import STRATEGIES

WITH_EXAMPLE = [case for case in OPS if case.example is not None]


def example_tensors(case, device, seed=0):
    arrays, kwargs = case.example(np.random.default_rng(seed))
    return arrays, [mdl.tensor(a, dtype=mdl.float64, device=device, requires_grad=True) for a in arrays], kwargs


def test_names_are_unique_and_every_strategy_has_a_row():
    names = [case.name for case in OPS]
    assert len(set(names)) == len(names)
    assert set(STRATEGIES) <= set(names), set(STRATEGIES) - set(names)
    assert [op.name for op in DRAWN] == [name for name in names if name in STRATEGIES]


def test_every_row_is_checked_somewhere():
    """A row has a strategy (the hypothesis suites) or an example (here and `minidl gradcheck`), or both."""
    unchecked = [case.name for case in OPS if case.example is None and case.name not in STRATEGIES]
    assert not unchecked


def test_cli_gradcheck_runs_every_example():
    assert [name for name, _, _ in gradcheck_cases()] == [case.name for case in WITH_EXAMPLE]


@pytest.mark.parametrize("case", WITH_EXAMPLE, ids=str)
def test_example_passes_gradcheck(case, device):
    _, inputs, kwargs = example_tensors(case, device)
    assert mdl.gradcheck(lambda *xs: case.mdl(*xs, **kwargs), inputs, eps=case.eps)


@pytest.mark.parametrize("case", [c for c in WITH_EXAMPLE if c.torch is not None], ids=str)
def test_example_matches_pytorch(case, torch):
    arrays, inputs, kwargs = example_tensors(case, "cpu")
    out = case.mdl(*inputs, **kwargs)
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    expected = case.torch(torch, *theirs, **kwargs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    weights = np.random.default_rng(1).standard_normal(out.shape)
    (out * mdl.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for i, (x, t) in enumerate(zip(inputs, theirs)):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=f"input {i}")
