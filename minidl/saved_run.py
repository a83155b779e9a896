"""A trained run on disk, and predicting with it on new inputs.

`minidl train` writes, beside the weights (`model.npz`), `model.json`: what is needed to rebuild the model
and to turn a new input into what the model saw in training: the model and data set names, the input shape,
the class names, and the preprocessing (for images: value range, background, how much of the frame the
object fills; for tables: the training features' mean and standard deviation). JSON, never pickle.

    run = load_run("runs/mnist-mlp")
    run.predict_images(["seven.png"], top=3)   # [[("7", 0.98), ("1", 0.01), ("9", 0.004)]]
"""

import json
import os
from dataclasses import dataclass

import numpy as np

from minidl.data.images import image_to_input
from minidl.errors import ArgumentError, SerializationError
from minidl.serialization import atomic_write, load

RUN_INFO = "model.json"
WEIGHTS = "model.npz"
FORMAT = "minidl-run"
VERSION = 1

# How the image data sets look, so a photo can be made to look the same (see minidl/data/images.py).
# All three are light ink on a dark background; MNIST's digits fill 20 of 28 pixels (LeCun et al., 1998).
IMAGE_LOOK = {
    "digits": dict(background="dark", fill=1.0),
    "mnist": dict(background="dark", fill=20 / 28),
    "fashion-mnist": dict(background="dark", fill=1.0),
}


def run_info(data, settings):
    """The `model.json` dict of a run that trained `settings["model"]` on `data` (a zoo.PreparedData)."""
    info = {"format": FORMAT, "version": VERSION, "dataset": data.name, "model": settings["model"],
            "dropout": float(settings["dropout"]), "task": data.task, "input_shape": list(data.input_shape),
            "n_outputs": data.n_outputs, "class_names": [str(c) for c in data.class_names]}
    if data.is_image:
        info["input"] = {"kind": "image", "range": [0.0, 1.0], **IMAGE_LOOK.get(data.name, IMAGE_LOOK["digits"])}
    else:
        mean, std = data.scaler if data.scaler is not None else (None, None)
        info["input"] = {"kind": "features",
                         "mean": None if mean is None else [float(v) for v in mean],
                         "std": None if std is None else [float(v) for v in std]}
    info["settings"] = {k: v for k, v in settings.items() if isinstance(v, (int, float, str, bool, type(None)))}
    return info


def write_run_info(path, info):
    """Write `info` as indented JSON to `path`, atomically."""
    text = json.dumps(info, indent=2) + "\n"
    atomic_write(path, lambda f: f.write(text.encode()))


@dataclass
class SavedRun:
    """A model rebuilt from a run folder, with its `model.json` (`info`)."""

    model: object
    info: dict
    folder: str

    @property
    def class_names(self):
        return self.info["class_names"]

    def images_to_inputs(self, paths):
        """The pictures at `paths` as one batch (N, C, H, W) shaped and scaled like the training images."""
        look = self.info["input"]
        if look["kind"] != "image":
            raise ArgumentError(f"the run in {self.folder} was trained on {self.info['dataset']} "
                                f"({self.info['input_shape'][0]} features per sample), not on images")
        shape = tuple(self.info["input_shape"])
        return np.stack([image_to_input(p, shape, look["background"], look["fill"]) for p in paths])

    def probabilities(self, X):
        """Class probabilities (N, classes) of inputs X: softmax of the logits (sigmoid for one logit)."""
        import minidl as mdl

        self.model.eval()
        with mdl.no_grad():
            logits = self.model(mdl.tensor(np.asarray(X, dtype=np.float32))).numpy().astype(np.float64)
        if self.info["task"] == "binary":
            p = 1 / (1 + np.exp(-logits.reshape(-1)))
            return np.stack([1 - p, p], axis=1)
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        return e / e.sum(axis=1, keepdims=True)

    def predict_images(self, paths, top=3):
        """For each picture, the `top` most probable classes as [(class name, probability), ...]."""
        probs = self.probabilities(self.images_to_inputs(paths))
        top = max(1, min(int(top), probs.shape[1]))
        order = np.argsort(-probs, axis=1, kind="stable")[:, :top]
        return [[(self.class_names[j], float(row[j])) for j in best] for row, best in zip(probs, order)]


def load_run(folder):
    """Rebuild the model a `minidl train` run saved in `folder` (model.json + model.npz)."""
    from minidl.zoo import build_model_for

    folder = os.fspath(folder)
    info_path, weights_path = os.path.join(folder, RUN_INFO), os.path.join(folder, WEIGHTS)
    for path in (info_path, weights_path):
        if not os.path.isfile(path):
            raise ArgumentError(f"{folder!r} is not a run folder: {os.path.basename(path)} is missing (a folder "
                                f"that `minidl train` wrote, e.g. runs/digits-lenet)")
    try:
        with open(info_path) as f:
            info = json.load(f)
    except (OSError, ValueError) as error:
        raise SerializationError(f"{info_path}: not readable as JSON: {error}") from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise SerializationError(f"{info_path}: not a minidl run description (format {FORMAT!r})")
    if info.get("version", 0) > VERSION:
        raise SerializationError(f"{info_path}: written by a newer minidl (version {info['version']} > {VERSION})")
    model = build_model_for(info["model"], tuple(info["input_shape"]), info["n_outputs"], dropout=info["dropout"])
    model.load_state_dict(load(weights_path))
    model.eval()
    return SavedRun(model, info, folder)
