"""`minidl.metrics`: classification and regression scores, computed by scikit-learn.

    from minidl import metrics
    metrics.accuracy(y_true, y_pred)                 # fraction of exact matches
    metrics.f1_score(y_true, y_pred)                 # binary labels: F1 of class 1; more classes: macro
    metrics.roc_auc(y_true, probabilities)           # (N,) or (N, 2): binary; (N, C): one-vs-rest, macro

Arguments may be NumPy arrays, lists, device arrays or Tensors (they are copied to the host first).
minidl does not rewrite these formulas: each function is a thin call into `sklearn.metrics`, with the
defaults chosen for a course on neural networks:

- `average="auto"` (precision, recall, F1): "binary" when the labels are 0/1 (the score of class 1,
  scikit-learn's default), "macro" (the unweighted mean over classes) when there are more classes.
  Any scikit-learn value ("micro", "macro", "weighted", None) may be passed instead.
- `zero_division=0.0`: a class that is never predicted scores 0 instead of raising a warning.
- `roc_auc` takes scores, not labels: probabilities (or logits for the binary case). For C > 2 classes
  it is the one-vs-rest AUC averaged over the classes (macro).
"""

import numpy as np
from sklearn import metrics as _sk

from minidl.backend import backend_of_array
from minidl.errors import ArgumentError
from minidl.tensor import Tensor

__all__ = ["accuracy", "precision", "recall", "f1_score", "roc_auc", "confusion_matrix", "r2_score",
           "mean_squared_error", "mean_absolute_error", "METRICS", "get_metric"]


def to_numpy(values):
    """A host NumPy array from a Tensor, a NumPy/CuPy array, a list or a number."""
    if isinstance(values, Tensor):
        return values.numpy()
    if hasattr(values, "shape") and hasattr(values, "dtype") and not isinstance(values, np.ndarray):
        return backend_of_array(values).to_host(values)
    return np.asarray(values)


