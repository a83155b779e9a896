"""`DataLoader`: a dataset in (shuffled) batches of Tensors on a device.

    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, seed=0, device="cpu")
    for xb, yb in loader:      # xb: (32, ...) float32 Tensor, yb: (32,) int64 Tensor
        ...

Every pass (`iter(loader)`) draws a new order from the loader's own generator, so the sequence of
epochs is the same on every run with the same seed. Without a seed, the generator's seed is drawn
from minidl's global generator, which `mdl.manual_seed` seeds.
"""

import math

import numpy as np

from minidl.backend import get_backend
from minidl.creation import normalize_dtype
from minidl.data.dataset import TensorDataset, fetch_batch
from minidl.errors import ArgumentError, ArgumentTypeError, DTypeError
from minidl.tensor import Tensor


class DataLoader:
    """Batches of `dataset` as Tensors on `device`.

    Args:
        dataset:    a Dataset (or anything with `len()` and `[i]`); samples are tuples like `(x, y)`.
                    A tuple of arrays `(X, y)` (the form Trainer.fit takes) is `TensorDataset(X, y)`.
        batch_size: samples per batch; the last batch is smaller unless `drop_last`.
        shuffle:    a new random order every epoch (from the loader's generator) instead of 0..N-1.
        drop_last:  drop the last batch when it is smaller than `batch_size`.
        seed:       seeds the loader's generator (shuffling and `transform`); None: drawn from
                    minidl's global generator (`mdl.manual_seed`).
        transform:  `transform(features, rng)` applied to each batch's first array (the features),
                    on the device, e.g. `transforms.RandomHorizontalFlip(0.5)`.
        device:     where the batches live: "cpu" or "cuda".
        float_dtype: floating arrays are converted to it per batch (float32 by default, as minidl's
                    tensors; None keeps their dtype). Integer arrays (labels) keep theirs.

    `len(loader)` is the number of batches per epoch. Each batch is a tuple of Tensors, one per array
    of a sample (`(xb, yb)` for `TensorDataset(X, y)`), or one Tensor when samples are single arrays.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None, transform=None,
                 device="cpu", float_dtype=np.float32):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ArgumentError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if isinstance(dataset, tuple) and dataset and all(hasattr(a, "shape") for a in dataset):
            dataset = TensorDataset(*dataset)  # (X, y) as Trainer.fit takes it: the rows are the samples
        if not (hasattr(dataset, "__len__") and (hasattr(dataset, "__getitem__") or hasattr(dataset, "get_batch"))):
            raise ArgumentTypeError(f"DataLoader: dataset must be a Dataset (anything with len() and [i]), e.g. "
                                    f"TensorDataset(X, y); got {type(dataset).__name__}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ArgumentError(f"DataLoader: seed must be a non-negative integer or None, got {seed!r}")
        if transform is not None and not callable(transform):
            raise ArgumentTypeError(f"DataLoader: transform must be callable as transform(batch, rng), got {transform!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.transform = transform
        self.backend = get_backend(device)
        self.float_dtype = None if float_dtype is None else normalize_dtype(float_dtype)
        if self.float_dtype is not None and self.float_dtype.kind != "f":
            raise DTypeError(f"DataLoader: float_dtype must be a floating dtype (float32, float64) or None, "
                             f"got {self.float_dtype}")
        if seed is None:
            seed = int(get_backend("cpu").rng.integers(2**63))
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    @property
    def device(self):
        return self.backend.device

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        for b in range(len(self)):
            indices = order[b * self.batch_size:(b + 1) * self.batch_size]
            yield self._to_tensors(fetch_batch(self.dataset, indices))

    def _to_tensors(self, batch):
        """Host arrays -> device Tensors (float arrays as float_dtype); transform the features."""
        single = not isinstance(batch, tuple)
        arrays = [self._to_device(array) for array in ((batch,) if single else batch)]
        if self.transform is not None:
            arrays[0] = self.transform(arrays[0], self.rng)
        tensors = tuple(Tensor._make(array, self.backend, False, None) for array in arrays)
        return tensors[0] if single else tensors

    def _to_device(self, array):
        array = np.asarray(array)
        if array.dtype.kind not in "biuf":
            raise DTypeError(f"DataLoader: the dataset gave a batch of dtype {array.dtype} (shape {array.shape}); "
                             f"tensors hold numbers (bool, int or float): convert the data first")
        if self.float_dtype is not None and array.dtype.kind == "f":
            array = array.astype(self.float_dtype, copy=False)
        return self.backend.from_host(array)

    def __repr__(self):
        return (f"DataLoader({len(self.dataset)} samples, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, device={self.device!r})")
