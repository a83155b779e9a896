"""Reliability: the error hierarchy, messages in the user's terms, safe checkpoint files, and the
findings of the fuzz suite (tests/test_fuzz.py) in code its author does not own.

Each finding is an `xfail(strict=True)` test whose reason says the call, what it raises and what it
should raise: it turns into a failure the moment the bug is fixed, so that the xfail is removed then.
"""

import os
import warnings

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
import minidl.nn.functional as F
import minidl.optim as optim
from minidl import serialization
from minidl.data import DataLoader, TensorDataset, random_split
from minidl.errors import (ArgumentError, ArgumentTypeError, DeviceError, DTypeError, MinidlError,
                           SerializationError, ShapeError)
from minidl.train import EarlyStopping, ModelCheckpoint, Trainer


def assert_raises_naming(call, cls, words):
    """call() raises cls, with every one of `words` in its message."""
    with pytest.raises(cls) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


# -- the hierarchy ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, builtin", [(ShapeError, ValueError), (DTypeError, TypeError), (DeviceError, TypeError),
                                          (ArgumentError, ValueError), (ArgumentTypeError, TypeError),
                                          (SerializationError, ValueError)])
def test_every_error_is_a_minidl_error_and_the_matching_builtin(cls, builtin):
    assert issubclass(cls, MinidlError) and issubclass(cls, builtin)
    with pytest.raises(builtin):
        raise cls("x")


# -- messages in the user's terms: which function or layer, what was expected, what came ----------------------------
X = np.random.default_rng(0).normal(size=(12, 3)).astype(np.float32)
Y = np.arange(12) % 3


def _trainer(**kwargs):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 3))
    return Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), progress=False, **kwargs)


MESSAGES = [
    # (call, error class, words the message must contain)
    (lambda: nn.Linear(5, 2)(mdl.zeros(4, 3)), ShapeError, ["Linear", "(N, 5)", "(4, 3)"]),
    (lambda: nn.Conv2d(3, 8, 3)(mdl.zeros(2, 1, 8, 8)), ShapeError, ["Conv2d", "(N, 3, H, W)", "1 channel"]),
    (lambda: nn.Conv2d(1, 8, 3)(mdl.zeros(2, 8, 8)), ShapeError, ["Conv2d", "3 dimensions"]),
    (lambda: nn.BatchNorm1d(3)(mdl.zeros(4, 5)), ShapeError, ["BatchNorm1d", "C = 3", "(4, 5)"]),
    (lambda: nn.MaxPool2d(2)(mdl.zeros(4, 5)), ShapeError, ["MaxPool2d", "(N, C, H, W)", "(4, 5)"]),
    (lambda: mdl.zeros(2, 3) @ mdl.zeros(2, 3), ShapeError, ["matmul", "(2, 3)", "aligned"]),
    (lambda: mdl.zeros(2, 3).reshape(4, 4), ShapeError, ["reshape", "(2, 3)", "(4, 4)"]),
    (lambda: mdl.zeros(2, 3).sum(axis=2), ShapeError, ["sum", "axis 2", "2 dimensions"]),
    (lambda: mdl.zeros(2, 3)[5], ShapeError, ["index 5", "(2, 3)"]),
    (lambda: mdl.tensor([1, 2], requires_grad=True), DTypeError, ["floating-point", "int64"]),
    (lambda: mdl.tensor("abc"), DTypeError, ["string", "numbers"]),
    (lambda: mdl.zeros(2) + mdl.zeros(2, device="strict"), DeviceError, ["'cpu'", "'strict'"]),
    (lambda: mdl.zeros(2, device="tpu"), DeviceError, ["'tpu'", "'cpu'", "'cuda'"]),
    (lambda: F.cross_entropy(mdl.zeros(4, 3), mdl.tensor([0, 1])), ShapeError, ["cross_entropy", "(4,)", "(2,)"]),
    (lambda: F.cross_entropy(mdl.zeros(4, 3), mdl.zeros(4)), DTypeError, ["cross_entropy", "integer", "float32"]),
    (lambda: F.mse_loss(mdl.zeros(4, 3), mdl.zeros(4, 1)), ShapeError, ["mse_loss", "(4, 3)", "(4, 1)"]),
    (lambda: TensorDataset(X, Y[:5]), ShapeError, ["TensorDataset", "12 rows", "5 rows"]),
    (lambda: TensorDataset(np.array(["a", "b"])), DTypeError, ["TensorDataset", "<U1"]),
    (lambda: DataLoader(TensorDataset(X, Y), batch_size=0), ArgumentError, ["DataLoader", "batch_size", "0"]),
    (lambda: DataLoader(None), ArgumentTypeError, ["DataLoader", "Dataset", "NoneType"]),
    (lambda: DataLoader(TensorDataset(X, Y), seed="a"), ArgumentError, ["DataLoader", "seed", "'a'"]),
    (lambda: random_split(TensorDataset(X, Y), [3, 3]), ArgumentError, ["random_split", "12", "6"]),
    (lambda: _trainer().fit((X, Y), epochs=0), ArgumentError, ["Trainer.fit", "epochs", "0"]),
    (lambda: _trainer().fit((X, Y[:5]), epochs=1), ArgumentError, ["Trainer", "12 samples", "5"]),
    (lambda: _trainer().fit(None, epochs=1), ArgumentTypeError, ["Trainer", "(X, y)", "NoneType"]),
    (lambda: _trainer().fit((X, Y), epochs=1, batch_size=-2), ArgumentError, ["batch_size", "-2"]),
    (lambda: _trainer(l1=-1.0), ArgumentError, ["Trainer", "l1", "-1"]),
    (lambda: _trainer(metrics=("nope",)), ArgumentError, ["metric", "'nope'", "accuracy"]),
    (lambda: _trainer(task="x"), ArgumentError, ["task", "'x'", "multiclass"]),
    (lambda: _trainer(callbacks=[EarlyStopping(monitor="val_accuracy")]).fit((X, Y), epochs=1), ArgumentError,
     ["EarlyStopping", "val_accuracy", "val data"]),
    (lambda: Trainer(None, nn.CrossEntropyLoss(), None), ArgumentTypeError, ["Trainer", "nn.Module", "NoneType"]),
    (lambda: ModelCheckpoint(None), ArgumentTypeError, ["ModelCheckpoint", "path", "None"]),
    (lambda: EarlyStopping(patience=-1), ArgumentError, ["EarlyStopping", "patience", "-1"]),
    (lambda: mdl.load("/nonexistent/model.npz"), SerializationError, ["/nonexistent/model.npz", "no such file"]),
]


