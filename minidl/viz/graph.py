"""`draw_graph(tensor)`: the autograd graph as Graphviz DOT text, rendered to PNG/SVG.

Ops are boxes (name, output shape, dtype); leaves are ellipses (parameter name when a `model` is
given, shape, dtype, and ‖grad‖ once backward has run); the output is a double octagon. With
`with_gradients=True`, backward is run first (keeping the graph, filling `.grad` as `backward()`
does) and every edge is labelled with the norm of the gradient that flowed along it.

Rendering uses Graphviz's `dot` program when it is installed, else a layered matplotlib drawing.
"""

import os
import shutil
import subprocess
from dataclasses import dataclass, field

from minidl.viz.trace import array_norm, backward_watching, parameter_names


@dataclass
class Graph:
    """Nodes as (key, label, kind) with kind "op", "leaf", "input" or "output"; edges as (src, dst, label)."""

    nodes: list = field(default_factory=list)
    edges: list = field(default_factory=list)


def build_graph(tensor, model=None, with_gradients=False):
    """The graph that made `tensor`, ready to be written as DOT or drawn."""
    if tensor.grad_fn is None:
        raise ValueError("draw_graph: this tensor has no graph (a leaf, or computed under no_grad)")
    ops = _walk(tensor.grad_fn)
    output_meta = {tensor.grad_fn: (tuple(tensor.shape), tensor.dtype)}
    for fn in ops:
        for x in fn.inputs:
            if x.grad_fn is not None:
                output_meta[x.grad_fn] = (tuple(x.shape), x.dtype)
    edge_norms = _edge_gradient_norms(tensor) if with_gradients else {}
    names = parameter_names(model)

    graph, keys = Graph(), {}

    def key(obj, prefix):  # short, stable names: op0, op1, ..., leaf0, ...
        if id(obj) not in keys:
            keys[id(obj)] = f"{prefix}{sum(k.startswith(prefix) for k in keys.values())}"
        return keys[id(obj)]

    for fn in ops:
        shape, dtype = output_meta[fn]
        graph.nodes.append((key(fn, "op"), f"{fn.name}\n{shape} {dtype}", "op"))
    for fn in ops:
        for x in fn.inputs:
            if x.grad_fn is None and id(x) not in keys:
                name = names.get(id(x), x.name or ("leaf" if x.requires_grad else "input"))
                grad = f"\n|grad| = {array_norm(x.grad.data):.4g}" if x.grad is not None else ""
                kind = "leaf" if x.requires_grad else "input"
                graph.nodes.append((key(x, kind), f"{name}\n{tuple(x.shape)} {x.dtype}{grad}", kind))
            source = key(x.grad_fn, "op") if x.grad_fn is not None else key(x, "leaf" if x.requires_grad else "input")
            norm = edge_norms.get((id(x), id(fn)))
            graph.edges.append((source, key(fn, "op"), "" if norm is None else f"{norm:.3g}"))
    graph.nodes.append(("output", f"output\n{tuple(tensor.shape)} {tensor.dtype}", "output"))
    graph.edges.append((key(tensor.grad_fn, "op"), "output", ""))
    return graph


def _walk(root_fn):
    """Every node reachable from root_fn, once each, outputs first."""
    seen, stack, order = set(), [root_fn], []
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        if fn.inputs is None:
            raise ValueError("draw_graph: this graph was freed by backward(); draw it before backward, call "
                             "backward(retain_graph=True), or use draw_graph(..., with_gradients=True)")
        order.append(fn)
        stack.extend(x.grad_fn for x in fn.inputs if x.grad_fn is not None)
    return order


def _edge_gradient_norms(tensor):
    """Run backward (keeping the graph) and return {(id(input), id(node)): ‖gradient along that edge‖}."""
    norms = {}

    def record(fn, grad_output, grad_inputs):
        for x, g in zip(fn.inputs, grad_inputs):
            norms[(id(x), id(fn))] = array_norm(g)

    backward_watching(tensor, record, retain_graph=True)
    return norms


_STYLES = {"op": 'shape=box, style=filled, fillcolor="#fde68a"',
           "leaf": 'shape=ellipse, style=filled, fillcolor="#bfdbfe"',
           "input": 'shape=ellipse, style=dashed',
           "output": 'shape=doubleoctagon'}


def to_dot(graph):
    """Graphviz DOT text of a Graph."""
    lines = ["digraph minidl {", "  rankdir=BT;", '  node [fontname="Helvetica", fontsize=10];']
    for key, label, kind in graph.nodes:
        lines.append(f'  {key} [{_STYLES[kind]}, label="{_escape(label)}"];')
    for source, target, label in graph.edges:
        lines.append(f'  {source} -> {target}' + (f' [label="{label}"]' if label else "") + ";")
    lines.append("}")
    return "\n".join(lines)


def _escape(label):
    return label.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def draw_graph(tensor, path=None, model=None, with_gradients=False):
    """Return the DOT text of `tensor`'s graph; when `path` is given (.png, .svg, .pdf or .dot), also
    render it there (with Graphviz `dot` when installed, otherwise with matplotlib)."""
    graph = build_graph(tensor, model=model, with_gradients=with_gradients)
    dot = to_dot(graph)
    if path is not None:
        render(graph, path)
    return dot


def render(graph, path):
    """Write a Graph to `path` in the format its extension names."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    if ext == "dot":
        with open(path, "w") as f:
            f.write(to_dot(graph))
    elif shutil.which("dot"):
        subprocess.run(["dot", f"-T{ext}", "-o", path], input=to_dot(graph).encode(), check=True)
    else:
        draw_with_matplotlib(graph, path)
    return path


def draw_with_matplotlib(graph, path):
    """A layered drawing: inputs at the bottom, the output at the top, one row per depth."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    depth = _depths(graph)
    rows = {}
    for key, _, _ in graph.nodes:
        rows.setdefault(depth[key], []).append(key)
    position = {}
    for level, keys in rows.items():
        for i, key in enumerate(keys):
            position[key] = ((i + 1) / (len(keys) + 1), level)
    height = max(rows) + 1
    fig, ax = plt.subplots(figsize=(max(6, 2.2 * max(len(k) for k in rows.values())), 1.2 * height + 1))
    colors = {"op": "#fde68a", "leaf": "#bfdbfe", "input": "white", "output": "#e5e7eb"}
    for source, target, label in graph.edges:
        (x0, y0), (x1, y1) = position[source], position[target]
        ax.annotate("", xy=(x1, y1 - 0.25), xytext=(x0, y0 + 0.25),
                    arrowprops=dict(arrowstyle="->", color="#6b7280"))
        if label:
            ax.text((x0 + x1) / 2, (y0 + y1) / 2, label, fontsize=7, color="#374151")
    for key, label, kind in graph.nodes:
        x, y = position[key]
        ax.text(x, y, label, ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle="round" if kind != "op" else "square", fc=colors[kind], ec="#374151"))
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.7, height - 0.3)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _depths(graph):
    """Longest distance of each node from a source (leaves and inputs at 0)."""
    incoming = {key: [] for key, _, _ in graph.nodes}
    for source, target, _ in graph.edges:
        incoming[target].append(source)
    depth = {}

    def resolve(key):
        stack = [key]
        while stack:
            k = stack[-1]
            pending = [s for s in incoming[k] if s not in depth]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            depth[k] = 1 + max((depth[s] for s in incoming[k]), default=-1)

    for key in incoming:
        if key not in depth:
            resolve(key)
    return depth
