"""Ready-made data sets, returned as NumPy arrays.

    (X_train, y_train), (X_test, y_test) = load_mnist()          # (60000, 1, 28, 28) float32 in [0, 1]
    (X_train, y_train), (X_test, y_test) = load_fashion_mnist()  # the same shapes; FASHION_MNIST_CLASSES
    X, y = load_digits()                                         # (1797, 1, 8, 8), scikit-learn's, offline
    X, y = load_breast_cancer()                                  # (569, 30), scikit-learn's, offline
    X, y = load_credit_default()                                 # (30000, 23), UCI credit-card clients

MNIST-style and credit files are read from `root`, else `$MINIDL_DATA`, else the per-user cache
folder (see `download.data_home`), in a sub-folder per data set: `mnist/`, `fashion-mnist/`,
`credit-default/`. Every file is checked against its published SHA-256 digest before use.

Data sets with an official test split (MNIST, Fashion-MNIST) return `((X_train, y_train), (X_test,
y_test))`; the others return the whole `(X, y)`, to be split with `train_val_test_split` (fit any
scaling on the training part only). Labels are int64. `return_info=True` adds a `DatasetInfo`
(class names, feature names, files): `data, info = load_fashion_mnist(return_info=True)`.
"""

from dataclasses import dataclass

import numpy as np

from minidl.data.download import DataFile, data_home, fetch_all
from minidl.data.errors import IDXError
from minidl.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx
from minidl.data.text import load_names, load_tiny_shakespeare  # the text corpora live in text.py
from minidl.errors import ArgumentError

MNIST_CLASSES = tuple(str(digit) for digit in range(10))
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DIGITS_CLASSES = MNIST_CLASSES
BREAST_CANCER_CLASSES = ("malignant", "benign")
CREDIT_DEFAULT_CLASSES = ("no default", "default")

# Download addresses, tried in order (the publishers' own first where they still serve the files).
MNIST_URLS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
FASHION_MNIST_URLS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                      "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/")

