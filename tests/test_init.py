"""Initialisation: PyTorch's default for Linear and Conv2d in distribution, and the nn.init formulas."""

import math

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn


def test_linear_default_init_is_uniform_with_bound_one_over_sqrt_fan_in():
    layer = nn.Linear(400, 300)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    bound = 1 / math.sqrt(400)
    assert w.min() >= -bound and w.max() <= bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)  # U[-b, b] has std b/√3
    assert b.min() >= -bound and b.max() <= bound


def test_conv2d_default_init_uses_channels_times_kernel_as_fan_in():
    layer = nn.Conv2d(6, 16, (5, 3))
    bound = 1 / math.sqrt(6 * 5 * 3)
    w = layer.weight.numpy()
    assert w.shape == (16, 6, 5, 3)
    assert np.abs(w).max() <= bound and w.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)


def test_default_init_matches_pytorch_in_distribution(torch):
    from scipy import stats

    ours = nn.Linear(256, 128).weight.numpy().ravel()
    theirs = torch.nn.Linear(256, 128).weight.detach().numpy().ravel()
    assert stats.ks_2samp(ours, theirs).pvalue > 1e-3


@pytest.mark.parametrize("fill, expected_std", [
    (lambda w: nn.init.xavier_uniform_(w), math.sqrt(2 / (200 + 100))),
    (lambda w: nn.init.xavier_normal_(w), math.sqrt(2 / (200 + 100))),
    (lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"), math.sqrt(2 / 200)),
    (lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"), math.sqrt(2 / 200)),
    (lambda w: nn.init.normal_(w, 0.0, 0.3), 0.3),
    (lambda w: nn.init.uniform_(w, -1.0, 1.0), 1 / math.sqrt(3)),
])
def test_init_functions_have_the_documented_spread(fill, expected_std):
    w = mdl.zeros(100, 200)
    fill(w)
    assert w.numpy().std() == pytest.approx(expected_std, rel=0.03)
    assert w.dtype == np.float32


def test_constant_and_zeros():
    w = mdl.ones(3, 2)
    nn.init.zeros_(w)
    assert not w.numpy().any()
    nn.init.constant_(w, 0.5)
    assert (w.numpy() == 0.5).all()


def test_manual_seed_makes_initialisation_reproducible():
    mdl.manual_seed(3)
    a = nn.Linear(5, 4).weight.numpy()
    mdl.manual_seed(3)
    b = nn.Linear(5, 4).weight.numpy()
    np.testing.assert_array_equal(a, b)
