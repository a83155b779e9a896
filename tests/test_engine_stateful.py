"""A stateful test of the autograd engine: hypothesis builds graphs step by step and checks every gradient.

The machine keeps four float64 leaves of shapes that broadcast together, and a pool of tensors built from them
with ops of the op table (tests/op_cases.py): unary ops, broadcasting binary ops (a tensor may meet itself:
reuse), reductions with keepdims, softmax, reversed indexing; `detach()`, ops inside `no_grad()`,
`retain_grad()`, `backward` with and without `retain_graph`, repeated backward (gradients accumulate),
`zero_grad`, and in-place SGD updates of the leaves between steps.

Each pooled tensor carries its own recipe (op, parents, arguments), so it can be recomputed from the leaves in
plain NumPy: after every backward of `(t * w).sum()` (w fixed random weights), each leaf's `.grad` must equal
the sum over the backward calls since the last `zero_grad` of the float64 central differences of that recipe
(constants: `detach`ed and `no_grad` tensors stay fixed), and PyTorch's gradient where PyTorch is installed.
A backward through a graph that an earlier backward freed must raise GraphError, and change no gradient.

Steps: the "ci" profile runs >= 500 steps in all (`test_engine_state_machine`); `test_engine_state_machine_slow`
(marked slow) >= 10,000. Each prints its step count.
"""

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import minidl as mdl
from op_cases import OPS

try:
    import torch
except ImportError:  # the finite differences still check everything
    torch = None

SHAPES = [(2, 3), (3,), (1, 3), (2, 1)]  # every pair broadcasts
OP = {op.name: op for op in OPS}
UNARY = [OP[name] for name in ("neg", "add_scalar", "mul_scalar", "rsub_scalar", "tanh", "sigmoid", "pow_int")]
BINARY = [OP[name] for name in ("add", "sub", "mul")]
REDUCE = [OP[name] for name in ("sum", "mean", "logsumexp")]
ALONG = [OP[name] for name in ("softmax", "log_softmax")]
REVERSED = OP["getitem_reversed"]
EPS = 1e-6
LARGEST = 1e3  # tensors beyond it are not pooled (their finite differences lose their digits)
STEPS = {"ci": 0, "slow": 0}


class Node:
    """A pooled tensor and its recipe: `op(*parents, **kwargs)`; a leaf (index) or a constant (value)."""

    _ids = itertools.count()

    def __init__(self, tensor, op=None, parents=(), kwargs=None, leaf=None, constant=None, recorded=True):
        self.tensor, self.op, self.parents, self.kwargs = tensor, op, parents, kwargs or {}
        self.leaf, self.constant = leaf, constant
        self.id = next(Node._ids)
        # the leaves a gradient reaches, and the recorded graph nodes a backward from here runs through
        if leaf is not None:
            self.leaves, self.graph = {leaf}, set()
        elif constant is not None or not recorded:
            self.leaves, self.graph = set(), set()
        else:
            self.leaves = set().union(*(p.leaves for p in parents))
            self.graph = {self.id}.union(*(p.graph for p in parents))


def evaluate(node, leaves, module="numpy", memo=None):
    """The node's value from `leaves` (arrays or torch tensors), constants fixed."""
    memo = {} if memo is None else memo
    if node.id in memo:
        return memo[node.id]
    if node.leaf is not None:
        value = leaves[node.leaf]
    elif node.constant is not None:
        value = node.constant if module == "numpy" else torch.as_tensor(node.constant)
    else:
        args = [evaluate(p, leaves, module, memo) for p in node.parents]
        value = node.op.numpy(*args, **node.kwargs) if module == "numpy" else node.op.torch(torch, *args, **node.kwargs)
    memo[node.id] = value
    return value


def numeric_gradients(node, leaves, w):
    """d/d leaf of sum(node * w), every leaf, by float64 central differences."""
    grads = []
    for i, leaf in enumerate(leaves):
        g = np.zeros_like(leaf)
        for k in np.ndindex(leaf.shape):
            shifted = [a.copy() for a in leaves]
            shifted[i][k] = leaf[k] + EPS
            up = np.sum(evaluate(node, shifted) * w)
            shifted[i][k] = leaf[k] - EPS
            down = np.sum(evaluate(node, shifted) * w)
            g[k] = (up - down) / (2 * EPS)
        grads.append(g)
    return grads


