"""Train a small CNN on scikit-learn's bundled 8x8 digits (offline), with a progress bar and a plot.

    python examples/train_digits.py [--epochs 15] [--device cpu] [--out out/] [--quick]

The training loop is written out in full: forward, loss, backward, step; validation every epoch.
"""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

import minidl as mdl  # noqa: E402
import minidl.nn as nn  # noqa: E402
import minidl.optim as optim  # noqa: E402
from minidl.cli.args import Parser, device  # noqa: E402
from minidl.data import DataLoader, TensorDataset, train_val_test_split  # noqa: E402
from minidl.data.datasets import load_digits  # noqa: E402


def build_model():
    """(N, 1, 8, 8) -> conv 3x3 (16) -> ReLU -> pool -> conv 3x3 (32) -> ReLU -> pool -> 10 logits."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 64), nn.ReLU(), nn.Linear(64, 10))


def evaluate(model, loader, loss_fn):
    """(mean loss, accuracy) over a loader, in eval mode and without a graph."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with mdl.no_grad():
        for xb, yb in loader:
            logits = model(xb)
            total_loss += loss_fn(logits, yb).item() * len(yb)
            correct += int((logits.argmax(axis=1) == yb).numpy().sum())
            count += len(yb)
    return total_loss / count, correct / count


def main(argv=None):
    parser = Parser(description=__doc__.splitlines()[0])  # argparse, with one-line errors
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--device", type=device, default="cpu")  # cuda without a GPU: one line, exit 2
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out")
    parser.add_argument("--quick", action="store_true", help="two epochs, for smoke tests")
    args = parser.parse_args(argv)
    epochs = 2 if args.quick else args.epochs

    mdl.manual_seed(args.seed)
    X, y = load_digits()  # (1797, 1, 8, 8) float32 in [0, 1], labels int64
    X_train, X_val, X_test, y_train, y_val, y_test = train_val_test_split(X, y, val_size=0.2, test_size=0.2,
                                                                          seed=args.seed)
    train = DataLoader(TensorDataset(X_train, y_train), batch_size=args.batch_size, shuffle=True,
                       seed=args.seed, device=args.device)
    val = DataLoader(TensorDataset(X_val, y_val), batch_size=256, device=args.device)
    test = DataLoader(TensorDataset(X_test, y_test), batch_size=256, device=args.device)

    model = build_model().to(args.device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    history = {"loss": [], "val_loss": [], "val_accuracy": []}

    for epoch in range(epochs):
        model.train()
        running, seen = 0.0, 0
        bar = tqdm(train, desc=f"epoch {epoch + 1}/{epochs}", leave=False, disable=None)
        for xb, yb in bar:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)       # forward
            loss.backward()                      # backward: the chain rule, node by node
            optimizer.step()                     # w -= lr * v, v = momentum * v + grad
            running += loss.item() * len(yb)
            seen += len(yb)
            bar.set_postfix(loss=f"{running / seen:.4f}")
        val_loss, val_acc = evaluate(model, val, loss_fn)
        history["loss"].append(running / seen)
        history["val_loss"].append(val_loss)
        history["val_accuracy"].append(val_acc)
        print(f"epoch {epoch + 1:2d}  loss {running / seen:.4f}  val_loss {val_loss:.4f}  val_accuracy {val_acc:.4f}")

    test_loss, test_acc = evaluate(model, test, loss_fn)
    print(f"test_loss {test_loss:.4f}  test_accuracy {test_acc:.4f}")

    os.makedirs(args.out, exist_ok=True)
    mdl.save(model.state_dict(), os.path.join(args.out, "digits_cnn.npz"))
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    epochs_axis = np.arange(1, epochs + 1)
    ax_loss.plot(epochs_axis, history["loss"], label="train")
    ax_loss.plot(epochs_axis, history["val_loss"], label="validation")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("cross-entropy")
    ax_loss.legend()
    ax_acc.plot(epochs_axis, history["val_accuracy"], color="tab:green")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("validation accuracy")
    fig.tight_layout()
    plot_path = os.path.join(args.out, "digits_curves.png")
    fig.savefig(plot_path, dpi=110)
    print(f"wrote {plot_path} and {os.path.join(args.out, 'digits_cnn.npz')}")
    return test_acc


if __name__ == "__main__":
    main()
