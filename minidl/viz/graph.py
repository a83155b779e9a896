"""`draw_graph(tensor)`: the autograd graph as Graphviz DOT text, rendered to PNG/SVG.

Ops are boxes (name, output shape, dtype); leaves are ellipses (parameter name when a `model` is
given, shape, dtype, and ‖grad‖ once backward has run); the output is a double octagon. With
`with_gradients=True` every edge is labelled with the norm of the gradient that flowed along it: after
`backward(retain_graph=True)` those of that backward (kept on each node: no second backward, `.grad`
unchanged); before any backward, draw_graph runs it once itself (saying so; `.grad` is filled as
`backward()` does). A block of ops repeated many times back to back (an unrolled RNN) is drawn as its
first and last repetitions around one node that stands for the others.

The DOT text comes back as a `DotSource` (a str) that a notebook shows as a picture. Rendering uses
Graphviz's `dot` program when it is installed, else a layered matplotlib drawing.
"""

import io
import os
import shutil
import subprocess
from dataclasses import dataclass, field

from minidl.errors import GraphError
from minidl.viz.repeats import find_repeats
from minidl.viz.trace import RUNS_BACKWARD, array_norm, backward_watching, has_run_backward, parameter_names

FREED = ("draw_graph: this graph was freed by a backward() without retain_graph=True; draw it before backward, "
         "call backward(retain_graph=True), or let draw_graph(..., with_gradients=True) run backward itself")


@dataclass
class Graph:
    """Nodes as (key, label, kind) with kind "op", "leaf", "input", "output" or "repeat"; edges as
    (src, dst, label)."""

    nodes: list = field(default_factory=list)
    edges: list = field(default_factory=list)


class DotSource(str):
    """The DOT text of a graph (a str), which a notebook displays as the picture (`_repr_png_`, and
    `_repr_svg_` when Graphviz is installed)."""

    def __new__(cls, graph):
        self = super().__new__(cls, to_dot(graph))
        self.graph = graph
        return self

    def _repr_png_(self):
        if shutil.which("dot"):
            return subprocess.run(["dot", "-Tpng"], input=self.encode(), capture_output=True, check=True).stdout
        buffer = io.BytesIO()
        draw_with_matplotlib(self.graph, buffer)
        return buffer.getvalue()

    def _repr_svg_(self):
        if not shutil.which("dot"):
            return None
        return subprocess.run(["dot", "-Tsvg"], input=self.encode(), capture_output=True, check=True).stdout.decode()


def build_graph(tensor, model=None, with_gradients=False, collapse=True):
    """The graph that made `tensor`, ready to be written as DOT or drawn (`collapse`: repeated blocks
    of ops, 3 or more times back to back, drawn as first and last repetition plus one node)."""
    if tensor.grad_fn is None:
        raise ValueError("draw_graph: this tensor has no graph (a leaf, or computed under no_grad)")
    if tensor.grad_fn.inputs is None:
        raise GraphError(FREED)
    edge_norms = _edge_gradient_norms(tensor) if with_gradients else {}
    ops = sorted(_walk(tensor.grad_fn), key=lambda fn: fn.sequence)  # forward order
    output_meta = {tensor.grad_fn: (tuple(tensor.shape), tensor.dtype)}
    for fn in ops:
        for x in fn.inputs:
            if x.grad_fn is not None:
                output_meta[x.grad_fn] = (tuple(x.shape), x.dtype)
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
    if collapse:
        graph = collapse_repeats(graph, [keys[id(fn)] for fn in ops], [_signature(fn, names) for fn in ops])
    return graph


def _signature(fn, names):
    """An op's name and inputs (shape, and the name of a named leaf): equal for each step of an RNN."""
    return fn.name, tuple((tuple(x.shape), names.get(id(x)) or x.name or "") for x in fn.inputs)


