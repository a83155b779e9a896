"""`trace(loss)`: report, node by node, what the chain rule did in backward.

    records = mdl.viz.trace(loss, model=model)
    #  step  op    local derivative                                         inputs -> output   |dL/dy|  |dL/dx_i|
    #  0     Mean  y = Σ x / n over axes;   dL/dx = dL/dy / n broadcast ...   (64,) -> ()        1        0.125
    ...

Before any backward, `trace` runs it (once: `.grad` is filled as `loss.backward()` would; do not call
both). After `loss.backward(retain_graph=True)` it reads the gradients that backward computed and kept
on each node (`Function.gradients`): no second backward, `.grad` unchanged. After a plain
`loss.backward()` the graph is freed and nothing is left to show: the error says so and what to do.

Each record is a `TraceRecord`; the table is shown unless `show=False` (printed in a terminal, an HTML
table in a notebook). Blocks of nodes that repeat back to back (an unrolled RNN's time steps) are
shown once, with their repeat count.
"""

import html
from dataclasses import dataclass, field

import numpy as np

from minidl.autograd import run_backward, topological_order
from minidl.display import ShownOnce
from minidl.errors import GraphError
from minidl.viz.repeats import find_repeats


@dataclass
class TraceRecord:
    """One node of the backward pass, in the order it ran (reverse topological order)."""

    step: int
    op: str
    formula: str
    input_shapes: list
    output_shape: tuple
    grad_output_norm: float              # ‖dL/dy‖ arriving at this node
    grad_input_norms: list               # ‖dL/dx_i‖ passed on to each input (None: input needs none)
    input_names: list = field(default_factory=list)  # parameter names where known, else ""

    def signature(self):
        """What makes two rows 'the same step' (for grouping repeats): everything but the numbers."""
        return self.op, tuple(self.input_shapes), self.output_shape, tuple(self.input_names)


class Trace(ShownOnce, list):
    """The list of TraceRecords `trace` returns; shows itself as a table (text, or HTML in a notebook)."""

    def __str__(self):
        return format_trace(self)

    def __repr__(self):  # the REPL's echo: the table, or one line when it was shown already
        return f"<Trace of {len(self)} backward steps: table shown above>" if self._shown else format_trace(self)

    def _repr_html_(self):
        return format_trace_html(self)


def formula_of(fn):
    """The op's formula line: the first line of its reference Function's docstring, whole.

    A fast sibling (minidl/ops/fast/) computes the same op as its reference and says so by its `name`;
    the row shows the reference's formula, so a trace reads the same with fast paths on or off."""
    reference = next((cls for cls in type(fn).__mro__ if cls.__name__ == fn.name), type(fn))
    lines = (reference.__doc__ or "").strip().splitlines()
    return lines[0].strip() if lines else ""


def array_norm(array):
    """‖array‖₂ as a Python float (None for None): a host sync, so only for inspection."""
    if array is None:
        return None
    return float(np.sqrt(float((array * array).sum())))


def parameter_names(model):
    """{id(parameter): dotted name} for labelling graph leaves."""
    return {} if model is None else {id(p): name for name, p in model.named_parameters()}


RUNS_BACKWARD = ("{who}: no backward has run on this graph yet, so {who} runs it now, once (it fills .grad as "
                 "loss.backward() does: do not call backward() as well)")


def trace(loss, model=None, retain_graph=False, show=True):
    """A `TraceRecord` per graph node of the scalar `loss`, in the order backward runs them.

    Before any backward: runs backward itself, once (filling `.grad` as `loss.backward()` does; it says
    so in one line), keeping the graph when `retain_graph`. After `loss.backward(retain_graph=True)`:
    reads the gradients that backward computed (no second backward; `.grad` unchanged). After a plain
    `loss.backward()`: GraphError saying that graph was freed, and what to call instead.
    `model` labels parameters by their names. `show`: print the table (a terminal) or display it (a notebook).
    """
    if loss.size != 1:
        raise ValueError(f"trace needs a single-element loss, got shape {loss.shape}")
    if loss.grad_fn is None:
        raise ValueError("trace: the loss has no graph (was it computed under no_grad, or from constants?)")
    names = parameter_names(model)
    records = Trace()

    def record(fn, grad_output, grad_inputs):
        records.append(TraceRecord(
            step=len(records), op=fn.name, formula=formula_of(fn),
            input_shapes=[tuple(x.shape) for x in fn.inputs], output_shape=tuple(grad_output.shape),
            grad_output_norm=array_norm(grad_output), grad_input_norms=[array_norm(g) for g in grad_inputs],
            input_names=[names.get(id(x), x.name or "") for x in fn.inputs]))

    if has_run_backward(loss, "trace"):
        for fn in topological_order(loss.grad_fn):
            record(fn, *fn.gradients)
    else:
        if show:
            print(RUNS_BACKWARD.format(who="trace"))
        backward_watching(loss, record, retain_graph)
    if show:
        records.show()
    return records


