"""Character-level text: the two corpora, a character vocabulary, training windows and sampling.

    text = load_tiny_shakespeare()                     # str, 1,115,394 characters
    vocab = CharVocab.from_text(text)                  # 65 characters, sorted; vocab.encode / vocab.decode
    tokens = vocab.encode(text)                        # (1115394,) int64
    train, val = split_tokens(tokens, 0.9)             # nanoGPT's split: first 90 %, last 10 %
    x, y = random_windows(train, batch_size=12, block_size=64, rng=0)   # (12, 64) each, y is x shifted by one

    names = load_names()                               # 32,033 lower-case names
    vocab = CharVocab.from_text("".join(names), specials=(".",))    # "." (index 0) ends a name
    train_names, dev_names, test_names = split_names(names, seed=42)
    X, Y = context_windows(train_names, vocab, context=3)           # makemore's (N, 3) contexts, (N,) next char

A model's logits become the next character with `next_token_probs(logits, temperature, top_k)` (the
distribution) and `sample_next(...)` (a draw from it), nanoGPT's recipe: divide by the temperature, keep
the top k logits, softmax.

Files are read from `<data folder>/tinyshakespeare/input.txt` and `<data folder>/names/names.txt` (data
folder: `root`, else `$MINIDL_DATA`, else the user cache, see `download.data_home`) and verified by
SHA-256. They are not downloaded: a missing file raises `DatasetNotFoundError` saying where to get it.
"""

import json

import numpy as np

from minidl.data.download import DataFile, data_home, fetch_all
from minidl.errors import ArgumentError, ArgumentTypeError, SerializationError, ShapeError
from minidl.serialization import atomic_write

TINY_SHAKESPEARE_FILE = DataFile("input.txt", 1115394,
                                 "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed")
NAMES_FILE = DataFile("names.txt", 228145, "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d")

TINY_SHAKESPEARE_SOURCE = ("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt "
                           "(karpathy/char-rnn, data/tinyshakespeare/input.txt)")
NAMES_SOURCE = "https://raw.githubusercontent.com/karpathy/makemore/master/names.txt (karpathy/makemore, names.txt)"


def load_tiny_shakespeare(root=None):
    """Tiny Shakespeare (karpathy/char-rnn): the whole text as one str of 1,115,394 characters (65 distinct).

    Read from `<data folder>/tinyshakespeare/input.txt`, verified by SHA-256. Split it as nanoGPT does:
    the first 90 % for training, the last 10 % for validation (`split_tokens`).
    """
    (path,) = fetch_all(data_home(root) / "tinyshakespeare", [TINY_SHAKESPEARE_FILE], urls=(), download=False,
                        source=TINY_SHAKESPEARE_SOURCE)
    with open(path, encoding="utf-8") as f:
        return f.read()


def load_names(root=None):
    """makemore's names: a list of 32,033 lower-case names (a-z), in the file's order.

    Read from `<data folder>/names/names.txt` (one name a line), verified by SHA-256.
    """
    (path,) = fetch_all(data_home(root) / "names", [NAMES_FILE], urls=(), download=False, source=NAMES_SOURCE)
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


