"""Ready-made pieces shared by the `minidl` command and the examples: data sets prepared for training
(split, scaled) and the three models of the course (logistic regression, a dense network, LeNet).

    from minidl.zoo import prepare_data, build_model, loss_for, make_optimizer

    data = prepare_data("fashion-mnist", seed=0)       # .X_train, .y_train, .X_val, ..., .n_classes
    model = build_model("lenet", data)                  # the PyTorch tutorial's LeNet for 28x28 images
    trainer = Trainer(model, loss_for(data), make_optimizer("sgd", model.parameters(), lr=0.01, momentum=0.9))

Splits: MNIST and Fashion-MNIST keep their official 10,000-image test sets and hold out 10 % of the
training images for validation; the other data sets are split 60/20/20 (train/validation/test),
stratified by class. Tabular features (breast cancer, credit default) are standardised with the mean
and standard deviation of the training part only. Binary tasks (breast cancer, credit default) get
one output (a logit) and `BCEWithLogitsLoss` with float targets; the others `CrossEntropyLoss`.
"""

from dataclasses import dataclass, field

import numpy as np

import minidl as mdl
import minidl.nn as nn
from minidl.nn import transformer
import minidl.optim as optim
from minidl.data import datasets, train_val_test_split
from minidl.data.text import CharVocab, sample_next
from minidl.serialization import atomic_write

DATASETS = ("digits", "mnist", "fashion-mnist", "breast-cancer", "credit-default")
MODELS = ("mlp", "lenet", "logreg")
OPTIMIZERS = ("sgd", "adam")

# What `minidl train --dataset NAME` uses when a flag is not given (the README's table lists them).
DEFAULTS = {
    "digits": dict(model="lenet", epochs=40, batch_size=32, optimizer="adam", lr=3e-3, patience=6),
    "mnist": dict(model="mlp", epochs=15, batch_size=128, optimizer="adam", lr=1e-3, patience=4, dropout=0.2),
    "fashion-mnist": dict(model="lenet", epochs=30, batch_size=64, optimizer="sgd", lr=0.02, momentum=0.9,
                          patience=4),
    "breast-cancer": dict(model="logreg", epochs=200, batch_size=32, optimizer="adam", lr=1e-2, patience=15,
                          weight_decay=1e-4),
    "credit-default": dict(model="mlp", epochs=30, batch_size=256, optimizer="adam", lr=1e-3, patience=4,
                           dropout=0.2),
}
COMMON_DEFAULTS = dict(momentum=0.0, weight_decay=0.0, dropout=0.0)


def defaults_for(dataset):
    """The training settings `minidl train` uses for `dataset` (a fresh dict)."""
    return {**COMMON_DEFAULTS, **DEFAULTS[dataset]}


