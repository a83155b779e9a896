"""Same-process A/B of two CPU layout choices, in alternating blocks (medians over rounds):

    python benchmarks/ab_layouts.py                  # 2 threads, batches 64 128 512, 7 rounds

1. nn.Linear weights column-major (what Backend.linear_weight_order gives a narrowing layer) against row-major:
   the MLP 784-256-128-10 training step (SGD momentum) with the same initial weights, and PyTorch's step
   for scale. Ratio < 1: column-major is faster.
2. Softmax cross-entropy forward + backward in plain NumPy, logits (N, 10), two layouts of the same
   formulas: reduced over the classes of the transposed logits (C contiguous passes: what
   minidl's CrossEntropy does) and reduced along each row (z.max(axis=1), ...: what it did before);
   minidl's whole op (F.cross_entropy + backward, engine included) is timed beside them.
"""

import argparse
import os
import statistics

from script_setup import use_threads  # benchmarks/script_setup.py, beside this script


ARGS = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ARGS.add_argument("--threads", type=int, default=2)
ARGS.add_argument("--rounds", type=int, default=7)
ARGS.add_argument("--batches", type=int, nargs="+", default=[64, 128, 512])
ARGS = ARGS.parse_args()
use_threads(ARGS.threads)  # before NumPy loads (script_setup.py)

import numpy as np  # noqa: E402

import minidl as mdl  # noqa: E402
from minidl.benchmark import MinidlRunner, TorchRunner, alternate  # noqa: E402
from minidl.nn import functional as F  # noqa: E402


def median_ratio(times, a, b):
    return statistics.median(x / y for x, y in zip(times[a], times[b]))


def linear_weight_layouts(batch):
    column_major = MinidlRunner("mlp", batch)
    row_major = MinidlRunner("mlp", batch)
    for p in row_major.net.parameters():
        p.data = np.ascontiguousarray(p.data)
    assert column_major.net[0].weight.data.flags.f_contiguous, "Linear weights are not column-major here"
    runners = {"column-major": column_major.step, "row-major": row_major.step}
    try:
        runners["torch"] = TorchRunner("mlp", batch, column_major.net).step
    except ImportError:
        pass
    times = alternate(runners, ARGS.rounds, 0.3)
    line = ", ".join(f"{name} {statistics.median(t) * 1e3:.3f} ms" for name, t in times.items())
    print(f"MLP step, batch {batch}: {line}; column-major / row-major "
          f"{median_ratio(times, 'column-major', 'row-major'):.3f}")


def cross_entropy_by_rows(z, t):
    """loss and dL/dz of mean softmax cross-entropy, reduced along each row of z (N, C)."""
    n = z.shape[0]
    shifted = z - z.max(axis=1, keepdims=True)
    p = np.exp(shifted)
    total = p.sum(axis=1, keepdims=True)
    loss = (np.log(total).ravel() - shifted[np.arange(n), t]).sum() / n
    p /= total
    p[np.arange(n), t] -= 1
    return loss, p * (1.0 / n)


def cross_entropy_transposed(z, t):
    """The same, reduced over the first axis of zᵀ (C, N); dL/dz returned as a (N, C) view."""
    n = z.shape[0]
    s = np.ascontiguousarray(z.T)
    s -= s.max(axis=0)
    rows = np.arange(n)
    picked = s[t, rows]
    p = np.exp(s, out=s)
    total = p.sum(axis=0)
    loss = (np.log(total) - picked).sum() / n
    p /= total
    p[t, rows] -= 1
    return loss, (p * (1.0 / n)).T


def cross_entropy_layouts(batch):
    rng = np.random.default_rng(0)
    z = rng.standard_normal((batch, 10)).astype(np.float32)
    t = rng.integers(0, 10, batch)
    logits, target = mdl.tensor(z, requires_grad=True), mdl.tensor(t)

    def minidl_op():
        F.cross_entropy(logits, target).backward()

    (loss, grad), (loss_t, grad_t) = cross_entropy_by_rows(z, t), cross_entropy_transposed(z, t)
    minidl_op()
    for g in (grad_t, logits.grad.numpy()):
        np.testing.assert_allclose(g, grad, rtol=1e-5, atol=1e-7)
    times = alternate({"transposed": lambda: cross_entropy_transposed(z, t),
                       "by rows": lambda: cross_entropy_by_rows(z, t), "minidl": minidl_op}, ARGS.rounds, 0.3)
    us = {name: statistics.median(v) * 1e6 for name, v in times.items()}
    print(f"cross-entropy forward+backward, batch {batch}: NumPy transposed {us['transposed']:.1f} us, by rows "
          f"{us['by rows']:.1f} us (ratio {median_ratio(times, 'transposed', 'by rows'):.2f}); minidl's op "
          f"{us['minidl']:.1f} us")


if __name__ == "__main__":
    print(f"{ARGS.threads} thread(s), load {os.getloadavg()[0]:.2f}")
    for batch in ARGS.batches:
        linear_weight_layouts(batch)
    for batch in ARGS.batches:
        cross_entropy_layouts(batch)
