"""mdl.set_flush_denormal: subnormal floats read and written as zero in this thread, and back."""

import platform
import sys
import threading

import numpy as np
import pytest

import minidl as mdl

SUPPORTED = sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")


@pytest.fixture
def flush_off_after():
    yield
    mdl.set_flush_denormal(False)


def subnormal_products():
    """Whether each of three results is nonzero: a float32 and a float64 product whose exact value is
    subnormal, and a subnormal input times 1. Read from the bits: with the switch on, a comparison
    `v != 0` would itself see a subnormal v as zero."""
    values = ((np.array([1e-38], np.float32) * np.float32(0.01))[0], np.float64(1e-300) * 1e-10,
              np.float32(1e-39) * np.float32(1))
    return [any(v.tobytes()) for v in values]


@pytest.mark.skipif(not SUPPORTED, reason="the switch exists on x86-64 Linux only (it returns False elsewhere)")
def test_subnormals_become_zero_and_come_back(flush_off_after):
    assert all(subnormal_products())  # the default: gradual underflow
    assert mdl.set_flush_denormal(True) is True
    assert not any(subnormal_products())
    assert (np.float32(1.5e-38) * np.float32(1)).tobytes() == np.float32(1.5e-38).tobytes()  # normal: untouched
    assert mdl.set_flush_denormal(False) is True
    assert all(subnormal_products())


@pytest.mark.skipif(not SUPPORTED, reason="the switch exists on x86-64 Linux only (it returns False elsewhere)")
def test_the_setting_belongs_to_the_calling_thread(flush_off_after):
    go, seen = threading.Event(), []

    def compute():
        go.wait()
        seen.append(subnormal_products())

    running = threading.Thread(target=compute)
    running.start()  # already running when the switch is set: it keeps its own setting
    mdl.set_flush_denormal(True)
    go.set()
    running.join()
    assert all(seen[0])
    assert not any(subnormal_products())


@pytest.mark.skipif(not SUPPORTED, reason="the switch exists on x86-64 Linux only (it returns False elsewhere)")
def test_sgd_momentum_buffers_do_not_go_subnormal_with_the_switch_on(flush_off_after):
    mdl.set_flush_denormal(True)
    p = mdl.nn.Parameter(mdl.ones(1000))
    opt = mdl.optim.SGD([p], lr=0.1, momentum=0.5)
    p.grad = mdl.full((1000,), 1e-30)  # momentum 0.5: below 1.2e-38 after 27 steps
    opt.step()
    p.grad = mdl.zeros(1000)
    for _ in range(35):  # 1e-30 · 0.5^35 = 2.9e-41: subnormal, unless flushed
        opt.step()
    buf = opt.state[p]["momentum_buffer"]
    assert not np.any(buf.view(np.uint32))  # all bits zero; without the switch: subnormal values


def test_unsupported_platforms_get_false_and_nothing_changes(monkeypatch):
    from minidl.backend import denormals
    monkeypatch.setattr(denormals, "_libm", lambda: None)
    assert mdl.set_flush_denormal(True) is False
    assert all(subnormal_products())