def _labels(y, name):
    """Class labels as a 1-d array: (N,), or (N, 1) squeezed."""
    y = to_numpy(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ArgumentError(f"{name}: expected class labels of shape (N,), got shape {y.shape}; for model outputs "
                         f"(N, C) take the predicted class first: outputs.argmax(axis=1)")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ArgumentError(f"{name}: labels must be whole numbers (class indices), got non-integer floats such "
                             f"as {y[~(y == np.round(y))][:3]}; threshold probabilities first (p > 0.5)")
        y = y.astype(np.int64)
    return y


def _label_arrays(y_true, y_pred, name):
    """y_true and y_pred as integer label arrays of one length (an error naming `name` otherwise)."""
    y_true, y_pred = _labels(y_true, name), _labels(y_pred, name)
    _check_lengths(y_true, y_pred, name)
    return y_true, y_pred


def _check_lengths(y_true, y_pred, name):
    if len(y_true) != len(y_pred):
        raise ArgumentError(f"{name}: y_true has {len(y_true)} samples but y_pred has {len(y_pred)}")


def _average(y_true, y_pred, average):
    if average != "auto":
        return average
    present = np.union1d(np.unique(y_true), np.unique(y_pred))
    return "binary" if np.all(np.isin(present, (0, 1))) else "macro"


# -- classification -----------------------------------------------------------------------------------------
def accuracy(y_true, y_pred):
    """Fraction of samples whose predicted class equals the true one (sklearn's accuracy_score)."""
    y_true, y_pred = _label_arrays(y_true, y_pred, "accuracy")
    return float(_sk.accuracy_score(y_true, y_pred))


def precision(y_true, y_pred, average="auto", zero_division=0.0):
    """TP / (TP + FP): of the samples predicted positive, the fraction that are (see module doc for `average`)."""
    y_true, y_pred = _label_arrays(y_true, y_pred, "precision")
    return _score(_sk.precision_score(y_true, y_pred, average=_average(y_true, y_pred, average),
                                      zero_division=zero_division))


def recall(y_true, y_pred, average="auto", zero_division=0.0):
    """TP / (TP + FN): of the positive samples, the fraction found (see module doc for `average`)."""
    y_true, y_pred = _label_arrays(y_true, y_pred, "recall")
    return _score(_sk.recall_score(y_true, y_pred, average=_average(y_true, y_pred, average),
                                   zero_division=zero_division))


def f1_score(y_true, y_pred, average="auto", zero_division=0.0):
    """Harmonic mean of precision and recall, 2PR / (P + R) (see module doc for `average`)."""
    y_true, y_pred = _label_arrays(y_true, y_pred, "f1_score")
    return _score(_sk.f1_score(y_true, y_pred, average=_average(y_true, y_pred, average),
                               zero_division=zero_division))


def roc_auc(y_true, y_score, average="macro", multi_class="ovr"):
    """Area under the ROC curve from scores: the probability that a random positive outranks a random negative.

    y_score: (N,) scores of class 1 (probabilities or logits); (N, 2) probabilities (column 1 is used);
    (N, C) class probabilities for C > 2 (rows summing to 1; one-vs-rest, averaged by `average`).
    """
    y_true = _labels(y_true, "roc_auc")
    y_score = to_numpy(y_score).astype(np.float64, copy=False)
    if y_score.ndim == 2 and y_score.shape[1] == 1:
        y_score = y_score[:, 0]
    if y_score.ndim == 2 and y_score.shape[1] == 2:
        y_score = y_score[:, 1]
    _check_lengths(y_true, y_score, "roc_auc")
    if y_score.ndim == 1:
        return float(_sk.roc_auc_score(y_true, y_score))
    if y_score.ndim != 2:
        raise ArgumentError(f"roc_auc: y_score must have shape (N,) or (N, C), got {y_score.shape}")
    return float(_sk.roc_auc_score(y_true, y_score, average=average, multi_class=multi_class,
                                   labels=np.arange(y_score.shape[1])))


def confusion_matrix(y_true, y_pred, labels=None, normalize=None):
    """C[i, j] = number of samples of true class i predicted as class j (sklearn's layout).

    normalize: None (counts), "true" (rows sum to 1), "pred" (columns sum to 1) or "all".
    """
    y_true, y_pred = _label_arrays(y_true, y_pred, "confusion_matrix")
    return _sk.confusion_matrix(y_true, y_pred, labels=labels, normalize=normalize)


# -- regression ------------------------------------------------------------------------------------------------
def _targets(y_true, y_pred, name):
    y_true, y_pred = to_numpy(y_true), to_numpy(y_pred)
    if y_true.ndim == 2 and y_true.shape[1] == 1:
        y_true = y_true[:, 0]
    if y_pred.ndim == 2 and y_pred.shape[1] == 1:
        y_pred = y_pred[:, 0]
    _check_lengths(y_true, y_pred, name)
    if y_true.shape != y_pred.shape:
        raise ArgumentError(f"{name}: y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}")
    return y_true.astype(np.float64), y_pred.astype(np.float64)


def r2_score(y_true, y_pred):
    """Coefficient of determination 1 - Σ(y - ŷ)² / Σ(y - ȳ)² (several outputs: their mean)."""
    return float(_sk.r2_score(*_targets(y_true, y_pred, "r2_score")))


def mean_squared_error(y_true, y_pred):
    """mean((y - ŷ)²) over samples (and outputs)."""
    return float(_sk.mean_squared_error(*_targets(y_true, y_pred, "mean_squared_error")))


def mean_absolute_error(y_true, y_pred):
    """mean(|y - ŷ|) over samples (and outputs)."""
    return float(_sk.mean_absolute_error(*_targets(y_true, y_pred, "mean_absolute_error")))


def _score(value):
    return float(value) if np.ndim(value) == 0 else np.asarray(value)


# -- the names the Trainer understands ------------------------------------------------------------------------
# name -> (function, what it needs): "labels" (predicted classes), "scores" (class probabilities),
# "values" (the raw outputs, for regression). `metrics=("accuracy", "f1")` in a Trainer looks names up here.
METRICS = {
    "accuracy": (accuracy, "labels"),
    "precision": (precision, "labels"),
    "recall": (recall, "labels"),
    "f1": (f1_score, "labels"),
    "f1_score": (f1_score, "labels"),
    "roc_auc": (roc_auc, "scores"),
    "r2": (r2_score, "values"),
    "r2_score": (r2_score, "values"),
    "mse": (mean_squared_error, "values"),
    "mean_squared_error": (mean_squared_error, "values"),
    "mae": (mean_absolute_error, "values"),
    "mean_absolute_error": (mean_absolute_error, "values"),
}

# Metrics where smaller is better (used by mode="auto" in EarlyStopping, ModelCheckpoint and searches).
LOWER_IS_BETTER = {"loss", "penalty", "mse", "mean_squared_error", "mae", "mean_absolute_error"}


def get_metric(name):
    """(function, needs) for a metric name; a clear error listing the known names otherwise."""
    try:
        return METRICS[name]
    except (KeyError, TypeError):
        raise ArgumentError(f"unknown metric {name!r}; known metrics: {sorted(METRICS)} "
                         f"(or pass a function f(y_true, outputs) -> float)") from None


def lower_is_better(name):
    """True when a smaller value of the logged quantity `name` ("val_loss", "accuracy", ...) is better."""
    base = name[4:] if name.startswith("val_") else name
    return base in LOWER_IS_BETTER or base.endswith("loss") or base.endswith("error")
