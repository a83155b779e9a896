"""The strict stand-in device behaves like CuPy at the NumPy boundary, so device leaks fail in CI."""

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl.nn import functional as F
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


# -- checks that read the data: deferred where reading a flag stalls the host (the GPU) ------------------------------
@pytest.fixture
def deferring(monkeypatch):
    """The strict backend deferring its data checks, as CuPy's does (Backend.check)."""
    backend = get_backend("strict")
    monkeypatch.setattr(backend, "defers_checks", True)
    monkeypatch.setattr(backend, "_pending_checks", [])
    return backend


def _flag(backend, value):
    return backend.asarray(np.array(value))


def test_a_deferred_check_raises_at_the_next_host_read_and_only_once(deferring):
    x = mdl.ones(2, device="strict")
    deferring.check(_flag(deferring, False), lambda: AssertionError("must not be raised"))
    deferring.check(_flag(deferring, True), lambda: mdl.ArgumentError("first failure"))
    deferring.check(_flag(deferring, True), lambda: mdl.ArgumentError("second failure"))  # queued: no error yet
    with pytest.raises(mdl.ArgumentError, match="first failure"):
        x.sum().item()
    assert x.sum().item() == 2.0  # raised once, then forgotten
    deferring.check(_flag(deferring, True), lambda: mdl.ArgumentError("third"))
    with pytest.raises(mdl.ArgumentError, match="third"):
        x.numpy()  # any host read surfaces it


def test_deferred_checks_never_pile_up(deferring):
    for _ in range(63):
        deferring.check(_flag(deferring, False), lambda: AssertionError("must not be raised"))
    with pytest.raises(mdl.ArgumentError, match="late"):  # the 64th check reads them all
        deferring.check(_flag(deferring, True), lambda: mdl.ArgumentError("late"))
    assert deferring._pending_checks == []


def test_cross_entropy_queues_its_target_check_without_reading_the_flag(deferring, monkeypatch):
    flags = []
    monkeypatch.setattr(deferring, "check", lambda failed, error: flags.append((failed, error)))
    z = mdl.zeros(2, 3, device="strict")
    F.cross_entropy(z, mdl.tensor([2, 0], device="strict"))
    F.cross_entropy(z, mdl.tensor([0, 2], device="strict"), reduction="none")
    assert [bool(failed) for failed, _ in flags] == [False, False]
    for target, value in (([0, 3], 3), ([-1, 0], -1)):  # the flag and the message of out-of-range targets
        flags.clear()
        try:
            F.cross_entropy(z, mdl.tensor(target, device="strict"))
        except IndexError:  # NumPy's own indexing refuses 3 in forward (CuPy's does not look)
            pass
        (failed, error), = flags
        assert bool(failed) and f"target {value} is out of bounds" in str(error())


def test_the_cpu_checks_at_once():
    with pytest.raises(mdl.ArgumentError, match="target 3 is out of bounds"):
        F.cross_entropy(mdl.zeros(2, 3), mdl.tensor([3, 1]))
