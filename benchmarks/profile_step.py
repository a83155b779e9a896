"""Where a minidl training step's time goes: profile shares per op (forward and backward separately).

    python benchmarks/profile_step.py --model lenet --batch 256
    python benchmarks/profile_step.py --model mlp --batch 64 --steps 300
    python benchmarks/profile_step.py --model mlp --batch 4096 --device cuda

Runs `--steps` training steps under cProfile and attributes time to each `Function` subclass's
`forward` and `backward` (cumulative time: the NumPy calls inside count for the op), to the optimizer
update, and the rest to the engine (graph recording, backward bookkeeping, Module calls, argument
checks). cProfile adds a cost per Python call, so the engine's share is overstated; the op shares of
big ops are accurate. Shares, not absolute times, are what to read.

On `--device cuda` the profile shows the host's side (Python, and CuPy's kernel launches; the GPU runs
asynchronously), and a first line compares the step's host time with its GPU time (CUDA events, through
`cupyx.profiler.benchmark`): when the two are close, the step is bound by launches, not by the GPU.
"""

import argparse
import cProfile
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from minidl.autograd import Function  # noqa: E402
from minidl.benchmark import MinidlRunner  # noqa: E402


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def op_code_names():
    """{(file, first line, function name): 'Op.forward' | 'Op.backward'} for every Function subclass."""
    names = {}
    for cls in _subclasses(Function):
        for method in ("forward", "backward"):
            fn = cls.__dict__.get(method)
            if fn is not None and hasattr(fn, "__code__"):
                code = fn.__code__
                names[(code.co_filename, code.co_firstlineno, code.co_name)] = f"{cls.__name__}.{method}"
    return names


def profile_shares(runner, steps):
    """[(label, seconds per step, share)] sorted by time, plus the total seconds per step."""
    for _ in range(5):
        runner.step()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        runner.step()
    prof.disable()
    stats = pstats.Stats(prof).stats
    names = op_code_names()
    total = max(ct for (_, _, name), (_, _, _, ct, _) in stats.items() if name == "step")
    shares = {}
    for key, (_, _, _, cumtime, callers) in stats.items():
        label = names.get(key)
        if label is None and (key[2] == "_update" or key[2].startswith("blas_")) and any(
                caller[2] == "step" and caller[0].endswith("optimizer.py") for caller in callers):
            # what Optimizer.step calls: the reference _update or its fast sibling (minidl/optim/fast.py)
            label = "optimizer update"
        if label is not None:
            # a fused op that calls its parent's forward: count that time once, for the caller
            nested = sum(caller_stats[3] for caller, caller_stats in callers.items() if caller in names)
            shares[label] = shares.get(label, 0.0) + cumtime - nested
    rows = sorted(shares.items(), key=lambda kv: -kv[1])
    ops_total = sum(seconds for _, seconds in rows)
    rows.append(("engine, modules, checks (the rest)", total - ops_total))
    return [(label, seconds / steps, seconds / total) for label, seconds in rows], total / steps


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
    print(f"{args.model}, batch {args.batch}: {per_step * 1e3:.3f} ms per step under cProfile")
    for label, seconds, share in rows:
        print(f"  {100 * share:5.1f}%  {seconds * 1e3:8.3f} ms  {label}")


if __name__ == "__main__":
    main()
