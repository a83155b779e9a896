"""A variational autoencoder on MNIST (Kingma & Welling 2014): 784 -> 400 -> a 2-d latent code -> 400 -> 784.

    MINIDL_DATA=/path/to/data python examples/vae_mnist.py [--epochs 20] [--latent 2] [--out out/] [--quick]

The encoder gives each image a Gaussian q(z|x) = N(mu, diag(exp(logvar))); a code is drawn as
z = mu + exp(logvar / 2) · eps with eps ~ N(0, I) (the reparameterisation trick: the randomness is an
input, so gradients flow to mu and logvar), and the decoder gives 784 pixel logits. Per image,

    loss = reconstruction + KL,   reconstruction = sum of binary cross-entropies over the pixels,
           KL = KL(q(z|x) || N(0, I)) = -1/2 · sum(1 + logvar - mu² - exp(logvar))

and -loss is the evidence lower bound (ELBO) on log p(x), in nats per image. The two terms are logged
apart: KL near 0 means the code is ignored (posterior collapse). Writes the decoded grid over the 2-d
latent space (vae_samples.png) and the test images' mean codes coloured by digit (vae_latent.png).
"""

import argparse
import json
import os
import time

import numpy as np

import minidl as mdl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl import optim
from minidl.data import datasets


class VAE(nn.Module):
    """x (N, 784) in [0, 1] -> (pixel logits (N, 784), mu (N, latent), logvar (N, latent))."""

    def __init__(self, latent=2, hidden=400, pixels=784):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(pixels, hidden), nn.ReLU())
        self.to_mu = nn.Linear(hidden, latent)
        self.to_logvar = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, pixels))
        self.latent = latent

    def encode(self, x):
        h = self.encoder(x)
        return self.to_mu(h), self.to_logvar(h)

    def reparameterise(self, mu, logvar):
        eps = mdl.randn(*mu.shape, dtype=mu.dtype, device=mu.device)    # the only randomness: an input, not a node
        return mu + (logvar * 0.5).exp() * eps

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = self.reparameterise(mu, logvar) if self.training else mu
        return self.decoder(z), mu, logvar


def loss_terms(model, x):
    """(reconstruction, KL), each summed over an image's pixels / latent units and averaged over the batch."""
    logits, mu, logvar = model(x)
    n = x.shape[0]
    reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
    kl = ((mu * mu + logvar.exp() - logvar - 1.0) * 0.5).sum() / n
    return reconstruction, kl


def evaluate(model, X, batch_size=1000):
    """Test reconstruction, KL and -ELBO per image, each averaged over the images (one sample of z each)."""
    totals = np.zeros(2)
    with mdl.no_grad():
        for first in range(0, len(X), batch_size):
            x = mdl.tensor(X[first:first + batch_size])
            totals += [term.item() * len(x) for term in loss_terms(model, x)]
    reconstruction, kl = totals / len(X)
    return reconstruction, kl, reconstruction + kl


def save_pictures(model, X_test, y_test, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from statistics import NormalDist

    model.eval()
    with mdl.no_grad():
        if model.latent == 2:    # Kingma & Welling's manifold: decode a grid of codes at normal quantiles
            q = [NormalDist().inv_cdf(p) for p in np.linspace(0.05, 0.95, 15)]
            codes = np.array([[a, b] for b in q[::-1] for a in q], dtype=np.float32)
        else:                    # draws from the prior
            codes = np.random.default_rng(0).standard_normal((225, model.latent)).astype(np.float32)
        images = model.decoder(mdl.tensor(codes)).sigmoid().numpy().reshape(15, 15, 28, 28)
        mu, _ = model.encode(mdl.tensor(X_test))
        mu = mu.numpy()
    model.train()
    grid = images.transpose(0, 2, 1, 3).reshape(15 * 28, 15 * 28)
    plt.imsave(os.path.join(out, "vae_samples.png"), grid, cmap="gray")
    fig, ax = plt.subplots(figsize=(6, 5))
    points = ax.scatter(mu[:, 0], mu[:, 1], c=y_test, cmap="tab10", s=2)
    fig.colorbar(points, ax=ax, label="digit")
    ax.set(xlabel="z[0]", ylabel="z[1]", title="test images' mean codes" + (" (first 2 of the latent units)"
                                                                         if model.latent > 2 else ""))
    fig.savefig(os.path.join(out, "vae_latent.png"), dpi=90, bbox_inches="tight")
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--latent", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out")
    parser.add_argument("--quick", action="store_true", help="2,000 training images, one epoch (smoke test)")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    start = time.perf_counter()

    mdl.manual_seed(args.seed)
    (X_train, _), (X_test, y_test) = datasets.load_mnist(download=False)     # grey levels in [0, 1]
    X_train, X_test = X_train.reshape(-1, 784), X_test.reshape(-1, 784)
    if args.quick:
        X_train, X_test, y_test, args.epochs = X_train[:2000], X_test[:1000], y_test[:1000], 1
    model = VAE(latent=args.latent)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    history = []
    for epoch in range(args.epochs):
        order = rng.permutation(len(X_train))
        sums = np.zeros(2)
        for first in range(0, len(order), args.batch_size):
            x = mdl.tensor(X_train[order[first:first + args.batch_size]])
            reconstruction, kl = loss_terms(model, x)
            optimizer.zero_grad()
            (reconstruction + kl).backward()
            optimizer.step()
            sums += [reconstruction.item() * len(x), kl.item() * len(x)]
        train_rec, train_kl = sums / len(X_train)
        test_rec, test_kl, test_loss = evaluate(model, X_test)
        history.append(dict(epoch=epoch + 1, reconstruction=train_rec, kl=train_kl, test_reconstruction=test_rec,
                            test_kl=test_kl, test_elbo=-test_loss))
        print(f"epoch {epoch + 1:2d}  reconstruction {train_rec:7.2f}  KL {train_kl:5.2f}  |  test "
              f"reconstruction {test_rec:7.2f}  KL {test_kl:5.2f}  ELBO {-test_loss:8.2f} nats/image", flush=True)

    save_pictures(model, X_test, y_test, args.out)
    mdl.save(model.state_dict(), os.path.join(args.out, "vae_mnist.npz"))
    with open(os.path.join(args.out, "vae_history.json"), "w") as f:
        json.dump(history, f, indent=1)
    print(f"test ELBO {-test_loss:.2f} nats per image (reconstruction {test_rec:.2f} + KL {test_kl:.2f}), "
          f"latent {args.latent}, {args.epochs} epochs, {time.perf_counter() - start:.0f} s")
    return -test_loss


if __name__ == "__main__":
    main()
