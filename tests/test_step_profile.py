"""minidl.step_profile (behind `minidl bench --profile` and benchmarks/profile_step.py): per-op shares of a
step. Checked against a known cost, an op that sleeps a fixed time, not against the profiler's own output."""

import json
import time

import pytest

import minidl as mdl
from minidl import benchmark, nn
from minidl.autograd import Function
from minidl.step_profile import ENGINE, UPDATE, format_shares, profile_shares

SLEEP = 0.02


class Sleep(Function):
    """y = x;   dL/dx = dL/dy   (the forward also sleeps SLEEP seconds: a known cost for the profiler)"""

    def forward(self, x):
        time.sleep(SLEEP)
        return x.copy()

    def backward(self, gy):
        return gy


class SleepLayer(nn.Module):
    def forward(self, x):
        return Sleep()(x)


def test_a_known_cost_gets_its_share_and_the_shares_add_up():
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10), SleepLayer())
    rows, per_step = profile_shares(benchmark.MinidlRunner("mlp", 8, net=net), steps=5, warmup=1)
    seconds = {label: s for label, s, _ in rows}
    assert SLEEP <= seconds["Sleep.forward"] <= SLEEP * 1.5  # the sleep, and little else
    assert seconds["Sleep.forward"] / per_step == pytest.approx(dict((r[0], r[2]) for r in rows)["Sleep.forward"])
    assert sum(share for _, _, share in rows) == pytest.approx(1.0)
    assert {"Linear.forward", "Linear.backward", UPDATE} <= set(seconds) and rows[-1][0] == ENGINE
    text = format_shares(rows, per_step, "tiny", most=2)
    assert text.splitlines()[0].startswith("tiny: ") and len(text.splitlines()) == 4 and ENGINE in text


def test_bench_profile_prints_and_saves_the_shares(tmp_path, capsys):
    assert benchmark.main(["--quick", "--no-torch", "--models", "gpt", "--profile", "--out", str(tmp_path)]) == 0
    assert "where minidl's gpt step goes (cpu, batch 12)" in capsys.readouterr().out
    (run,) = json.loads((tmp_path / "results.json").read_text())["runs"]
    ops = {row["op"]: row["share"] for row in run["profile"]["ops"]}
    assert sum(ops.values()) == pytest.approx(1.0) and ENGINE in ops
    fast = mdl.fast_paths_enabled()
    assert {"Linear.forward", "PackedSelfAttention.forward" if fast else "ScaledDotProductAttention.forward"} <= set(ops)
    assert "| Linear.backward |" in (tmp_path / "results.md").read_text()
