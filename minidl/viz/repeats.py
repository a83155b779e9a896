"""Find blocks that repeat back to back (an unrolled RNN's time steps), so pictures can show them once.

    find_repeats(["Sum", "Tanh", "Add", "MatMul", "Tanh", "Add", "MatMul", "MatMul"])
    # -> [Run(start=0, period=1, repeats=1), Run(start=1, period=3, repeats=2), Run(start=7, period=1, repeats=1)]

The sequence is any list of hashable signatures (an op's name and shapes). Greedy from the left: at
each position, the block length (period) whose back-to-back copies cover the most items wins (ties: the
shorter block); positions with no block repeated at least `min_repeats` times are runs of one.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Run:
    """`repeats` copies of the block items[start : start + period], back to back."""

    start: int
    period: int
    repeats: int

    @property
    def stop(self):
        return self.start + self.period * self.repeats


def find_repeats(signatures, max_period=64, min_repeats=3):
    """Split `signatures` into consecutive Runs covering it (see the module docstring)."""
    runs, i, n = [], 0, len(signatures)
    while i < n:
        best = Run(i, 1, 1)
        for period in range(1, min(max_period, (n - i) // min_repeats) + 1):
            block = signatures[i:i + period]
            repeats = 1
            while signatures[i + repeats * period:i + (repeats + 1) * period] == block:
                repeats += 1
            if repeats >= min_repeats and period * repeats > best.period * best.repeats:
                best = Run(i, period, repeats)
        runs.append(best)
        i = best.stop
    return runs
