"""Shared fixtures: the devices every device-aware test runs on, and the PyTorch reference."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import minidl as mdl

# The real data sets: the folder $MINIDL_DATA names (CI sets it), else shared/data beside the checkout when it
# exists. Without either (or when $MINIDL_DATA names no folder), tests marked `needs_data` skip (saying so) and
# MINIDL_DATA points at an empty temporary folder, so that no test writes beside the clone or into the user's
# cache. Tests never download.
_BESIDE = Path(__file__).resolve().parents[2] / "shared" / "data"
if not os.environ.get("MINIDL_DATA") and _BESIDE.is_dir():
    os.environ["MINIDL_DATA"] = str(_BESIDE)
HAVE_DATA = bool(os.environ.get("MINIDL_DATA")) and Path(os.environ["MINIDL_DATA"]).is_dir()
if not HAVE_DATA:
    os.environ["MINIDL_DATA"] = tempfile.mkdtemp(prefix="minidl-no-data-")
    atexit.register(shutil.rmtree, os.environ["MINIDL_DATA"], ignore_errors=True)
NO_DATA_REASON = ("needs the downloaded data sets: set MINIDL_DATA to the folder that holds them (mnist/, "
                  "fashion-mnist/, ...; see the README's Datasets section)")


def pytest_configure(config):
    config.addinivalue_line("markers", "needs_data: needs the downloaded data sets ($MINIDL_DATA); skips without")


def pytest_runtest_setup(item):
    if not HAVE_DATA and item.get_closest_marker("needs_data") is not None:
        pytest.skip(NO_DATA_REASON)

# "ci" (the default) draws the same examples on every run, so a CI result is reproducible; "slow" explores
# (HYPOTHESIS_PROFILE=slow python -m pytest ...).
settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("slow", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# "strict" is the CPU stand-in whose arrays refuse silent NumPy conversion, as CuPy's do: every
# device-aware test runs on it, so a device leak fails in CI. "cuda" runs only where a GPU works.
DEVICES = ["cpu", "strict", pytest.param("cuda", marks=pytest.mark.gpu)]


@pytest.fixture(params=DEVICES)
def device(request):
    if request.param == "cuda" and not mdl.cuda.is_available():
        pytest.skip("no CUDA GPU with CuPy on this machine")
    return request.param


@pytest.fixture
def torch():
    """PyTorch, the reference implementation; tests using it skip with a reason where it is missing."""
    return pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch==2.13.0)")


@pytest.fixture
def cpu_tuning():
    """The CPU backend's tuning object (mdl.get_backend("cpu").tuning), its fields put back after the test:
    tests set block sizes and threads on it, never by patching a class."""
    import dataclasses

    tuning = mdl.get_backend("cpu").tuning
    saved = dataclasses.asdict(tuning)
    yield tuning
    for name, value in saved.items():
        setattr(tuning, name, value)
