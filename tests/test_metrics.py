"""minidl.metrics: the same numbers as scikit-learn on the same predictions, and clear errors."""

import numpy as np
import pytest
from sklearn import metrics as sk

import minidl as mdl
from minidl import metrics


@pytest.fixture
def multiclass():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, 200)
    logits = rng.normal(size=(200, 4)) + 2.0 * np.eye(4)[y_true]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y_true, proba.argmax(axis=1), proba


@pytest.fixture
def binary():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 2, 150)
    p = np.clip(0.3 * y_true + rng.uniform(0, 0.7, 150), 0, 1)
    return y_true, (p > 0.5).astype(int), p


def test_classification_metrics_equal_sklearn_multiclass(multiclass):
    y, pred, proba = multiclass
    assert metrics.accuracy(y, pred) == sk.accuracy_score(y, pred)
    assert metrics.precision(y, pred) == sk.precision_score(y, pred, average="macro")
    assert metrics.recall(y, pred) == sk.recall_score(y, pred, average="macro")
    assert metrics.f1_score(y, pred) == sk.f1_score(y, pred, average="macro")
    for average in ("micro", "weighted"):
        assert metrics.f1_score(y, pred, average=average) == sk.f1_score(y, pred, average=average)
    assert metrics.roc_auc(y, proba) == sk.roc_auc_score(y, proba, multi_class="ovr", average="macro")
    np.testing.assert_array_equal(metrics.confusion_matrix(y, pred), sk.confusion_matrix(y, pred))
    np.testing.assert_array_equal(metrics.confusion_matrix(y, pred, normalize="true"),
                                  sk.confusion_matrix(y, pred, normalize="true"))


def test_classification_metrics_equal_sklearn_binary(binary):
    y, pred, p = binary
    assert metrics.precision(y, pred) == sk.precision_score(y, pred)
    assert metrics.recall(y, pred) == sk.recall_score(y, pred)
    assert metrics.f1_score(y, pred) == sk.f1_score(y, pred)
    assert metrics.roc_auc(y, p) == sk.roc_auc_score(y, p)
    assert metrics.roc_auc(y, np.stack([1 - p, p], axis=1)) == sk.roc_auc_score(y, p)


def test_regression_metrics_equal_sklearn():
    rng = np.random.default_rng(2)
    y = rng.normal(size=100)
    y_hat = y + rng.normal(scale=0.3, size=100)
    assert metrics.r2_score(y, y_hat) == pytest.approx(sk.r2_score(y, y_hat), rel=1e-12)
    assert metrics.mean_squared_error(y, y_hat) == pytest.approx(sk.mean_squared_error(y, y_hat), rel=1e-12)
    assert metrics.mean_absolute_error(y, y_hat) == pytest.approx(sk.mean_absolute_error(y, y_hat), rel=1e-12)
    # (N, 1) outputs against (N,) targets, as a regression model returns them
    assert metrics.mean_squared_error(y, y_hat[:, None]) == pytest.approx(sk.mean_squared_error(y, y_hat))


def test_metrics_accept_tensors_and_strict_device_arrays(multiclass):
    y, pred, proba = multiclass
    assert metrics.accuracy(mdl.tensor(y), mdl.tensor(pred, device="strict")) == sk.accuracy_score(y, pred)
    assert metrics.roc_auc(mdl.tensor(y), mdl.tensor(proba)) == pytest.approx(
        sk.roc_auc_score(y, proba, multi_class="ovr"))


def test_zero_division_is_quiet():
    assert metrics.precision([0, 1, 1], [0, 0, 0]) == 0.0


def test_bad_inputs_give_clear_errors(multiclass):
    y, pred, proba = multiclass
    with pytest.raises(ValueError, match="200 samples but y_pred has 199"):
        metrics.accuracy(y, pred[:-1])
    with pytest.raises(ValueError, match="argmax"):
        metrics.accuracy(y, proba)
    with pytest.raises(ValueError, match="whole numbers"):
        metrics.accuracy([0, 1], [0.2, 0.7])
    with pytest.raises(ValueError, match="unknown metric 'acuracy'.*accuracy"):
        metrics.get_metric("acuracy")


def test_lower_is_better():
    assert metrics.lower_is_better("val_loss") and metrics.lower_is_better("mse")
    assert not metrics.lower_is_better("val_accuracy") and not metrics.lower_is_better("roc_auc")