# (train images, train labels, test images, test labels) as published: sizes and SHA-256 digests.
MNIST_FILES = (
    DataFile("train-images-idx3-ubyte.gz", 9912422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    DataFile("train-labels-idx1-ubyte.gz", 28881, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    DataFile("t10k-images-idx3-ubyte.gz", 1648877, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    DataFile("t10k-labels-idx1-ubyte.gz", 4542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
)
FASHION_MNIST_FILES = (
    DataFile("train-images-idx3-ubyte.gz", 26421880,
             "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
    DataFile("train-labels-idx1-ubyte.gz", 29515, "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
    DataFile("t10k-images-idx3-ubyte.gz", 4422102, "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
    DataFile("t10k-labels-idx1-ubyte.gz", 5148, "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
)
CREDIT_DEFAULT_FILE = DataFile("default_of_credit_card_clients.csv", 2867208,
                               "4edce6da569b2c30788a85fd98a9bafb1a983e8ca1a7aac875dd7ff853cbd0bb")

CREDIT_DEFAULT_SOURCE = ("UCI (https://doi.org/10.24432/C55S3H, an .xls: save it as CSV with one header row of "
                         "names, ID first, rows sorted by ID; see shared/data/README.md in minidl's repository)")


@dataclass(frozen=True)
class DatasetInfo:
    """What a loader knows about its data: `class_names[label]`, feature names (None for images), files."""

    name: str
    class_names: tuple
    feature_names: tuple = None
    files: tuple = ()


def load_mnist(root=None, download=True, dtype="float32", progress=True, return_info=False):
    """MNIST handwritten digits: `((X_train, y_train), (X_test, y_test))`.

    X: (60000, 1, 28, 28) and (10000, 1, 28, 28), float32 in [0, 1] (pixel / 255), or the raw uint8
    0..255 with `dtype="uint8"`; y: int64 digits 0..9. Files: `<data folder>/mnist/*.gz`.
    """
    return _load_idx_dataset("mnist", MNIST_FILES, MNIST_URLS, MNIST_CLASSES, root, download, dtype, progress,
                             return_info)


def load_fashion_mnist(root=None, download=True, dtype="float32", progress=True, return_info=False):
    """Fashion-MNIST (Zalando): `((X_train, y_train), (X_test, y_test))`, shaped and typed as `load_mnist`.

    Ten balanced classes (6,000 train and 1,000 test images each), named in FASHION_MNIST_CLASSES.
    Files: `<data folder>/fashion-mnist/*.gz`.
    """
    return _load_idx_dataset("fashion-mnist", FASHION_MNIST_FILES, FASHION_MNIST_URLS, FASHION_MNIST_CLASSES,
                             root, download, dtype, progress, return_info)


def _load_idx_dataset(name, files, urls, class_names, root, download, dtype, progress, return_info):
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64, np.uint8):
        raise ArgumentError(f"load_{name.replace('-', '_')}: dtype must be 'float32', 'float64' or 'uint8', got {dtype}")
    paths = fetch_all(data_home(root) / name, files, urls, download, progress)
    train_images, train_labels, test_images, test_labels = paths
    data = (_images_and_labels(train_images, train_labels, dtype), _images_and_labels(test_images, test_labels, dtype))
    return _with_info(data, DatasetInfo(name, class_names, None, tuple(paths)), return_info)


def _images_and_labels(images_path, labels_path, dtype):
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if len(images) != len(labels):
        raise IDXError(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels")
    images = images[:, None, :, :]  # (N, 28, 28) -> (N, 1, 28, 28): one channel, as Conv2d expects
    if dtype != np.uint8:
        images = images.astype(dtype)
        images /= 255
    return images, labels.astype(np.int64)


def load_digits(dtype="float32", return_info=False):
    """scikit-learn's 8x8 handwritten digits (bundled, offline): the whole set as `(X, y)`.

    X: (1797, 1, 8, 8) float32 in [0, 1] (scikit-learn's 0..16 divided by 16), or the raw 0..16 as
    uint8 with `dtype="uint8"`; y: (1797,) int64 digits 0..9. No official test split: use e.g.
    `train_val_test_split(X, y, seed=0)`. Flatten for a linear model: `X.reshape(len(X), -1)`.
    """
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    dtype = np.dtype(dtype)
    images = bunch.images[:, None, :, :]
    X = images.astype(np.uint8) if dtype == np.uint8 else (images / 16).astype(dtype)
    data = (X, bunch.target.astype(np.int64))
    return _with_info(data, DatasetInfo("digits", DIGITS_CLASSES), return_info)


def load_breast_cancer(dtype="float32", return_info=False):
    """scikit-learn's Wisconsin breast-cancer data (bundled, offline): the whole set as `(X, y)`.

    X: (569, 30) unscaled measurements as float32; y: (569,) int64, 0 = malignant, 1 = benign
    (scikit-learn's coding). Standardise with statistics of the training part only.
    """
    from sklearn.datasets import load_breast_cancer as sklearn_breast_cancer

    bunch = sklearn_breast_cancer()
    data = (bunch.data.astype(dtype), bunch.target.astype(np.int64))
    info = DatasetInfo("breast-cancer", BREAST_CANCER_CLASSES, tuple(bunch.feature_names))
    return _with_info(data, info, return_info)


def load_credit_default(root=None, dtype="float32", return_info=False):
    """UCI "default of credit card clients" (Yeh & Lien, 2009): the whole set as `(X, y)`.

    X: (30000, 23) float32: LIMIT_BAL, SEX, EDUCATION, MARRIAGE, AGE, PAY_0, PAY_2..PAY_6,
    BILL_AMT1..6, PAY_AMT1..6 (unscaled; the ID column is dropped); y: (30000,) int64, 1 = default next
    month (22.12 %). Read from `<data folder>/credit-default/default_of_credit_card_clients.csv`, a CSV
    of the UCI spreadsheet (https://doi.org/10.24432/C55S3H) with one header row of names, rows by ID.
    UCI publishes it as .xls only, so it is not downloaded: put the CSV there yourself.
    """
    folder = data_home(root) / "credit-default"
    (path,) = fetch_all(folder, [CREDIT_DEFAULT_FILE], urls=(), download=False, source=CREDIT_DEFAULT_SOURCE)
    with open(path) as f:
        header = f.readline().rstrip("\n").split(",")
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64)
    data = (table[:, 1:-1].astype(dtype), table[:, -1])
    info = DatasetInfo("credit-default", CREDIT_DEFAULT_CLASSES, tuple(header[1:-1]), (path,))
    return _with_info(data, info, return_info)


def _with_info(data, info, return_info):
    return (data, info) if return_info else data


__all__ = ["DatasetInfo", "load_breast_cancer", "load_credit_default", "load_digits", "load_fashion_mnist",
           "load_mnist", "load_names", "load_tiny_shakespeare", "BREAST_CANCER_CLASSES", "CREDIT_DEFAULT_CLASSES", "DIGITS_CLASSES",
           "FASHION_MNIST_CLASSES", "MNIST_CLASSES"]
