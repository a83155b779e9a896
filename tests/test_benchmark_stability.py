"""`minidl bench` says when a figure is unstable (its rounds spread too far), and its forward / backward / update
parts add up to the step they divide."""

import pytest

from minidl import benchmark


def test_round_spread_is_range_over_median():
    assert benchmark.round_spread([5.0, 75.0, 10.0]) == pytest.approx((75 - 5) / 10)
    assert benchmark.round_spread([1.0, 1.1, 1.05]) == pytest.approx(0.1 / 1.05)
    assert benchmark.round_spread([3.0]) is None  # one round: nothing to compare


def test_split_adds_up_to_the_step_in_the_measured_proportions():
    parts = benchmark.split_of_step(10.0, [2.0, 5.0, 1.0])  # phases measured as 8 ms in all
    assert sum(parts) == pytest.approx(10.0)
    assert parts == pytest.approx([2.5, 6.25, 1.25])


def _run(monkeypatch, rounds_ms):
    """A real run of the MLP at batch 4 on the CPU, with the rounds' times replaced by `rounds_ms`."""
    monkeypatch.setattr(benchmark, "gemm_rate", lambda *a, **k: 1e10)
    monkeypatch.setattr(benchmark, "alternate", lambda fns, rounds, min_time, sync=None:
                        {name: [t / 1e3 for t in rounds_ms] for name in fns})
    lines = []
    results = benchmark.run(models=("mlp",), batch_sizes=(4,), rounds=len(rounds_ms), block=0.001,
                            backends=[("minidl", "cpu")], log=lines.append)
    return results["runs"][0], lines[-1], benchmark.markdown_table(results)


def test_a_spread_of_5_to_75_ms_is_flagged(monkeypatch):
    entry, line, table = _run(monkeypatch, [5.0, 75.0, 10.0])
    assert entry["unstable"] and entry["round_spread"] == pytest.approx(7.0)
    assert "UNSTABLE" in line and "5.000-75.000 ms" in line
    assert "unstable" in table
    assert sum(entry["split_ms"].values()) == pytest.approx(entry["ms_per_step"])  # the parts make the whole


def test_steady_rounds_are_not_flagged(monkeypatch):
    entry, line, table = _run(monkeypatch, [10.0, 10.2, 10.1])
    assert not entry["unstable"] and "UNSTABLE" not in line and "unstable" not in table
    assert sum(entry["split_ms"].values()) == pytest.approx(entry["ms_per_step"])
