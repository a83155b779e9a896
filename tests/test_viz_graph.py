"""Graph drawing and the backward trace (minidl.viz)."""

import re

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl.viz import build_graph, draw_graph, trace


def leaves(*values):
    return [mdl.tensor(v, dtype=mdl.float64, requires_grad=True) for v in values]


def test_dot_of_a_small_expression_has_exactly_the_expected_nodes_and_edges():
    a, b, c = leaves([1.0, 2.0], [3.0, 4.0], [5.0, 6.0])
    a.name, b.name, c.name = "a", "b", "c"
    dot = draw_graph(((a * b) + c).sum())
    labels = dict(re.findall(r'^\s+(\w+) \[.*label="([^"]*)"\];$', dot, flags=re.M))
    names = {key: label.split("\\n")[0] for key, label in labels.items()}
    assert sorted(names.values()) == ["Add", "Mul", "Sum", "a", "b", "c", "output"]
    edges = {(names[s], names[t]) for s, t in re.findall(r"^\s+(\w+) -> (\w+)", dot, flags=re.M)}
    assert edges == {("a", "Mul"), ("b", "Mul"), ("Mul", "Add"), ("c", "Add"), ("Add", "Sum"), ("Sum", "output")}
    assert "Mul\\n(2,) float64" in dot


def test_parameters_are_labelled_by_module_names():
    model = nn.Sequential(nn.Linear(3, 2))
    dot = draw_graph(model(mdl.ones(4, 3)).sum(), model=model)
    assert '"0.weight\\n(2, 3) float32' in dot and '"0.bias\\n(2,) float32' in dot


def test_with_gradients_labels_edges_and_leaves_with_gradient_norms():
    a, b = leaves([3.0, 4.0], [1.0, 1.0])
    graph = build_graph((a * b).sum(), with_gradients=True)
    edge_labels = sorted(label for _, _, label in graph.edges if label)
    assert edge_labels == ["1.41", "1.41", "5"]  # ‖(1, 1)‖ = √2 from Sum to Mul, ‖b‖ = √2 to a, ‖a‖ = 5 to b
    np.testing.assert_allclose(a.grad.numpy(), [1.0, 1.0])


def test_a_freed_graph_gives_a_clear_error():
    (a,) = leaves([1.0])
    y = (a * 2).sum()
    y.backward()
    with pytest.raises(ValueError, match="freed"):
        draw_graph(y)


def test_a_lenet_graph_renders_to_png(tmp_path):
    lenet = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84),
                          nn.ReLU(), nn.Linear(84, 10))
    loss = nn.CrossEntropyLoss()(lenet(mdl.randn(2, 1, 28, 28)), mdl.tensor([3, 7]))
    path = draw_graph(loss, tmp_path / "lenet.png", model=lenet) and tmp_path / "lenet.png"
    assert path.stat().st_size > 1000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_trace_of_a_two_layer_mlp_runs_in_reverse_topological_order_and_matches_grads():
    mdl.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)).astype(mdl.float64)
    x = mdl.randn(5, 4, dtype=mdl.float64)
    records = trace((model(x) ** 2).mean(), model=model, show=False)
    ops = [r.op for r in records]
    # every node runs after all the nodes that consume its output
    # (F.linear is one fused node, Linear: x @ Wᵀ + b)
    assert ops == ["Mean", "Pow", "Linear", "ReLU", "Linear"]
    passed_on = {}
    for r in records:
        for name, norm in zip(r.input_names, r.grad_input_norms):
            if name:
                passed_on[name] = norm
    for name, p in model.named_parameters():
        assert passed_on[name] == pytest.approx(np.linalg.norm(p.grad.numpy()), rel=1e-12)
    assert all("dL/d" in r.formula for r in records)


def test_trace_prints_a_table(capsys):
    (a,) = leaves([1.0, 2.0])
    trace(a.exp().sum())
    out = capsys.readouterr().out
    assert "Exp" in out and "dL/dx = dL/dy * y" in out
