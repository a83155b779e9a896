"""Text data (minidl.data.text): the two corpora, the character vocabulary, windows, name contexts, sampling.

Small texts are made in the tests; the real files are read from $MINIDL_DATA when it holds them.
"""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from minidl.data import ChecksumError, DatasetNotFoundError, datasets
from minidl.data.text import (CharVocab, context_windows, next_token_probs, random_windows, sample_next,
                              split_names, split_tokens)
from minidl.errors import ArgumentError, SerializationError, ShapeError


def data_folder_with(relative):
    folder = Path(os.environ.get("MINIDL_DATA", ""))
    if not os.environ.get("MINIDL_DATA") or not (folder / relative).is_file():
        pytest.skip(f"MINIDL_DATA does not point at a data folder holding {relative} (see shared/data/README.md)")
    return folder


def test_tiny_shakespeare_is_the_published_text():
    folder = data_folder_with("tinyshakespeare/input.txt")
    text = datasets.load_tiny_shakespeare()
    assert isinstance(text, str) and len(text) == 1_115_394
    assert text.startswith("First Citizen:\nBefore we proceed any further, hear me speak.")
    assert len(set(text)) == 65   # README: 65 distinct characters
    train, val = split_tokens(CharVocab.from_text(text).encode(text), 0.9)
    assert (len(train), len(val)) == (1_003_854, 111_540)   # nanoGPT's split, as the README gives it
    assert datasets.load_tiny_shakespeare(root=folder) == text


def test_names_are_the_published_list():
    folder = data_folder_with("names/names.txt")
    names = datasets.load_names(root=folder)
    assert len(names) == 32_033 and names[:3] == ["emma", "olivia", "ava"]
    assert all(name and name.isalpha() and name.islower() and name.isascii() for name in names)
    vocab = CharVocab.from_text("".join(names), specials=(".",))
    assert len(vocab) == 27 and vocab.chars[0] == "." and "".join(vocab.chars[1:]) == "abcdefghijklmnopqrstuvwxyz"


@pytest.mark.parametrize("loader, relative, source", [
    (datasets.load_tiny_shakespeare, "tinyshakespeare/input.txt", "char-rnn"),
    (datasets.load_names, "names/names.txt", "makemore"),
])
def test_a_missing_file_names_itself_and_where_to_get_it(tmp_path, loader, relative, source):
    with pytest.raises(DatasetNotFoundError) as info:
        loader(root=tmp_path)
    message = str(info.value)
    assert Path(relative).name in message and str(tmp_path / Path(relative).parent) in message and source in message


@pytest.mark.parametrize("loader, relative", [
    (datasets.load_tiny_shakespeare, "tinyshakespeare/input.txt"),
    (datasets.load_names, "names/names.txt"),
])
def test_a_corrupted_file_is_refused(tmp_path, loader, relative):
    real = data_folder_with(relative) / relative
    copy = tmp_path / relative
    copy.parent.mkdir()
    shutil.copyfile(real, copy)
    content = bytearray(copy.read_bytes())
    content[1000] ^= 1   # one flipped bit, same size
    copy.write_bytes(bytes(content))
    with pytest.raises(ChecksumError, match=copy.name):
        loader(root=tmp_path)
    copy.write_bytes(bytes(content[:-10]))   # truncated
    with pytest.raises(ChecksumError, match="truncated"):
        loader(root=tmp_path)


def test_vocab_encodes_decodes_and_saves_as_json(tmp_path):
    text = "to be, or not to be: that is the question.\n"
    vocab = CharVocab.from_text(text)
    assert vocab.chars == sorted(set(text)) and len(vocab) == len(set(text))
    ids = vocab.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (len(text),)
    assert [vocab.chars[i] for i in ids] == list(text) and vocab.decode(ids) == text
    assert vocab.encode("") .shape == (0,) and vocab.decode([]) == ""
    vocab.save(tmp_path / "vocab.json")
    assert json.loads((tmp_path / "vocab.json").read_text()) == {"chars": "".join(sorted(set(text)))}
    assert CharVocab.load(tmp_path / "vocab.json") == vocab
    with_end = CharVocab.from_text("abba", specials=(".",))
    assert with_end.chars == [".", "a", "b"]


def test_vocab_errors_name_the_problem(tmp_path):
    vocab = CharVocab.from_text("abc")
    with pytest.raises(ArgumentError, match="'z'"):
        vocab.encode("abz")
    with pytest.raises(ArgumentError, match=r"\[0, 3\)"):
        vocab.decode([0, 3])
    with pytest.raises(ArgumentError, match="repeat"):
        CharVocab("aba")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(SerializationError, match="bad.json"):
        CharVocab.load(tmp_path / "bad.json")


