"""Batch transforms for images `(N, C, H, W)`: `t(batch, rng) -> batch` of the same shape and dtype.

One image `(C, H, W)` is transformed as a whole, as torchvision does (one decision for all its
channels): `t(image, rng) -> image`.

    augment = Compose([RandomCrop(28, padding=2), RandomHorizontalFlip(0.5), Normalize(0.2860, 0.3530)])
    loader = DataLoader(train, batch_size=128, shuffle=True, seed=0, transform=augment)

A transform works on the whole batch at once, on the batch's own device (NumPy, CuPy or the strict
stand-in: array code goes through `xp` of the batch). The random decisions (flip or not, offsets)
are drawn on the host from `rng`, a NumPy Generator, one per sample, so a seed gives the same
result on every device. Each random transform takes `p`, the probability that a sample is changed:
with `p=0` it returns the batch unchanged (RandomCrop: the centre crop).
"""

import numpy as np

from minidl.backend import backend_of_array, get_backend
from minidl.errors import ArgumentError, ArgumentTypeError, DTypeError, ShapeError


class Transform:
    """Base class: `__call__(batch, rng)` accepts a NumPy Generator, an int seed or None (minidl's generator)."""

    def __call__(self, batch, rng=None):
        rng = as_generator(rng)
        if getattr(batch, "ndim", None) == 3:  # one image (C, H, W): a batch of one, not C images
            return self.apply(batch[None], rng)[0]
        return self.apply(batch, rng)

    def apply(self, batch, rng):
        raise NotImplementedError

    def __repr__(self):
        fields = ", ".join(f"{key}={value!r}" for key, value in vars(self).items())
        return f"{type(self).__name__}({fields})"


def as_generator(rng):
    """A NumPy Generator from a Generator, an int seed, or None (minidl's global CPU generator)."""
    if rng is None:
        return get_backend("cpu").rng
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise ArgumentTypeError(f"rng must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}")


