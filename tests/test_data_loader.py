"""Datasets, DataLoader and splits (minidl.data): coverage of every index, seeding, devices, errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minidl as mdl
from minidl.backend import get_backend
from minidl.data import (DataLoader, Dataset, Subset, TensorDataset, random_split, train_val_test_split,
                         transforms)


def _indices_seen(loader):
    """All sample indices in one epoch, in order (datasets built with X[:, 0] == index)."""
    return np.concatenate([xb.numpy()[:, 0].astype(np.int64) for xb, _ in loader])


def _index_dataset(n, features=3):
    X = np.repeat(np.arange(n, dtype=np.float64)[:, None], features, axis=1)
    return TensorDataset(X, np.arange(n) % 4)


# -- datasets -------------------------------------------------------------------------------------

def test_tensor_dataset_rows_and_batches():
    X, y = np.arange(12.0).reshape(6, 2), np.arange(6)
    ds = TensorDataset(X, y)
    assert len(ds) == 6
    x3, y3 = ds[3]
    np.testing.assert_array_equal(x3, X[3]) and y3 == 3
    xb, yb = ds.get_batch(np.array([4, 1]))
    np.testing.assert_array_equal(xb, X[[4, 1]])
    np.testing.assert_array_equal(yb, [4, 1])


def test_tensor_dataset_accepts_tensors():
    ds = TensorDataset(mdl.tensor([[1.0], [2.0]]), mdl.tensor([0, 1]))
    assert isinstance(ds.arrays[0], np.ndarray) and ds.arrays[1].dtype == np.int64
    strict = TensorDataset(get_backend("strict").from_host(np.arange(3.0)))  # device arrays are copied to the host
    assert isinstance(strict.arrays[0], np.ndarray) and strict.arrays[0].tolist() == [0.0, 1.0, 2.0]


def test_tensor_dataset_length_mismatch_names_both_lengths():
    with pytest.raises(ValueError, match=r"array 0 has 5 rows, array 1 has 4 rows"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="at least one array"):
        TensorDataset()
    with pytest.raises(ValueError, match="scalar"):
        TensorDataset(np.float64(3.0))


class Squares(Dataset):
    """A dataset with only __len__ and __getitem__: the loader stacks its samples."""

    def __len__(self):
        return 7

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=np.float64), i % 2


def test_custom_dataset_is_stacked_into_batches():
    batches = list(DataLoader(Squares(), batch_size=3))
    assert [len(yb) for _, yb in batches] == [3, 3, 1]
    xb, yb = batches[1]
    np.testing.assert_array_equal(xb.numpy(), [[3, 9], [4, 16], [5, 25]])
    assert xb.dtype == np.float32 and yb.dtype == np.int64


def test_single_array_samples_give_single_tensors():
    loader = DataLoader(TensorDataset(np.arange(5.0)), batch_size=2)
    assert all(len(batch) == 1 for batch in loader)  # tuples of one tensor, as samples are 1-tuples

    class Plain(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return np.full(2, i, dtype=np.float32)

    (batch,) = list(DataLoader(Plain(), batch_size=3))
    assert isinstance(batch, mdl.Tensor) and batch.shape == (3, 2)


# -- DataLoader -------------------------------------------------------------------------------------

@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
def test_one_epoch_covers_every_index_once(shuffle, drop_last):
    n, bs = 103, 10
    loader = DataLoader(_index_dataset(n), batch_size=bs, shuffle=shuffle, drop_last=drop_last, seed=0)
    assert len(loader) == (10 if drop_last else 11)
    seen = _indices_seen(loader)
    if drop_last:
        assert len(seen) == 100 and len(np.unique(seen)) == 100
    else:
        np.testing.assert_array_equal(np.sort(seen), np.arange(n))
    if not shuffle:
        np.testing.assert_array_equal(seen, np.arange(len(seen)))
    else:
        assert not np.array_equal(seen, np.arange(len(seen)))


@given(n=st.integers(1, 60), batch_size=st.integers(1, 70), shuffle=st.booleans(), seed=st.integers(0, 2**32))
def test_every_epoch_is_a_permutation(n, batch_size, shuffle, seed):
    loader = DataLoader(_index_dataset(n, features=1), batch_size=batch_size, shuffle=shuffle, seed=seed)
    for _ in range(2):
        seen = _indices_seen(loader)
        np.testing.assert_array_equal(np.sort(seen), np.arange(n))
    assert len(loader) == -(-n // batch_size)
    assert all(len(yb) == batch_size for _, yb in list(loader)[:-1])


def test_same_seed_same_order_and_new_order_each_epoch():
    ds = _index_dataset(50)
    a = DataLoader(ds, batch_size=8, shuffle=True, seed=123)
    b = DataLoader(ds, batch_size=8, shuffle=True, seed=123)
    epochs_a = [_indices_seen(a) for _ in range(3)]
    epochs_b = [_indices_seen(b) for _ in range(3)]
    for ea, eb in zip(epochs_a, epochs_b):
        np.testing.assert_array_equal(ea, eb)
    assert not np.array_equal(epochs_a[0], epochs_a[1])
    other = _indices_seen(DataLoader(ds, batch_size=8, shuffle=True, seed=124))
    assert not np.array_equal(epochs_a[0], other)


def test_manual_seed_makes_unseeded_loaders_reproducible():
    ds = _index_dataset(40)
    mdl.manual_seed(7)
    first = _indices_seen(DataLoader(ds, batch_size=5, shuffle=True))
    mdl.manual_seed(7)
    second = _indices_seen(DataLoader(ds, batch_size=5, shuffle=True))
    np.testing.assert_array_equal(first, second)


def test_batches_are_tensors_on_the_device(device):
    X = np.random.default_rng(0).normal(size=(10, 3))  # float64
    y = np.arange(10)
    loader = DataLoader(TensorDataset(X, y), batch_size=4, device=device)
    xb, yb = next(iter(loader))
    assert isinstance(xb, mdl.Tensor) and xb.device == device and yb.device == device
    assert xb.dtype == np.float32 and yb.dtype == np.int64
    assert not xb.requires_grad
    backend = get_backend(device)
    assert backend.is_array(xb.data) and backend.is_array(yb.data)
    np.testing.assert_allclose(xb.numpy(), X[:4].astype(np.float32))
    kept = DataLoader(TensorDataset(X, y), batch_size=4, device=device, float_dtype=None)
    assert next(iter(kept))[0].dtype == np.float64


def test_transform_applies_to_features_only_on_the_device(device):
    X, y = np.ones((6, 1, 2, 2), dtype=np.float32), np.arange(6)
    seen = []

    def double(batch, rng):
        assert get_backend(device).is_array(batch) and isinstance(rng, np.random.Generator)
        seen.append(batch.shape)
        return batch * 2

    xb, yb = next(iter(DataLoader(TensorDataset(X, y), batch_size=6, transform=double, device=device)))
    assert seen == [(6, 1, 2, 2)]
    np.testing.assert_array_equal(xb.numpy(), 2 * X)
    np.testing.assert_array_equal(yb.numpy(), y)


def test_transforms_through_the_loader_are_reproducible(device):
    X = np.random.default_rng(0).random((20, 1, 6, 6)).astype(np.float32)
    augment = transforms.Compose([transforms.RandomShift(2), transforms.RandomHorizontalFlip(0.5)])

    def epoch(seed):
        loader = DataLoader(TensorDataset(X, np.zeros(20, dtype=np.int64)), batch_size=8, shuffle=True, seed=seed,
                            transform=augment, device=device)
        return np.concatenate([xb.numpy() for xb, _ in loader])

    np.testing.assert_array_equal(epoch(3), epoch(3))
    assert not np.array_equal(epoch(3), epoch(4))


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, None])
def test_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(_index_dataset(3), batch_size=bad)


def test_transform_must_be_callable():
    with pytest.raises(TypeError, match="transform"):
        DataLoader(_index_dataset(3), transform="flip")


# -- random_split -----------------------------------------------------------------------------------

@pytest.mark.parametrize("lengths", [[70, 20, 13], [0.7, 0.2, 0.1], [0.5, 0.5]])
def test_random_split_is_disjoint_and_complete(lengths):
    ds = _index_dataset(103)
    parts = random_split(ds, lengths, seed=0)
    assert all(isinstance(part, Subset) for part in parts)
    assert sum(len(part) for part in parts) == 103
    together = np.concatenate([part.indices for part in parts])
    np.testing.assert_array_equal(np.sort(together), np.arange(103))
    if isinstance(lengths[0], int):
        assert [len(part) for part in parts] == lengths
    # a Subset batches through its parent, with the parent's rows
    xb, _ = parts[0].get_batch(np.array([0, 1]))
    np.testing.assert_array_equal(xb[:, 0], parts[0].indices[:2])
    assert ds[int(parts[1].indices[0])][0][0] == parts[1][0][0][0]


def test_random_split_fractions_round_like_pytorch():
    assert [len(p) for p in random_split(_index_dataset(10), [0.33, 0.33, 0.34], seed=0)] == [4, 3, 3]


def test_random_split_is_seeded():
    ds = _index_dataset(30)
    a, b = random_split(ds, [20, 10], seed=5), random_split(ds, [20, 10], seed=5)
    np.testing.assert_array_equal(a[0].indices, b[0].indices)
    assert not np.array_equal(a[0].indices, random_split(ds, [20, 10], seed=6)[0].indices)


@pytest.mark.parametrize("lengths, message", [([5, 4], "add up to the dataset's 10"), ([0.5, 0.6], "add up to 1"),
                                              ([], "empty"), ([11, -1], "non-negative")])
def test_random_split_errors(lengths, message):
    with pytest.raises(ValueError, match=message):
        random_split(_index_dataset(10), lengths)


# -- train_val_test_split ------------------------------------------------------------------------------

def _imbalanced(n=1000, seed=0):
    y = np.random.default_rng(seed).choice(4, size=n, p=[0.5, 0.3, 0.15, 0.05])
    return np.arange(n), y


@pytest.mark.parametrize("val_size, test_size", [(0.2, 0.2), (0.0, 0.3), (0.15, 0.15), (0.1, 0.05)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_split_is_disjoint_complete_and_stratified(val_size, test_size, seed):
    X, y = _imbalanced(1003, seed)
    y[:2] = 5  # a class with only two members: scikit-learn's splitter would refuse it
    X_train, X_val, X_test, y_train, y_val, y_test = train_val_test_split(X, y, val_size, test_size, seed=seed)
    np.testing.assert_array_equal(np.sort(np.concatenate([X_train, X_val, X_test])), X)
    np.testing.assert_array_equal(y_train, y[X_train])  # rows stay paired
    np.testing.assert_array_equal(y_test, y[X_test])
    assert abs(len(X_val) - val_size * 1003) <= 2 and abs(len(X_test) - test_size * 1003) <= 2  # 4 classes
    for part, fraction in ((y_train, 1 - val_size - test_size), (y_val, val_size), (y_test, test_size)):
        for c in range(4):
            assert abs(np.sum(part == c) - fraction * np.sum(y == c)) <= 1 + 1e-9, (c, fraction)


def test_split_60_20_20_and_70_30_in_one_call():
    X, y = np.arange(500), np.repeat(np.arange(5), 100)
    parts = train_val_test_split(X, y, seed=0)
    assert [len(p) for p in parts[:3]] == [300, 100, 100]
    assert all(np.bincount(part, minlength=5).tolist() == [n] * 5 for part, n in zip(parts[3:], (60, 20, 20)))
    X_train, X_val, X_test, y_train, y_val, y_test = train_val_test_split(X, y, val_size=0, test_size=0.3, seed=0)
    assert (len(X_train), len(X_val), len(X_test)) == (350, 0, 150)
    assert X_val.shape == (0,) and y_val.dtype == y.dtype
    unstratified = train_val_test_split(*_imbalanced(501), val_size=0.2, test_size=0.2, stratify=False, seed=0)
    assert [len(p) for p in unstratified[:3]] == [301, 100, 100]


@given(n=st.integers(1, 80), classes=st.integers(1, 5), val_size=st.sampled_from([0.0, 0.1, 0.2, 0.25]),
       test_size=st.sampled_from([0.0, 0.2, 0.3, 0.5]), seed=st.integers(0, 2**32))
def test_split_property_disjoint_complete_within_one(n, classes, val_size, test_size, seed):
    y = np.random.default_rng(seed).integers(0, classes, n)
    X = np.arange(n)
    X_train, X_val, X_test, y_train, y_val, y_test = train_val_test_split(X, y, val_size, test_size, seed=seed)
    np.testing.assert_array_equal(np.sort(np.concatenate([X_train, X_val, X_test])), X)
    for part, fraction in ((y_train, 1 - val_size - test_size), (y_val, val_size), (y_test, test_size)):
        for c in range(classes):
            assert abs(np.sum(part == c) - fraction * np.sum(y == c)) <= 1 + 1e-9


def test_split_is_seeded_and_follows_manual_seed():
    X, y = _imbalanced(200)
    a, b = train_val_test_split(X, y, seed=3), train_val_test_split(X, y, seed=3)
    for pa, pb in zip(a, b):
        np.testing.assert_array_equal(pa, pb)
    assert not np.array_equal(a[0], train_val_test_split(X, y, seed=4)[0])
    mdl.manual_seed(11)
    c = train_val_test_split(X, y)
    mdl.manual_seed(11)
    np.testing.assert_array_equal(c[0], train_val_test_split(X, y)[0])


def test_split_regression_targets_are_not_stratified():
    X = np.arange(100).reshape(50, 2)
    y = np.linspace(0, 1, 50)  # every value unique: stratifying would fail
    parts = train_val_test_split(X, y, seed=0)
    assert [len(p) for p in parts[:3]] == [30, 10, 10]


@pytest.mark.parametrize("val_size, test_size, message", [(0.5, 0.5, "less than 1"), (0.7, 0.4, "less than 1"),
                                                          (-0.1, 0.2, "val_size"), (0.2, 1.0, "test_size")])
def test_split_fraction_errors(val_size, test_size, message):
    with pytest.raises(ValueError, match=message):
        train_val_test_split(*_imbalanced(100), val_size=val_size, test_size=test_size)


def test_split_length_mismatch():
    with pytest.raises(ValueError, match="X has 10 samples but y has 9"):
        train_val_test_split(np.zeros((10, 2)), np.zeros(9, dtype=int))
