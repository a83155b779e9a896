"""Where a training step's time goes: profile shares per op, forward and backward apart.

    rows, per_step = profile_shares(runner, steps=50)    # runner: a minidl.benchmark.MinidlRunner

Runs `steps` training steps under cProfile and attributes time to each `Function` subclass's `forward`
and `backward` (cumulative time: the NumPy calls inside count for the op), to the optimizer update, and
the rest to the engine (graph recording, backward bookkeeping, Module calls, argument checks). A fast
path that calls its reference's forward is counted once, for the caller. cProfile adds a cost to every
Python call, so the engine's share is overstated; the shares of big ops are accurate. Read shares, not
absolute times. Used by `minidl bench --profile` and benchmarks/profile_step.py.
"""

import cProfile
import pstats

from minidl.autograd import Function

ENGINE = "engine, modules, checks (the rest)"
UPDATE = "optimizer update"


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


def profile_shares(runner, steps, warmup=5):
    """([(label, seconds per step, share of the step)] sorted by time with the engine's row last, seconds
    per step under the profiler), for `steps` calls of `runner.step()` after `warmup` unprofiled ones."""
    for _ in range(warmup):
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
            label = UPDATE
        if label is not None:
            # a fused op that calls its parent's forward: count that time once, for the caller
            nested = sum(caller_stats[3] for caller, caller_stats in callers.items() if caller in names)
            shares[label] = shares.get(label, 0.0) + cumtime - nested
    rows = sorted(shares.items(), key=lambda kv: -kv[1])
    rows.append((ENGINE, total - sum(seconds for _, seconds in rows)))
    return [(label, seconds / steps, seconds / total) for label, seconds in rows], total / steps


def format_shares(rows, per_step, title, most=None):
    """The rows as text: a title line, then one line per row (`most`: the first rows only, and the engine)."""
    shown = rows if most is None or len(rows) <= most + 1 else rows[:most] + [rows[-1]]
    lines = [f"{title}: {per_step * 1e3:.3f} ms per step under cProfile"]
    lines += [f"  {100 * share:5.1f}%  {seconds * 1e3:8.3f} ms  {label}" for label, seconds, share in shown]
    return "\n".join(lines)
