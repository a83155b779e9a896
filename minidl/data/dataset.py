"""Datasets: anything with `len(ds)` and `ds[i]`, plus `get_batch(indices)` for whole batches at once.

    ds = TensorDataset(X, y)          # X: (N, ...), y: (N,)
    ds[3]                             # (X[3], y[3])
    ds.get_batch(np.array([0, 5]))    # (X[[0, 5]], y[[0, 5]]): one fancy index, no Python loop
"""

import numpy as np

from minidl.backend import backend_of_array
from minidl.errors import ArgumentError, ArgumentTypeError, DTypeError, ShapeError
from minidl.tensor import Tensor


class Dataset:
    """Base class: subclasses define `__len__` and `__getitem__(i)` returning one sample.

    A sample is one array (or number) or a tuple of them, e.g. `(features, label)`. `get_batch`
    stacks samples into batch arrays; subclasses that hold whole arrays override it to index once.
    """

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def get_batch(self, indices):
        """The samples at `indices` (1-d int array), stacked: one array, or a tuple of arrays."""
        return stack_samples([self[int(i)] for i in indices])


def stack_samples(samples):
    """[(x0, y0), (x1, y1), ...] -> (stack(x), stack(y)); [x0, x1, ...] -> stack(x). Host arrays."""
    if isinstance(samples[0], (tuple, list)):
        return tuple(np.stack([np.asarray(sample[k]) for sample in samples]) for k in range(len(samples[0])))
    return np.stack([np.asarray(sample) for sample in samples])


class TensorDataset(Dataset):
    """Samples are the rows of equally long arrays: `ds[i] == (arrays[0][i], arrays[1][i], ...)`.

    Arrays are kept on the host as NumPy arrays (Tensors are copied there); the DataLoader moves each
    batch to its device. Dtypes are kept as given.
    """

    def __init__(self, *arrays):
        if not arrays:
            raise ArgumentError("TensorDataset needs at least one array, e.g. TensorDataset(X, y)")
        self.arrays = tuple(_host_array(array, k) for k, array in enumerate(arrays))
        lengths = [len(array) for array in self.arrays]
        if len(set(lengths)) > 1:
            described = ", ".join(f"array {k} has {n} rows" for k, n in enumerate(lengths))
            raise ShapeError(f"TensorDataset: all arrays must have the same number of rows (samples), but {described}")

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, index):
        return tuple(array[index] for array in self.arrays)

    def get_batch(self, indices):
        return tuple(array[indices] for array in self.arrays)

    def __repr__(self):
        shapes = ", ".join(str(array.shape) for array in self.arrays)
        return f"TensorDataset({shapes})"


class Subset(Dataset):
    """The samples of `dataset` at `indices` (what `random_split` returns)."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def get_batch(self, indices):
        return fetch_batch(self.dataset, self.indices[indices])

    def __repr__(self):
        return f"Subset({len(self)} of {len(self.dataset)} samples)"


def fetch_batch(dataset, indices):
    """`dataset.get_batch(indices)` when it has one, else its samples one by one, stacked."""
    if hasattr(dataset, "get_batch"):
        return dataset.get_batch(indices)
    return stack_samples([dataset[int(i)] for i in indices])


def _host_array(array, position):
    if isinstance(array, Tensor):
        return array.numpy()
    if array is None:
        raise ArgumentTypeError(f"TensorDataset: array {position} is None; expected an array with one row per sample")
    try:
        array = backend_of_array(array).to_host(array)  # lists and NumPy arrays stay; device arrays are copied
        array = np.asarray(array)
    except ValueError as exc:  # ragged nested lists
        raise ShapeError(f"TensorDataset: array {position} is not a rectangular array ({exc})") from exc
    if array.dtype.kind not in "biuf":
        raise DTypeError(f"TensorDataset: array {position} has dtype {array.dtype}; samples must be numbers "
                         f"(bool, int or float)")
    if array.ndim == 0:
        raise ShapeError(f"TensorDataset: array {position} is a scalar; each array needs one row per sample")
    return array
