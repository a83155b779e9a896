"""Ready-made data sets (minidl.data.datasets): the real files, SHA-256 checks, missing files, downloads.

The real files live in $MINIDL_DATA (see tests/conftest.py; tests marked `needs_data` skip without it).
Nothing here downloads from the internet:
damaged and missing files are made in tmp_path, and downloads go to a local HTTP server or to an
address where nothing listens.
"""

import gzip
import hashlib
import http.server
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from minidl.data import ChecksumError, DatasetNotFoundError, IDXError, datasets
from minidl.data.download import DataFile, data_home, fetch
from minidl.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx, write_idx

SHARED_DATA = Path(os.environ["MINIDL_DATA"])  # set by tests/conftest.py
needs_shared_data = pytest.mark.needs_data
UNREACHABLE = ("http://127.0.0.1:9/",)  # the discard port: nothing answers


@pytest.fixture
def shared_data(monkeypatch):
    monkeypatch.setenv("MINIDL_DATA", str(SHARED_DATA))
    return SHARED_DATA


@pytest.fixture
def mnist_copy(tmp_path):
    """tmp_path/mnist with links to the real MNIST files (copy one before damaging it)."""
    folder = tmp_path / "mnist"
    folder.mkdir()
    for file in datasets.MNIST_FILES:
        os.symlink(SHARED_DATA / "mnist" / file.name, folder / file.name)
    return folder


def _replace_with_copy(path):
    target = os.path.realpath(path)
    os.remove(path)
    shutil.copyfile(target, path)
    return path


# -- the real files ---------------------------------------------------------------------------------------

@needs_shared_data
def test_mnist_shapes_dtypes_and_label_counts(shared_data):
    (X_train, y_train), (X_test, y_test) = datasets.load_mnist(download=False)  # from $MINIDL_DATA
    assert X_train.shape == (60000, 1, 28, 28) and X_test.shape == (10000, 1, 28, 28)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@needs_shared_data
def test_fashion_mnist_uint8_counts_and_class_names(shared_data):
    ((X_train, y_train), (X_test, y_test)), info = datasets.load_fashion_mnist(dtype="uint8", return_info=True)
    assert X_train.shape == (60000, 1, 28, 28) and X_train.dtype == np.uint8 and X_train.max() == 255
    assert X_test.shape == (10000, 1, 28, 28)
    assert np.bincount(y_train).tolist() == [6000] * 10 and np.bincount(y_test).tolist() == [1000] * 10
    assert info.class_names == datasets.FASHION_MNIST_CLASSES and len(info.class_names) == 10
    assert info.class_names[0] == "T-shirt/top" and info.class_names[9] == "Ankle boot"
    assert all(Path(path).parent == SHARED_DATA / "fashion-mnist" for path in info.files)


@needs_shared_data
def test_root_argument_wins_over_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIDL_DATA", str(tmp_path))  # empty: only root= can find the files
    (X_train, _), _ = datasets.load_mnist(root=SHARED_DATA, download=False, dtype="uint8")
    assert X_train.shape == (60000, 1, 28, 28)


@needs_shared_data
def test_credit_default(shared_data):
    (X, y), info = datasets.load_credit_default(return_info=True)
    assert X.shape == (30000, 23) and X.dtype == np.float32 and y.dtype == np.int64
    assert y.sum() == 6636 and set(np.unique(y)) == {0, 1}
    assert info.feature_names[0] == "LIMIT_BAL" and info.feature_names[-1] == "PAY_AMT6"
    assert len(info.feature_names) == 23 and info.class_names == ("no default", "default")


def test_bundled_digits_and_breast_cancer():
    X, y = datasets.load_digits()
    assert X.shape == (1797, 1, 8, 8) and X.dtype == np.float32 and 0 <= X.min() and X.max() == 1.0
    assert y.dtype == np.int64 and np.bincount(y).sum() == 1797
    assert datasets.load_digits(dtype="uint8")[0].max() == 16
    (X, y), info = datasets.load_breast_cancer(return_info=True)
    assert X.shape == (569, 30) and X.dtype == np.float32 and np.bincount(y).tolist() == [212, 357]
    assert info.class_names == ("malignant", "benign") and len(info.feature_names) == 30