def collapse_repeats(graph, op_keys, signatures, min_repeats=3):
    """Replace the middle repetitions of every block of ops repeated `min_repeats` or more times back to back
    (in forward order) by one "repeat" node; leaves that fed only those middle ops go with them."""
    labels = {k: label for k, label, _ in graph.nodes}
    hidden = {}  # op or leaf key -> the repeat node standing for it
    for run in find_repeats(signatures, min_repeats=min_repeats):
        if run.repeats < min_repeats:
            continue
        block = ", ".join(labels[k].split("\n")[0] for k in op_keys[run.start:run.start + run.period])
        middle = op_keys[run.start + run.period:run.stop - run.period]
        stand_in = f"repeat{len(set(hidden.values()))}"
        graph.nodes.append((stand_in, f"… {run.repeats - 2} more repetitions of\n[{block}]\n"
                                      f"({run.repeats} in all)", "repeat"))
        hidden.update(dict.fromkeys(middle, stand_in))
    if not hidden:
        return graph
    targets = {}
    for source, target, _ in graph.edges:
        targets.setdefault(source, set()).add(target)
    for k, _, kind in graph.nodes:  # a leaf used only inside one hidden part is hidden with it
        if kind in ("leaf", "input") and len({hidden.get(t) for t in targets.get(k, ())}) == 1:
            stand_in = hidden.get(next(iter(targets[k])))
            if stand_in is not None:
                hidden[k] = stand_in
    stand_ins = set(hidden.values())
    edges, seen = [], set()
    for source, target, label in graph.edges:
        source, target = hidden.get(source, source), hidden.get(target, target)
        if source == target:
            continue
        if source in stand_ins or target in stand_ins:  # many edges become one, without a single norm
            if (source, target) in seen:
                continue
            seen.add((source, target))
            label = ""
        edges.append((source, target, label))
    return Graph([node for node in graph.nodes if node[0] not in hidden], edges)


def _walk(root_fn):
    """Every node reachable from root_fn, once each, outputs first."""
    seen, stack, order = set(), [root_fn], []
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        if fn.inputs is None:
            raise GraphError(FREED)
        order.append(fn)
        stack.extend(x.grad_fn for x in fn.inputs if x.grad_fn is not None)
    return order


def _edge_gradient_norms(tensor):
    """{(id(input), id(node)): ‖gradient along that edge‖}: from the gradients an earlier
    backward(retain_graph=True) kept on the nodes, else from running backward once now (keeping the graph)."""
    norms = {}

    def record(fn, grad_output, grad_inputs):
        for x, g in zip(fn.inputs, grad_inputs):
            norms[(id(x), id(fn))] = array_norm(g)

    if has_run_backward(tensor, "draw_graph"):
        for fn in _walk(tensor.grad_fn):
            record(fn, *fn.gradients)
    else:
        print(RUNS_BACKWARD.format(who="draw_graph"))
        backward_watching(tensor, record, retain_graph=True)
    return norms


_STYLES = {"op": 'shape=box, style=filled, fillcolor="#fde68a"',
           "leaf": 'shape=ellipse, style=filled, fillcolor="#bfdbfe"',
           "input": 'shape=ellipse, style=dashed',
           "output": 'shape=doubleoctagon',
           "repeat": 'shape=box, style="dashed,rounded,filled", fillcolor="#e5e7eb"'}


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
    """Return the DOT text of `tensor`'s graph (a `DotSource`: a str that a notebook shows as the picture);
    when `path` is given (.png, .svg, .pdf or .dot), also render it there (with Graphviz `dot` when
    installed, otherwise with matplotlib).

    `with_gradients`: label edges with gradient norms: those an earlier `backward(retain_graph=True)` kept
    (no second backward), or, before any backward, from one backward that draw_graph runs (and says so)."""
    graph = build_graph(tensor, model=model, with_gradients=with_gradients)
    if path is not None:
        render(graph, path)
    return DotSource(graph)


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
    from matplotlib.figure import Figure  # not pyplot: no backend switch, no window, nothing left open

    depth = _depths(graph)
    rows = {}
    for key, _, _ in graph.nodes:
        rows.setdefault(depth[key], []).append(key)
    position = {}
    for level, keys in rows.items():
        for i, key in enumerate(keys):
            position[key] = ((i + 1) / (len(keys) + 1), level)
    height = max(rows) + 1
    fig = Figure(figsize=(max(6, 2.2 * max(len(k) for k in rows.values())), 1.2 * height + 1))
    ax = fig.subplots()
    colors = {"op": "#fde68a", "leaf": "#bfdbfe", "input": "white", "output": "#e5e7eb", "repeat": "#f3f4f6"}
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
    fig.savefig(path, dpi=120, format=None if isinstance(path, (str, os.PathLike)) else "png")


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
