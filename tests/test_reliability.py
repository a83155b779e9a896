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


def finding(reason):
    return pytest.mark.xfail(strict=True, reason=reason)


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
        with pytest.raises(cls) as info:
            call()
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} missing from: {message}"


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
@finding("mdl.zeros(2, 3) + mdl.zeros(4, 5) (also -, *, /, **, maximum, minimum, where, <) raises NumPy's plain "
         "ValueError 'operands could not be broadcast together'; should raise ShapeError naming the op and both shapes "
         "(minidl/ops/elementwise.py)")
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "where", "less"])
def test_finding_binary_ops_shapes_that_do_not_broadcast(op):
    a, b = mdl.zeros(2, 3), mdl.zeros(4, 5)
    calls = {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b, "div": lambda: a / b,
             "pow": lambda: a ** b, "maximum": lambda: mdl.maximum(a, b), "minimum": lambda: mdl.minimum(a, b),
             "where": lambda: mdl.where(a > 0, a, b), "less": lambda: a < b}
    with pytest.raises(ShapeError, match=r"\(2, 3\).*\(4, 5\)"):
        calls[op]()


@finding("-mdl.tensor([True]), mdl.tensor([True]) - mdl.tensor([True]) and mdl.sigmoid(mdl.tensor([True])) raise "
         "NumPy's TypeError 'boolean negative/subtract is not supported'; should raise DTypeError (minidl/ops/"
         "elementwise.py, activation.py)")
@pytest.mark.parametrize("call", [lambda t: -t, lambda t: t - t, mdl.sigmoid], ids=["neg", "sub", "sigmoid"])
def test_finding_bool_negative_and_subtract(call):
    with pytest.raises(DTypeError):
        call(mdl.tensor([True, False]))


@finding("mdl.tensor([2]) ** mdl.tensor([-1]) raises NumPy's ValueError 'Integers to negative integer powers are "
         "not allowed'; should raise DTypeError (or compute in float) (minidl/ops/elementwise.py)")
def test_finding_int_to_negative_int_power():
    with pytest.raises(MinidlError):
        mdl.tensor([2]) ** mdl.tensor([-1])


@finding("mdl.zeros(0).max() / .min() / .argmax() / .logsumexp() and mdl.zeros(0, 3).max(axis=0) raise NumPy's "
         "ValueError 'zero-size array to reduction operation maximum which has no identity'; should raise ShapeError "
         "(minidl/ops/reduction.py)")
@pytest.mark.parametrize("call", [lambda: mdl.zeros(0).max(), lambda: mdl.zeros(0).min(),
                                  lambda: mdl.zeros(0).argmax(), lambda: mdl.zeros(0).logsumexp(),
                                  lambda: mdl.zeros(0, 3).max(axis=0)], ids=["max", "min", "argmax", "logsumexp",
                                                                            "max_axis0"])
def test_finding_reduction_of_empty_axis(call):
    with pytest.raises(ShapeError):
        call()


@finding("mdl.zeros(2, 3).sum(axis=1.0) raises TypeError \"'float' object is not iterable\" (from "
         "ops/broadcast.py normalize_axes); should raise ArgumentTypeError/ShapeError naming sum and the axis")
def test_finding_axis_of_wrong_type():
    with pytest.raises(MinidlError, match="axis"):
        mdl.zeros(2, 3).sum(axis=1.0)


@finding("mdl.softmax(mdl.zeros(2, 3), axis=3), mdl.log_softmax(..., axis=3) and nn.Softmax(axis=5)(x) raise "
         "numpy.exceptions.AxisError; should raise ShapeError (minidl/ops/activation.py)")
@pytest.mark.parametrize("fn", [mdl.softmax, mdl.log_softmax], ids=["softmax", "log_softmax"])
def test_finding_softmax_axis_out_of_range(fn):
    with pytest.raises(ShapeError):
        fn(mdl.zeros(2, 3), axis=3)


@finding("mdl.softmax(mdl.zeros(0)) (softmax/log_softmax over an empty axis) raises NumPy's ValueError "
         "'zero-size array to reduction operation maximum'; should return an empty tensor as PyTorch "
         "(minidl/ops/activation.py)")
@pytest.mark.parametrize("fn", [mdl.softmax, mdl.log_softmax], ids=["softmax", "log_softmax"])
def test_finding_softmax_over_empty_axis(fn):
    assert fn(mdl.zeros(0), axis=-1).shape == (0,)


@finding("mdl.zeros(3).transpose(1) returns a tensor (the axis wraps modulo ndim) and mdl.zeros(2, 3).transpose(3, 0) "
         "returns the transpose; NumPy raises AxisError; should raise ShapeError (minidl/ops/shape.py transpose)")
@pytest.mark.parametrize("shape, axes", [((3,), (1,)), ((2, 3), (3, 0))])
def test_finding_transpose_axis_out_of_range(shape, axes):
    with pytest.raises(ShapeError):
        mdl.zeros(*shape).transpose(*axes)