def test_data_home_order(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIDL_DATA", str(tmp_path / "env"))
    assert data_home(tmp_path / "root") == tmp_path / "root"
    assert data_home() == tmp_path / "env"
    monkeypatch.delenv("MINIDL_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_home() == tmp_path / "xdg" / "minidl"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert data_home() == Path.home() / ".cache" / "minidl"


# -- damaged and missing files ---------------------------------------------------------------------------------

@needs_shared_data
def test_flipped_byte_is_refused_naming_the_file(mnist_copy):
    path = _replace_with_copy(mnist_copy / "train-labels-idx1-ubyte.gz")
    data = bytearray(path.read_bytes())
    data[1000] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ChecksumError) as info:
        datasets.load_mnist(root=mnist_copy.parent, download=False)
    message = str(info.value)
    assert str(path) in message and "SHA-256" in message
    assert datasets.MNIST_FILES[1].sha256 in message and hashlib.sha256(data).hexdigest() in message
    assert "Delete it" in message and "put the correct file there" in message
    assert path.read_bytes() == bytes(data)  # left as it was for the user to look at, not replaced


@needs_shared_data
def test_truncated_file_is_refused_even_when_downloading(mnist_copy, monkeypatch):
    monkeypatch.setattr(datasets, "MNIST_URLS", UNREACHABLE)
    path = _replace_with_copy(mnist_copy / "t10k-images-idx3-ubyte.gz")
    with open(path, "r+b") as f:
        f.truncate(100_000)
    with pytest.raises(ChecksumError, match=r"100000 bytes instead of 1648877: truncated") as info:
        datasets.load_mnist(root=mnist_copy.parent, download=True)  # never silently re-used or replaced
    assert str(path) in str(info.value)


def test_missing_files_without_download_say_where_to_put_them(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        datasets.load_fashion_mnist(root=tmp_path, download=False)
    message = str(info.value)
    assert str(tmp_path / "fashion-mnist") in message and "download=False" in message
    assert all(file.name in message for file in datasets.FASHION_MNIST_FILES)
    assert isinstance(info.value, FileNotFoundError)


def test_no_network_says_where_to_put_the_files(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "MNIST_URLS", UNREACHABLE)
    with pytest.raises(DatasetNotFoundError) as info:
        datasets.load_mnist(root=tmp_path, download=True, progress=False)
    message = str(info.value)
    assert "could not be downloaded" in message and "http://127.0.0.1:9/train-images-idx3-ubyte.gz" in message
    assert f"put them in {tmp_path / 'mnist'}" in message and "MINIDL_DATA" in message
    assert list((tmp_path / "mnist").iterdir()) == []  # no partial files left behind


def test_missing_credit_file_says_where_to_put_it(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="default_of_credit_card_clients.csv") as info:
        datasets.load_credit_default(root=tmp_path)
    assert str(tmp_path / "credit-default") in str(info.value)


# -- downloading (from a local server) ------------------------------------------------------------------------------

@pytest.fixture
def server(tmp_path):
    """A local HTTP server for tmp_path/served; yields its base URL."""
    served = tmp_path / "served"
    served.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(served), **kwargs)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def _publish(folder, name, content):
    (folder / name).write_bytes(content)
    return DataFile(name, len(content), hashlib.sha256(content).hexdigest())


def test_download_is_verified_then_used(server, tmp_path):
    served, url = server
    file = _publish(served, "numbers.bin", bytes(range(256)) * 1000)
    target = tmp_path / "data"
    path = fetch(target, file, (url,), progress=False)
    assert path == target / "numbers.bin" and path.read_bytes() == (served / "numbers.bin").read_bytes()
    assert sorted(p.name for p in target.iterdir()) == ["numbers.bin"]  # the temporary file was renamed
    assert fetch(target, file, (), download=False) == path  # the second time: found and verified


def test_download_falls_back_to_the_next_address_and_refuses_bad_content(server, tmp_path):
    served, url = server
    file = _publish(served, "a.bin", b"the published content")
    path = fetch(tmp_path / "data", file, (UNREACHABLE[0], url), progress=False)
    assert path.read_bytes() == b"the published content"
    (served / "b.bin").write_bytes(b"a corrupted mirror")
    wanted = DataFile("b.bin", 21, hashlib.sha256(b"the published content").hexdigest())
    with pytest.raises(DatasetNotFoundError, match="fails its SHA-256 check") as info:
        fetch(tmp_path / "data", wanted, (url,), progress=False)
    assert f"{url}b.bin" in str(info.value)
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["a.bin"]  # nothing bad kept


def test_load_mnist_downloads_from_a_mirror(server, tmp_path, monkeypatch):
    """The whole path with small synthetic files: download, verify, parse."""
    served, url = server
    images = np.random.default_rng(0).integers(0, 256, (12, 28, 28), dtype=np.uint8)
    labels = np.arange(12, dtype=np.uint8) % 10
    files = []
    for name, array in (("train-images-idx3-ubyte.gz", images), ("train-labels-idx1-ubyte.gz", labels),
                        ("t10k-images-idx3-ubyte.gz", images[:5]), ("t10k-labels-idx1-ubyte.gz", labels[:5])):
        write_idx(served / name, array)
        files.append(_publish(served, name, (served / name).read_bytes()))
    monkeypatch.setattr(datasets, "MNIST_FILES", tuple(files))
    monkeypatch.setattr(datasets, "MNIST_URLS", (url,))
    (X_train, y_train), (X_test, y_test) = datasets.load_mnist(root=tmp_path / "cache", progress=False)
    np.testing.assert_array_equal(X_train[:, 0], images / np.float32(255))
    np.testing.assert_array_equal(y_train, labels) and X_test.shape == (5, 1, 28, 28)
    assert sorted(p.name for p in (tmp_path / "cache" / "mnist").iterdir()) == sorted(f.name for f in files)


# -- the IDX parser ------------------------------------------------------------------------------------------------

def test_idx_round_trip(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "x.gz", images)
    np.testing.assert_array_equal(read_idx(tmp_path / "x.gz", IMAGES_MAGIC), images)
    write_idx(tmp_path / "y.gz", np.array([3, 1, 4], dtype=np.uint8))
    assert read_idx(tmp_path / "y.gz", LABELS_MAGIC).tolist() == [3, 1, 4]


def test_idx_wrong_magic_names_the_file(tmp_path):
    write_idx(tmp_path / "labels.gz", np.zeros(3, dtype=np.uint8))
    with pytest.raises(IDXError, match=r"labels.gz: IDX magic number 2049, expected 2051 \(an images file\)"):
        read_idx(tmp_path / "labels.gz", IMAGES_MAGIC)


def test_idx_size_mismatch_and_damaged_gzip(tmp_path):
    write_idx(tmp_path / "x.gz", np.zeros((4, 28, 28), dtype=np.uint8))
    raw = gzip.decompress((tmp_path / "x.gz").read_bytes())
    (tmp_path / "short.gz").write_bytes(gzip.compress(raw[:-10]))
    with pytest.raises(IDXError, match=r"short.gz: the header announces shape \(4, 28, 28\) \(3136 bytes"):
        read_idx(tmp_path / "short.gz")
    (tmp_path / "cut.gz").write_bytes((tmp_path / "x.gz").read_bytes()[:30])
    with pytest.raises(IDXError, match="cut.gz: cannot decompress"):
        read_idx(tmp_path / "cut.gz")
    (tmp_path / "plain.gz").write_bytes(raw)
    with pytest.raises(IDXError, match="plain.gz: cannot decompress"):
        read_idx(tmp_path / "plain.gz")
    (tmp_path / "text.gz").write_bytes(gzip.compress(b"hello, world"))
    with pytest.raises(IDXError, match="not an IDX file"):
        read_idx(tmp_path / "text.gz")
