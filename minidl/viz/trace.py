"""`trace(loss)`: run backward and report, node by node, what the chain rule did.

    records = mdl.viz.trace(loss, model=model)
    #  step  op          local derivative                      inputs -> output     |dL/dy|   |dL/dx_i|
    #  0     Mean        dL/dx = dL/dy / n broadcast back ...   (64,) -> ()          1         0.125
    ...

Each record is a `TraceRecord`; the table is printed unless `show=False`.
"""

from dataclasses import dataclass, field

import numpy as np

from minidl.autograd import run_backward


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


def formula_of(fn):
    """The op's chain rule, from its class docstring: the text before 'Saves' on the first paragraph."""
    doc = (type(fn).__doc__ or "").strip().split("\n\n")[0]
    text = " ".join(line.strip() for line in doc.splitlines())
    return text.split("Saves")[0].strip().rstrip(".")


def array_norm(array):
    """‖array‖₂ as a Python float (None for None): a host sync, so only for inspection."""
    if array is None:
        return None
    return float(np.sqrt(float((array * array).sum())))


def parameter_names(model):
    """{id(parameter): dotted name} for labelling graph leaves."""
    return {} if model is None else {id(p): name for name, p in model.named_parameters()}


def trace(loss, model=None, retain_graph=False, show=True):
    """Back-propagate from the scalar `loss` (filling `.grad` as `loss.backward()` does) and return a
    `TraceRecord` per graph node, in execution order. `model` labels parameters by their names."""
    if loss.size != 1:
        raise ValueError(f"trace needs a single-element loss, got shape {loss.shape}")
    if loss.grad_fn is None:
        raise ValueError("trace: the loss has no graph (was it computed under no_grad, or from constants?)")
    names = parameter_names(model)
    records = []

    def record(fn, grad_output, grad_inputs):
        records.append(TraceRecord(
            step=len(records), op=fn.name, formula=formula_of(fn),
            input_shapes=[tuple(x.shape) for x in fn.inputs], output_shape=tuple(grad_output.shape),
            grad_output_norm=array_norm(grad_output), grad_input_norms=[array_norm(g) for g in grad_inputs],
            input_names=[names.get(id(x), x.name or "") for x in fn.inputs]))

    backward_watching(loss, record, retain_graph)
    if show:
        print(format_trace(records))
    return records


def backward_watching(tensor, on_node, retain_graph=False):
    """Back-propagate d(Σ tensor) as `backward()` does (filling `.grad`), calling
    `on_node(fn, grad_output, grad_inputs)` after each node: the one hook both trace and draw_graph use."""
    seed = tensor.backend.xp.ones(tensor.shape, dtype=tensor.dtype)
    run_backward(tensor, seed, retain_graph=retain_graph, on_node=on_node)


def format_trace(records):
    """The records as a fixed-width text table."""
    rows = [("step", "op", "local derivative", "inputs -> output", "|dL/dy|", "|dL/dx_i| passed on")]
    for r in records:
        inputs = ", ".join(f"{name + ' ' if name else ''}{shape}" for name, shape in zip(r.input_names, r.input_shapes))
        passed = ", ".join("-" if n is None else f"{n:.4g}" for n in r.grad_input_norms)
        rows.append((str(r.step), r.op, r.formula, f"{inputs} -> {r.output_shape}", f"{r.grad_output_norm:.4g}", passed))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)
