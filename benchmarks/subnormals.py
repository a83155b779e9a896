"""Subnormal momentum buffers, and what mdl.set_flush_denormal(True) does about them:

    python benchmarks/subnormals.py            # MLP 784-256-128-10, batch 2, 2000 SGD steps, 2 threads

Trains the MLP on one fixed batch of two samples (units that stay dead keep a zero gradient, so their
momentum decays by 0.9 a step and turns subnormal after ~800 steps), twice from the same weights:
with the default floating-point mode and with subnormals flushed to zero. Prints the share of
subnormal values in the first layer's momentum buffer and the median optimizer-step time over the
last 200 steps of each run.
"""

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import minidl as mdl  # noqa: E402
from minidl.benchmark import MinidlRunner  # noqa: E402

STEPS, LAST = 2000, 200


def run(flush):
    supported = mdl.set_flush_denormal(flush)
    runner = MinidlRunner("mlp", 2)
    update = []
    for step in range(STEPS):
        runner.opt.zero_grad()
        runner.loss().backward()
        start = time.perf_counter()
        runner.opt.step()
        if step >= STEPS - LAST:
            update.append(time.perf_counter() - start)
    mdl.set_flush_denormal(False)
    buf = runner.opt.state[runner.net[0].weight]["momentum_buffer"]
    tiny = np.finfo(buf.dtype).tiny
    subnormal = np.count_nonzero((buf != 0) & (np.abs(buf) < tiny)) / buf.size
    return supported, subnormal, statistics.median(update)


if __name__ == "__main__":
    for flush in (False, True):
        supported, subnormal, seconds = run(flush)
        label = "flushed to zero" if flush else "default mode   "
        note = "" if supported or not flush else "  (not supported here: the default mode ran)"
        print(f"{label}: {100 * subnormal:5.1f}% of the first layer's momentum buffer subnormal, optimizer "
              f"step {seconds * 1e3:.3f} ms (median of the last {LAST} of {STEPS}){note}")
