"""Backend.axpy / Backend.scale (in-place y ← a·x + y, x ← a·x) and the CPU's in_place_updates context.

The NumPy backend sends contiguous float32/float64 arrays of one memory order to SciPy's BLAS and
everything else to NumPy; both routes are checked against the formula computed in float64 by NumPy.
"""

import numpy as np
import pytest

import minidl as mdl
from minidl.backend import numpy_backend

ALPHA = -0.37


def layouts(dtype):
    """(name, x, y, BLAS expected) cases: contiguous pairs take BLAS, the rest NumPy."""
    rng = np.random.default_rng(0)

    def arr(shape, order="C"):
        return np.asarray(rng.standard_normal(shape), dtype=dtype, order=order)

    big = arr((6, 8))
    return [
        ("0-d", arr(()), arr(()), True),
        ("vector", arr(7), arr(7), True),
        ("C, C", arr((5, 4)), arr((5, 4)), True),
        ("F, F", arr((5, 4), "F"), arr((5, 4), "F"), True),
        ("C, F", arr((5, 4)), arr((5, 4), "F"), False),
        ("strided y", arr((6, 4)), big[:, ::2], False),
        ("strided x", big[::2], arr((3, 8)), False),
        ("empty", arr((0, 3)), arr((0, 3)), False),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", range(8), ids=[c[0] for c in layouts(np.float32)])
def test_axpy_and_scale_match_the_formula_in_place(dtype, case):
    name, x, y, blas = layouts(dtype)[case]
    backend = mdl.get_backend("cpu")
    x_before, y_before = x.copy(), y.copy()
    expected_axpy = ALPHA * x_before.astype(np.float64) + y_before
    backend.axpy(ALPHA, x, y)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(y, expected_axpy, rtol=tol, atol=tol, err_msg=name)
    np.testing.assert_array_equal(x, x_before)  # x is only read
    assert y.dtype == dtype
    backend.scale(ALPHA, y)
    np.testing.assert_allclose(y, ALPHA * expected_axpy, rtol=tol, atol=tol, err_msg=name)
    # the route taken: BLAS exactly where both arrays share one contiguous layout
    assert (numpy_backend._level1_blas("axpy", x, y) is not None) == blas


def test_other_dtypes_go_through_numpy():
    backend = mdl.get_backend("cpu")
    x, y = np.arange(4, dtype=np.float16), np.ones(4, dtype=np.float16)
    assert numpy_backend._level1_blas("axpy", x, y) is None
    backend.axpy(0.5, x, y)
    np.testing.assert_array_equal(y, np.float16(1) + np.float16(0.5) * x)
    assert y.dtype == np.float16
    mixed = np.ones(4, dtype=np.float64)
    assert numpy_backend._level1_blas("axpy", x.astype(np.float32), mixed) is None


@pytest.mark.parametrize("alpha", [0.0, 2.2e-309, -1e-46])  # the last two: float64s that are 0 in float32
def test_a_zero_factor_still_propagates_nan_and_inf_as_numpy_does(alpha):
    """BLAS's axpy returns at once when alpha = 0; NumPy and PyTorch compute y + 0·x (NaN for NaN or inf).
    A float64 alpha too small for float32 is 0 to saxpy too (an SGD lr of 2.2e-309: found by the slow fuzz)."""
    backend = mdl.get_backend("cpu")
    x = np.array([np.nan, np.inf, -np.inf, 2.0], dtype=np.float32)
    y = np.ones(4, dtype=np.float32)
    with np.errstate(invalid="ignore"):
        expected_axpy, expected_scale = y + alpha * x, x * alpha
        backend.axpy(alpha, x, y)
        scaled = x.copy()
        backend.scale(alpha, scaled)
    np.testing.assert_array_equal(y, expected_axpy)  # [nan, nan, nan, 1]
    np.testing.assert_array_equal(scaled, expected_scale)


def test_a_read_only_target_is_refused_as_numpy_refuses_it():
    backend = mdl.get_backend("cpu")
    y = np.ones(3, dtype=np.float32)
    y.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        backend.axpy(1.0, np.ones(3, dtype=np.float32), y)


def test_in_place_updates_keeps_blas_on_one_thread_and_restores_it():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    backend = mdl.get_backend("cpu")
    backend.axpy(1.0, np.ones(2), np.ones(2))  # SciPy's BLAS loaded, as after an optimizer's first step
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        before = {lib["filepath"]: lib["num_threads"] for lib in threadpoolctl.threadpool_info()
                  if lib["user_api"] == "blas"}
        with backend.in_place_updates():
            inside = {lib["filepath"]: lib["num_threads"] for lib in threadpoolctl.threadpool_info()
                      if lib["user_api"] == "blas"}
        after = {lib["filepath"]: lib["num_threads"] for lib in threadpoolctl.threadpool_info()
                 if lib["user_api"] == "blas"}
    assert before and set(inside.values()) == {1}
    assert after == before
