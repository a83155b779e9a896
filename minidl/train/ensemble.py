"""`Ensemble`: model averaging. Several trained models vote by averaging their predicted probabilities.

    ens = Ensemble([model_a, model_b, model_c])        # e.g. the k models of a cross-validation
    ens.predict_proba(X)                               # mean of the members' softmax probabilities
    ens.predict(X)                                     # argmax of that mean
    F.cross_entropy(ens(x), y)                         # ens(x) acts as logits (below)

`ens(x)` returns log p̄ (the log of the averaged probabilities). Those are valid logits: softmax(log p̄) = p̄
exactly, so `CrossEntropyLoss`, `argmax` and the Trainer's metrics work on an Ensemble as on one model.
For members with a single output (binary, BCEWithLogitsLoss) the average is of sigmoid probabilities
and `ens(x)` returns its logit log(p̄ / (1 - p̄)).
"""

import numpy as np

from minidl.autograd import no_grad
from minidl.creation import tensor
from minidl.errors import ArgumentError, ArgumentTypeError
from minidl.metrics import to_numpy
from minidl.nn import Module
from minidl.ops import clip, log, sigmoid, softmax
from minidl.tensor import Tensor


class Ensemble(Module):
    """Average of the predicted probabilities of `models` (optionally weighted; weights are normalised).

    Every member is put in eval mode when the ensemble is (`ens.eval()`); members are registered as
    submodules "0", "1", ..., so `ens.state_dict()` holds them all.
    """

    def __init__(self, models, weights=None):
        super().__init__()
        models = list(models)
        if not models:
            raise ArgumentError("Ensemble needs at least one model")
        for i, model in enumerate(models):
            if not isinstance(model, Module):
                raise ArgumentTypeError(f"Ensemble: model {i} is a {type(model).__name__}, not an nn.Module")
            self.add_module(str(i), model)
        if weights is None:
            weights = [1.0] * len(models)
        weights = [float(w) for w in weights]
        if len(weights) != len(models) or min(weights) < 0 or sum(weights) <= 0:
            raise ArgumentError(f"Ensemble: weights must be {len(models)} non-negative numbers with a positive sum, "
                             f"got {weights}")
        total = sum(weights)
        self.weights = [w / total for w in weights]

    @property
    def members(self):
        return list(self.children())

    def forward(self, x):
        mean = self._mean_probabilities(x)
        eps = 1e-12 if mean.dtype == np.float64 else 1e-7
        if self._binary:
            mean = clip(mean, eps, 1.0 - eps)
            return log(mean) - log(1.0 - mean)
        return log(clip(mean, eps, 1.0))

    def _mean_probabilities(self, x):
        mean = None
        for w, model in zip(self.weights, self.children()):
            out = model(x)
            self._binary = out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1)
            p = sigmoid(out) if self._binary else softmax(out, axis=-1)
            mean = p * w if mean is None else mean + p * w
        return mean

    def predict_proba(self, X, device=None):
        """Averaged probabilities as a NumPy array: (N, C), or (N,)/(N, 1) for single-output members."""
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                if not isinstance(X, Tensor):
                    X = tensor(np.asarray(X, dtype=np.float32), device=device or _device(self))
                return to_numpy(self._mean_probabilities(X))
        finally:
            self.train(was_training)

    def predict(self, X, device=None):
        """Predicted classes: argmax of the averaged probabilities (binary: p > 0.5)."""
        p = self.predict_proba(X, device)
        if self._binary:
            return (p.reshape(len(p)) > 0.5).astype(np.int64)
        return p.argmax(axis=1)


def _device(module):
    for p in module.parameters():
        return p.device
    return "cpu"
