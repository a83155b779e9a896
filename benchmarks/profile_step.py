"""Where a minidl training step's time goes: profile shares per op (forward and backward separately).

    python benchmarks/profile_step.py --model lenet --batch 256
    python benchmarks/profile_step.py --model mlp --batch 64 --steps 300
    python benchmarks/profile_step.py --model mlp --batch 4096 --device cuda

Runs `--steps` training steps under cProfile (minidl/step_profile.py: shares per Function's forward and
backward, the update, and the engine's rest; `minidl bench --profile` prints the same for its models).

On `--device cuda` the profile shows the host's side (Python, and CuPy's kernel launches; the GPU runs
asynchronously), and a first line compares the step's host time with its GPU time (CUDA events, through
`cupyx.profiler.benchmark`): when the two are close, the step is bound by launches, not by the GPU.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from minidl.benchmark import MinidlRunner  # noqa: E402
from minidl.step_profile import format_shares, profile_shares  # noqa: E402


def host_and_gpu_time(runner, steps):
    """One line: the step's mean host (CPU) time and GPU time, in ms (CuPy's benchmark helper)."""
    from cupyx.profiler import benchmark

    result = benchmark(runner.step, n_repeat=steps, n_warmup=10)
    host, gpu = result.cpu_times.mean() * 1e3, result.gpu_times.mean() * 1e3
    return f"{runner.model}, batch {runner.batch}, cuda: host {host:.3f} ms, GPU {gpu:.3f} ms per step"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=("mlp", "lenet", "gpt"), default="lenet")  # gpt: --batch 12 (x 64 tokens)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    args = p.parse_args(argv)
    runner = MinidlRunner(args.model, args.batch, args.device)
    if args.device == "cuda":
        print(host_and_gpu_time(runner, args.steps))
    rows, per_step = profile_shares(runner, args.steps)
    print(format_shares(rows, per_step, f"{args.model}, batch {args.batch}"))


if __name__ == "__main__":
    main()
