"""CPU/GPU parity: run one model on two devices from the same weights, find the first op that differs.

    report = check_parity(model, x, devices=("cpu", "cuda"), loss_fn=nn.CrossEntropyLoss(), target=y)
    print(report)             # "parity OK: 23 ops ..." or the first op beyond tolerance, with its layer

Each device gets its own copy of the model (same weights). Every op's forward output is recorded on
both, in order, and compared with `rtol`/`atol`; with a `loss_fn`, backward runs too and each
parameter's gradient is compared. The first mismatch is the op to look at: everything before it
agreed, so its inputs agreed.
"""

import copy
from dataclasses import dataclass, field

import numpy as np

from minidl.anomaly import OpWatcher, watching
from minidl.creation import tensor


@dataclass
class OpRecord:
    index: int
    op: str
    layer: str
    output: np.ndarray  # host copy


@dataclass
class ParityReport:
    devices: tuple
    ops_compared: int
    first_mismatch: dict = None               # op, layer, index, max_abs_diff, shapes
    gradient_mismatches: list = field(default_factory=list)

    @property
    def ok(self):
        return self.first_mismatch is None and not self.gradient_mismatches

    def __str__(self):
        a, b = self.devices
        if self.ok:
            return f"parity OK: {self.ops_compared} ops agree between '{a}' and '{b}'"
        lines = []
        if self.first_mismatch:
            m = self.first_mismatch
            lines.append(f"first op that differs between '{a}' and '{b}': #{m['index']} {m['op']} in layer "
                         f"{m['layer'] or '(none)'}: {m['detail']}")
        for name, diff in self.gradient_mismatches:
            lines.append(f"gradient of {name} differs: max abs diff {diff:.3g}")
        return "\n".join(lines)


class _Recorder(OpWatcher):
    def __init__(self):
        self.records = []

    def forward(self, fn, inputs, out):
        host = fn.backend.to_host(out)
        self.records.append(OpRecord(len(self.records), fn.name, fn.module or "", np.array(host, copy=True)))


def _run(model, device, inputs, loss_fn, target):
    model = copy.deepcopy(model).to(device)
    model.eval()
    recorder = _Recorder()
    xs = [tensor(x, device=device) if not hasattr(x, "_backend") else x.to(device) for x in inputs]
    with watching(recorder, model):
        out = model(*xs)
        if loss_fn is not None:
            loss = loss_fn(out, tensor(target, device=device))
            loss.backward()
    grads = {name: (None if p.grad is None else p.grad.numpy()) for name, p in model.named_parameters()}
    return recorder.records, grads


def check_parity(model, inputs, devices=("cpu", "cuda"), rtol=1e-4, atol=1e-5, loss_fn=None, target=None):
    """Compare every op's output (and, with `loss_fn`, every parameter gradient) across two devices.

    `inputs`: one array/Tensor or a tuple of them (host data is copied to each device). The model is
    run in eval mode (dropout off, batch norm on running statistics) so both runs see the same op.
    """
    if not isinstance(inputs, (tuple, list)):
        inputs = (inputs,)
    first, second = devices
    records_a, grads_a = _run(model, first, inputs, loss_fn, target)
    records_b, grads_b = _run(model, second, inputs, loss_fn, target)
    report = ParityReport(devices=(first, second), ops_compared=min(len(records_a), len(records_b)))
    for ra, rb in zip(records_a, records_b):
        detail = _difference(ra, rb, rtol, atol)
        if detail:
            report.first_mismatch = {"index": ra.index, "op": ra.op, "layer": ra.layer, "detail": detail}
            break
    else:
        if len(records_a) != len(records_b):
            report.first_mismatch = {"index": report.ops_compared, "op": "(end)", "layer": "",
                                     "detail": f"{len(records_a)} ops on '{first}', {len(records_b)} on '{second}'"}
    for name, ga in grads_a.items():
        gb = grads_b[name]
        if (ga is None) != (gb is None):
            report.gradient_mismatches.append((name, float("inf")))
        elif ga is not None and not np.allclose(ga, gb, rtol=rtol, atol=atol):
            report.gradient_mismatches.append((name, float(np.abs(ga - gb).max())))
    return report


def _difference(ra, rb, rtol, atol):
    """'' when the two records agree, else what differs."""
    if ra.op != rb.op:
        return f"the ops differ: {ra.op} on one device, {rb.op} on the other"
    if ra.output.shape != rb.output.shape:
        return f"shapes {ra.output.shape} vs {rb.output.shape}"
    if ra.output.dtype.kind in "biu":
        bad = ra.output != rb.output
    else:
        bad = ~np.isclose(ra.output, rb.output, rtol=rtol, atol=atol, equal_nan=True)
    if not bad.any():
        return ""
    where = tuple(int(i) for i in np.argwhere(bad)[0])
    diff = np.abs(ra.output.astype(np.float64) - rb.output.astype(np.float64))
    return (f"{int(bad.sum())} of {bad.size} values beyond rtol={rtol}, atol={atol}; max abs diff "
            f"{float(np.nanmax(diff)):.3g}; first at {where}: {ra.output[where]!r} vs {rb.output[where]!r}")