@finding("on 0-d tensors: mdl.concatenate([mdl.tensor(1.0), mdl.tensor(2.0)]) raises IndexError, "
         "mdl.tensor(0.0).squeeze(0) IndexError, mdl.tensor(0.0).sum(axis=0) numpy AxisError, mdl.pad(mdl.tensor(0.0), 0) "
         "TypeError '`pad_width` must be of integral type'; should return NumPy's result or raise ShapeError "
         "(minidl/ops/shape.py, ops/broadcast.py normalize_axes)")
@pytest.mark.parametrize("call", [lambda: mdl.concatenate([mdl.tensor(1.0), mdl.tensor(2.0)]),
                                  lambda: mdl.tensor(0.0).squeeze(0), lambda: mdl.tensor(0.0).sum(axis=0),
                                  lambda: mdl.pad(mdl.tensor(0.0), 0)], ids=["concatenate", "squeeze", "sum", "pad"])
def test_finding_zero_d_edge_cases(call):
    try:
        call()
    except MinidlError:
        pass


def test_conv2d_on_an_empty_batch_returns_an_empty_batch():
    assert nn.Conv2d(1, 1, 1)(mdl.zeros(0, 1, 5, 5)).shape == (0, 1, 5, 5)


@finding("optim.Adam([p]).step() with a 0-d Parameter p (e.g. nn.Parameter(mdl.tensor(1.0))) raises TypeError "
         "'return arrays must be of ArrayType' (also AdamW, Adagrad, RMSprop; SGD works); should update p "
         "(minidl/optim/*: ufunc out= on a 0-d array)")
@pytest.mark.parametrize("make", [lambda p: optim.Adam(p), lambda p: optim.AdamW(p), lambda p: optim.Adagrad(p),
                                  lambda p: optim.RMSprop(p)], ids=["Adam", "AdamW", "Adagrad", "RMSprop"])
def test_finding_optimizer_step_on_0d_parameter(make):
    p = nn.Parameter(mdl.tensor(1.0))
    opt = make([p])
    p.grad = mdl.tensor(1.0)
    opt.step()
    assert p.shape == () and p.item() < 1.0


@finding("an optimizer step with a gradient of the wrong shape, dtype or device leaks NumPy's errors: "
         "p = nn.Parameter(mdl.randn(3)); p.grad = mdl.ones(4); optim.Adam([p]).step() raises ValueError "
         "'operands could not be broadcast'; p.grad = mdl.tensor([1, 2, 3]) (int) raises UFuncTypeError; "
         "p.grad on 'strict' with SGD(momentum=0.9) raises a plain TypeError; should raise ShapeError / DTypeError / "
         "DeviceError naming the parameter (minidl/optim/optimizer.py step)")
@pytest.mark.parametrize("grad, cls", [(lambda: mdl.ones(4), ShapeError), (lambda: mdl.tensor([1, 2, 3]), DTypeError),
                                       (lambda: mdl.ones(3, device="strict"), DeviceError)],
                         ids=["shape", "dtype", "device"])
def test_finding_optimizer_step_with_a_bad_gradient(grad, cls):
    p = nn.Parameter(mdl.randn(3))
    opt = optim.SGD([p], lr=0.1, momentum=0.9) if cls is DeviceError else optim.Adam([p])
    p.grad = grad()
    with pytest.raises(cls):
        opt.step()


@finding("nn.Dropout(0.5)(mdl.ones(4, 3, dtype='int64')) in training mode raises numpy UFuncTypeError 'Cannot cast "
         "ufunc multiply output from float64 to int64'; should raise DTypeError (minidl/ops/dropout.py)")
def test_finding_dropout_on_int_tensor():
    with pytest.raises(DTypeError):
        nn.Dropout(0.5)(mdl.ones(4, 3, dtype="int64"))


@finding("F.cross_entropy(np.zeros((2, 3)), [0, 1]) (a NumPy array for the logits) raises AttributeError "
         "\"'numpy.ndarray' object has no attribute '_backend'\"; should accept it or raise ArgumentTypeError/"
         "DTypeError (minidl/ops/loss.py)")
def test_finding_loss_on_a_numpy_array():
    try:
        F.cross_entropy(np.zeros((2, 3), np.float32), [0, 1])
    except MinidlError:
        pass


@finding("F.mse_loss(mdl.zeros(3), 'a') raises NumPy's ValueError 'could not convert string to float'; should "
         "raise DTypeError (minidl/ops/loss.py _constant)")
def test_finding_loss_with_a_string_target():
    with pytest.raises(DTypeError):
        F.mse_loss(mdl.zeros(3), "a")


@finding("layer constructors with bad sizes leak Python/NumPy errors: nn.Linear(-1, 2) ValueError 'negative "
         "dimension', nn.Linear(0, 2) ZeroDivisionError, nn.Linear('a', 2) ValueError from int(), nn.Conv2d(1, 2, 0) "
         "ZeroDivisionError, nn.Conv2d(-1, 2, 3) and nn.BatchNorm1d(-3) ValueError; should raise ArgumentError "
         "naming the layer and the argument (minidl/nn/linear.py, conv.py, normalization.py, init.py)")
