"""Every public function of API.md that takes tensors, as one table: a name, the function, and a valid example.

Shared by tests/test_array_arguments.py (each tensor argument given as a NumPy array instead) and
tests/test_fuzz.py (`test_fuzz_public_functions`: random arguments, never an internal error).

An example is `example(rng) -> (args, kwargs)`: every NumPy array in it (at the top level, or in a list
such as concatenate's) stands for a Tensor argument; everything else (axes, sizes, flags) is passed as is.
Adding a function is one line: `Api("name", function, example)`.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np

import minidl as mdl
import minidl.nn as nn
import minidl.nn.functional as F


@dataclass(frozen=True, repr=False)
class Api:
    name: str
    fn: Callable
    example: Callable

    def __repr__(self):
        return self.name


def x(*shape):
    """An example builder's float64 array of `shape` (drawn from the builder's generator)."""
    return lambda rng: rng.standard_normal(shape)


def positive(*shape):
    return lambda rng: rng.uniform(0.5, 2.0, shape)


def classes(n, c):
    return lambda rng: rng.integers(0, c, n)


def probabilities(*shape):
    return lambda rng: rng.uniform(0.05, 0.95, shape)


def call(*args, **kwargs):
    """An example: builders (callables of rng) are drawn, lists of them element by element; the rest kept."""
    def draw(value, rng):
        if isinstance(value, list):
            return [draw(v, rng) for v in value]
        return value(rng) if callable(value) else value

    return lambda rng: (tuple(draw(a, rng) for a in args), {k: draw(v, rng) for k, v in kwargs.items()})


def mask(*shape):
    return lambda rng: rng.random(shape) < 0.5


PUBLIC_FUNCTIONS = [
    # minidl: elementwise, activations
    Api("exp", mdl.exp, call(x(2, 3))),
    Api("log", mdl.log, call(positive(2, 3))),
    Api("sqrt", mdl.sqrt, call(positive(2, 3))),
    Api("abs", mdl.abs, call(x(2, 3))),
    Api("clip", mdl.clip, call(x(2, 3), -0.5, 0.5)),
    Api("maximum", mdl.maximum, call(x(2, 3), x(3))),
    Api("minimum", mdl.minimum, call(x(2, 3), x(3))),
    Api("where", mdl.where, call(mask(2, 3), x(2, 3), x(3))),
    Api("matmul", mdl.matmul, call(x(2, 3), x(3, 4))),
    Api("relu", mdl.relu, call(x(2, 3))),
    Api("sigmoid", mdl.sigmoid, call(x(2, 3))),
    Api("tanh", mdl.tanh, call(x(2, 3))),
    Api("leaky_relu", mdl.leaky_relu, call(x(2, 3), 0.1)),
    Api("softmax", mdl.softmax, call(x(2, 3), axis=0)),
    Api("log_softmax", mdl.log_softmax, call(x(2, 3), axis=-1)),
    # minidl: reductions and shapes
    Api("sum", mdl.sum, call(x(2, 3), axis=1)),
    Api("mean", mdl.mean, call(x(2, 3), axis=0, keepdims=True)),
    Api("max", mdl.max, call(x(2, 3), axis=1)),
    Api("min", mdl.min, call(x(2, 3))),
    Api("var", mdl.var, call(x(2, 3), axis=1, ddof=1)),
    Api("logsumexp", mdl.logsumexp, call(x(2, 3), axis=1)),
    Api("argmax", mdl.argmax, call(x(2, 3), axis=1)),
    Api("argmin", mdl.argmin, call(x(2, 3))),
    Api("reshape", mdl.reshape, call(x(2, 3), 3, 2)),
    Api("transpose", mdl.transpose, call(x(2, 3, 4), 2, 0, 1)),
    Api("flatten", mdl.flatten, call(x(2, 3))),
    Api("expand_dims", mdl.expand_dims, call(x(2, 3), 1)),
    Api("squeeze", mdl.squeeze, call(x(2, 1, 3), 1)),
    Api("concatenate", mdl.concatenate, call([x(2, 3), x(1, 3)], axis=0)),
    Api("stack", mdl.stack, call([x(2, 3), x(2, 3)], axis=1)),
    Api("pad", mdl.pad, call(x(2, 3), 1)),
    # minidl.nn.functional: layers
    Api("F.linear", F.linear, call(x(4, 3), x(2, 3), x(2))),
    Api("F.linear_3d", F.linear, call(x(5, 4, 3), x(2, 3))),
    Api("F.conv2d", F.conv2d, call(x(2, 3, 5, 5), x(4, 3, 3, 3), x(4),
                                   stride=1, padding=1)),
    Api("F.max_pool2d", F.max_pool2d, call(x(2, 3, 4, 4), 2)),
    Api("F.avg_pool2d", F.avg_pool2d, call(x(2, 3, 4, 4), 2)),
    Api("F.batch_norm_eval", F.batch_norm, call(x(4, 3), x(3), positive(3), x(3), x(3), training=False)),
    Api("F.batch_norm_train", F.batch_norm, call(x(4, 3), x(3), positive(3), x(3), x(3), training=True)),
    Api("F.dropout", F.dropout, call(x(4, 3), 0.5, True)),
    Api("F.relu", F.relu, call(x(2, 3))),
    Api("F.leaky_relu", F.leaky_relu, call(x(2, 3), negative_slope=0.2)),
    Api("F.sigmoid", F.sigmoid, call(x(2, 3))),
    Api("F.tanh", F.tanh, call(x(2, 3))),
    Api("F.softmax", F.softmax, call(x(2, 3), axis=-1)),
    Api("F.log_softmax", F.log_softmax, call(x(2, 3))),
    Api("F.one_hot", F.one_hot, call(classes(5, 3), 3)),
    # minidl.nn.functional: losses and penalties
    Api("F.cross_entropy", F.cross_entropy, call(x(4, 3), classes(4, 3))),
    Api("F.cross_entropy_weighted", F.cross_entropy, call(x(4, 3), classes(4, 3), weight=positive(3))),
    Api("F.nll_loss", F.nll_loss, call(x(4, 3), classes(4, 3))),
    Api("F.binary_cross_entropy", F.binary_cross_entropy, call(probabilities(4), probabilities(4))),
    Api("F.binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits, call(x(4), probabilities(4))),
    Api("F.mse_loss", F.mse_loss, call(x(4, 2), x(4, 2))),
    Api("F.l1_loss", F.l1_loss, call(x(4, 2), x(4, 2))),
    Api("F.huber_loss", F.huber_loss, call(x(4, 2), x(4, 2), delta=0.5)),
    Api("F.l1_penalty", F.l1_penalty, call([x(2, 3), x(3)])),
    Api("F.l2_penalty", F.l2_penalty, call([x(2, 3), x(3)])),
]

# The sequence and attention API, once it lands: one line each (left out while the name does not exist yet).
_LATER = [
    ("sin", lambda: mdl.sin, call(x(2, 3))),
    ("cos", lambda: mdl.cos, call(x(2, 3))),
    ("prod", lambda: mdl.prod, call(positive(2, 3), axis=1)),
    ("F.gelu", lambda: F.gelu, call(x(2, 3))),
    ("F.layer_norm", lambda: F.layer_norm, call(x(2, 4), (4,), x(4), x(4))),
    ("F.embedding", lambda: F.embedding, call(classes(5, 6), x(6, 3))),
    ("F.scaled_dot_product_attention", lambda: F.scaled_dot_product_attention, call(x(2, 3, 4), x(2, 5, 4), x(2, 5, 4))),
]

# Layers, called as functions of their inputs (weights from mdl.manual_seed, fixed by the callers).
_LATER += [
    ("nn.Linear", lambda: lambda x: nn.Linear(3, 2).double()(x), call(x(4, 3))),
    ("nn.Conv2d", lambda: lambda x: nn.Conv2d(2, 3, 3, padding=1).double()(x), call(x(2, 2, 4, 4))),
    ("nn.BatchNorm1d", lambda: lambda x: nn.BatchNorm1d(3).double()(x), call(x(4, 3))),
    ("nn.LayerNorm", lambda: lambda x: nn.LayerNorm(4).double()(x), call(x(2, 3, 4))),
    ("nn.Embedding", lambda: lambda i: nn.Embedding(6, 3)(i), call(classes(5, 6))),
    ("nn.RNN", lambda: lambda x, h: nn.RNN(3, 4).double()(x, h), call(x(5, 2, 3), x(1, 2, 4))),
    ("nn.LSTM", lambda: lambda x: nn.LSTM(3, 4, num_layers=2).double()(x), call(x(5, 2, 3))),
    ("nn.GRU", lambda: lambda x: nn.GRU(3, 4, batch_first=True).double()(x), call(x(2, 5, 3))),
    ("nn.RNNCell", lambda: lambda x, h: nn.RNNCell(3, 4).double()(x, h), call(x(2, 3), x(2, 4))),
    ("nn.LSTMCell", lambda: lambda x, h, c: nn.LSTMCell(3, 4).double()(x, (h, c)), call(x(2, 3), x(2, 4), x(2, 4))),
    ("nn.GRUCell", lambda: lambda x, h: nn.GRUCell(3, 4).double()(x, h), call(x(2, 3), x(2, 4))),
    ("nn.MultiheadAttention", lambda: lambda q, k, v: nn.MultiheadAttention(4, 2).double()(q, k, v),
     call(x(3, 2, 4), x(5, 2, 4), x(5, 2, 4))),
]
for _name, _get, _example in _LATER:
    try:
        PUBLIC_FUNCTIONS.append(Api(_name, _get(), _example))
    except AttributeError:  # not in this tree yet
        pass


def tensor_positions(args, kwargs):
    """Where the tensor arguments are: ("arg", i), ("item", i, j) inside a list argument, ("kw", key)."""
    places = []
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray):
            places.append(("arg", i))
        elif isinstance(a, list):
            places += [("item", i, j) for j, v in enumerate(a) if isinstance(v, np.ndarray)]
    places += [("kw", k) for k, v in kwargs.items() if isinstance(v, np.ndarray)]
    return places


def with_values(args, kwargs, convert, only=None):
    """args and kwargs with `convert` applied to the tensor arguments (all, or only the places in `only`)."""
    args = [list(a) if isinstance(a, list) else a for a in args]
    kwargs = dict(kwargs)
    for place in tensor_positions(args, kwargs):
        if only is not None and place not in only:
            continue
        if place[0] == "arg":
            args[place[1]] = convert(args[place[1]])
        elif place[0] == "item":
            args[place[1]][place[2]] = convert(args[place[1]][place[2]])
        else:
            kwargs[place[1]] = convert(kwargs[place[1]])
    return tuple(args), kwargs
