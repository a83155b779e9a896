"""`minidl.benchmark.main(["--quick", ...])` (the harness behind `minidl bench`) writes its three files
with sane fields. No timing is asserted: speed is measured in benchmarks/, never tested."""

import json
import math

import pytest

from minidl import benchmark


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    assert benchmark.main(["--quick", "--out", str(out), "--batch-sizes", "4", "8"]) == 0
    return out


def test_quick_run_writes_json_markdown_and_png(quick_run):
    for name in ("results.json", "results.md", "throughput.png"):
        assert (quick_run / name).stat().st_size > 0
    assert (quick_run / "throughput.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_json_fields_are_sane(quick_run):
    results = json.loads((quick_run / "results.json").read_text())
    assert results["gemm_flops"]["cpu"] > 1e8
    runs = results["runs"]
    frameworks = {(r["framework"], r["device"]) for r in runs}
    assert ("minidl", "cpu") in frameworks
    assert {(r["model"], r["batch"]) for r in runs} == {(m, b) for m in ("mlp", "lenet") for b in (4, 8)}
    for r in runs:
        assert r["ms_per_step"] > 0 and math.isfinite(r["ms_per_step"])
        assert r["samples_per_s"] == pytest.approx(r["batch"] / r["ms_per_step"] * 1e3)
        assert set(r["split_ms"]) == {"forward", "backward", "update"}
        assert all(v >= 0 for v in r["split_ms"].values())
        assert 0 < r["fraction_of_gemm_rate"] < 10
        assert r["matmul_gflop_per_step"] == pytest.approx(benchmark.matmul_flops(r["model"], r["batch"]) / 1e9)
        if r["framework"] == "minidl" and ("torch", r["device"]) in frameworks:
            assert r["ratio_to_torch"] > 0


def test_markdown_has_one_row_per_run(quick_run):
    text = (quick_run / "results.md").read_text()
    results = json.loads((quick_run / "results.json").read_text())
    rows = [line for line in text.splitlines() if line.startswith("| mlp") or line.startswith("| lenet")]
    assert len(rows) == len(results["runs"])
    assert "GFLOP/s" in text


def test_models_match_their_torch_twins(torch):
    import numpy as np

    for model in ("mlp", "lenet"):
        ours = benchmark.MinidlRunner(model, 3)
        theirs = benchmark.TorchRunner(model, 3, ours.net)
        y_ours = ours.net(ours.x).numpy()
        y_theirs = theirs.net(theirs.x).detach().numpy()
        np.testing.assert_allclose(y_ours, y_theirs, rtol=1e-4, atol=1e-5)


def test_matmul_flops_counts_forward_and_both_gradients():
    forward = benchmark.matmul_flops("mlp", 10, training=False)
    assert forward == 2 * 10 * (784 * 256 + 256 * 128 + 128 * 10)
    assert benchmark.matmul_flops("mlp", 10) == 3 * forward - 2 * 10 * 784 * 256
