"""`len(t)`, `for row in t`, `list(t)` and out-of-range indices, against NumPy's behaviour."""

import numpy as np
import pytest

import minidl as mdl


def test_iteration_walks_the_first_axis_like_numpy(device):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = mdl.tensor(a, device=device)
    rows = list(t)
    assert len(t) == 3 and len(rows) == 3
    for row, expected in zip(rows, a):
        assert isinstance(row, mdl.Tensor) and row.device == device
        np.testing.assert_array_equal(row.numpy(), expected)


def test_each_row_is_differentiable_as_an_index():
    a = np.arange(6, dtype=np.float64).reshape(3, 2)
    t = mdl.tensor(a, requires_grad=True)
    loss = sum((k + 1.0) * (row * row).sum() for k, row in enumerate(t))
    loss.backward()
    # closed form: d/da_kj of sum_k (k+1) a_kj^2 = 2 (k+1) a_kj
    np.testing.assert_allclose(t.grad.numpy(), 2 * np.array([[1.0], [2.0], [3.0]]) * a)


def test_zero_d_tensor_has_no_length_nor_iteration():
    t = mdl.tensor(3.0)
    with pytest.raises(TypeError):
        len(t)
    with pytest.raises(TypeError):
        iter(t)


@pytest.mark.parametrize("index", [3, -4, (0, 5), (0, 0, 0)])
def test_out_of_range_index_is_an_index_error(index):
    t = mdl.zeros(3, 2)
    with pytest.raises(IndexError, match=r"does not fit a tensor of shape \(3, 2\)") as info:
        t[index]
    with pytest.raises(IndexError):  # NumPy agrees that this index is an IndexError
        np.zeros((3, 2))[index]
    assert isinstance(info.value, mdl.ShapeError) and isinstance(info.value, mdl.IndexOutOfRangeError)


def test_unpacking_and_enumeration():
    x, y = mdl.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.numpy().tolist() == [1.0, 2.0] and y.numpy().tolist() == [3.0, 4.0]
    assert [float(v) for v in mdl.tensor([5.0, 6.0, 7.0])] == [5.0, 6.0, 7.0]
