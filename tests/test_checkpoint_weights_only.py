"""ModelCheckpoint(save_weights_only=True) writes a plain state dict (Keras's flag); a full training checkpoint
given to load_state_dict says how to load it."""

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
import minidl.optim as optim
from minidl.train import ModelCheckpoint, Trainer


def _fit(tmp_path, **checkpoint):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 4)).astype(np.float32), rng.integers(0, 3, 40)
    mdl.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    path = tmp_path / "ckpt.npz"
    Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), progress=False,
            callbacks=[ModelCheckpoint(path, save_best_only=False, **checkpoint)]).fit((X, y), val=(X, y), epochs=2)
    return model, path


def test_weights_only_is_the_models_state_dict(tmp_path):
    model, path = _fit(tmp_path, save_weights_only=True)
    saved = mdl.load(path)
    assert set(saved) == set(model.state_dict())  # the keys of the state dict: nothing else
    fresh = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    fresh.load_state_dict(saved)
    for key, value in model.state_dict().items():  # the last epoch's weights (save_best_only=False)
        np.testing.assert_array_equal(fresh.state_dict()[key], value)


def test_full_checkpoint_into_load_state_dict_says_how(tmp_path):
    model, path = _fit(tmp_path)
    checkpoint = mdl.load(path)
    with pytest.raises(mdl.SerializationError, match=r"training checkpoint.*mdl\.load\(path\)\['model'\]"):
        model.load_state_dict(checkpoint)
    model.load_state_dict(checkpoint["model"])  # the way the message gives
