"""Your own pictures as model inputs: read a PNG/JPEG and make it look like the training images.

    x = image_to_input("my_seven.png", input_shape=(1, 28, 28), background="dark", fill=20 / 28)

The steps, each one a line below, are the ones MNIST's authors applied to their scans (LeCun et al., 1998):
1. read the file as grey levels in [0, 1] (Pillow, installed with matplotlib; colour is averaged away);
2. make the ink light on a dark background when the training images are so (MNIST, the bundled digits):
   a photo of pen on paper is dark on light, so it is inverted when its border is lighter than 0.5;
3. crop to the ink's bounding box and pad it to a square, so the digit keeps its proportions;
4. resize the square so that it fills `fill` of the side (MNIST digits fill 20 of 28 pixels), centred;
5. the result has `input_shape` (C, H, W), float32 in [0, 1], as the training images.
"""

import os

import numpy as np

from minidl.errors import ArgumentError, ShapeError

INK_THRESHOLD = 0.2  # grey level (after inversion) above which a pixel counts as ink when cropping


def read_grey(path):
    """The image at `path` as a float32 array (H, W) of grey levels in [0, 1]: 0 black, 1 white."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # pragma: no cover: Pillow comes with matplotlib
        raise ArgumentError("reading images needs Pillow (pip install pillow; it comes with matplotlib)") from None
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ArgumentError(f"image {path!r}: no such file")
    try:
        with Image.open(path) as image:
            if image.mode in ("RGBA", "LA") or "transparency" in image.info:  # transparent: paint it on white
                image = image.convert("RGBA")
                white = Image.new("RGBA", image.size, (255, 255, 255, 255))
                image = Image.alpha_composite(white, image)
            grey = np.asarray(image.convert("L"), dtype=np.float32) / 255
    except (UnidentifiedImageError, OSError) as error:
        raise ArgumentError(f"image {path!r}: not a picture Pillow can read (PNG, JPEG, ...): {error}") from None
    return grey


def light_on_dark(grey):
    """`grey` with light ink on a dark background: inverted when its border (the paper) is light."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return 1 - grey if border.mean() > 0.5 else grey


def crop_to_square(grey, threshold=INK_THRESHOLD):
    """The smallest square around the ink (pixels above `threshold`), padded with background (0).
    An image with no ink is returned whole."""
    rows, cols = np.nonzero(grey > threshold)
    if rows.size == 0:
        return grey
    ink = grey[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    side = max(ink.shape)
    square = np.zeros((side, side), dtype=grey.dtype)
    top, left = (side - ink.shape[0]) // 2, (side - ink.shape[1]) // 2
    square[top:top + ink.shape[0], left:left + ink.shape[1]] = ink
    return square


def resize(grey, height, width):
    """`grey` resized to (height, width) with Pillow's area-averaging filter (box), values kept in [0, 1]."""
    from PIL import Image

    image = Image.fromarray(np.clip(grey * 255, 0, 255).astype(np.uint8))
    resized = image.resize((width, height), Image.Resampling.BOX if grey.shape[0] > height else Image.BILINEAR)
    return np.asarray(resized, dtype=np.float32) / 255


def image_to_input(path, input_shape, background="dark", fill=1.0):
    """The picture at `path` as one model input of `input_shape` (C, H, W), float32 in [0, 1].

    background: "dark" when the training images are light ink on a dark background (MNIST, Fashion-MNIST,
    the bundled digits): a picture with a light border is then inverted; "light": never inverted.
    fill: the fraction of the side the object fills in the training images (MNIST: 20/28).
    """
    if len(input_shape) != 3:
        raise ShapeError(f"image_to_input: the model takes inputs of shape {tuple(input_shape)}, not images "
                         f"(C, H, W)")
    if background not in ("dark", "light"):
        raise ArgumentError(f"image_to_input: background must be 'dark' or 'light', got {background!r}")
    if not 0 < fill <= 1:
        raise ArgumentError(f"image_to_input: fill must be in (0, 1], got {fill!r}")
    channels, height, width = input_shape
    grey = read_grey(path)
    if background == "dark":
        grey = light_on_dark(grey)
    square = crop_to_square(grey) if fill < 1 or background == "dark" else grey
    inner_h, inner_w = max(1, round(height * fill)), max(1, round(width * fill))
    inner = resize(square, inner_h, inner_w)
    out = np.zeros((height, width), dtype=np.float32)
    top, left = (height - inner_h) // 2, (width - inner_w) // 2
    out[top:top + inner_h, left:left + inner_w] = inner
    return np.repeat(out[None], channels, axis=0)