class CharVocab:
    """A character vocabulary: `encode(str)` -> int64 indices, `decode(indices)` -> str, saved as JSON.

    `chars[i]` is the character of index i. `from_text` sorts the distinct characters of a text, after
    any `specials` (e.g. "." as makemore's end-of-name token, index 0).
    """

    def __init__(self, chars):
        chars = list(chars)
        if not chars or not all(isinstance(c, str) and len(c) == 1 for c in chars):
            raise ArgumentError(f"CharVocab: expected a non-empty sequence of single characters, got {chars[:10]!r}")
        if len(set(chars)) != len(chars):
            raise ArgumentError(f"CharVocab: characters repeat in {''.join(chars)!r}")
        self.chars = chars
        self.index = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text, specials=()):
        """The distinct characters of `text`, sorted, after `specials` (which keep their order)."""
        if not isinstance(text, str):
            raise ArgumentTypeError(f"CharVocab.from_text: text must be a str, got {type(text).__name__}")
        return cls(list(specials) + sorted(set(text) - set(specials)))

    def __len__(self):
        return len(self.chars)

    def __eq__(self, other):
        return isinstance(other, CharVocab) and self.chars == other.chars

    def __repr__(self):
        return f"CharVocab({len(self)} characters: {''.join(self.chars)!r})"

    def encode(self, text):
        """The indices of `text`'s characters: an int64 array of shape (len(text),)."""
        try:
            return np.fromiter((self.index[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as exc:
            raise ArgumentError(f"CharVocab.encode: the character {exc.args[0]!r} is not in the vocabulary "
                                f"{''.join(self.chars)!r}") from None

    def decode(self, indices):
        """The text of `indices` (a sequence or 1-d array of ints in [0, len(vocab)))."""
        indices = np.asarray(indices).reshape(-1)
        if indices.size and (indices.min() < 0 or indices.max() >= len(self)):
            raise ArgumentError(f"CharVocab.decode: indices must lie in [0, {len(self)}), got "
                                f"{int(indices.min())}..{int(indices.max())}")
        return "".join(self.chars[i] for i in indices.tolist())

    def to_json(self):
        return {"chars": "".join(self.chars)}

    def save(self, path):
        """Write the vocabulary to `path` as JSON ({"chars": "..."}), atomically."""
        payload = json.dumps(self.to_json(), ensure_ascii=True).encode()
        atomic_write(path, lambda f: f.write(payload))

    @classmethod
    def load(cls, path):
        """Read a vocabulary written by `save`."""
        try:
            with open(path, encoding="utf-8") as f:
                return cls(json.load(f)["chars"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SerializationError(f"CharVocab.load: {path} is not a saved vocabulary ({exc})") from None


def split_tokens(tokens, train_fraction=0.9):
    """(train, val): the first `train_fraction` of a token array and the rest (nanoGPT's split, no shuffle)."""
    if not 0 < train_fraction < 1:
        raise ArgumentError(f"split_tokens: train_fraction must lie in (0, 1), got {train_fraction}")
    n = int(train_fraction * len(tokens))
    return tokens[:n], tokens[n:]


def random_windows(tokens, batch_size, block_size, rng=None):
    """A batch of windows at random offsets: inputs x and targets y, both int64 (batch_size, block_size).

    y[b, t] = x[b, t + 1] in the text: the character that follows x[b, :t + 1]. Offsets are drawn
    uniformly from [0, len(tokens) - block_size) as in nanoGPT's get_batch. `rng`: a seed or a NumPy
    Generator (reuse one Generator across calls for a seeded sequence of batches).
    """
    tokens = np.asarray(tokens)
    if tokens.ndim != 1:
        raise ShapeError(f"random_windows: tokens must be 1-d, got shape {tokens.shape}")
    if batch_size < 1 or block_size < 1:
        raise ArgumentError(f"random_windows: batch_size and block_size must be >= 1, got {batch_size}, {block_size}")
    if len(tokens) <= block_size:
        raise ShapeError(f"random_windows: {len(tokens)} tokens cannot fill a window of {block_size} plus its "
                         f"next-token target")
    rng = np.random.default_rng(rng)
    starts = rng.integers(0, len(tokens) - block_size, size=batch_size)
    offsets = starts[:, None] + np.arange(block_size)
    return tokens[offsets].astype(np.int64), tokens[offsets + 1].astype(np.int64)


def split_names(names, fractions=(0.8, 0.1, 0.1), seed=42):
    """Names shuffled with `seed` and cut into train/dev/test lists of the given fractions (makemore: 80/10/10)."""
    if len(fractions) != 3 or abs(sum(fractions) - 1) > 1e-9 or min(fractions) < 0:
        raise ArgumentError(f"split_names: fractions must be three non-negative numbers summing to 1, got {fractions}")
    order = np.random.default_rng(seed).permutation(len(names))
    n1 = int(fractions[0] * len(names))
    n2 = int((fractions[0] + fractions[1]) * len(names))
    shuffled = [names[i] for i in order]
    return shuffled[:n1], shuffled[n1:n2], shuffled[n2:]


def context_windows(names, vocab, context=3, end="."):
    """makemore's training pairs: X (N, context) int64 previous characters, Y (N,) int64 the next one.

    Each name is padded on the left with `end` (the start) and followed by `end` (its end), so "emma"
    with context 3 gives "..." -> e, "..e" -> m, ".em" -> m, "emm" -> a, "mma" -> ".": len(name) + 1 pairs.
    """
    if end not in vocab.index:
        raise ArgumentError(f"context_windows: the end token {end!r} is not in the vocabulary")
    X, Y = [], []
    pad = vocab.index[end]
    for name in names:
        window = [pad] * context
        for i in vocab.encode(name + end).tolist():
            X.append(window)
            Y.append(i)
            window = window[1:] + [i]
    return np.array(X, dtype=np.int64).reshape(-1, context), np.array(Y, dtype=np.int64)


def next_token_probs(logits, temperature=1.0, top_k=None):
    """The distribution the next token is drawn from: softmax(logits / temperature) over the top k logits.

    logits: (V,) or (N, V) NumPy array -> probabilities of the same shape (float64), zero outside the
    top k. temperature 0 puts all the mass on the largest logit (greedy decoding).
    """
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim not in (1, 2):
        raise ShapeError(f"next_token_probs: logits must be (V,) or (N, V), got shape {logits.shape}")
    if temperature < 0:
        raise ArgumentError(f"next_token_probs: temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ArgumentError(f"next_token_probs: top_k must be >= 1 or None, got {top_k}")
    if temperature == 0:
        top_k, temperature = 1, 1.0
    scaled = logits / temperature
    if top_k is not None and top_k < scaled.shape[-1]:
        kth = -np.partition(-scaled, top_k - 1, axis=-1)[..., top_k - 1:top_k]   # the k-th largest
        scaled = np.where(scaled < kth, -np.inf, scaled)   # nanoGPT keeps ties with the k-th largest too
    scaled = scaled - scaled.max(axis=-1, keepdims=True)
    weights = np.exp(scaled)
    return weights / weights.sum(axis=-1, keepdims=True)


def sample_next(logits, temperature=1.0, top_k=None, rng=None):
    """A draw from `next_token_probs(logits, temperature, top_k)`: an int for (V,) logits, (N,) ints for (N, V)."""
    probs = next_token_probs(logits, temperature, top_k)
    rng = np.random.default_rng(rng)
    if probs.ndim == 1:
        return int(rng.choice(probs.shape[-1], p=probs))
    cumulative = probs.cumsum(axis=-1)
    draws = rng.random((len(probs), 1)) * cumulative[:, -1:]
    return np.minimum((cumulative <= draws).sum(axis=-1), probs.shape[-1] - 1).astype(np.int64)


__all__ = ["CharVocab", "NAMES_FILE", "TINY_SHAKESPEARE_FILE", "context_windows", "load_names",
           "load_tiny_shakespeare", "next_token_probs", "random_windows", "sample_next", "split_names",
           "split_tokens"]