@pytest.mark.parametrize("call, cls, words", MESSAGES, ids=[f"{m[1].__name__}-{i}" for i, m in enumerate(MESSAGES)])
def test_error_messages_name_the_function_what_was_expected_and_what_came(call, cls, words):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_raises_naming(call, cls, words)


# -- checkpoints: atomic writes, damaged files --------------------------------------------------------------------------
def _fit_with_checkpoint(path, epochs=2, **fit):
    mdl.manual_seed(0)
    trainer = _trainer(callbacks=[ModelCheckpoint(path, monitor="loss", save_best_only=False)])
    return trainer, trainer.fit((X, Y), epochs=epochs, batch_size=4, seed=0, **fit)


def test_checkpoint_write_killed_midway_leaves_the_previous_checkpoint_loadable(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    trainer, _ = _fit_with_checkpoint(path, epochs=1)
    before = open(path, "rb").read()
    good = mdl.load(path)

    real_savez = np.savez

    def dying_savez(file, **entries):  # writes half an archive, then the process "dies"
        real_savez(file, **entries)
        file.truncate(file.tell() // 2)
        raise KeyboardInterrupt("killed mid-write")

    monkeypatch.setattr(serialization.np, "savez", dying_savez)
    with pytest.raises(KeyboardInterrupt):
        trainer.save_checkpoint(path)
    monkeypatch.undo()
    assert open(path, "rb").read() == before
    assert not [f for f in os.listdir(tmp_path) if f != "ckpt.npz"], "a temporary file was left behind"
    again = mdl.load(path)
    assert again["epoch"] == good["epoch"] == 1
    resumed = _trainer()
    history = resumed.fit((X, Y), epochs=2, batch_size=4, seed=0, resume_from=path)
    assert history.epochs == 2


def test_checkpoint_killed_during_training_keeps_the_last_good_epoch(tmp_path, monkeypatch):
    """ModelCheckpoint itself: the save of epoch 3 dies; the file still holds epoch 2."""
    path = tmp_path / "ckpt.npz"
    calls = {"n": 0}
    real_savez = np.savez

    def savez_dying_on_third(file, **entries):
        calls["n"] += 1
        real_savez(file, **entries)
        if calls["n"] == 3:
            file.truncate(100)
            raise OSError("disk full")

    monkeypatch.setattr(serialization.np, "savez", savez_dying_on_third)
    with pytest.raises(OSError):
        _fit_with_checkpoint(path, epochs=4)
    monkeypatch.undo()
    assert mdl.load(path)["epoch"] == 2


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "garbage"])
def test_damaged_checkpoint_gives_a_clear_error_on_resume(tmp_path, damage):
    path = tmp_path / "ckpt.npz"
    _fit_with_checkpoint(path, epochs=1)
    data = bytearray(open(path, "rb").read())
    if damage == "flip":
        data[len(data) // 3] ^= 0xFF
    elif damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "empty":
        data = bytearray()
    else:
        data = bytearray(b"not a zip file at all" * 10)
    open(path, "wb").write(bytes(data))
    with pytest.raises(SerializationError) as info:
        _trainer().fit((X, Y), epochs=2, resume_from=path)
    assert str(path) in str(info.value)


def test_every_flipped_byte_of_a_saved_model_gives_an_error_or_the_same_model(tmp_path):
    """Flip bytes all over a saved state dict: each load raises SerializationError or returns exactly the
    saved arrays (a flip in zip padding or an unused header field), never a different model."""
    model = nn.Linear(4, 3)
    path = tmp_path / "model.npz"
    mdl.save(model.state_dict(), path)
    clean = open(path, "rb").read()
    expected = {k: np.array(v) for k, v in model.state_dict().items()}
    wrong = []
    for position in range(0, len(clean), 7):
        data = bytearray(clean)
        data[position] ^= 0x5A
        open(path, "wb").write(bytes(data))
        try:
            loaded = mdl.load(path)
        except SerializationError:
            continue
        if set(loaded) != set(expected) or any(not np.array_equal(loaded[k], expected[k]) for k in expected):
            wrong.append(position)
    assert not wrong, f"flipped bytes at {wrong[:5]} gave a different model without an error"


def test_resume_from_a_plain_state_dict_or_a_checkpoint_missing_keys_is_a_serialization_error(tmp_path):
    plain = tmp_path / "plain.npz"
    mdl.save(nn.Linear(3, 3).state_dict(), plain)
    with pytest.raises(SerializationError, match="not a checkpoint"):
        _trainer().fit((X, Y), epochs=1, resume_from=plain)
    partial = tmp_path / "partial.npz"
    mdl.save({"format": "minidl-checkpoint", "epoch": 1}, partial)
    with pytest.raises(SerializationError, match="lacks"):
        _trainer().fit((X, Y), epochs=2, resume_from=partial)


def test_resume_into_a_different_model_is_a_serialization_error(tmp_path):
    path = tmp_path / "ckpt.npz"
    _fit_with_checkpoint(path, epochs=1)
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 3))
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), progress=False)
    with pytest.raises(SerializationError, match="does not fit") as info:
        trainer.fit((X, Y), epochs=2, resume_from=path)
    assert "(5, 3)" in str(info.value) or "(4, 3)" in str(info.value)


