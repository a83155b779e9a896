"""Files minidl writes through a temporary file get the mode any new file gets: 0o666 less the umask
(as `open(path, "w")`; mkstemp alone would leave them private, -rw-------)."""

import os
import stat

import numpy as np
import pytest

import minidl as mdl


@pytest.fixture(params=[0o022, 0o002, 0o077])
def umask(request):
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_saved_files_follow_the_umask_like_open(tmp_path, umask):
    with open(tmp_path / "plain.txt", "w"):  # the reference: what Python's open gives a new file
        pass
    mdl.save({"w": np.ones(3)}, tmp_path / "model.npz")
    assert _mode(tmp_path / "model.npz") == _mode(tmp_path / "plain.txt") == 0o666 & ~umask
    mdl.save({"w": np.zeros(3)}, tmp_path / "model.npz")  # overwriting: the same
    assert _mode(tmp_path / "model.npz") == 0o666 & ~umask
    assert os.umask(umask) == umask  # saving left the process's umask as it was


def test_downloaded_files_follow_the_umask(tmp_path, umask):
    import hashlib

    from minidl.data import download

    payload = b"hello"
    (tmp_path / "hello.bin").write_bytes(payload)
    file = download.DataFile("hello.bin", len(payload), hashlib.sha256(payload).hexdigest())
    path = download.fetch(tmp_path / "data", file, urls=(tmp_path.as_uri() + "/",), progress=False)
    assert path.read_bytes() == payload and _mode(path) == 0o666 & ~umask


def test_csv_logger_rewrite_follows_the_umask(tmp_path, umask):
    from minidl.train.callbacks import CSVLogger

    path = tmp_path / "log.csv"
    path.write_text("epoch,loss\n1,0.5\n")
    os.chmod(path, 0o600)
    logger = CSVLogger(path, append=True)
    logger.trainer = type("T", (), {"initial_epoch": 0})()
    logger.on_train_begin()  # rewrites the kept rows through a temporary file
    assert _mode(path) == 0o666 & ~umask
