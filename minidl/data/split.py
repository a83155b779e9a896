"""Splitting data: `random_split` for Datasets, `train_val_test_split` for arrays (stratified).

    X_train, X_val, X_test, y_train, y_val, y_test = train_val_test_split(X, y, seed=0)        # 60/20/20
    X_train, _, X_test, y_train, _, y_test = train_val_test_split(X, y, val_size=0, test_size=0.3, seed=0)  # 70/30
"""

import math

import numpy as np

from minidl.backend import get_backend
from minidl.data.dataset import Subset
from minidl.errors import ArgumentError


def random_split(dataset, lengths, seed=None):
    """Split `dataset` into non-overlapping `Subset`s of the given lengths, in a random order.

    `lengths` are sample counts that add up to `len(dataset)`, or fractions that add up to 1 (counts
    are then rounded down and the samples left over go one each to the first subsets, as in PyTorch).
    `seed=None` draws from minidl's global generator (`mdl.manual_seed`).
    """
    n = len(dataset)
    counts = _split_counts(n, lengths)
    rng = np.random.default_rng(seed if seed is not None else int(get_backend("cpu").rng.integers(2**63)))
    order = rng.permutation(n)
    bounds = np.cumsum([0] + counts)
    return [Subset(dataset, order[start:stop]) for start, stop in zip(bounds[:-1], bounds[1:])]


def _split_counts(n, lengths):
    lengths = list(lengths)
    if not lengths:
        raise ArgumentError("random_split: lengths is empty; give sample counts or fractions, e.g. [0.8, 0.2]")
    if all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in lengths):
        if any(x < 0 for x in lengths) or sum(lengths) != n:
            raise ArgumentError(f"random_split: lengths {lengths} must be non-negative and add up to the dataset's "
                             f"{n} samples (they add up to {sum(lengths)})")
        return [int(x) for x in lengths]
    fractions = [float(x) for x in lengths]
    if any(not 0 <= f <= 1 for f in fractions) or not math.isclose(sum(fractions), 1.0, abs_tol=1e-6):
        raise ArgumentError(f"random_split: fractions {lengths} must lie in [0, 1] and add up to 1 "
                         f"(they add up to {sum(fractions):g}); or give sample counts that add up to {n}")
    counts = [math.floor(n * f) for f in fractions]
    for k in range(n - sum(counts)):  # the remainder, one sample each, round-robin
        counts[k % len(counts)] += 1
    return counts


def train_val_test_split(X, y, val_size=0.2, test_size=0.2, stratify=True, seed=None):
    """Shuffle and split `X`, `y` into train, validation and test parts.

    Args:
        X: (N, ...) features; y: (N,) targets.
        val_size, test_size: fractions of the whole data set, each in [0, 1), adding up to less than 1.
            0 gives an empty part: `val_size=0, test_size=0.3` is a 70/30 train/test split.
        stratify: split each class on its own, so that every part holds each class's share of it to
            within one sample, when `y` holds class labels
            (integers, bools or strings); floating targets (regression) are split as one group.
        seed: seeds the shuffle; None draws it from minidl's global generator (`mdl.manual_seed`).

    Part sizes are the fractions times the group sizes, rounded (so stratified sizes may differ from
    `test_size * N` by a sample or two). Returns `X_train, X_val, X_test, y_train, y_val, y_test`.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ArgumentError(f"train_val_test_split: X has {len(X)} samples but y has {len(y)}")
    for name, size in (("val_size", val_size), ("test_size", test_size)):
        if not 0 <= size < 1:
            raise ArgumentError(f"train_val_test_split: {name} must be a fraction in [0, 1), got {size!r}")
    if val_size + test_size >= 1:
        raise ArgumentError(f"train_val_test_split: val_size + test_size must be less than 1 to leave training data, "
                         f"got {val_size} + {test_size} = {val_size + test_size:g}")
    rng = np.random.default_rng(seed if seed is not None else int(get_backend("cpu").rng.integers(2**63)))
    if stratify and y.dtype.kind in "biuUSO":
        groups = [np.flatnonzero(y == label) for label in np.unique(y)]
    else:
        groups = [np.arange(len(y))]
    parts = ([], [], [])
    for members in groups:
        # Cut each shuffled group at the rounded train and train+val counts: no part of any class is
        # off by more than one sample from its exact share (two chained scikit-learn splits can be off by
        # almost two, and refuse classes with one member).
        m = len(members)
        test_start = m - round(m * test_size)
        cuts = [min(round(m * (1 - val_size - test_size)), test_start), test_start]
        for part, chunk in zip(parts, np.split(rng.permutation(members), cuts)):
            part.append(chunk)
    train, val, test = (rng.permutation(np.concatenate(part)) for part in parts)
    return X[train], X[val], X[test], y[train], y[val], y[test]