def test_checkpoint_files_are_npz_without_pickle_and_carry_a_version(tmp_path):
    path = tmp_path / "ckpt.npz"
    _fit_with_checkpoint(path, epochs=1)
    with np.load(path, allow_pickle=False) as archive:
        assert "__minidl__" in archive.files
        import json
        meta = json.loads(str(archive["__minidl__"]))
    assert meta["format"] == "minidl" and meta["version"] == serialization.VERSION


def test_dataloader_refuses_non_numeric_data_and_non_float_float_dtype():
    class Strings:
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return np.array(["a", "b"])[i], i

    with pytest.raises(DTypeError, match="dtype"):
        list(DataLoader(Strings(), batch_size=2))
    with pytest.raises(DTypeError, match="float_dtype"):
        DataLoader(TensorDataset(X, Y), float_dtype="int64")


# -- findings in files owned by others (each: the call, what it raises, what it should raise) --------------------------
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "where", "less"])
def test_binary_ops_on_shapes_that_do_not_broadcast_name_the_op_and_both_shapes(op):
    a, b = mdl.zeros(2, 3), mdl.zeros(4, 5)
    calls = {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b, "div": lambda: a / b,
             "pow": lambda: a ** b, "maximum": lambda: mdl.maximum(a, b), "minimum": lambda: mdl.minimum(a, b),
             "where": lambda: mdl.where(a > 0, a, b), "less": lambda: a < b}
    with pytest.raises(ShapeError, match=rf"^{op}: .*\(2, 3\).*\(4, 5\)"):
        calls[op]()
    with pytest.raises(ShapeError, match=r"where: .*\(4,\).*\(2, 3\)"):  # a cond that does not fit the values
        mdl.where(mdl.zeros(4) > 0, a, a)


