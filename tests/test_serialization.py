"""mdl.save / mdl.load: .npz without pickle, atomic writes, clear errors on damaged files."""

import zipfile

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn


def test_round_trip_of_a_model_state_dict(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    path = tmp_path / "model.npz"
    mdl.save(model.state_dict(), path)
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    fresh.load_state_dict(mdl.load(path))
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[key], value)


def test_file_is_a_plain_npz_readable_without_pickle(tmp_path):
    path = tmp_path / "m.npz"
    mdl.save({"0.weight": np.ones((2, 3), np.float32)}, path)
    with np.load(path, allow_pickle=False) as archive:
        np.testing.assert_array_equal(archive["0.weight"], np.ones((2, 3)))


def test_nested_structures_round_trip(tmp_path):
    obj = {"state": {0: {"step": 3, "buf": np.arange(3.0)}, 1: {}},
           "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "nesterov": False, "params": [0, 1], "x": None}]}
    mdl.save(obj, tmp_path / "o.npz")
    back = mdl.load(tmp_path / "o.npz")
    assert back["param_groups"] == obj["param_groups"]
    assert back["state"][0]["step"] == 3 and list(back["state"][1]) == []
    np.testing.assert_array_equal(back["state"][0]["buf"], np.arange(3.0))


def test_load_onto_a_device(tmp_path):
    mdl.save({"w": np.ones(2)}, tmp_path / "w.npz")
    back = mdl.load(tmp_path / "w.npz", device="strict")
    assert mdl.get_backend("strict").is_array(back["w"])


def test_objects_that_would_need_pickle_are_refused(tmp_path):
    with pytest.raises(TypeError, match="cannot store a object"):
        mdl.save({"bad": object()}, tmp_path / "x.npz")


def test_failed_write_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    mdl.save({"w": np.zeros(3)}, path)

    def exploding_savez(file, **entries):
        file.write(b"partial")
        raise KeyboardInterrupt  # interrupted mid-write

    monkeypatch.setattr(np, "savez", exploding_savez)
    with pytest.raises(KeyboardInterrupt):
        mdl.save({"w": np.ones(3)}, path)
    monkeypatch.undo()
    np.testing.assert_array_equal(mdl.load(path)["w"], np.zeros(3))
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]  # no temp file left behind


def test_truncated_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "m.npz"
    mdl.save({"w": np.random.default_rng(0).standard_normal(1000)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(mdl.SerializationError, match="truncated or corrupted"):
        mdl.load(path)


def test_flipped_byte_gives_an_error_never_a_wrong_model(tmp_path):
    path = tmp_path / "m.npz"
    weights = np.random.default_rng(0).standard_normal(1000)
    mdl.save({"w": weights}, path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:  # flip a byte inside the array's payload
        info = archive.getinfo("w.npy")
    data[info.header_offset + 200] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(mdl.SerializationError):
        mdl.load(path)


def test_npz_that_is_not_a_minidl_file(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, a=np.ones(2))
    with pytest.raises(mdl.SerializationError, match="not a minidl file"):
        mdl.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(mdl.SerializationError, match="no such file"):
        mdl.load(tmp_path / "nope.npz")


def test_newer_format_version_is_refused(tmp_path):
    import json

    path = tmp_path / "future.npz"
    np.savez(path, __minidl__=np.array(json.dumps({"format": "minidl", "version": 99, "tree": None})))
    with pytest.raises(mdl.SerializationError, match="newer minidl"):
        mdl.load(path)
