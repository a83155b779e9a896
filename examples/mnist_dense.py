"""A dense network on MNIST: 784 -> 256 -> 128 -> 10 with ReLU and dropout, Adam, early stopping.

    MINIDL_DATA=/path/to/data python examples/mnist_dense.py [--epochs 15] [--device cpu] [--out out/] [--quick]

The same run as `minidl train --dataset mnist` (whose defaults these are), written out with the
Trainer so each step shows: data, model, loss, optimizer, callbacks, fit, test once.
"""

import os
import time

import minidl as mdl
from minidl.cli.args import Parser, device
from minidl.train import CSVLogger, EarlyStopping, Trainer
from minidl.zoo import build_model, loss_for, make_optimizer, prepare_data


def main(argv=None):
    parser = Parser(description=__doc__.splitlines()[0])  # argparse, with one-line errors
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--device", type=device, default="cpu")  # cuda without a GPU: one line, exit 2
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out")
    parser.add_argument("--quick", action="store_true", help="2,000 training images, one epoch (smoke test)")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    start = time.perf_counter()

    mdl.manual_seed(args.seed)
    data = prepare_data("mnist", seed=args.seed, limit=2000 if args.quick else None)   # 54,000 / 6,000 / 10,000
    model = build_model("mlp", data, dropout=args.dropout)                              # Flatten, 784-256-128-10
    model.summary(data.input_shape)
    trainer = Trainer(model, loss_for(data), make_optimizer("adam", model.parameters(), lr=args.lr),
                      device=args.device,
                      callbacks=[EarlyStopping(patience=4, restore_best_weights=True),
                                 CSVLogger(os.path.join(args.out, "mnist_dense_history.csv"))])
    history = trainer.fit((data.X_train, data.y_train), val=(data.X_val, data.y_val),
                          epochs=1 if args.quick else args.epochs, batch_size=args.batch_size, seed=args.seed)

    test = trainer.evaluate((data.X_test, data.y_test))
    fig = history.plot()
    fig.savefig(os.path.join(args.out, "mnist_dense_curves.png"), dpi=100)
    mdl.save(model.state_dict(), os.path.join(args.out, "mnist_dense.npz"))
    print(f"test_loss {test['loss']:.4f}  test_accuracy {test['accuracy']:.4f}  "
          f"({history.epochs} epochs, best {history.best_epoch + 1}, {time.perf_counter() - start:.0f} s)")
    return test["accuracy"]


if __name__ == "__main__":
    main()
