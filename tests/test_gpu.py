"""The CuPy backend: a clear error where it cannot run, and (marked `gpu`) parity with the CPU where it can.

The `gpu` tests run only with `-m gpu` on a machine with CuPy and a CUDA GPU; every device-aware test in
the suite also has a `cuda` variant through the `device` fixture (tests/conftest.py).
"""

import importlib
import sys

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
import minidl.optim as optim

backend_registry = importlib.import_module("minidl.backend")  # the subpackage: its registry of backends


@pytest.fixture
def no_cupy(monkeypatch):
    """Pretend CuPy is not installed, and forget any CUDA backend made before."""
    monkeypatch.setitem(sys.modules, "cupy", None)
    monkeypatch.setitem(sys.modules, "cupyx", None)
    monkeypatch.setattr(backend_registry, "_backends", {k: v for k, v in backend_registry._backends.items()
                                                        if k != "cuda"})


def test_asking_for_cuda_without_cupy_names_the_package_and_suggests_cpu(no_cupy):
    with pytest.raises(mdl.DeviceError) as info:
        mdl.zeros(2, device="cuda")
    message = str(info.value)
    assert "CuPy" in message and "pip install minidl[gpu]" in message and 'device="cpu"' in message


def test_cuda_is_not_available_without_cupy(no_cupy):
    assert mdl.cuda.is_available() is False


def test_moving_a_model_to_cuda_without_cupy_fails_clearly(no_cupy):
    with pytest.raises(mdl.DeviceError, match="CuPy"):
        nn.Linear(2, 3).to("cuda")


# -- on a GPU ----------------------------------------------------------------------------------------------
gpu = pytest.mark.gpu
needs_gpu = pytest.mark.skipif("not __import__('minidl').cuda.is_available()", reason="no CUDA GPU with CuPy")


@gpu
@needs_gpu
def test_arrays_random_numbers_and_models_live_on_the_gpu():
    import cupy

    assert isinstance(mdl.randn(3, 4, device="cuda").data, cupy.ndarray)
    model = nn.Sequential(nn.Linear(4, 3)).to("cuda")
    assert all(isinstance(p.data, cupy.ndarray) for p in model.parameters())
    assert model(mdl.ones(2, 4, device="cuda")).device == "cuda"
    # the CPU's column-major Linear weight arrives row-major (the GPU's order), the same values
    layer = nn.Linear(4, 3)
    host = layer.weight.numpy()
    layer.to("cuda")
    assert layer.weight.data.flags.c_contiguous
    np.testing.assert_array_equal(cupy.asnumpy(layer.weight.data), host)


@gpu
@needs_gpu
def test_a_lenet_training_step_on_cuda_matches_the_cpu():
    def lenet():
        return nn.Sequential(nn.Conv2d(1, 6, 5), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
                             nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(256, 120), nn.ReLU(),
                             nn.Linear(120, 10)).astype(mdl.float64)

    mdl.manual_seed(0)
    cpu_model, gpu_model = lenet(), lenet()
    gpu_model.load_state_dict(cpu_model.state_dict())
    gpu_model.to("cuda")
    x = np.random.default_rng(0).standard_normal((8, 1, 28, 28))
    y = np.arange(8) % 10
    for model, device in ((cpu_model, "cpu"), (gpu_model, "cuda")):
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        for _ in range(3):
            opt.zero_grad()
            nn.CrossEntropyLoss()(model(mdl.tensor(x, device=device)), mdl.tensor(y, device=device)).backward()
            opt.step()
    for key, value in cpu_model.state_dict().items():
        np.testing.assert_allclose(mdl.get_backend("cuda").to_host(gpu_model.state_dict()[key]), value,
                                   rtol=1e-9, atol=1e-12, err_msg=key)


@gpu
@needs_gpu
def test_data_loader_yields_gpu_batches():
    from minidl.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(np.ones((10, 3), np.float32), np.arange(10)), batch_size=4, device="cuda")
    xb, yb = next(iter(loader))
    assert xb.device == "cuda" and yb.device == "cuda"
