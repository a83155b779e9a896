"""TensorBoardLogger: the event files it writes, read back record by record with tensorboardX's protobuf
definitions (an independent reader: TFRecord framing by hand, then `Event.FromString`)."""

import glob
import os
import struct
import sys

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
import minidl.optim as optim
from minidl.data.datasets import load_digits
from minidl.train import Callback, TensorBoardLogger, Trainer


def read_events(run_dir):
    """{tag: {step: value}} from every event file in `run_dir`: a float for scalars, the HistogramProto for
    histograms. TFRecord framing: uint64 length, uint32 masked CRC-32C of it, the bytes, masked CRC-32C of them."""
    event_pb2 = pytest.importorskip("tensorboardX.proto.event_pb2")
    from tensorboardX.record_writer import crc32c, masked_crc32c

    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value (RFC 3720): the checksum itself is right
    found = {}
    for path in sorted(glob.glob(os.path.join(run_dir, "events.out.tfevents.*"))):
        with open(path, "rb") as f:
            data = f.read()
        offset = 0
        while offset < len(data):
            (length,) = struct.unpack("<Q", data[offset:offset + 8])
            (length_crc,) = struct.unpack("<I", data[offset + 8:offset + 12])
            record = data[offset + 12:offset + 12 + length]
            (record_crc,) = struct.unpack("<I", data[offset + 12 + length:offset + 16 + length])
            assert length_crc == masked_crc32c(data[offset:offset + 8]) and record_crc == masked_crc32c(record)
            event = event_pb2.Event.FromString(record)
            offset += 16 + length
            for value in event.summary.value:
                scalar = value.WhichOneof("value") == "simple_value"
                found.setdefault(value.tag, {})[event.step] = value.simple_value if scalar else value.histo
    return found


def digits(n=120):
    X, y = load_digits()
    return X.reshape(len(X), -1)[:n], y[:n]


def fit(tmp_path, epochs=3, histogram_freq=2, extra=()):
    pytest.importorskip("tensorboardX", reason="TensorBoardLogger needs the tensorboard extra: pip install minidl[tensorboard]")
    mdl.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    logger = TensorBoardLogger(tmp_path / "run", histogram_freq=histogram_freq)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-2),
                      callbacks=[logger, *extra], progress=False)
    X, y = digits()
    history = trainer.fit((X, y), val=(X[:40], y[:40]), epochs=epochs, batch_size=32)
    return model, logger, history


def test_scalars_every_epoch_train_and_validation_under_one_tag(tmp_path):
    _, logger, history = fit(tmp_path)
    train, val = read_events(tmp_path / "run" / "train"), read_events(tmp_path / "run" / "validation")
    for name in ("loss", "accuracy"):
        assert list(train[f"epoch_{name}"]) == [0, 1, 2]
        np.testing.assert_allclose(list(train[f"epoch_{name}"].values()), history[name], rtol=1e-6)
        np.testing.assert_allclose(list(val[f"epoch_{name}"].values()), history[f"val_{name}"], rtol=1e-6)
    np.testing.assert_allclose(list(train["epoch_learning_rate"].values()), history["lr"], rtol=1e-6)
    assert logger.writers == {}  # closed at the end of training


def test_weight_and_gradient_histograms_every_n_epochs(tmp_path):
    model, _, _ = fit(tmp_path, epochs=3, histogram_freq=2)
    train = read_events(tmp_path / "run" / "train")
    for name, p in model.named_parameters():
        assert sorted(train[f"weights/{name}"]) == [0, 2] and sorted(train[f"gradients/{name}"]) == [0, 2]
        weights, grads = train[f"weights/{name}"][2], train[f"gradients/{name}"][2]  # the last epoch: final values
        w, g = p.numpy().astype(np.float64), p.grad.numpy().astype(np.float64)
        assert weights.num == w.size and weights.min == pytest.approx(w.min()) and weights.max == pytest.approx(w.max())
        assert weights.sum == pytest.approx(w.sum(), abs=1e-5)
        assert grads.num == g.size and grads.sum_squares == pytest.approx((g ** 2).sum(), rel=1e-5)


def test_each_epoch_is_on_disk_when_it_ends(tmp_path):
    class ReadBack(Callback):
        priority = 950  # after the logger

        def __init__(self):
            self.steps = []

        def on_epoch_end(self, epoch, logs=None):
            self.steps.append(sorted(read_events(tmp_path / "run" / "train")["epoch_loss"]))

    reader = ReadBack()
    fit(tmp_path, epochs=2, histogram_freq=0, extra=[reader])
    assert reader.steps == [[0], [0, 1]]


def test_without_the_extra_the_error_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import tensorboardX -> ImportError
    with pytest.raises(ImportError, match=r"pip install minidl\[tensorboard\]"):
        TensorBoardLogger("unused")


def test_histogram_freq_is_checked():
    pytest.importorskip("tensorboardX")
    with pytest.raises(mdl.ArgumentError, match="histogram_freq"):
        TensorBoardLogger("unused", histogram_freq=-1)