@pytest.mark.parametrize("call", [lambda t: -t, lambda t: t - t, mdl.sigmoid], ids=["neg", "sub", "sigmoid"])
def test_bool_negative_subtract_and_sigmoid_are_dtype_errors(call):
    with pytest.raises(DTypeError, match="bool"):
        call(mdl.tensor([True, False]))


def test_int_to_negative_int_power_is_an_argument_error():
    with pytest.raises(ArgumentError, match="pow: .*int64.*negative"):
        mdl.tensor([2]) ** mdl.tensor([-1])
    with pytest.raises(ArgumentError):
        mdl.tensor([2]) ** -1
    assert (mdl.tensor([2]) ** mdl.tensor([3])).numpy().tolist() == [8]
    assert (mdl.tensor([2]) ** -1.0).numpy().tolist() == [0.5]


@pytest.mark.parametrize("call", [lambda: mdl.zeros(0).max(), lambda: mdl.zeros(0).min(),
                                  lambda: mdl.zeros(0).argmax(), lambda: mdl.zeros(0).logsumexp(),
                                  lambda: mdl.zeros(0, 3).max(axis=0)], ids=["max", "min", "argmax", "logsumexp",
                                                                            "max_axis0"])
def test_reduction_of_empty_axis_is_a_shape_error(call):
    with pytest.raises(ShapeError, match="of an empty axis"):
        call()


def test_sum_mean_and_max_over_non_empty_axes_of_empty_tensors_follow_numpy():
    assert mdl.zeros(0).sum().item() == 0 and mdl.zeros(0, 3).max(axis=1).shape == (0,)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(mdl.zeros(0, 3).mean(axis=0).numpy()).all()


def test_axis_of_wrong_type_is_an_argument_type_error():
    with pytest.raises(ArgumentTypeError, match=r"sum: axis .*1\.0 \(float\)"):
        mdl.zeros(2, 3).sum(axis=1.0)
    with pytest.raises(ArgumentTypeError, match="argmax"):
        mdl.zeros(2, 3).argmax(axis=(0, 1))
    assert mdl.zeros(2, 3).sum(axis=np.int64(1)).shape == (2,)


@pytest.mark.parametrize("fn", [mdl.softmax, mdl.log_softmax], ids=["softmax", "log_softmax"])
def test_softmax_axis_out_of_range_is_a_shape_error(fn):
    with pytest.raises(ShapeError, match=rf"{fn.__name__}: axis 3"):
        fn(mdl.zeros(2, 3), axis=3)


@pytest.mark.parametrize("fn", [mdl.softmax, mdl.log_softmax], ids=["softmax", "log_softmax"])
def test_softmax_over_empty_axis_is_empty_as_in_pytorch(fn):
    assert fn(mdl.zeros(0), axis=-1).shape == (0,)
    x = mdl.zeros(2, 0, requires_grad=True)
    fn(x, axis=0).sum().backward()
    assert x.grad.shape == (2, 0)


@pytest.mark.parametrize("shape, axes", [((3,), (1,)), ((2, 3), (3, 0))])
def test_transpose_axis_out_of_range_is_a_shape_error(shape, axes):
    with pytest.raises(ShapeError, match="transpose"):
        mdl.zeros(*shape).transpose(*axes)