def torch_gradients(node, leaves, w):
    ts = [torch.tensor(a, requires_grad=True) for a in leaves]
    (evaluate(node, ts, "torch") * torch.as_tensor(w)).sum().backward()
    return [None if t.grad is None else t.grad.numpy() for t in ts]


class Engine(RuleBasedStateMachine):
    profile = "ci"

    @initialize(data=st.data())
    def make_leaves(self, data):
        self.leaves = []
        self.pool = []
        for i, shape in enumerate(SHAPES):
            values = data.draw(st.lists(st.floats(-2, 2), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
            t = mdl.tensor(np.array(values, dtype=np.float64).reshape(shape), requires_grad=True)
            self.leaves.append(t)
            self.pool.append(Node(t, leaf=i))
        self.expected = [None] * len(SHAPES)  # the gradient each leaf must hold
        self.freed = set()                    # graph nodes whose saved arrays a backward released

    def _pick(self, data):
        """A pooled tensor, most often one of the latest (so graphs grow deep), else any (so they branch)."""
        return data.draw(st.sampled_from(self.pool[-2:]) | st.sampled_from(self.pool))

    def _step(self):
        STEPS[self.profile] += 1

    def _add(self, node):
        if np.all(np.isfinite(node.tensor.numpy())) and np.abs(node.tensor.numpy()).max(initial=0) < LARGEST:
            self.pool.append(node)

    def _apply(self, op, parents, kwargs, grad=True):
        with mdl.no_grad() if not grad else mdl.enable_grad():
            out = op.mdl(*[p.tensor for p in parents], **kwargs)
        recorded = grad and any(p.tensor.requires_grad for p in parents)
        assert out.requires_grad == recorded
        return Node(out, op, tuple(parents), kwargs, recorded=recorded)

    @rule(data=st.data(), op=st.sampled_from(UNARY))
    def unary(self, data, op):
        self._step()
        self._add(self._apply(op, [self._pick(data)], {}))

    @rule(data=st.data(), op=st.sampled_from(BINARY), same=st.booleans())
    def binary(self, data, op, same):
        self._step()
        a = self._pick(data)
        b = a if same else self._pick(data)  # same: one tensor in two places
        self._add(self._apply(op, [a, b], {}))

    @rule(data=st.data(), op=st.sampled_from(REDUCE), axis=st.sampled_from([0, -1]))
    def reduce(self, data, op, axis):
        self._step()
        self._add(self._apply(op, [self._pick(data)], {"axis": axis, "keepdims": True}))

    @rule(data=st.data(), op=st.sampled_from(ALONG))
    def along_last_axis(self, data, op):
        self._step()
        self._add(self._apply(op, [self._pick(data)], {"axis": -1}))

    @rule(data=st.data())
    def reverse(self, data):
        self._step()
        self._add(self._apply(REVERSED, [self._pick(data)], {"index": slice(None, None, -1)}))

    @rule(data=st.data())
    def detach(self, data):
        self._step()
        node = self._pick(data)
        t = node.tensor.detach()
        assert not t.requires_grad and t.grad_fn is None
        self._add(Node(t, constant=node.tensor.numpy()))

    @rule(data=st.data(), op=st.sampled_from(UNARY + ALONG))
    def inside_no_grad(self, data, op):
        self._step()
        kwargs = {"axis": -1} if op in ALONG else {}
        node = self._apply(op, [self._pick(data)], kwargs, grad=False)
        assert not node.tensor.requires_grad and node.tensor.grad_fn is None
        self._add(Node(node.tensor, constant=node.tensor.numpy()))

    @rule(data=st.data())
    def retain_grad(self, data):
        self._step()
        node = self._pick(data)
        if node.tensor.requires_grad:
            node.tensor.retain_grad()

    @rule(data=st.data(), retain_graph=st.booleans())
    def backward(self, data, retain_graph):
        self._backward(self._pick(data), retain_graph)

    @rule(retain_graph=st.booleans())
    def backward_latest(self, retain_graph):
        self._backward(self.pool[-1], retain_graph)

    def _backward(self, node, retain_graph):
        self._step()
        t = node.tensor
        w = np.linspace(-1.0, 1.5, t.size).reshape(t.shape)  # fixed weights: every element counts differently
        before = [None if leaf.grad is None else leaf.grad.numpy() for leaf in self.leaves]
        if not t.requires_grad:
            with pytest.raises(mdl.GraphError, match="does not require grad"):
                (t * w).sum().backward()
            return
        if node.graph & self.freed:
            with pytest.raises(mdl.GraphError, match="second time"):
                (t * w).sum().backward(retain_graph=retain_graph)
            for leaf, b in zip(self.leaves, before):  # the refused backward changed nothing
                assert (leaf.grad is None) == (b is None)
                if b is not None:
                    np.testing.assert_array_equal(leaf.grad.numpy(), b)
            return
        checks_own_grad = t.grad_fn is not None and t._retains_grad
        if checks_own_grad:
            t.grad = None
        (t * w).sum().backward(retain_graph=retain_graph)
        if not retain_graph:
            self.freed |= node.graph
        if checks_own_grad:
            np.testing.assert_allclose(t.grad.numpy(), w, rtol=0, atol=0)
        values = [leaf.numpy() for leaf in self.leaves]
        numeric = numeric_gradients(node, values, w)
        reference = torch_gradients(node, values, w) if torch is not None else [None] * len(values)
        for i in node.leaves:
            if torch is not None:
                np.testing.assert_allclose(numeric[i], reference[i], rtol=1e-5, atol=1e-6)
            self.expected[i] = numeric[i] if self.expected[i] is None else self.expected[i] + numeric[i]

    @rule()
    def zero_grad(self):
        self._step()
        for leaf in self.leaves:
            leaf.grad = None
        self.expected = [None] * len(self.leaves)

    @precondition(lambda self: len(self.pool) > 12)  # now and then: let graphs grow deep first
    @rule(lr=st.sampled_from([0.01, 0.1]))
    def sgd_step(self, lr):
        """p -= lr * p.grad in place, as an optimizer does; the graphs built before are dropped (as a training
        loop rebuilds them), the leaves and their accumulated gradients stay."""
        self._step()
        with mdl.no_grad():
            for leaf in self.leaves:
                if leaf.grad is not None:
                    leaf.data -= lr * leaf.grad.data
        self.pool = [node for node in self.pool if node.leaf is not None]

    @invariant()
    def gradients_match(self):
        for leaf, expected in zip(getattr(self, "leaves", ()), getattr(self, "expected", ())):
            if expected is None:
                assert leaf.grad is None, "a gradient appeared where no backward reached"
            else:
                assert leaf.grad is not None and leaf.grad.dtype == np.float64
                np.testing.assert_allclose(leaf.grad.numpy(), expected, rtol=1e-5, atol=1e-6)


_SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck))


def test_engine_state_machine():
    """The "ci" run: 60 graphs of up to 25 steps (>= 500 steps in all)."""
    Engine.profile = "ci"
    STEPS["ci"] = 0
    Engine.TestCase.settings = settings(max_examples=60, stateful_step_count=25, derandomize=True, **_SETTINGS)
    Engine.TestCase().runTest()
    print(f"engine state machine: {STEPS['ci']} steps")
    assert STEPS["ci"] >= 500


@pytest.mark.slow
def test_engine_state_machine_slow():
    """>= 10,000 steps (python -m pytest -m slow tests/test_engine_stateful.py -s)."""
    Engine.profile = "slow"
    STEPS["slow"] = 0
    Engine.TestCase.settings = settings(max_examples=500, stateful_step_count=40, **_SETTINGS)
    Engine.TestCase().runTest()
    print(f"engine state machine (slow): {STEPS['slow']} steps")
    assert STEPS["slow"] >= 10_000
