"""LeNet on Fashion-MNIST with SGD and momentum: the PyTorch tutorial ("Training with PyTorch"), in minidl.

    MINIDL_DATA=/path/to/data python examples/fashion_mnist_lenet.py [--epochs 30] [--device cpu] [--out out/]

The tutorial's network (conv 5x5 -> pool -> conv 5x5 -> pool -> 120 -> 84 -> 10, ReLU) trained with
SGD(lr 0.04, momentum 0.9, weight decay 5e-4) on batches of 128 for 30 epochs, the rate annealed to 0
along a cosine (`--schedule step` halves it every `--step-size` epochs instead). Pixels are
standardised with the mean and standard deviation of the training images (`--no-standardize`: left
in [0, 1]); training batches are shifted at random by up to `--shift` pixels (0: off) and mirrored
left-right at random (`--no-flip`: off; clothes look the same mirrored). 10 % of the training images
are held out for validation: the weights of the epoch with the best validation accuracy are kept
(early stopping after `--patience` epochs without improvement), and the official 10,000 test images
are used once at the end. `--no-test` stops before them, for choosing settings on validation alone.
"""

import argparse
import os
import time

import minidl as mdl
from minidl.cli.args import Parser, device
from minidl.data import DataLoader, TensorDataset
from minidl.data.datasets import FASHION_MNIST_CLASSES
from minidl.data.transforms import Compose, Normalize, RandomHorizontalFlip, RandomShift
from minidl.optim.lr_scheduler import CosineAnnealingLR, StepLR
from minidl.train import CSVLogger, EarlyStopping, Trainer
from minidl.zoo import build_model, loss_for, make_optimizer, prepare_data


def main(argv=None):
    parser = Parser(description=__doc__.splitlines()[0])  # argparse, with one-line errors
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.04)
    parser.add_argument("--schedule", choices=("cosine", "step"), default="cosine",
                        help="cosine: anneal the rate to 0 over --epochs; step: halve it every --step-size epochs")
    parser.add_argument("--step-size", type=int, default=5, help="halve the learning rate every this many epochs")
    parser.add_argument("--patience", type=int, default=10, help="early stopping patience (epochs)")
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--flip", action=argparse.BooleanOptionalAction, default=True,
                        help="random left-right flips of training batches")
    parser.add_argument("--shift", type=int, default=1,
                        help="random shifts of training images by up to this many pixels (0: none)")
    parser.add_argument("--standardize", action=argparse.BooleanOptionalAction, default=True,
                        help="pixels to zero mean, unit variance (training images' statistics)")
    parser.add_argument("--monitor", choices=("val_loss", "val_accuracy"), default="val_accuracy",
                        help="what early stopping watches (and the epoch whose weights are kept)")
    parser.add_argument("--no-test", action="store_true",
                        help="for tuning: report the best validation accuracy and leave the test set untouched")
    parser.add_argument("--device", type=device, default="cpu")  # cuda without a GPU: one line, exit 2
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out")
    parser.add_argument("--quick", action="store_true", help="2,000 training images, one epoch (smoke test)")
    args = parser.parse_args(argv)
    epochs = 1 if args.quick else args.epochs
    os.makedirs(args.out, exist_ok=True)
    start = time.perf_counter()

    mdl.manual_seed(args.seed)
    data = prepare_data("fashion-mnist", seed=args.seed, limit=2000 if args.quick else None)
    augment = []
    if args.shift:
        augment.append(RandomShift(args.shift))
    if args.flip:
        augment.append(RandomHorizontalFlip(0.5))
    if args.standardize:  # statistics of the training part only; shifted-in borders stay background
        mean, std = float(data.X_train.mean()), float(data.X_train.std())
        print(f"standardising with the training images' mean {mean:.4f} and std {std:.4f}")
        augment.append(Normalize(mean, std))
        data.X_val, data.X_test = ((X - mean) / std for X in (data.X_val, data.X_test))
    print(f"Fashion-MNIST: {data.sizes()}")

    model = build_model("lenet", data)
    model.summary(data.input_shape)
    optimizer = make_optimizer("sgd", model.parameters(), lr=args.lr, momentum=0.9,
                               weight_decay=args.weight_decay)
    if args.schedule == "cosine":
        scheduler = CosineAnnealingLR(optimizer, T_max=epochs)
    else:
        scheduler = StepLR(optimizer, step_size=args.step_size, gamma=0.5)
    trainer = Trainer(model, loss_for(data), optimizer, device=args.device, scheduler=scheduler,
                      callbacks=[EarlyStopping(monitor=args.monitor, patience=args.patience,
                                               restore_best_weights=True),
                                 CSVLogger(os.path.join(args.out, "fashion_lenet_history.csv"))])
    train = DataLoader(TensorDataset(data.X_train, data.y_train), batch_size=args.batch_size, shuffle=True,
                       seed=args.seed, transform=Compose(augment) if augment else None, device=args.device)
    history = trainer.fit(train, val=(data.X_val, data.y_val), epochs=epochs)
    val = trainer.evaluate((data.X_val, data.y_val))
    print(f"val_loss {val['loss']:.4f}  val_accuracy {val['accuracy']:.4f}  "
          f"({history.epochs} epochs, {time.perf_counter() - start:.0f} s)")
    if args.no_test:
        return val["accuracy"]

    test = trainer.evaluate((data.X_test, data.y_test))
    fig = history.plot()
    fig.savefig(os.path.join(args.out, "fashion_lenet_curves.png"), dpi=100)
    mdl.save(model.state_dict(), os.path.join(args.out, "fashion_lenet.npz"))
    predictions = trainer.predict(data.X_test[:8]).argmax(axis=1)
    print("first test images:", ", ".join(FASHION_MNIST_CLASSES[p] for p in predictions))
    print(f"test_loss {test['loss']:.4f}  test_accuracy {test['accuracy']:.4f}  "
          f"({history.epochs} epochs, {time.perf_counter() - start:.0f} s)")
    return test["accuracy"]


if __name__ == "__main__":
    main()
