"""Tensor creation, default dtypes, attributes, conversions and bad input."""

import numpy as np
import pytest

import minidl as mdl


@pytest.mark.parametrize("data, dtype", [
    (1.5, np.float32), ([1.0, 2.0], np.float32), ([[1, 2], [3, 4]], np.int64), (3, np.int64),
    ([True, False], np.bool_), (np.zeros(3, np.float64), np.float64), (np.zeros(3, np.int32), np.int32),
    (np.zeros(3, np.float32), np.float32),
])
def test_default_dtypes_follow_pytorch(data, dtype):
    assert mdl.tensor(data).dtype == dtype


def test_tensor_copies_its_input():
    a = np.ones(3)
    t = mdl.tensor(a)
    a[0] = 5
    assert t.numpy()[0] == 1


def test_attributes(device):
    t = mdl.tensor(np.arange(6.0).reshape(2, 3), device=device, requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and t.dtype == np.float64
    assert t.device == device and t.is_leaf and t.grad is None and t.grad_fn is None
    assert t.T.shape == (3, 2)
    assert isinstance(t.numpy(), np.ndarray)
    np.testing.assert_array_equal(t.numpy(), np.arange(6.0).reshape(2, 3))


def test_numpy_returns_a_host_copy():
    t = mdl.tensor([1.0, 2.0])
    t.numpy()[0] = 9
    assert t.numpy()[0] == 1


@pytest.mark.parametrize("factory", [mdl.zeros, mdl.ones, mdl.rand, mdl.randn])
def test_factories_take_a_tuple_or_separate_ints(factory, device):
    assert factory((2, 3), device=device).shape == (2, 3)
    t = factory(2, 3, dtype=mdl.float64, device=device, requires_grad=True)
    assert t.shape == (2, 3) and t.dtype == np.float64 and t.requires_grad and t.device == device


def test_factory_values():
    np.testing.assert_array_equal(mdl.zeros(2).numpy(), [0, 0])
    np.testing.assert_array_equal(mdl.full((2,), 7.0).numpy(), [7, 7])
    assert mdl.full((2,), 7.0).dtype == np.float32 and mdl.full(2, 7).dtype == np.int64
    np.testing.assert_array_equal(mdl.arange(4).numpy(), np.arange(4))
    assert mdl.arange(4).dtype == np.int64 and mdl.arange(0.0, 1.0, 0.25).dtype == np.float32
    np.testing.assert_array_equal(mdl.eye(3).numpy(), np.eye(3))
    like = mdl.ones(2, 3, dtype=mdl.float64)
    assert mdl.zeros_like(like).dtype == np.float64 and mdl.ones_like(like).shape == (2, 3)


def test_rand_and_randn_are_seeded_and_distributed():
    mdl.manual_seed(0)
    a = mdl.randn(100_000).numpy()
    mdl.manual_seed(0)
    b = mdl.randn(100_000).numpy()
    np.testing.assert_array_equal(a, b)
    assert abs(a.mean()) < 0.02 and abs(a.std() - 1) < 0.02
    u = mdl.rand(100_000).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01


def test_item_and_python_conversions():
    t = mdl.tensor([[2.5]])
    assert t.item() == 2.5 and float(t) == 2.5 and bool(t)
    with pytest.raises(mdl.ShapeError, match="single-element"):
        mdl.tensor([1.0, 2.0]).item()


@pytest.mark.parametrize("bad", ["abc", [1.0, "a"], {"a": 1}, [[1.0, 2.0], [3.0]], np.array(["x"])])
def test_non_numeric_data_raises_a_clear_error(bad):
    with pytest.raises(mdl.DTypeError, match="tensor"):
        mdl.tensor(bad)


def test_unsupported_dtype_argument():
    with pytest.raises(mdl.DTypeError, match="complex"):
        mdl.zeros(2, dtype=np.complex64)


def test_unknown_device():
    with pytest.raises(mdl.DeviceError, match="unknown device 'tpu'"):
        mdl.zeros(2, device="tpu")


def test_to_moves_between_devices_and_back():
    t = mdl.tensor([1.0, 2.0])
    s = t.to("strict")
    assert s.device == "strict" and s.to("cpu").device == "cpu"
    np.testing.assert_array_equal(s.numpy(), [1.0, 2.0])
    assert t.to("cpu") is t


def test_cuda_is_available_returns_a_bool():
    assert isinstance(mdl.cuda.is_available(), bool)


def test_backend_object():
    b = mdl.get_backend("cpu")
    assert b.xp is np and b.device == "cpu"


def test_python_scalars_do_not_promote_float32():
    x = mdl.tensor([1.0, 2.0])
    for y in (x * 0.5, 0.5 * x, x + 1, x - 2.0, 2.0 - x, x / 3.0, 3.0 / x, x ** 2, x ** 0.5):
        assert y.dtype == np.float32


def test_mixed_float32_and_float64_promote_like_numpy():
    a = mdl.tensor([1.0], dtype=mdl.float32, requires_grad=True)
    b = mdl.tensor([2.0], dtype=mdl.float64, requires_grad=True)
    y = a * b
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_comparisons_give_boolean_tensors_without_gradient():
    x = mdl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == np.bool_ and not m.requires_grad
    np.testing.assert_array_equal(m.numpy(), [False, True, True])
    np.testing.assert_array_equal((x == 2.0).numpy(), [False, True, False])


def test_argmax_argmin():
    x = mdl.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    np.testing.assert_array_equal(x.argmax(axis=1).numpy(), [1, 0])
    np.testing.assert_array_equal(mdl.argmin(x, axis=0).numpy(), [0, 1, 0])
    assert x.argmax().item() == 3


def test_repr_mentions_dtype_device_and_grad():
    text = repr(mdl.tensor([1.0], dtype=mdl.float64, device="strict", requires_grad=True))
    assert "float64" in text and "strict" in text and "requires_grad=True" in text


def test_matmul_of_incompatible_shapes_names_both():
    with pytest.raises(mdl.ShapeError, match=r"\(2, 3\).*\(4, 5\)"):
        mdl.ones(2, 3) @ mdl.ones(4, 5)


def test_shape_errors_are_value_errors_and_minidl_errors():
    with pytest.raises(ValueError):
        mdl.ones(2, 3) @ mdl.ones(4, 5)
    with pytest.raises(mdl.MinidlError):
        mdl.ones(2, 3).reshape(4)
