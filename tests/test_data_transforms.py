"""Batch transforms (minidl.data.transforms): shapes, dtypes, identity at p=0, seeds, every device."""

import numpy as np
import pytest

from minidl.backend import backend_of_array, get_backend
from minidl.data.transforms import (Compose, GaussianNoise, Normalize, RandomCrop, RandomHorizontalFlip,
                                    RandomShift)

RANDOM_TRANSFORMS = [
    lambda p: RandomHorizontalFlip(p),
    lambda p: RandomCrop(7, padding=2, p=p),
    lambda p: RandomCrop((5, 6), padding=1, p=p),
    lambda p: RandomShift(2, p=p),
    lambda p: GaussianNoise(0.1, p=p),
    lambda p: Compose([RandomShift(1, p=p), RandomHorizontalFlip(p), GaussianNoise(0.05, p=p)]),
]


def _images(device, n=16, c=2, h=7, w=7, dtype=np.float32):
    host = np.random.default_rng(0).random((n, c, h, w)).astype(dtype)
    return host, get_backend(device).from_host(host)


def _host(array):
    return backend_of_array(array).to_host(array)


@pytest.mark.parametrize("make", RANDOM_TRANSFORMS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shape_dtype_and_device_are_kept(device, make, dtype):
    _, batch = _images(device, dtype=dtype)
    transform = make(0.5)
    out = transform(batch, np.random.default_rng(1))
    assert backend_of_array(out).device == get_backend(device).device  # a strict batch stays strict
    expected = (16, 2) + (transform.size if isinstance(transform, RandomCrop) else (7, 7))
    assert out.shape == expected and out.dtype == dtype


@pytest.mark.parametrize("make", [m for m in RANDOM_TRANSFORMS if m(0.0).__class__ is not RandomCrop]
                         + [lambda p: RandomCrop(7, padding=3, p=p)])
def test_identity_at_probability_zero(device, make):
    host, batch = _images(device)
    np.testing.assert_array_equal(_host(make(0.0)(batch, np.random.default_rng(1))), host)


def test_identity_at_zero_strength(device):
    host, batch = _images(device)
    for transform in (RandomShift(0), RandomCrop(7, padding=0), GaussianNoise(0.0)):
        np.testing.assert_array_equal(_host(transform(batch, np.random.default_rng(1))), host)


@pytest.mark.parametrize("make", RANDOM_TRANSFORMS)
def test_reproducible_by_seed_and_equal_across_devices(device, make):
    host, batch = _images(device)
    transform = make(0.5)
    first = _host(transform(batch, np.random.default_rng(5)))
    np.testing.assert_array_equal(first, _host(transform(batch, np.random.default_rng(5))))
    np.testing.assert_array_equal(first, transform(host, np.random.default_rng(5)))  # the CPU gives the same
    assert not np.array_equal(first, _host(transform(batch, np.random.default_rng(6))))
    np.testing.assert_array_equal(first, _host(transform(batch, 5)))  # an int seed works as well


def test_flip_mirrors_the_chosen_images(device):
    host, batch = _images(device)
    out = _host(RandomHorizontalFlip(1.0)(batch, np.random.default_rng(0)))
    np.testing.assert_array_equal(out, host[..., ::-1])
    half = _host(RandomHorizontalFlip(0.5)(batch, np.random.default_rng(0)))
    flipped = np.array([np.array_equal(a, b[..., ::-1]) for a, b in zip(half, host)])
    unchanged = np.array([np.array_equal(a, b) for a, b in zip(half, host)])
    assert np.all(flipped | unchanged) and 0 < flipped.sum() < len(host)
    np.testing.assert_array_equal(flipped, np.random.default_rng(0).random(len(host)) < 0.5)


def _reference_shift(image, dy, dx):
    """out[:, i, j] = image[:, i - dy, j - dx], zero outside: a plain loop to compare with."""
    out = np.zeros_like(image)
    h, w = image.shape[1:]
    for i in range(h):
        for j in range(w):
            if 0 <= i - dy < h and 0 <= j - dx < w:
                out[:, i, j] = image[:, i - dy, j - dx]
    return out


def test_shift_moves_images_with_zero_fill(device):
    host, batch = _images(device, n=40)
    out = _host(RandomShift(2)(batch, np.random.default_rng(3)))
    shifts = set()
    for image, result in zip(host, out):
        match = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if np.array_equal(result, _reference_shift(image, dy, dx))]
        assert match, "each output must be its input shifted by at most 2 pixels"
        shifts.add(match[0])
    assert len(shifts) > 5


def test_crop_takes_windows_of_the_padded_image(device):
    host, batch = _images(device, n=30)
    out = _host(RandomCrop((5, 6), padding=1)(batch, np.random.default_rng(2)))
    padded = np.pad(host, ((0, 0), (0, 0), (1, 1), (1, 1)))
    for image, result in zip(padded, out):
        assert any(np.array_equal(result, image[:, top:top + 5, left:left + 6])
                   for top in range(5) for left in range(4))


def test_noise_has_the_given_std(device):
    _, batch = _images(device, n=64, h=16, w=16)
    noise = _host(GaussianNoise(0.3)(batch, np.random.default_rng(0))) - _host(batch)
    assert abs(noise.std() - 0.3) < 0.01 and abs(noise.mean()) < 0.01


def test_normalize_per_channel_and_scalar(device):
    host, batch = _images(device, c=3)
    mean, std = [0.1, 0.5, 0.9], [0.2, 0.3, 0.4]
    out = Normalize(mean, std)(batch)
    assert backend_of_array(out).device == get_backend(device).device and out.dtype == np.float32
    expected = (host - np.array(mean, np.float32)[:, None, None]) / np.array(std, np.float32)[:, None, None]
    np.testing.assert_allclose(_host(out), expected, rtol=1e-6)
    np.testing.assert_allclose(_host(Normalize(0.5, 0.25)(batch)), (host - 0.5) / 0.25, rtol=1e-6)
    as_uint8 = get_backend(device).from_host((host * 255).astype(np.uint8))
    assert Normalize(0.0, 255.0)(as_uint8).dtype == np.float32


def test_compose_applies_in_order():
    batch = np.ones((2, 1, 2, 2), dtype=np.float32)
    out = Compose([Normalize(1.0, 0.5), Normalize(-1.0, 2.0)])(batch, 0)
    np.testing.assert_array_equal(out, np.full_like(batch, 0.5))  # ((1 - 1) / 0.5 + 1) / 2


def test_errors_are_clear():
    batch = np.zeros((4, 3, 5, 5), dtype=np.float32)
    with pytest.raises(ValueError, match="p must be a probability"):
        RandomHorizontalFlip(1.5)
    with pytest.raises(ValueError, match="(N, C, H, W)"):
        RandomShift(1)(np.zeros((4, 25), dtype=np.float32), 0)
    with pytest.raises(ValueError, match="does not fit"):
        RandomCrop(8, padding=1)(batch, 0)
    with pytest.raises(ValueError, match="2 values but the batch of shape"):
        Normalize([0.0, 0.0], [1.0, 1.0])(batch)
    with pytest.raises(ValueError, match="std must be positive"):
        Normalize(0.0, 0.0)
    with pytest.raises(TypeError, match="floating-point"):
        GaussianNoise(0.1)(batch.astype(np.uint8), 0)
    with pytest.raises(TypeError, match="Generator"):
        RandomHorizontalFlip()(batch, "seed")