def test_zero_d_edge_cases_follow_numpy():
    """NumPy refuses to concatenate 0-d arrays and tuple axes on them; an int axis 0 or -1 of a 0-d tensor
    names the tensor itself (NumPy's sum, max, squeeze and PyTorch accept it); pad of a 0-d array returns it."""
    with pytest.raises(ShapeError, match="concatenate: 0-d"):
        mdl.concatenate([mdl.tensor(1.0), mdl.tensor(2.0)])
    with pytest.raises(ShapeError, match="sum: axis 0"):
        mdl.tensor(0.0).sum(axis=(0,))
    with pytest.raises(ShapeError, match="sum: axis 1"):
        mdl.tensor(0.0).sum(axis=1)
    assert mdl.tensor(2.0).squeeze(0).shape == () and mdl.tensor(2.0).sum(axis=0).item() == 2.0
    assert mdl.tensor(2.0).max(axis=-1).item() == 2.0 and mdl.tensor(2.0).argmax(axis=0).item() == 0
    x = mdl.tensor(2.0, requires_grad=True)
    y = mdl.pad(x, 0)
    assert y.shape == () and y.item() == 2.0
    (y * 3).backward()
    assert x.grad.item() == 3.0


def test_conv2d_on_an_empty_batch_returns_an_empty_batch():
    assert nn.Conv2d(1, 1, 1)(mdl.zeros(0, 1, 5, 5)).shape == (0, 1, 5, 5)


@pytest.mark.parametrize("make", [lambda p: optim.Adam(p), lambda p: optim.AdamW(p), lambda p: optim.Adagrad(p),
                                  lambda p: optim.RMSprop(p)], ids=["Adam", "AdamW", "Adagrad", "RMSprop"])
def test_optimizer_step_on_0d_parameter(make):
    p = nn.Parameter(mdl.tensor(1.0))
    opt = make([p])
    p.grad = mdl.tensor(1.0)
    opt.step()
    assert p.shape == () and p.item() < 1.0


OPTIMIZERS_0D = [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
                 ("Adam", dict(lr=0.1, weight_decay=0.1, amsgrad=True)), ("AdamW", dict(lr=0.1)),
                 ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1)),
                 ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1))]


@pytest.mark.parametrize("name, kwargs", OPTIMIZERS_0D, ids=[n for n, _ in OPTIMIZERS_0D])
def test_optimizer_steps_on_a_0d_parameter_match_pytorch(torch, name, kwargs):
    ours = nn.Parameter(mdl.tensor(1.5, dtype="float64"))
    theirs = torch.nn.Parameter(torch.tensor(1.5, dtype=torch.float64))
    opt, opt_t = getattr(optim, name)([ours], **kwargs), getattr(torch.optim, name)([theirs], **kwargs)
    for g in np.sin(np.arange(1.0, 6.0)):
        ours.grad = mdl.tensor(g, dtype="float64")
        theirs.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        opt_t.step()
    assert ours.shape == () and abs(ours.item() - 1.5) > 1e-3
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)


@pytest.mark.parametrize("grad, cls, words", [
    (lambda: mdl.ones(4), ShapeError, ["Adam.step", "parameter 1 of param group 0", "(4,)", "(3,)"]),
    (lambda: mdl.tensor([1, 2, 3]), DTypeError, ["Adam.step", "parameter 1 of param group 0", "int64", "float32"]),
    (lambda: mdl.ones(3, device="strict"), DeviceError, ["SGD.step", "parameter 1 of param group 0", "'strict'",
                                                         "'cpu'"]),
    (lambda: np.ones(3, np.float32), ArgumentTypeError, ["Adam.step", "parameter 1", "ndarray"])],
    ids=["shape", "dtype", "device", "numpy"])
def test_optimizer_step_with_a_bad_gradient(grad, cls, words):
    other, p = nn.Parameter(mdl.randn(2)), nn.Parameter(mdl.randn(3))
    opt = optim.SGD([other, p], lr=0.1, momentum=0.9) if cls is DeviceError else optim.Adam([other, p])
    other.grad, p.grad = mdl.ones(2), grad()
    before = other.numpy()
    assert_raises_naming(opt.step, cls, words)
    assert np.array_equal(other.numpy(), before) and not opt.state  # checked before anything was updated
    p.grad = mdl.ones(3)  # the optimizer works once the gradient is right
    opt.step()
    assert not np.array_equal(other.numpy(), before)