@pytest.mark.parametrize("call", [lambda: nn.Linear(-1, 2), lambda: nn.Linear(0, 2), lambda: nn.Linear("a", 2),
                                  lambda: nn.Conv2d(1, 2, 0), lambda: nn.Conv2d(-1, 2, 3), lambda: nn.BatchNorm1d(-3)],
                         ids=["Linear_neg", "Linear_0", "Linear_str", "Conv2d_k0", "Conv2d_neg", "BatchNorm_neg"])
def test_finding_layer_constructors_with_bad_sizes(call):
    try:
        call()  # Linear(0, 2) may also be accepted (PyTorch allows it)
    except MinidlError:
        pass


@finding("nn.Linear(3.5, 2) silently makes a Linear(in_features=3) and nn.Conv2d(1, 2, 3, stride=0) is accepted "
         "(fails only in forward); should raise ArgumentError at construction (minidl/nn/linear.py, conv.py)")
@pytest.mark.parametrize("call", [lambda: nn.Linear(3.5, 2), lambda: nn.Conv2d(1, 2, 3, stride=0)],
                         ids=["Linear_float", "Conv2d_stride0"])
def test_finding_layer_constructors_accept_bad_values(call):
    with pytest.raises(MinidlError):
        call()


PLAIN_VALUE_ERRORS = [
    ("mdl.zeros(-1)", lambda: mdl.zeros(-1)),
    ("mdl.zeros(2.5)", lambda: mdl.zeros(2.5)),
    ("mdl.full((-2,), 1.0)", lambda: mdl.full((-2,), 1.0)),
    ("mdl.randn(-1)", lambda: mdl.randn(-1)),
    ("mdl.eye(-1)", lambda: mdl.eye(-1)),
    ("mdl.arange(0, 5, 0)", lambda: mdl.arange(0, 5, 0)),
    ("mdl.zeros(2).clip()", lambda: mdl.zeros(2).clip()),
    ("F.cross_entropy(x, target 3 with C=3)", lambda: F.cross_entropy(mdl.zeros(4, 3), mdl.tensor([0, 1, 2, 3]))),
    ("F.cross_entropy(..., reduction='avg')",
     lambda: F.cross_entropy(mdl.zeros(4, 3), mdl.tensor([0, 1, 2, 1]), reduction="avg")),
    ("nn.CrossEntropyLoss(label_smoothing=2)", lambda: nn.CrossEntropyLoss(label_smoothing=2)),
    ("F.binary_cross_entropy(x outside [0, 1])", lambda: F.binary_cross_entropy(mdl.full((3,), 2.0), mdl.zeros(3))),
    ("F.huber_loss(x, x, delta=0)", lambda: F.huber_loss(mdl.zeros(3), mdl.zeros(3), delta=0)),
    ("F.one_hot(mdl.tensor([-1]), 3)", lambda: F.one_hot(mdl.tensor([-1]), 3)),
    ("nn.Dropout(1.5)", lambda: nn.Dropout(1.5)),
    ("nn.MaxPool2d(0)(x)", lambda: nn.MaxPool2d(0)(mdl.zeros(1, 1, 4, 4))),
    ("nn.BatchNorm1d(3)(mdl.zeros(1, 3)) in training", lambda: nn.BatchNorm1d(3)(mdl.zeros(1, 3))),
    ("nn.Sequential(lambda x: x)", lambda: nn.Sequential(lambda x: x)),
    ("optim.SGD(params, lr=-1)", lambda: optim.SGD([nn.Parameter(mdl.zeros(2))], lr=-1)),
    ("optim.SGD([], lr=0.1)", lambda: optim.SGD([], lr=0.1)),
    ("optim.SGD(a single tensor, lr=0.1)", lambda: optim.SGD(nn.Parameter(mdl.zeros(2)), lr=0.1)),
    ("optim.Adam(params, betas=(1.0, 0.9))", lambda: optim.Adam([nn.Parameter(mdl.zeros(2))], betas=(1.0, 0.9))),
    ("optimizer.load_state_dict({'foo': 1})",
     lambda: optim.Adam([nn.Parameter(mdl.zeros(2))]).load_state_dict({"foo": 1})),
    ("nn.utils.clip_grad_norm_(params, -1)", lambda: nn.utils.clip_grad_norm_([nn.Parameter(mdl.zeros(2))], -1)),
    ("lr_scheduler.StepLR(opt, step_size=0)",
     lambda: optim.lr_scheduler.StepLR(optim.SGD([nn.Parameter(mdl.zeros(2))], lr=0.1), step_size=0)),
]


@finding("out-of-range arguments in ops/, nn/, optim/ and creation.py raise plain ValueError/TypeError/"
         "ZeroDivisionError (good messages, wrong class); should raise minidl.errors.ArgumentError / ArgumentTypeError "
         "(MinidlError and still ValueError/TypeError), or ShapeError for negative sizes")
@pytest.mark.parametrize("call", [c for _, c in PLAIN_VALUE_ERRORS], ids=[n for n, _ in PLAIN_VALUE_ERRORS])
def test_finding_plain_value_errors(call):
    with pytest.raises(MinidlError):
        call()
