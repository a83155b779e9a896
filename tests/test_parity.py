"""The CPU/GPU parity check, exercised between the CPU and the strict stand-in device."""

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl.parity import check_parity


class Skewed(nn.Module):
    """Adds 1e-3 on the strict device only: a stand-in for a GPU kernel that is slightly wrong."""

    def forward(self, x):
        return x + (1e-3 if x.device == "strict" else 0.0)


def lenet(*extra):
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), *extra, nn.Flatten(), nn.Linear(4 * 3 * 3, 5))


def test_identical_devices_agree_op_by_op_and_in_gradients():
    mdl.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((2, 1, 8, 8)).astype(np.float32)
    report = check_parity(lenet(), x, devices=("cpu", "strict"), loss_fn=nn.CrossEntropyLoss(), target=[1, 3])
    assert report.ok, str(report)
    assert report.ops_compared >= 4 and "parity OK" in str(report)


def test_the_first_differing_op_and_its_layer_are_named():
    mdl.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((2, 1, 8, 8)).astype(np.float32)
    report = check_parity(lenet(Skewed()), x, devices=("cpu", "strict"), loss_fn=nn.CrossEntropyLoss(),
                          target=[1, 3])
    assert not report.ok
    assert report.first_mismatch["op"] == "AddScalar" and "3 (Skewed)" in report.first_mismatch["layer"]
    assert "max abs diff 0.001" in str(report)


def test_a_looser_tolerance_accepts_the_small_difference():
    x = np.zeros((1, 1, 8, 8), np.float32)
    report = check_parity(lenet(Skewed()), x, devices=("cpu", "strict"), rtol=0, atol=1e-2)
    assert report.first_mismatch is None


@pytest.mark.gpu
@pytest.mark.skipif("not __import__('minidl').cuda.is_available()", reason="no CUDA GPU with CuPy")
def test_cpu_and_cuda_agree_on_a_lenet():
    mdl.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 10))
    x = np.random.default_rng(0).standard_normal((16, 1, 28, 28)).astype(np.float32)
    report = check_parity(model, x, loss_fn=nn.CrossEntropyLoss(), target=np.arange(16) % 10)
    assert report.ok, str(report)