def test_dropout_on_int_tensor():
    """Training with p > 0 needs floats (a DTypeError naming the layer); evaluation and p = 0 are the identity
    for any dtype, as in PyTorch."""
    x = mdl.ones(4, 3, dtype="int64")
    with pytest.raises(DTypeError, match=r"Dropout\(p=0.5\).*int64"):
        nn.Dropout(0.5)(x)
    assert nn.Dropout(0.5).eval()(x) is x and nn.Dropout(0.0)(x) is x


def test_loss_on_a_numpy_array_is_an_argument_type_error():
    """A NumPy array has no graph to record a gradient in (PyTorch refuses it too): wrap it with mdl.tensor."""
    with pytest.raises(ArgumentTypeError, match="cross_entropy: expected the logits as a Tensor, got numpy.ndarray"):
        F.cross_entropy(np.zeros((2, 3), np.float32), [0, 1])
    with pytest.raises(ArgumentTypeError, match="mse_loss: .*numpy.ndarray"):
        F.mse_loss(np.zeros(3, np.float32), mdl.zeros(3))


def test_loss_with_a_string_target_is_a_dtype_error():
    with pytest.raises(DTypeError, match="mse_loss: target must hold numbers.*'a'"):
        F.mse_loss(mdl.zeros(3), "a")


BAD_LAYER_ARGUMENTS = [
    # (call, error class, words the message must contain)
    (lambda: nn.Linear(-1, 2), ArgumentError, ["Linear", "in_features", ">= 0", "-1"]),
    (lambda: nn.Linear(3, -2), ArgumentError, ["Linear", "out_features", "-2"]),
    (lambda: nn.Linear("a", 2), ArgumentTypeError, ["Linear", "in_features", "'a'", "str"]),
    (lambda: nn.Linear(3.5, 2), ArgumentTypeError, ["Linear", "in_features", "3.5", "float"]),
    (lambda: nn.Linear(True, 2), ArgumentTypeError, ["Linear", "in_features", "bool"]),
    (lambda: nn.Conv2d(1, 2, 0), ArgumentError, ["Conv2d", "kernel_size", ">= 1", "0"]),
    (lambda: nn.Conv2d(1, 2, (3, 0)), ArgumentError, ["Conv2d", "kernel_size[1]", "0"]),
    (lambda: nn.Conv2d(1, 2, (3, 3, 3)), ArgumentError, ["Conv2d", "kernel_size", "pair"]),
    (lambda: nn.Conv2d(-1, 2, 3), ArgumentError, ["Conv2d", "in_channels", "-1"]),
    (lambda: nn.Conv2d(0, 2, 3), ArgumentError, ["Conv2d", "in_channels", ">= 1"]),
    (lambda: nn.Conv2d(1, 2, 3, stride=0), ArgumentError, ["Conv2d", "stride", "0"]),
    (lambda: nn.Conv2d(1, 2, 3, padding=-1), ArgumentError, ["Conv2d", "padding", ">= 0"]),
    (lambda: nn.Conv2d(1, 2, 3.0), ArgumentTypeError, ["Conv2d", "kernel_size", "float"]),
    (lambda: nn.BatchNorm1d(-3), ArgumentError, ["BatchNorm1d", "num_features", "-3"]),
    (lambda: nn.BatchNorm2d(2.5), ArgumentTypeError, ["BatchNorm2d", "num_features", "2.5"]),
    (lambda: nn.MaxPool2d(0), ArgumentError, ["MaxPool2d", "kernel_size", "0"]),
    (lambda: nn.AvgPool2d(2, stride=0), ArgumentError, ["AvgPool2d", "stride", "0"]),
    (lambda: nn.MaxPool2d(2, padding=2), ArgumentError, ["MaxPool2d", "padding", "half the kernel"]),
    (lambda: nn.Dropout("0.5"), ArgumentTypeError, ["Dropout", "p", "'0.5'"]),
]


