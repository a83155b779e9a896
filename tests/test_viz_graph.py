"""Graph drawing and the backward trace (minidl.viz)."""

import re

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl.viz import build_graph, draw_graph, trace
from minidl.viz.trace import format_trace


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
    with pytest.raises(mdl.GraphError, match="freed by a backward\\(\\) without retain_graph=True"):
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


# -- after a backward: read the gradients it computed, never a second backward ---------------------------------
def small_model_and_loss():
    mdl.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2)).astype(mdl.float64)
    x, y = mdl.randn(5, 4, dtype=mdl.float64), mdl.tensor([0, 1, 1, 0, 1])
    return model, nn.CrossEntropyLoss()(model(x), y)


def single_backward_grads():
    model, loss = small_model_and_loss()
    loss.backward()
    return {name: p.grad.numpy().copy() for name, p in model.named_parameters()}


def test_trace_after_a_retained_backward_reads_its_gradients_and_leaves_grad_unchanged(capsys):
    expected = single_backward_grads()
    model, loss = small_model_and_loss()
    loss.backward(retain_graph=True)
    records = trace(loss, model=model, show=False)
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.grad.numpy(), expected[name])  # not doubled: no second backward
    passed_on = {n: norm for r in records for n, norm in zip(r.input_names, r.grad_input_norms) if n}
    for name, grad in expected.items():
        assert passed_on[name] == pytest.approx(np.linalg.norm(grad), rel=1e-12)
    assert [r.op for r in records] == ["CrossEntropy", "Linear", "Tanh", "Linear"]
    assert capsys.readouterr().out == ""


def test_draw_graph_with_gradients_after_a_retained_backward_does_not_accumulate():
    expected = single_backward_grads()
    model, loss = small_model_and_loss()
    loss.backward(retain_graph=True)
    graph = build_graph(loss, model=model, with_gradients=True)
    build_graph(loss, model=model, with_gradients=True)  # twice: still nothing accumulated
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.grad.numpy(), expected[name])
    labels = {label for _, _, label in graph.edges if label}
    assert f"{np.linalg.norm(expected['2.weight']):.3g}" in labels


def test_trace_before_any_backward_says_it_runs_backward_and_runs_it_once(capsys):
    expected = single_backward_grads()
    model, loss = small_model_and_loss()
    trace(loss, model=model)
    first_line = capsys.readouterr().out.splitlines()[0]
    assert "runs it now, once" in first_line and "do not call backward() as well" in first_line
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.grad.numpy(), expected[name])


def test_draw_graph_before_any_backward_says_it_runs_backward_and_runs_it_once(capsys):
    expected = single_backward_grads()
    model, loss = small_model_and_loss()
    draw_graph(loss, model=model, with_gradients=True)
    assert "draw_graph: no backward has run on this graph yet" in capsys.readouterr().out
    draw_graph(loss, model=model, with_gradients=True)  # the second call reads the kept gradients
    assert capsys.readouterr().out == ""
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.grad.numpy(), expected[name])


def test_trace_after_a_plain_backward_explains_what_happened_and_what_to_do():
    model, loss = small_model_and_loss()
    loss.backward()
    with pytest.raises(mdl.GraphError) as info:
        trace(loss, show=False)
    message = str(info.value)
    assert "second time" not in message
    assert "freed" in message and "retain_graph=True" in message and "runs backward itself" in message


def test_every_trace_row_shows_the_whole_first_docstring_line_of_its_function():
    model, loss = small_model_and_loss()
    records = trace(loss, show=False)
    from minidl.ops.loss import CrossEntropy

    first_line = CrossEntropy.__doc__.strip().splitlines()[0].strip()
    assert records[0].op == "CrossEntropy" and records[0].formula == first_line
    assert first_line in format_trace(records)
    for r in records:
        assert r.formula and r.formula in format_trace(records)


# -- an unrolled RNN: repeated time steps are shown once ---------------------------------------------------------
def unrolled_tanh_rnn(steps=120):
    mdl.manual_seed(1)
    W = mdl.tensor(np.random.default_rng(0).normal(size=(3, 5)), dtype=mdl.float64, requires_grad=True)
    U = mdl.tensor(0.3 * np.random.default_rng(1).normal(size=(5, 5)), dtype=mdl.float64, requires_grad=True)
    W.name, U.name = "W", "U"
    X = mdl.randn(steps, 2, 3, dtype=mdl.float64)
    h = mdl.zeros(2, 5, dtype=mdl.float64)
    for t in range(steps):
        h = (X[t] @ W + h @ U).tanh()
    return (h ** 2).mean()


def test_trace_of_a_120_step_rnn_groups_the_repeated_steps():
    loss = unrolled_tanh_rnn()
    records = trace(loss, show=False)
    assert len(records) == 2 + 4 * 120  # every node is still a record
    table = format_trace(records)
    lines = table.splitlines()
    assert len(lines) < 12, table
    assert "×120" in table
    block = [line.split()[1] for line in lines if line.startswith("  ")]
    assert block == ["Tanh", "Add", "MatMul", "MatMul"]


def test_draw_graph_of_a_120_step_rnn_draws_first_and_last_step_and_one_node_for_the_rest(tmp_path):
    loss = unrolled_tanh_rnn()
    graph = build_graph(loss, with_gradients=True)
    ops = [label.split("\n")[0] for _, label, kind in graph.nodes if kind == "op"]
    assert ops == ["MatMul", "MatMul", "Add", "Tanh"] * 2 + ["Pow", "Mean"]
    (repeat,) = [label for _, label, kind in graph.nodes if kind == "repeat"]
    assert "118 more repetitions" in repeat and "[MatMul, MatMul, Add, Tanh]" in repeat
    assert len(graph.nodes) < 25
    draw_graph(loss, tmp_path / "rnn.png")
    assert (tmp_path / "rnn.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_draw_graph_returns_dot_text_that_a_notebook_shows_as_a_png():
    (a,) = leaves([1.0, 2.0])
    dot = draw_graph(a.exp().sum())
    assert isinstance(dot, str) and dot.startswith("digraph minidl {")
    assert dot._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"


def test_trace_reads_the_same_with_fast_paths_on_and_off():
    # A fast sibling (a transposed cross-entropy, a row-blocked convolution) is the op its reference is:
    # the rows name the reference and show the reference's formula line.
    import minidl.nn as nn
    from minidl.zoo import lenet

    def rows(fast):
        mdl.manual_seed(0)
        model = lenet((1, 28, 28), 10)
        x = mdl.tensor(np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32))
        with mdl.fast_paths(fast):
            loss = nn.CrossEntropyLoss()(model(x), mdl.tensor(np.array([0, 1, 2, 3])))
            records = trace(loss, model=model, show=False)
        return [(r.op, r.formula) for r in records], [type(r).__name__ for r in records]

    (fast_rows, _), (reference_rows, _) = rows(True), rows(False)
    assert fast_rows == reference_rows
    assert all(formula and "=" in formula for _, formula in reference_rows)
