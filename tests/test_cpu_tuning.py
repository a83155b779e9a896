"""No process-wide side effects by default: importing minidl, creating tensors and training change no
allocator, thread-pool or floating-point setting. CPU tuning is one object, mdl.get_backend("cpu").tuning,
that `minidl train`, `minidl bench` and the benchmarks switch on.

The process-wide checks run in fresh Python processes (the test process's own state proves nothing):
ctypes.CDLL is wrapped before minidl is imported, so any call of glibc's mallopt is seen.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import minidl as mdl
from minidl.backend.cpu_tuning import CpuTuning

ROOT = Path(__file__).resolve().parents[1]

SPY = """
import ctypes, json, sys
calls = []
_CDLL = ctypes.CDLL
class SpyCDLL:
    def __init__(self, *args, **kwargs):
        self._lib = _CDLL(*args, **kwargs)
    def __getattr__(self, name):
        function = getattr(self._lib, name)
        if name != "mallopt":
            return function
        def mallopt(*args):
            calls.append(args)
            return function(*args)
        return mallopt
ctypes.CDLL = SpyCDLL

import numpy as np
import threadpoolctl
blas_before = {lib["filepath"]: lib["num_threads"] for lib in threadpoolctl.threadpool_info()}
"""

REPORT = """
import dataclasses
import minidl as mdl
subnormal = np.float32(1e-39)
print(json.dumps({"mallopt_calls": len(calls), "tuning": dataclasses.asdict(mdl.get_backend("cpu").tuning),
                  "blas_same": all(blas_before.get(lib["filepath"], lib["num_threads"]) == lib["num_threads"]
                                   for lib in threadpoolctl.threadpool_info()),  # thread pools loaded before
                  "subnormals_kept": bool(subnormal * np.float32(1) == subnormal)}))
"""


def run_python(body, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), MINIDL_NUM_THREADS="")
    result = subprocess.run([sys.executable, "-c", SPY + body + REPORT], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_importing_minidl_and_training_changes_no_process_setting(tmp_path):
    report = run_python("""
import minidl as mdl
from minidl import nn
mdl.manual_seed(0)
model = nn.fuse(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 3)))
opt = mdl.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
x = mdl.randn(8, 1, 8, 8)
for _ in range(3):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), [0, 1, 2, 0, 1, 2, 0, 1])
    loss.backward()
    opt.step()
""", tmp_path)
    assert report["mallopt_calls"] == 0
    assert report["tuning"] == {**vars(CpuTuning()), "keep_freed_memory": False, "threads": 1}
    assert report["blas_same"] and report["subnormals_kept"]


def test_minidl_train_switches_tuning_on(tmp_path):
    report = run_python(f"""
from minidl import cli
assert cli.main(["train", "--quick", "--epochs", "1", "--out", {str(tmp_path / "run")!r}]) == 0
""", tmp_path)
    assert report["mallopt_calls"] == 3 and report["tuning"]["keep_freed_memory"] is True


def test_minidl_bench_switches_tuning_on(tmp_path):
    report = run_python(f"""
from minidl import cli
assert cli.main(["bench", "--quick", "--no-torch", "--models", "mlp", "--batch-sizes", "4",
                 "--out", {str(tmp_path / "bench")!r}]) == 0
""", tmp_path)
    assert report["mallopt_calls"] == 3 and report["tuning"]["keep_freed_memory"] is True


def test_enable_is_idempotent_and_reads_threads_from_the_environment(cpu_tuning, monkeypatch):
    monkeypatch.setenv("MINIDL_NUM_THREADS", "3")
    fresh = CpuTuning(keep_freed_memory=True)  # as if already enabled: no second mallopt
    assert fresh.enable() is fresh and fresh.threads == 3 and fresh.keep_freed_memory
    assert fresh.enable(threads=1).threads == 1


def test_the_tuning_object_lives_on_the_cpu_backend_only():
    assert isinstance(mdl.get_backend("cpu").tuning, CpuTuning)
    assert not hasattr(mdl.get_backend("strict"), "tuning")
    assert np.isscalar(CpuTuning().chunk_bytes)
