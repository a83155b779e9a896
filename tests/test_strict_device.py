"""The strict stand-in device behaves like CuPy at the NumPy boundary, so device leaks fail in CI."""

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl.backend import get_backend


def strict_array(values):
    return get_backend("strict").asarray(np.asarray(values, dtype=np.float64))


def test_implicit_conversion_to_numpy_raises():
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(strict_array([1.0, 2.0]))
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(mdl.tensor([1.0], device="strict"))


def test_mixing_with_numpy_arrays_raises():
    a = strict_array([1.0, 2.0])
    with pytest.raises(TypeError, match="mixed"):
        a + np.ones(2)
    with pytest.raises(TypeError, match="mixed"):
        np.ones(2) * a
    with pytest.raises(TypeError, match="mixed"):
        get_backend("strict").xp.concatenate([a, np.ones(2)])


def test_array_code_works_through_xp_and_methods():
    xp = get_backend("strict").xp
    a = strict_array([[1.0, -2.0], [3.0, 4.0]])
    result = xp.maximum(a, 0).sum(axis=0) @ xp.ones(2) + a.T[0, 1]
    assert isinstance(result, type(a))
    assert float(result) == 11.0  # max(a, 0) = [[1, 0], [3, 4]]: column sums (4, 4) @ (1, 1) = 8, + a[1, 0] = 3
    assert get_backend("strict").to_host(a).tolist() == [[1.0, -2.0], [3.0, 4.0]]


def test_scalars_come_back_as_zero_dim_device_arrays_as_cupy_does():
    a = strict_array([1.0, 2.0])
    total = a.sum()
    assert type(total) is type(a) and total.shape == ()


def test_a_training_step_runs_on_the_strict_device():
    mdl.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).to("strict")
    x = mdl.randn(5, 4, device="strict")
    target = mdl.tensor([0, 1, 2, 0, 1], device="strict")
    logits = model(x)
    loss = -(logits.log_softmax(axis=1)[mdl.arange(5, device="strict"), target]).mean()
    loss.backward()
    for p in model.parameters():
        assert p.grad.device == "strict" and p.grad.shape == p.shape