class Compose(Transform):
    """Apply `transforms` one after the other, with the same generator."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def apply(self, batch, rng):
        for transform in self.transforms:
            batch = transform(batch, rng)
        return batch


class Normalize(Transform):
    """(batch - mean) / std per channel; `mean`, `std` are numbers or one value per channel C.

    Float batches keep their dtype; integer batches (uint8 images) become float32.
    """

    def __init__(self, mean, std):
        if np.any(np.asarray(std) <= 0):
            raise ArgumentError(f"Normalize: std must be positive, got {std!r}")
        self.mean, self.std = mean, std

    def apply(self, batch, rng):
        xp = backend_of_array(batch).xp
        dtype = batch.dtype if batch.dtype.kind == "f" else np.float32
        mean = _per_channel(self.mean, batch, dtype, "mean")
        std = _per_channel(self.std, batch, dtype, "std")
        return (batch.astype(dtype, copy=False) - xp.asarray(mean)) / xp.asarray(std)


def _per_channel(value, batch, dtype, name):
    """A host array broadcastable over (N, C, H, W): a scalar, or one value per channel as (1, C, 1, 1)."""
    value = np.asarray(value, dtype=dtype)
    if value.ndim == 0:
        return value
    if batch.ndim < 2 or value.shape != (batch.shape[1],):
        raise ShapeError(f"Normalize: {name} has {value.size} values but the batch of shape {batch.shape} has "
                         f"{batch.shape[1] if batch.ndim > 1 else 'no'} channels (axis 1)")
    return value.reshape((1, -1) + (1,) * (batch.ndim - 2))


class RandomHorizontalFlip(Transform):
    """Mirror each image left-right (last axis) with probability `p`."""

    def __init__(self, p=0.5):
        self.p = _check_probability(p, "RandomHorizontalFlip")

    def apply(self, batch, rng):
        backend = backend_of_array(batch)
        flip = rng.random(len(batch)) < self.p  # one decision per sample, on the host
        mask = backend.from_host(flip.reshape((-1,) + (1,) * (batch.ndim - 1)))
        return backend.xp.where(mask, batch[..., ::-1], batch)


class RandomCrop(Transform):
    """Pad each side with `padding` zeros, then cut a random `size` window (an int or (h, w)) per image.

    With probability 1 - p an image gets the centre window instead (the image itself when size is H, W).
    """

    def __init__(self, size, padding=0, p=1.0):
        self.size = (size, size) if np.isscalar(size) else tuple(size)
        if len(self.size) != 2 or min(self.size) <= 0 or padding < 0:
            raise ArgumentError(f"RandomCrop: size must be a positive int or (h, w) and padding >= 0, got "
                             f"size={size!r}, padding={padding!r}")
        self.padding = int(padding)
        self.p = _check_probability(p, "RandomCrop")

    def apply(self, batch, rng):
        _check_images(batch, "RandomCrop")
        (h, w), pad = self.size, self.padding
        room_y, room_x = batch.shape[2] + 2 * pad - h, batch.shape[3] + 2 * pad - w
        if room_y < 0 or room_x < 0:
            raise ShapeError(f"RandomCrop: a {h}x{w} window does not fit in images of {batch.shape[2]}x"
                             f"{batch.shape[3]} padded by {pad}")
        n = len(batch)
        top, left = rng.integers(0, room_y + 1, n), rng.integers(0, room_x + 1, n)
        keep = rng.random(n) >= self.p
        top[keep], left[keep] = room_y // 2, room_x // 2
        return _crop(_pad(batch, pad), top, left, h, w)


class RandomShift(Transform):
    """Move each image by a random whole number of pixels in [-max_shift, max_shift] along each axis,
    filling the uncovered border with zeros (a RandomCrop of the same size with padding max_shift)."""

    def __init__(self, max_shift, p=1.0):
        if max_shift < 0:
            raise ArgumentError(f"RandomShift: max_shift must be >= 0, got {max_shift!r}")
        self.max_shift = int(max_shift)
        self.p = _check_probability(p, "RandomShift")

    def apply(self, batch, rng):
        _check_images(batch, "RandomShift")
        s, n = self.max_shift, len(batch)
        dy, dx = rng.integers(-s, s + 1, n), rng.integers(-s, s + 1, n)
        keep = rng.random(n) >= self.p
        dy[keep], dx[keep] = 0, 0
        # output[i, j] = input[i - dy, j - dx] = padded[i + s - dy, j + s - dx]
        return _crop(_pad(batch, s), s - dy, s - dx, batch.shape[2], batch.shape[3])


class GaussianNoise(Transform):
    """Add N(0, std²) noise to every value of a float batch (to each sample with probability `p`).

    The noise is drawn on the host from `rng` (reproducible on every device) and then moved over.
    """

    def __init__(self, std, p=1.0):
        if std < 0:
            raise ArgumentError(f"GaussianNoise: std must be >= 0, got {std!r}")
        self.std = std
        self.p = _check_probability(p, "GaussianNoise")

    def apply(self, batch, rng):
        if batch.dtype.kind != "f":
            raise DTypeError(f"GaussianNoise needs a floating-point batch, got {batch.dtype}; "
                            "convert it first (e.g. load images as float32)")
        backend = backend_of_array(batch)
        sample_dtype = np.float32 if batch.dtype == np.float32 else np.float64
        noise = rng.standard_normal(batch.shape, dtype=sample_dtype) * sample_dtype(self.std)
        noise *= (rng.random(len(batch)) < self.p).reshape((-1,) + (1,) * (batch.ndim - 1))
        return batch + backend.from_host(noise.astype(batch.dtype, copy=False))


def _pad(batch, pad):
    """Zero padding of `pad` pixels around the last two axes of (N, C, H, W)."""
    if pad == 0:
        return batch
    return backend_of_array(batch).xp.pad(batch, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def _crop(batch, top, left, h, w):
    """Per image n, the window batch[n, :, top[n]:top[n]+h, left[n]:left[n]+w]: one vectorised gather.

    `top`, `left`: host int arrays (N,). Index arrays broadcast to (N, C, h, w).
    """
    backend = backend_of_array(batch)
    xp, (n, c) = backend.xp, batch.shape[:2]
    rows = backend.from_host(top[:, None] + np.arange(h))   # (N, h)
    cols = backend.from_host(left[:, None] + np.arange(w))  # (N, w)
    samples = xp.arange(n).reshape(n, 1, 1, 1)
    channels = xp.arange(c).reshape(1, c, 1, 1)
    return batch[samples, channels, rows[:, None, :, None], cols[:, None, None, :]]


def _check_images(batch, name):
    if batch.ndim != 4:
        raise ShapeError(f"{name} expects a batch of images (N, C, H, W) or one image (C, H, W), got shape "
                         f"{batch.shape}{_reshape_hint(batch.shape)}")


def _reshape_hint(shape):
    """For flat rows (N, D) with D a square number, the reshape that makes them one-channel images."""
    if len(shape) == 2:
        side = int(round(shape[1] ** 0.5))
        if side > 0 and side * side == shape[1]:
            return f"; reshape flat rows into images first, e.g. X.reshape(-1, 1, {side}, {side})"
    return ""


def _check_probability(p, name):
    if not 0 <= p <= 1:
        raise ArgumentError(f"{name}: p must be a probability in [0, 1], got {p!r}")
    return float(p)


__all__ = ["Compose", "GaussianNoise", "Normalize", "RandomCrop", "RandomHorizontalFlip", "RandomShift", "Transform"]
