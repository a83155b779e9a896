"""Data: datasets, loaders, splits, ready-made data sets and batch transforms.

    from minidl.data import DataLoader, TensorDataset, train_val_test_split
    from minidl.data.datasets import load_fashion_mnist
    from minidl.data import transforms
"""

from minidl.data import datasets, text, transforms
from minidl.data.dataset import Dataset, Subset, TensorDataset
from minidl.data.errors import ChecksumError, DataError, DatasetNotFoundError, IDXError
from minidl.data.loader import DataLoader
from minidl.data.split import random_split, train_val_test_split

__all__ = ["ChecksumError", "DataError", "DataLoader", "Dataset", "DatasetNotFoundError", "IDXError", "Subset",
           "TensorDataset", "datasets", "random_split", "text", "train_val_test_split", "transforms"]
