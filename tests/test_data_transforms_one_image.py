"""One image (C, H, W) is transformed as a whole, as torchvision does; a batch (N, C, H, W) per image.

References are closed forms of torchvision's definitions: hflip(img) = img[..., ::-1] for every channel at
once; a crop is one window of the zero-padded image, the same for every channel; Normalize is per channel.
"""

import numpy as np
import pytest

from minidl.data.transforms import (Compose, GaussianNoise, Normalize, RandomCrop, RandomHorizontalFlip,
                                    RandomShift)


def _image(c=3, h=8, w=8, seed=0):
    return np.random.default_rng(seed).standard_normal((c, h, w)).astype(np.float32)


def test_flip_of_one_image_flips_all_channels_together():
    image = _image()
    outcomes = set()
    for seed in range(40):
        out = RandomHorizontalFlip(0.5)(image, seed)
        assert out.shape == image.shape
        flipped = np.array_equal(out, image[..., ::-1])
        assert flipped or np.array_equal(out, image), "channels were flipped independently"
        outcomes.add(flipped)
    assert outcomes == {True, False}  # p = 0.5: both happen over 40 seeds
    np.testing.assert_array_equal(RandomHorizontalFlip(1.0)(image, 0), image[..., ::-1])


def _windows(padded, h, w):
    """Every h x w window of a padded (C, H', W') image, all channels at the same offset."""
    return [padded[:, i:i + h, j:j + w] for i in range(padded.shape[1] - h + 1) for j in range(padded.shape[2] - w + 1)]


@pytest.mark.parametrize("seed", range(5))
def test_crop_of_one_image_is_one_window_of_the_padded_image(seed):
    image = _image(h=8, w=8)
    out = RandomCrop(6, padding=2)(image, seed)
    assert out.shape == (3, 6, 6)
    padded = np.pad(image, ((0, 0), (2, 2), (2, 2)))
    assert any(np.array_equal(out, window) for window in _windows(padded, 6, 6))


def test_shift_of_one_image_moves_all_channels_together():
    image = _image(h=6, w=6)
    out = RandomShift(2)(image, 3)
    padded = np.pad(image, ((0, 0), (2, 2), (2, 2)))
    assert any(np.array_equal(out, window) for window in _windows(padded, 6, 6))


def test_normalize_one_image_is_per_channel():
    image = _image(c=3, h=4, w=5)
    mean, std = [0.1, 0.2, 0.3], [1.0, 2.0, 4.0]
    expected = (image - np.array(mean, np.float32)[:, None, None]) / np.array(std, np.float32)[:, None, None]
    np.testing.assert_allclose(Normalize(mean, std)(image, 0), expected, rtol=1e-6)


def test_compose_on_one_image_equals_compose_on_a_batch_of_one():
    image = _image(c=1, h=8, w=8)
    augment = Compose([RandomCrop(8, padding=1), RandomHorizontalFlip(0.5), GaussianNoise(0.1)])
    np.testing.assert_array_equal(augment(image, 7), augment(image[None], 7)[0])


def test_batch_is_still_per_image():
    batch = np.stack([_image(seed=s) for s in range(64)])
    out = RandomHorizontalFlip(0.5)(batch, 0)
    flipped = [np.array_equal(o, b[..., ::-1]) for o, b in zip(out, batch)]
    assert all(f or np.array_equal(o, b) for f, o, b in zip(flipped, out, batch))
    assert 10 < sum(flipped) < 54


def test_flat_rows_get_the_reshape_for_their_own_image_size():
    with pytest.raises(ValueError, match=r"X\.reshape\(-1, 1, 8, 8\)"):
        RandomCrop(8, padding=1)(np.zeros((5, 64), np.float32), 0)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)") as info:
        RandomCrop(8)(np.zeros((5, 10), np.float32), 0)
    assert "reshape" not in str(info.value)  # 10 is no square: no made-up image size