def has_run_backward(tensor, who):
    """True when a backward(retain_graph=True) through `tensor`'s graph left its gradients on every node;
    False before any backward; GraphError when a plain backward() freed the graph."""
    root = tensor.grad_fn
    if root.inputs is None:
        raise GraphError(
            f"{who}: a backward already ran on this graph without retain_graph=True and freed it (a plain "
            f"loss.backward() keeps nothing to show). Either call {who}(...) instead of loss.backward(): it runs "
            f"backward itself, once, and fills .grad the same way; or call loss.backward(retain_graph=True) and "
            f"then {who}(...): it reads the gradients that backward computed")
    return root.gradients is not None and all(fn.gradients is not None for fn in topological_order(root))


def backward_watching(tensor, on_node, retain_graph=False):
    """Back-propagate d(Σ tensor) as `backward()` does (filling `.grad`), calling
    `on_node(fn, grad_output, grad_inputs)` after each node: the one hook both trace and draw_graph use."""
    seed = tensor.backend.xp.ones(tensor.shape, dtype=tensor.dtype)
    run_backward(tensor, seed, retain_graph=retain_graph, on_node=on_node)


# -- showing ------------------------------------------------------------------------------------------------------
HEADER = ("step", "op", "local derivative", "inputs -> output", "|dL/dy|", "|dL/dx_i| passed on")


def table_rows(records):
    """(rows, kinds): the table's cells, one row per record, a block repeated back to back shown once under a
    row saying how often (its norms: first repetition -> last, in the order backward ran them)."""
    rows, kinds = [], []
    for run in find_repeats([r.signature() for r in records]):
        if run.repeats == 1:
            rows.append(_cells(records[run.start]))
            kinds.append("row")
            continue
        last = run.stop - 1
        rows.append((f"{run.start}-{last}", f"×{run.repeats}", f"the next {run.period} rows, repeated "
                     f"{run.repeats} times (norms: first -> last repetition)", "", "", ""))
        kinds.append("group")
        for k in range(run.period):
            first, final = records[run.start + k], records[last - run.period + 1 + k]
            rows.append(_cells(first, final))
            kinds.append("grouped")
    return rows, kinds


def _cells(r, last=None):
    inputs = ", ".join(f"{name + ' ' if name else ''}{shape}" for name, shape in zip(r.input_names, r.input_shapes))
    out = _norm(r.grad_output_norm, last and last.grad_output_norm, last is not None)
    passed = ", ".join(_norm(n, last and last.grad_input_norms[i], last is not None)
                       for i, n in enumerate(r.grad_input_norms))
    return (str(r.step), r.op, r.formula, f"{inputs} -> {r.output_shape}", out, passed)


def _norm(first, last, ranged):
    text = "-" if first is None else f"{first:.4g}"
    return f"{text} -> {'-' if last is None else f'{last:.4g}'}" if ranged else text


def format_trace(records):
    """The records as a fixed-width text table (repeated blocks shown once, indented under their count)."""
    body, kinds = table_rows(records)
    body = [(("  " if kind == "grouped" else "") + row[0],) + tuple(row[1:]) for row, kind in zip(body, kinds)]
    rows = [HEADER] + body
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    widths[2] = min(widths[2], max(len(r[2]) for r, kind in zip(body, kinds) if kind != "group") if body else 0)
    lines = []
    for row in rows:
        cells = [cell.ljust(w) for cell, w in zip(row, widths)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def format_trace_html(records):
    """The records as an HTML table (for notebooks)."""
    body, kinds = table_rows(records)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADER)
    out = [f"<table><thead><tr>{head}</tr></thead><tbody>"]
    for row, kind in zip(body, kinds):
        if kind == "group":
            out.append(f"<tr><td>{html.escape(row[0])}</td><td><b>{html.escape(row[1])}</b></td>"
                       f"<td colspan=4><i>{html.escape(row[2])}</i></td></tr>")
            continue
        style = ' style="padding-left:2em"' if kind == "grouped" else ""
        cells = "".join(f"<td{style if i == 1 else ''}>{html.escape(c)}</td>" for i, c in enumerate(row))
        out.append(f"<tr>{cells}</tr>")
    out.append("</tbody></table>")
    return "".join(out)