@dataclass
class PreparedData:
    """A data set split into train/validation/test NumPy arrays, ready for `Trainer.fit`.

    task: "multiclass" (integer labels, CrossEntropyLoss) or "binary" (float 0/1 targets, one logit).
    input_shape: one sample's shape, e.g. (1, 28, 28) or (30,). scaler: (mean, std) of the training
    features for tabular data (already applied), None for images.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple
    task: str
    scaler: tuple = None
    notes: list = field(default_factory=list)

    @property
    def input_shape(self):
        return tuple(self.X_train.shape[1:])

    @property
    def n_classes(self):
        return len(self.class_names)

    @property
    def n_outputs(self):
        """Outputs of the last layer: one logit for a binary task, one per class otherwise."""
        return 1 if self.task == "binary" else self.n_classes

    @property
    def is_image(self):
        return len(self.input_shape) == 3

    def sizes(self):
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}

    def labels(self, y):
        """Integer class labels of targets (binary targets are stored as float 0/1)."""
        return np.asarray(y).astype(np.int64)


def prepare_data(name, seed=0, limit=None, root=None):
    """Load data set `name` (one of DATASETS), split and scale it; see the module docstring.

    limit: keep at most this many training samples (and a quarter as many for validation and test),
    for quick runs. root: the data folder (default: $MINIDL_DATA, else the cache folder).
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    if name in ("mnist", "fashion-mnist"):
        loader = datasets.load_mnist if name == "mnist" else datasets.load_fashion_mnist
        ((X, y), (X_test, y_test)), info = loader(root=root, return_info=True)
        X_train, X_val, _, y_train, y_val, _ = train_val_test_split(X, y, val_size=0.1, test_size=0.0, seed=seed)
    else:
        if name == "digits":
            (X, y), info = datasets.load_digits(return_info=True)
        elif name == "breast-cancer":
            (X, y), info = datasets.load_breast_cancer(return_info=True)
        else:
            (X, y), info = datasets.load_credit_default(root=root, return_info=True)
        X_train, X_val, X_test, y_train, y_val, y_test = train_val_test_split(X, y, val_size=0.2, test_size=0.2,
                                                                              seed=seed)
    if limit is not None:
        rng = np.random.default_rng(seed)
        X_train, y_train = _subsample(X_train, y_train, limit, rng)
        X_val, y_val = _subsample(X_val, y_val, max(limit // 4, 1), rng)
        X_test, y_test = _subsample(X_test, y_test, max(limit // 4, 1), rng)
    task = "binary" if len(info.class_names) == 2 else "multiclass"
    scaler = None
    if X_train.ndim == 2:  # tabular: standardise with the training part's statistics only
        mean = X_train.mean(axis=0)
        std = X_train.std(axis=0)
        std[std == 0] = 1.0
        X_train, X_val, X_test = ((A - mean) / std for A in (X_train, X_val, X_test))
        scaler = (mean, std)
    if task == "binary":
        y_train, y_val, y_test = (y.astype(np.float32) for y in (y_train, y_val, y_test))
    cast = lambda A: np.ascontiguousarray(A, dtype=np.float32)  # noqa: E731
    return PreparedData(name, cast(X_train), y_train, cast(X_val), y_val, cast(X_test), y_test,
                        tuple(info.class_names), task, scaler)


def _subsample(X, y, n, rng):
    index = rng.permutation(len(y))[:n]
    return X[index], y[index]


# -- models ----------------------------------------------------------------------------------------------------
class Squeeze(nn.Module):
    """(N, 1) -> (N,): one logit per sample, the shape BCEWithLogitsLoss and binary metrics expect."""

    def forward(self, x):
        return x.reshape(x.shape[0])


def logistic_regression(n_features, n_outputs):
    """Flatten, then one Linear layer: a logit per class (softmax regression) or one logit (binary)."""
    layers = [nn.Flatten(), nn.Linear(n_features, n_outputs)]
    return nn.Sequential(*layers, Squeeze()) if n_outputs == 1 else nn.Sequential(*layers)


def mlp(n_features, n_outputs, hidden=(256, 128), dropout=0.0):
    """A dense network: Flatten, then (Linear, ReLU, Dropout) per hidden layer, then Linear."""
    layers, width = [nn.Flatten()], n_features
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, n_outputs))
    if n_outputs == 1:
        layers.append(Squeeze())
    return nn.Sequential(*layers)


def lenet(input_shape, n_outputs, dropout=0.0):
    """LeNet for one-channel images.

    28x28 (MNIST, Fashion-MNIST): the PyTorch tutorial's network, conv 5x5 (6) -> ReLU -> max-pool 2 ->
    conv 5x5 (16) -> ReLU -> max-pool 2 -> 256 -> 120 -> 84 -> classes. Small images such as the 8x8
    digits get the same shape of network with 3x3 convolutions padded to keep the size: conv 3x3 (16)
    -> ReLU -> pool -> conv 3x3 (32) -> ReLU -> pool -> 64 -> classes.
    """
    channels, height, width = input_shape
    if height >= 20 and width >= 20:
        side = ((height - 4) // 2 - 4) // 2, ((width - 4) // 2 - 4) // 2
        layers = [nn.Conv2d(channels, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                  nn.Linear(16 * side[0] * side[1], 120), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers += [nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, n_outputs)]
    else:
        side = height // 4, width // 4
        layers = [nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                  nn.Linear(32 * side[0] * side[1], 64), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(64, n_outputs))
    if n_outputs == 1:
        layers.append(Squeeze())
    return nn.Sequential(*layers)


def build_model(name, data, dropout=0.0):
    """Model `name` (one of MODELS) sized for `data` (a PreparedData)."""
    return build_model_for(name, data.input_shape, data.n_outputs, dropout=dropout, dataset=data.name)


def build_model_for(name, input_shape, n_outputs, dropout=0.0, dataset="this data set"):
    """Model `name` (one of MODELS) for inputs of `input_shape` ((C, H, W) or (features,)) and `n_outputs`."""
    n_features = int(np.prod(input_shape))
    if name == "logreg":
        return logistic_regression(n_features, n_outputs)
    if name == "mlp":
        return mlp(n_features, n_outputs, dropout=dropout)
    if name == "lenet":
        if len(input_shape) != 3:
            raise ValueError(f"model 'lenet' needs images (C, H, W); {dataset} has {n_features} features per "
                             f"sample: use --model mlp or logreg")
        return lenet(tuple(input_shape), n_outputs, dropout=dropout)
    raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")


def loss_for(data):
    """CrossEntropyLoss for a multiclass task, BCEWithLogitsLoss (one logit) for a binary one."""
    return nn.BCEWithLogitsLoss() if data.task == "binary" else nn.CrossEntropyLoss()


def metrics_for(data):
    """The metrics a Trainer logs for `data`: accuracy, plus ROC AUC and F1 for binary tasks."""
    return ("accuracy", "roc_auc", "f1") if data.task == "binary" else ("accuracy",)


def make_optimizer(name, params, lr, momentum=0.0, weight_decay=0.0):
    """SGD (with PyTorch's momentum, v = μv + g) or Adam over `params`."""
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


# -- language models (character level) -------------------------------------------------------------------------
class NamesMLP(nn.Module):
    """makemore's MLP (Bengio et al. 2003): the next character of a name from the `context` before it.

    (N, context) int indices -> embeddings (N, context, embed_dim) from a table C (vocab, embed_dim) ~ N(0, 1)
    -> flattened (N, context · embed_dim) -> Linear -> tanh (hidden) -> Linear -> logits (N, vocab).
    The lecture's network: context 3, 10-d embeddings, 200 tanh units, 27 characters (11,897 parameters).
    """

    def __init__(self, vocab_size, context=3, embed_dim=10, hidden=200):
        super().__init__()
        self.vocab_size, self.context, self.embed_dim, self.hidden = vocab_size, context, embed_dim, hidden
        self.embedding = nn.Embedding(vocab_size, embed_dim)             # the table C, N(0, 1) as in the lecture
        self.hidden_layer = nn.Linear(context * embed_dim, hidden)
        self.output = nn.Linear(hidden, vocab_size)

    def forward(self, idx):
        emb = self.embedding(idx)                                   # (N, context, embed_dim)
        h = self.hidden_layer(emb.reshape(emb.shape[0], self.context * self.embed_dim)).tanh()
        return self.output(h)

    def config(self):
        """The constructor's arguments (saved beside the weights as JSON)."""
        return dict(vocab_size=self.vocab_size, context=self.context, embed_dim=self.embed_dim, hidden=self.hidden)


def sample_names(model, vocab, n=20, temperature=1.0, top_k=None, seed=None, max_length=50, end="."):
    """`n` names from a NamesMLP: start from a context of `end` tokens, draw characters until `end`."""

    rng = np.random.default_rng(seed)
    pad = vocab.index[end]
    names = []
    model.eval()
    with mdl.no_grad():
        for _ in range(n):
            context, out = [pad] * model.context, []
            while len(out) < max_length:
                logits = model(mdl.tensor(np.array([context], dtype=np.int64))).numpy()[0]
                i = sample_next(logits, temperature, top_k, rng)
                if i == pad:
                    break
                out.append(i)
                context = context[1:] + [i]
            names.append(vocab.decode(out))
    return names


class GPT(transformer.GPT):
    """A small character-level GPT: nanoGPT's model (`minidl.nn.transformer.GPT`) with the CPU recipe's sizes.

    (N, T) indices -> token + position embeddings -> n_layer pre-LayerNorm blocks (causal self-attention,
    GELU MLP) -> LayerNorm -> Linear -> (N, T, vocab) logits; output layer not tied to the embedding.
    nanoGPT's CPU recipe for Tiny Shakespeare: block 64, 4 layers, 4 heads, 128 wide (0.8 M parameters).
    """

    def __init__(self, vocab_size, block_size=64, n_layer=4, n_head=4, n_embd=128, dropout=0.0):
        super().__init__(vocab_size, block_size, n_layer=n_layer, n_head=n_head, n_embd=n_embd, dropout=dropout)
        self._config = dict(vocab_size=vocab_size, block_size=block_size, n_layer=n_layer, n_head=n_head,
                            n_embd=n_embd, dropout=dropout)

    def config(self):
        return dict(self._config)


class LSTMLanguageModel(nn.Module):
    """A character-level LSTM (char-rnn): (N, T) indices -> embedding -> LSTM layers -> Linear -> (N, T, vocab).

    `block_size` is the training window; generation feeds at most that many characters of context.
    """

    def __init__(self, vocab_size, embed_dim=64, hidden_size=256, num_layers=2, dropout=0.0, block_size=128):
        super().__init__()
        self.vocab_size, self.embed_dim, self.hidden_size = vocab_size, embed_dim, hidden_size
        self.num_layers, self.dropout_p, self.block_size = num_layers, dropout, block_size
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers=num_layers, batch_first=True, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, idx):
        n, t = idx.shape
        output, _ = self.lstm(self.embedding(idx))                         # (N, T, hidden)
        return self.head(self.drop(output.reshape(n * t, self.hidden_size))).reshape(n, t, self.vocab_size)

    def config(self):
        return dict(vocab_size=self.vocab_size, embed_dim=self.embed_dim, hidden_size=self.hidden_size,
                    num_layers=self.num_layers, dropout=self.dropout_p, block_size=self.block_size)


LANGUAGE_MODELS = {"names-mlp": NamesMLP, "gpt": GPT, "lstm": LSTMLanguageModel}


def generate(model, context, max_new_tokens, temperature=1.0, top_k=None, seed=None):
    """Extend `context` (a 1-d int sequence) by `max_new_tokens` drawn one at a time from a GPT or LSTM model.

    Each step feeds the last `model.block_size` tokens and samples from the last position's logits
    (`data.text.sample_next`: temperature, top-k). Returns the whole int64 sequence, context first.
    """

    rng = np.random.default_rng(seed)
    tokens = [int(i) for i in np.asarray(context).reshape(-1)]
    if not tokens:
        raise ValueError("generate: the context needs at least one token")
    was_training = model.training
    model.eval()
    try:
        with mdl.no_grad():
            for _ in range(max_new_tokens):
                window = np.array([tokens[-model.block_size:]], dtype=np.int64)
                logits = model(mdl.tensor(window)).numpy()[0, -1]
                tokens.append(sample_next(logits, temperature, top_k, rng))
    finally:
        model.train(was_training)
    return np.array(tokens, dtype=np.int64)


def save_language_model(folder, model, vocab, **info):
    """Write a run's model: `model.npz` (weights), `config.json` (its kind and arguments, plus `info`), `vocab.json`."""
    import json
    import os


    kind = next(name for name, cls in LANGUAGE_MODELS.items() if type(model) is cls)
    os.makedirs(folder, exist_ok=True)
    mdl.save(model.state_dict(), os.path.join(folder, "model.npz"))
    vocab.save(os.path.join(folder, "vocab.json"))
    payload = json.dumps({"kind": kind, "config": model.config(), **info}, indent=1).encode()
    atomic_write(os.path.join(folder, "config.json"), lambda f: f.write(payload))


def load_language_model(folder):
    """(model, vocab, config dict) of a run written by `save_language_model`; the model in eval mode."""
    import json
    import os


    path = os.path.join(folder, "config.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{folder} holds no config.json: not a language-model run written by minidl train")
    with open(path) as f:
        config = json.load(f)
    if config.get("kind") not in LANGUAGE_MODELS:
        raise ValueError(f"{path}: unknown model kind {config.get('kind')!r}; expected one of "
                         f"{', '.join(LANGUAGE_MODELS)}")
    model = LANGUAGE_MODELS[config["kind"]](**config["config"])
    model.load_state_dict(mdl.load(os.path.join(folder, "model.npz")))
    return model.eval(), CharVocab.load(os.path.join(folder, "vocab.json")), config
