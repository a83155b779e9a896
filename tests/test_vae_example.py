"""examples/vae_mnist.py's loss terms against PyTorch: the reconstruction term and the KL term per image."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import minidl as mdl

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "vae_mnist.py"


def load_example():
    spec = importlib.util.spec_from_file_location("vae_mnist", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_loss_terms_are_bce_and_the_gaussian_kl(torch):
    vae = load_example()
    mdl.manual_seed(0)
    model = vae.VAE(latent=3, hidden=16, pixels=20).astype(mdl.float64)
    x = np.random.default_rng(0).random((5, 20))
    model.eval()   # z = mu: the decoder's input is known, so PyTorch can recompute the terms
    reconstruction, kl = vae.loss_terms(model, mdl.tensor(x))
    with mdl.no_grad():
        logits, mu, logvar = (t.numpy() for t in model(mdl.tensor(x)))
    tx = torch.tensor(x)
    expected_rec = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(logits), tx, reduction="sum") / 5
    q = torch.distributions.Normal(torch.tensor(mu), torch.tensor(np.exp(0.5 * logvar)))
    p = torch.distributions.Normal(torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64))
    expected_kl = torch.distributions.kl_divergence(q, p).sum() / 5
    assert reconstruction.item() == pytest.approx(expected_rec.item(), rel=1e-10)
    assert kl.item() == pytest.approx(expected_kl.item(), rel=1e-10)


def test_reparameterisation_sends_gradients_to_mu_and_logvar():
    vae = load_example()
    mdl.manual_seed(1)
    model = vae.VAE(latent=2, hidden=8, pixels=6)
    mu = mdl.tensor(np.zeros((4000, 2), dtype=np.float32), requires_grad=True)
    logvar = mdl.tensor(np.full((4000, 2), np.log(4.0), dtype=np.float32), requires_grad=True)
    z = model.reparameterise(mu, logvar)
    assert np.std(z.numpy()) == pytest.approx(2.0, rel=0.05)   # z ~ N(mu, exp(logvar)) = N(0, 4)
    z.sum().backward()
    np.testing.assert_allclose(mu.grad.numpy(), 1.0)           # dz/dmu = 1
    eps = (z.numpy() - 0.0) / 2.0                               # dz/dlogvar = eps · exp(logvar / 2) / 2 = z / 2
    np.testing.assert_allclose(logvar.grad.numpy(), eps, rtol=1e-5, atol=1e-6)
