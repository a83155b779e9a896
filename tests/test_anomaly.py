"""detect_anomaly: the first op that makes a NaN or an Inf is named, with its layer and a hint."""

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn


def test_log_of_zero_is_named_with_its_input_range_and_a_hint():
    x = mdl.tensor([0.0, 1.0, 2.0], requires_grad=True)
    with pytest.warns(RuntimeWarning), pytest.raises(mdl.AnomalyError) as info:
        with mdl.detect_anomaly():
            (x.relu() - 1).log().sum()
    message = str(info.value)
    assert message.startswith("Log: the forward output")
    assert "values in [-1, 1]" in message and "log_softmax" in message


def test_without_detect_anomaly_nothing_is_checked():
    x = mdl.tensor([0.0, 1.0], requires_grad=True)
    with pytest.warns(RuntimeWarning):
        y = x.log().sum()
    assert not np.isfinite(y.item())


def test_the_layer_producing_inf_is_named():
    class Blowup(nn.Module):
        def forward(self, x):
            return ((x + 1.0) * 1e30).exp()  # x >= 0 after the ReLU: every element overflows

    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), Blowup(), nn.Linear(3, 1))
    with pytest.warns(RuntimeWarning), pytest.raises(mdl.AnomalyError) as info:
        with mdl.detect_anomaly(model):
            model(mdl.ones(2, 3) * 10).sum()
    message = str(info.value)
    assert message.startswith("Exp:") and "in layer: model (Sequential) > 2 (Blowup)" in message and "logsumexp" in message


def test_a_non_finite_gradient_is_caught_in_backward():
    x = mdl.tensor([0.0, 4.0], requires_grad=True)
    with mdl.detect_anomaly():
        y = x.sqrt().sum()  # finite forward, infinite gradient at 0
        with pytest.warns(RuntimeWarning), pytest.raises(mdl.AnomalyError, match="Sqrt: the backward gradient"):
            y.backward()


def test_anomaly_error_is_a_floating_point_error_and_a_minidl_error():
    assert issubclass(mdl.AnomalyError, FloatingPointError) and issubclass(mdl.AnomalyError, mdl.MinidlError)


def test_finite_computations_pass_unchanged():
    x = mdl.tensor([1.0, 2.0], requires_grad=True)
    with mdl.detect_anomaly():
        (x.log() * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.log([1.0, 2.0]) + 1, rtol=1e-6)
