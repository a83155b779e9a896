"""Forward + backward of one LSTM batch, minidl against PyTorch CPU, on the same shapes:

    python benchmarks/lstm_step.py                 # LSTM(65 -> 128), L=64, N=12, 1 thread
    python benchmarks/lstm_step.py --threads 2 --length 150 --batch 32 --layers 2

The loss is sum(output) + sum(h_n) (gradients reach every parameter and the input). Blocks of at
least 0.3 s per implementation, alternating, median over rounds (benchmarks/README.md); the machine
is shared, so read the ratio rather than the times.
"""

import argparse
import os
import statistics
import time

from script_setup import use_threads  # benchmarks/script_setup.py, beside this script

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--input", type=int, default=65)
parser.add_argument("--hidden", type=int, default=128)
parser.add_argument("--length", type=int, default=64)
parser.add_argument("--batch", type=int, default=12)
parser.add_argument("--layers", type=int, default=1)
parser.add_argument("--rounds", type=int, default=5)
args = parser.parse_args()
use_threads(args.threads)  # before NumPy loads (script_setup.py)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import minidl as mdl  # noqa: E402
import minidl.nn as nn  # noqa: E402

torch.set_num_threads(args.threads)


def minidl_step():
    output, (h, c) = ours(x_ours)
    (output.sum() + h.sum()).backward()


def torch_step():
    output, (h, c) = theirs(x_theirs)
    (output.sum() + h.sum()).backward()


def block(step):
    """Median seconds per step over a block of at least 0.3 s (after two warm-up steps)."""
    step(), step()
    times, start = [], time.perf_counter()
    while time.perf_counter() - start < 0.3 or len(times) < 3:
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


if __name__ == "__main__":
    mdl.manual_seed(0)
    ours = nn.LSTM(args.input, args.hidden, num_layers=args.layers)
    theirs = torch.nn.LSTM(args.input, args.hidden, num_layers=args.layers)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((args.length, args.batch, args.input)).astype(np.float32)
    x_ours, x_theirs = mdl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    rounds = [(block(minidl_step), block(torch_step)) for _ in range(args.rounds)]
    ms_ours = statistics.median(r[0] for r in rounds) * 1e3
    ms_theirs = statistics.median(r[1] for r in rounds) * 1e3
    ratio = statistics.median(r[0] / r[1] for r in rounds)
    print(f"LSTM({args.input} -> {args.hidden}, layers={args.layers}), L={args.length}, N={args.batch}, "
          f"{args.threads} thread(s), load average {os.getloadavg()[0]:.2f}")
    print(f"forward + backward: minidl {ms_ours:.1f} ms, PyTorch {ms_theirs:.1f} ms, ratio {ratio:.1f}x")
