"""Seeing inside a network while it learns the bundled 8x8 digits (offline): the autograd graph, the
backward trace, training curves, learning rate, confusion matrix, ROC, conv kernels, and the Monitor's
activation and gradient statistics, with a deliberately broken network for contrast.

    python examples/inside_digits.py [--epochs 20] [--out out/inside] [--device cpu] [--quick]

Every picture is written under --out; the Monitor's reports are printed and saved as text.
"""

import os

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

import minidl as mdl  # noqa: E402
import minidl.nn as nn  # noqa: E402
import minidl.nn.functional as F  # noqa: E402
import minidl.optim as optim  # noqa: E402
from minidl.cli.args import Parser, device  # noqa: E402
from minidl.data import train_val_test_split  # noqa: E402
from minidl.data.datasets import load_digits  # noqa: E402
from minidl.optim.lr_scheduler import CosineAnnealingLR  # noqa: E402
from minidl.train import EarlyStopping, Trainer  # noqa: E402
from minidl.viz import (Monitor, draw_graph, plot_activation_histograms, plot_confusion_matrix,  # noqa: E402
                        plot_gradient_histograms, plot_gradient_norms, plot_kernels, plot_lr, plot_roc, trace)


def build_cnn():
    """(N, 1, 8, 8) -> conv 3x3 (16) -> ReLU -> pool -> conv 3x3 (32) -> ReLU -> pool -> 64 -> ReLU -> 10."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 64), nn.ReLU(), nn.Linear(64, 10))


def build_broken_mlp():
    """An MLP made sick on purpose: a third of its hidden ReLUs start with bias -50 (dead for any input
    in [0, 1]: no gradient ever reaches them), and the output layer's weights are scaled by 10000, so the
    gradients of the layers below explode."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 48), nn.ReLU(), nn.Linear(48, 10))
    model[1].bias.data[:16] = -50.0     # in place on the backend array: no graph, any device
    model[3].weight.data *= 1e4
    return model


def main(argv=None):
    parser = Parser(description=__doc__.splitlines()[0])  # argparse, with one-line errors
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--every", type=int, default=5, help="the Monitor records every N-th batch")
    parser.add_argument("--device", type=device, default="cpu")  # cuda without a GPU: one line, exit 2
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join("out", "inside"))
    parser.add_argument("--quick", action="store_true", help="two epochs on a subset, for smoke tests")
    args = parser.parse_args(argv)
    epochs = 2 if args.quick else args.epochs
    os.makedirs(args.out, exist_ok=True)
    out = lambda name: os.path.join(args.out, name)  # noqa: E731

    mdl.manual_seed(args.seed)
    X, y = load_digits()  # (1797, 1, 8, 8) float32 in [0, 1], labels 0..9
    if args.quick:
        X, y = X[:600], y[:600]
    X_train, X_val, X_test, y_train, y_val, y_test = train_val_test_split(X, y, val_size=0.2, test_size=0.2,
                                                                          seed=args.seed)

    # 1. One batch, before training: the graph autograd builds, and what backward does node by node.
    model = build_cnn()
    loss_fn = nn.CrossEntropyLoss()
    xb, yb = mdl.tensor(X_train[:8]), mdl.tensor(y_train[:8])
    draw_graph(loss_fn(model(xb), yb), out("graph.png"), model=model)
    records = trace(loss_fn(model(xb), yb), model=model, show=False)
    model.zero_grad()
    print(f"backward trace: {len(records)} nodes, from {records[0].op} ({records[0].output_shape}) "
          f"down to {records[-1].op}; graph drawn to {out('graph.png')}")

    # 2. Train with a Monitor watching activations and gradients, early stopping and a cosine schedule.
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    monitor = Monitor(every=args.every)
    trainer = Trainer(model, loss_fn, optimizer, metrics=("accuracy",), device=args.device,
                      callbacks=[monitor, EarlyStopping(patience=5, restore_best_weights=True)],
                      scheduler=CosineAnnealingLR(optimizer, T_max=epochs), progress=not args.quick)
    history = trainer.fit((X_train, y_train), val=(X_val, y_val), epochs=epochs, batch_size=args.batch_size,
                          seed=args.seed)
    print(history)
    report = monitor.report()
    with open(out("monitor_report.txt"), "w") as f:
        f.write(report + "\n")

    # 3. The pictures.
    history.plot(path=out("history.png"), title="digits CNN: training and validation")
    plot_lr(history, path=out("lr.png"))
    plot_kernels(model[0], path=out("kernels_conv1.png"))
    plot_kernels(model[3], path=out("kernels_conv2.png"))
    plot_activation_histograms(monitor, path=out("activations.png"))
    plot_gradient_histograms(monitor, path=out("gradients.png"))
    plot_gradient_norms(monitor, path=out("gradient_norms.png"))

    logits = trainer.predict(X_test)
    y_pred = logits.argmax(axis=1)
    plot_confusion_matrix(y_test, y_pred, class_names=[str(d) for d in range(10)], path=out("confusion.png"))
    probabilities = F.softmax(mdl.tensor(logits), axis=1).numpy()
    eight = 8  # the digit most often confused: "is it an 8?" as a binary problem
    plot_roc(y_test == eight, probabilities[:, eight], label=f"digit {eight} vs rest", path=out("roc.png"),
             title=f"ROC: is it a {eight}?")

    # 4. A network broken on purpose, for contrast: the Monitor names what is wrong.
    mdl.manual_seed(args.seed)
    broken = build_broken_mlp()
    sick = Monitor(every=1)
    Trainer(broken, nn.CrossEntropyLoss(), optim.SGD(broken.parameters(), lr=1e-4), device=args.device,
            callbacks=[sick], progress=False).fit((X_train, y_train), epochs=1, batch_size=args.batch_size,
                                                  seed=args.seed)
    print("\nthe broken network:")
    with open(out("monitor_report_broken.txt"), "w") as f:
        f.write(sick.report() + "\n")
    plot_gradient_norms(sick, path=out("gradient_norms_broken.png"), title="broken MLP: gradient norms")

    pictures = sorted(name for name in os.listdir(args.out) if name.endswith(".png"))
    print(f"\nwrote {len(pictures)} pictures to {args.out}: {', '.join(pictures)}")
    test = trainer.evaluate((X_test, y_test))
    print(f"test_loss {test['loss']:.4f}  test_accuracy {test['accuracy']:.4f}")
    return test["accuracy"]


if __name__ == "__main__":
    main()
