"""Regularisation compared: none, L1, L2, dropout, data augmentation and batch norm, with curves.

    python examples/regularization.py [--samples 300] [--epochs 80] [--out out/] [--quick]

A dense network (64 -> 256 -> 128 -> 10) has far more weights than `--samples` training digits, so
without help it overfits: the training loss goes to zero while the validation loss turns up. Each
variant below changes one thing and is trained for the same epochs, with no early stopping, so the
curves show what it does:
    none          the plain network
    L1            + 1e-4 * sum |w| in the loss (Trainer(l1=...)): pushes weights to exactly zero
    L2            + 1e-3 * sum w^2 (Trainer(l2=...)): shrinks all weights (weight decay)
    dropout       Dropout(0.3) after each hidden layer: a random third of the units off per step
    augmentation  every batch shifted by up to one pixel (transforms.RandomShift): more data, for free
    batch norm    BatchNorm1d after each hidden Linear: normalised activations, a mild regulariser
Writes regularization.png (validation loss and accuracy per epoch, one line per variant).
"""

import argparse
import os

import minidl as mdl
import minidl.nn as nn
import minidl.optim as optim
from minidl.data import DataLoader, TensorDataset, transforms
from minidl.train import Trainer
from minidl.zoo import mlp, prepare_data


def batch_norm_mlp(n_features, n_outputs, hidden=(256, 128)):
    layers, width = [nn.Flatten()], n_features
    for h in hidden:
        layers += [nn.Linear(width, h), nn.BatchNorm1d(h), nn.ReLU()]
        width = h
    return nn.Sequential(*layers, nn.Linear(width, n_outputs))


VARIANTS = {  # name -> (model builder, Trainer keyword arguments, training-batch transform)
    "none": (lambda: mlp(64, 10), {}, None),
    "L1": (lambda: mlp(64, 10), {"l1": 1e-4}, None),
    "L2": (lambda: mlp(64, 10), {"l2": 1e-3}, None),
    "dropout": (lambda: mlp(64, 10, dropout=0.3), {}, None),
    "augmentation": (lambda: mlp(64, 10), {}, transforms.RandomShift(1)),
    "batch norm": (lambda: batch_norm_mlp(64, 10), {}, None),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=300, help="training images (few, to make overfitting show)")
    parser.add_argument("--epochs", type=int, default=80)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out")
    parser.add_argument("--quick", action="store_true", help="2 epochs per variant on 100 samples (smoke test)")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    epochs, samples = (2, 100) if args.quick else (args.epochs, args.samples)

    data = prepare_data("digits", seed=args.seed)  # images (N, 1, 8, 8): the shift needs them as images
    X_train, y_train = data.X_train[:samples], data.y_train[:samples]
    print(f"{len(y_train)} training digits, {len(data.y_val)} validation, {len(data.y_test)} test; "
          f"{epochs} epochs per variant")
    histories, results = {}, {}
    for name, (build, penalties, transform) in VARIANTS.items():
        mdl.manual_seed(args.seed)
        model = build()
        train = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True, seed=args.seed,
                           transform=transform)
        trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3), progress=False,
                          **penalties)
        histories[name] = trainer.fit(train, val=(data.X_val, data.y_val), epochs=epochs)
        results[name] = trainer.evaluate((data.X_test, data.y_test))
        h = histories[name]
        print(f"{name:13s} final train loss {h['loss'][-1]:.4f}  val_loss {h['val_loss'][-1]:.4f} "
              f"(best {min(h['val_loss']):.4f})  test_accuracy {results[name]['accuracy']:.4f}")

    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for name, h in histories.items():
        epochs_axis = [e + 1 for e in h.epoch]
        line, = ax_loss.plot(epochs_axis, h["val_loss"], label=name)
        ax_loss.plot(epochs_axis, h["loss"], color=line.get_color(), linestyle=":", linewidth=1)
        ax_acc.plot(epochs_axis, h["val_accuracy"], label=name)
    ax_loss.set(xlabel="epoch", ylabel="loss (solid: validation, dotted: training)", yscale="log")
    ax_acc.set(xlabel="epoch", ylabel="validation accuracy")
    ax_loss.legend()
    fig.suptitle(f"Regularisation on {len(y_train)} digits")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "regularization.png"), dpi=100)
    print(f"wrote {os.path.join(args.out, 'regularization.png')}")
    return results


if __name__ == "__main__":
    main()