@pytest.mark.parametrize("call, cls, words", BAD_LAYER_ARGUMENTS, ids=range(len(BAD_LAYER_ARGUMENTS)))
def test_layer_constructors_reject_bad_sizes(call, cls, words):
    """Sizes are ints (not floats, strings or bools) in range, checked where the layer is built."""
    assert_raises_naming(call, cls, words)


def test_empty_linear_layers_work_as_in_pytorch():
    """Linear(0, k) and Linear(k, 0) are allowed (PyTorch allows them): no init crash, the obvious results."""
    layer = nn.Linear(0, 2)
    assert layer.weight.shape == (2, 0) and np.array_equal(layer.bias.numpy(), [0.0, 0.0])
    x = mdl.zeros(3, 0, requires_grad=True)
    y = layer(x)
    assert y.shape == (3, 2)
    y.sum().backward()
    assert x.grad.shape == (3, 0) and np.array_equal(layer.bias.grad.numpy(), [3.0, 3.0])
    assert nn.Linear(2, 0)(mdl.ones(3, 2)).shape == (3, 0)


def test_layer_sizes_accept_numpy_ints():
    layer = nn.Conv2d(np.int64(1), np.int32(2), (np.int64(3), 3))
    assert (layer.in_channels, layer.out_channels, layer.kernel_size) == (1, 2, (3, 3))
    assert type(layer.in_channels) is int


ARGUMENT_ERRORS = [
    # (call, error class, words the message must contain)
    (lambda: mdl.zeros(-1), ShapeError, ["zeros", "negative", "(-1,)"]),
    (lambda: mdl.zeros(2.5), ArgumentTypeError, ["zeros", "ints", "2.5"]),
    (lambda: mdl.full((-2,), 1.0), ShapeError, ["full", "(-2,)"]),
    (lambda: mdl.randn(-1), ShapeError, ["randn", "(-1,)"]),
    (lambda: mdl.eye(-1), ShapeError, ["eye", "(-1,)"]),
    (lambda: mdl.arange(0, 5, 0), ArgumentError, ["arange", "step", "zero"]),
    (lambda: mdl.zeros(2).clip(), ArgumentError, ["clip", "a_min", "a_max"]),
    (lambda: F.cross_entropy(mdl.zeros(4, 3), mdl.tensor([0, 1, 2, 3])), ArgumentError,
     ["cross_entropy", "target 3", "[0, 3)"]),
    (lambda: F.cross_entropy(mdl.zeros(4, 3), mdl.tensor([0, 1, 2, 1]), reduction="avg"), ArgumentError,
     ["cross_entropy", "reduction", "'avg'"]),
    (lambda: F.cross_entropy(mdl.zeros(4, 3), mdl.tensor([0, 1, 2, 1]), label_smoothing=2), ArgumentError,
     ["cross_entropy", "label_smoothing", "2"]),
    (lambda: F.binary_cross_entropy(mdl.full((3,), 2.0), mdl.zeros(3)), ArgumentError,
     ["binary_cross_entropy", "[0, 1]"]),
    (lambda: F.huber_loss(mdl.zeros(3), mdl.zeros(3), delta=0), ArgumentError, ["huber_loss", "delta", "0"]),
    (lambda: F.one_hot(mdl.tensor([-1]), 3), ArgumentError, ["one_hot", "-1", "num_classes=3"]),
    (lambda: F.one_hot(mdl.tensor([1]), 2.5), ArgumentTypeError, ["one_hot", "num_classes", "2.5"]),
]


@pytest.mark.parametrize("call, cls, words", ARGUMENT_ERRORS, ids=range(len(ARGUMENT_ERRORS)))
def test_out_of_range_arguments_of_ops_and_factories_are_minidl_errors(call, cls, words):
    """Still ValueError / TypeError (the class NumPy would raise), and a MinidlError naming the function."""
    assert_raises_naming(call, cls, words)


