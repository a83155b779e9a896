"""`DataLoader((X, y), ...)`: the (X, y) form Trainer.fit takes is a TensorDataset, batch for batch."""

import numpy as np
import pytest

import minidl as mdl
from minidl.data import DataLoader, TensorDataset


def test_a_tuple_of_arrays_is_a_tensor_dataset():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10) % 3
    from_tuple = list(DataLoader((X, y), batch_size=4, shuffle=True, seed=3))
    from_dataset = list(DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, seed=3))
    assert len(from_tuple) == 3
    for (xa, ya), (xb, yb) in zip(from_tuple, from_dataset):
        np.testing.assert_array_equal(xa.numpy(), xb.numpy())
        np.testing.assert_array_equal(ya.numpy(), yb.numpy())
    # and each batch is the rows of X and y at the same indices (an independent check of the pairing)
    for xb, yb in from_tuple:
        np.testing.assert_array_equal(xb.numpy()[:, 0] / 2 % 3, yb.numpy())


def test_tuple_of_unequal_arrays_says_which():
    with pytest.raises(mdl.ShapeError, match="same number of rows"):
        DataLoader((np.zeros((5, 2)), np.zeros(4)), batch_size=2)
