"""The one idiom for summing a binary op's gradients back to its inputs' shapes (ops/broadcast.py):
forward saves `same_layout(a, b)`, backward returns `unbroadcast_pair(ga, gb, layout, needs_grad)`."""

import ast
import inspect

import numpy as np
import pytest

import minidl as mdl
from minidl.ops import elementwise


def binary_function_classes():
    """Every two-input Function in ops/elementwise.py (its forward takes (self, a, b))."""
    tree = ast.parse(inspect.getsource(elementwise))
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "forward" and len(item.args.args) == 3:
                    yield node


def test_every_binary_elementwise_op_uses_unbroadcast_pair():
    classes = list(binary_function_classes())
    assert {c.name for c in classes} >= {"Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum", "Where"}
    for cls in classes:
        source = ast.unparse(cls)
        assert "same_layout(" in source and "unbroadcast_pair(" in source, cls.name
        assert "unbroadcast(" not in source, f"{cls.name} sums its gradient back another way"


@pytest.mark.parametrize("name", ["div", "pow", "maximum", "minimum"])
def test_broadcast_gradients_match_torch(name, torch, device):
    rng = np.random.default_rng(0)
    a_np, b_np = rng.uniform(0.5, 2.0, (2, 3, 4)), rng.uniform(0.5, 2.0, (3, 1))
    a = mdl.tensor(a_np, requires_grad=True, device=device)
    b = mdl.tensor(b_np, requires_grad=True, device=device)
    getattr(elementwise, name)(a, b).sum().backward()
    ta, tb = torch.tensor(a_np, requires_grad=True), torch.tensor(b_np, requires_grad=True)
    getattr(torch, name)(ta, tb).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-12)


def test_where_condition_broadcasting_beyond_equal_operands(torch, device):
    """a and b share shape (3,) and dtype, but cond (2, 3) makes y (2, 3): the gradients are summed back."""
    rng = np.random.default_rng(1)
    a_np, b_np, cond = rng.normal(size=3), rng.normal(size=3), np.array([[True, False, True], [False, False, True]])
    a = mdl.tensor(a_np, requires_grad=True, device=device)
    b = mdl.tensor(b_np, requires_grad=True, device=device)
    weights = mdl.tensor(np.arange(6.0).reshape(2, 3), device=device)
    (mdl.where(mdl.tensor(cond, device=device), a, b) * weights).sum().backward()
    ta, tb = torch.tensor(a_np, requires_grad=True), torch.tensor(b_np, requires_grad=True)
    (torch.where(torch.tensor(cond), ta, tb) * torch.arange(6.0, dtype=torch.float64).reshape(2, 3)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-12)