ARGUMENT_ERRORS = [
    # (name, call, error class, words the message must contain): out-of-range arguments in nn/ and optim/
    ("nn.CrossEntropyLoss(label_smoothing=2)", lambda: nn.CrossEntropyLoss(label_smoothing=2), ArgumentError,
     ["label_smoothing", "[0, 1]", "2"]),
    ("nn.Dropout(1.5)", lambda: nn.Dropout(1.5), ArgumentError, ["Dropout", "p", "[0, 1]", "1.5"]),
    ("nn.MaxPool2d(0)", lambda: nn.MaxPool2d(0), ArgumentError, ["MaxPool2d", "kernel_size", "0"]),
    ("nn.BatchNorm1d(3)(mdl.zeros(1, 3)) in training", lambda: nn.BatchNorm1d(3)(mdl.zeros(1, 3)), ShapeError,
     ["BatchNorm1d", "more than 1 value per channel", "(1, 3)", ".eval()"]),
    ("nn.Sequential(lambda x: x)", lambda: nn.Sequential(nn.ReLU(), lambda x: x), ArgumentTypeError,
     ["Sequential", "layer 1", "function", "Module"]),
    ("optim.SGD(params, lr=-1)", lambda: optim.SGD([nn.Parameter(mdl.zeros(2))], lr=-1), ArgumentError,
     ["SGD", "lr", ">= 0", "-1"]),
    ("optim.SGD([], lr=0.1)", lambda: optim.SGD([], lr=0.1), ArgumentError, ["SGD", "empty parameter list"]),
    ("optim.SGD(a single tensor, lr=0.1)", lambda: optim.SGD(nn.Parameter(mdl.zeros(2)), lr=0.1), ArgumentTypeError,
     ["SGD", "single Tensor", "[param]"]),
    ("optim.Adam(params, betas=(1.0, 0.9))", lambda: optim.Adam([nn.Parameter(mdl.zeros(2))], betas=(1.0, 0.9)),
     ArgumentError, ["Adam", "betas[0]", "[0, 1)", "1.0"]),
    ("optimizer.load_state_dict({'foo': 1})",
     lambda: optim.Adam([nn.Parameter(mdl.zeros(2))]).load_state_dict({"foo": 1}), ArgumentError,
     ["Adam.load_state_dict", "'state' and 'param_groups'", "foo"]),
    ("optimizer.load_state_dict([])", lambda: optim.Adam([nn.Parameter(mdl.zeros(2))]).load_state_dict([]),
     ArgumentTypeError, ["Adam.load_state_dict", "list"]),
    ("nn.utils.clip_grad_norm_(params, -1)", lambda: nn.utils.clip_grad_norm_([nn.Parameter(mdl.zeros(2))], -1),
     ArgumentError, ["clip_grad_norm_", "max_norm", ">= 0", "-1"]),
    ("nn.utils.clip_grad_norm_(params, 'a')", lambda: nn.utils.clip_grad_norm_([nn.Parameter(mdl.zeros(2))], "a"),
     ArgumentTypeError, ["clip_grad_norm_", "max_norm", "'a'"]),
    ("lr_scheduler.StepLR(opt, step_size=0)",
     lambda: optim.lr_scheduler.StepLR(optim.SGD([nn.Parameter(mdl.zeros(2))], lr=0.1), step_size=0), ArgumentError,
     ["StepLR", "step_size", "positive integer", "0"]),
    ("lr_scheduler.StepLR(model, 2)", lambda: optim.lr_scheduler.StepLR(nn.Linear(2, 2), 2), ArgumentTypeError,
     ["StepLR", "Optimizer", "Linear"]),
]


@pytest.mark.parametrize("call, cls, words", [c[1:] for c in ARGUMENT_ERRORS], ids=[c[0] for c in ARGUMENT_ERRORS])
def test_argument_errors_in_nn_and_optim(call, cls, words):
    """A MinidlError of the right class (still a ValueError/TypeError), naming the layer or optimizer and the value."""
    assert_raises_naming(call, cls, words)


def test_functional_dropout_on_an_int_tensor_is_a_dtype_error():
    with pytest.raises(mdl.DTypeError, match="dropout: training needs a floating-point tensor"):
        F.dropout(mdl.tensor([1, 2, 3]), 0.5, training=True)
    np.testing.assert_array_equal(F.dropout(mdl.tensor([1, 2, 3]), 0.5, training=False).numpy(), [1, 2, 3])


def test_functional_batch_norm_on_one_value_per_channel_is_a_shape_error():
    with pytest.raises(mdl.ShapeError, match="more than 1 value per channel"):
        F.batch_norm(mdl.ones(1, 3), None, None, training=True)