def test_random_windows_are_shifted_slices_of_the_text():
    tokens = np.arange(1000) * 7 % 101   # a sequence where every position is recognisable
    x, y = random_windows(tokens, batch_size=16, block_size=20, rng=3)
    assert x.shape == y.shape == (16, 20) and x.dtype == y.dtype == np.int64
    for row_x, row_y in zip(x, y):
        starts = [s for s in range(len(tokens) - 20) if np.array_equal(tokens[s:s + 20], row_x)]
        assert starts, "each input row is a window of the text"
        np.testing.assert_array_equal(row_y, tokens[starts[0] + 1:starts[0] + 21])   # and its target, one on
    x2, _ = random_windows(tokens, 16, 20, rng=3)
    np.testing.assert_array_equal(x, x2)   # seeded
    rng = np.random.default_rng(0)
    first, second = random_windows(tokens, 4, 5, rng)[0], random_windows(tokens, 4, 5, rng)[0]
    assert not np.array_equal(first, second)   # one Generator gives a sequence of different batches


def test_random_windows_reach_every_offset_and_no_further():
    tokens = np.arange(12)
    x, y = random_windows(tokens, batch_size=2000, block_size=4, rng=0)
    # offsets 0..7 (nanoGPT: randint(len - block)); the last target is token 11
    assert set(x[:, 0].tolist()) == set(range(8)) and y.max() == 11
    with pytest.raises(ShapeError, match="12 tokens"):
        random_windows(tokens, 2, 12)


def test_split_tokens_keeps_the_order():
    train, val = split_tokens(np.arange(10), 0.9)
    np.testing.assert_array_equal(train, np.arange(9))
    np.testing.assert_array_equal(val, [9])


def test_split_names_is_a_seeded_partition():
    names = [f"name{i}" for i in range(1000)]
    train, dev, test = split_names(names, seed=42)
    assert (len(train), len(dev), len(test)) == (800, 100, 100)
    assert sorted(train + dev + test) == sorted(names)
    assert split_names(names, seed=42) == (train, dev, test)
    assert split_names(names, seed=1)[0] != train
    with pytest.raises(ArgumentError, match="fractions"):
        split_names(names, (0.5, 0.5, 0.5))


def test_context_windows_are_makemores():
    vocab = CharVocab.from_text("emma", specials=(".",))    # . a e m
    X, Y = context_windows(["emma"], vocab, context=3)
    # makemore's lecture: ... -> e, ..e -> m, .em -> m, emm -> a, mma -> .
    expected = [("...", "e"), ("..e", "m"), (".em", "m"), ("emm", "a"), ("mma", ".")]
    assert [(vocab.decode(x), vocab.decode([y])) for x, y in zip(X, Y)] == expected
    X, Y = context_windows(["ab", "b"], CharVocab("._ab"), context=2)
    assert X.shape == (5, 2) and Y.shape == (5,)


@pytest.mark.parametrize("temperature, top_k", [(1.0, None), (0.8, None), (1.3, 5), (0.5, 1), (2.0, 40)])
def test_next_token_probs_match_nanogpts_sampling(torch, temperature, top_k):
    logits = np.random.default_rng(0).normal(size=(3, 30)) * 3
    t = torch.tensor(logits, dtype=torch.float64) / temperature      # nanoGPT's generate(), step by step
    if top_k is not None:
        v, _ = torch.topk(t, min(top_k, t.size(-1)))
        t[t < v[:, [-1]]] = -float("inf")
    expected = torch.softmax(t, dim=-1).numpy()
    np.testing.assert_allclose(next_token_probs(logits, temperature, top_k), expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(next_token_probs(logits[0], temperature, top_k), expected[0], rtol=1e-12, atol=1e-300)


def test_temperature_zero_is_greedy():
    logits = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 2.9]])
    np.testing.assert_array_equal(next_token_probs(logits, temperature=0), [[0, 1, 0], [1, 0, 0]])
    np.testing.assert_array_equal(sample_next(logits, temperature=0, rng=0), [1, 0])


def test_sample_next_draws_from_the_distribution():
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    n = 40_000
    batched = sample_next(np.tile(logits, (n, 1)), rng=1)
    single = np.array([sample_next(logits, rng=seed) for seed in range(4000)])
    for draws in (batched, single):
        freq = np.bincount(draws, minlength=4) / len(draws)
        # 5 standard errors of a binomial proportion
        assert np.all(np.abs(freq - [0.5, 0.3, 0.15, 0.05]) < 5 * np.sqrt(0.25 / len(draws)))
    top2 = sample_next(np.tile(logits, (5000, 1)), top_k=2, rng=2)
    assert set(top2.tolist()) == {0, 1}
    assert abs(np.mean(top2 == 0) - 0.5 / 0.8) < 5 * np.sqrt(0.25 / 5000)


def test_sampling_arguments_are_checked():
    with pytest.raises(ArgumentError, match="temperature"):
        next_token_probs(np.zeros(3), temperature=-1)
    with pytest.raises(ArgumentError, match="top_k"):
        next_token_probs(np.zeros(3), top_k=0)
    with pytest.raises(ShapeError, match="logits"):
        next_token_probs(np.zeros((2, 2, 2)))
