"""LeNet on Fashion-MNIST with SGD and momentum: the PyTorch tutorial ("Training with PyTorch"), in minidl.

    MINIDL_DATA=/path/to/data python examples/fashion_mnist_lenet.py [--epochs 15] [--device cpu] [--out out/]

The tutorial's network (conv 5x5 -> pool -> conv 5x5 -> pool -> 120 -> 84 -> 10) trained with
SGD(lr, momentum=0.9, weight_decay) and a step learning-rate schedule (halved every `--step-size`
epochs). `--flip` also mirrors training batches at random (clothes look the same mirrored);
`--standardize` scales pixels to zero mean and unit variance. 10 % of the training images are held out for validation and early stopping; the official 10,000 test
images are used once at the end.
"""

import argparse
import os
import time

import minidl as mdl
from minidl.data import DataLoader, TensorDataset
from minidl.data.datasets import FASHION_MNIST_CLASSES
from minidl.data.transforms import RandomHorizontalFlip
from minidl.optim.lr_scheduler import StepLR
from minidl.train import CSVLogger, EarlyStopping, Trainer
from minidl.zoo import EpochPrinter, build_model, loss_for, make_optimizer, prepare_data


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--step-size", type=int, default=5, help="halve the learning rate every this many epochs")
    parser.add_argument("--patience", type=int, default=5, help="early stopping patience (epochs)")
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--flip", action="store_true", help="random left-right flips of training batches")
    parser.add_argument("--standardize", action="store_true", help="pixels to zero mean, unit variance")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out")
    parser.add_argument("--quick", action="store_true", help="2,000 training images, one epoch (smoke test)")
    args = parser.parse_args(argv)
    epochs = 1 if args.quick else args.epochs
    os.makedirs(args.out, exist_ok=True)
    start = time.perf_counter()

    mdl.manual_seed(args.seed)
    data = prepare_data("fashion-mnist", seed=args.seed, limit=2000 if args.quick else None)
    if args.standardize:
        mean, std = data.X_train.mean(), data.X_train.std()
        data.X_train, data.X_val, data.X_test = ((X - mean) / std for X in (data.X_train, data.X_val, data.X_test))
    print(f"Fashion-MNIST: {data.sizes()}")

    model = build_model("lenet", data)
    model.summary(data.input_shape)
    optimizer = make_optimizer("sgd", model.parameters(), lr=args.lr, momentum=0.9,
                               weight_decay=args.weight_decay)
    trainer = Trainer(model, loss_for(data), optimizer, device=args.device,
                      scheduler=StepLR(optimizer, step_size=args.step_size, gamma=0.5),
                      callbacks=[EarlyStopping(patience=args.patience, restore_best_weights=True),
                                 CSVLogger(os.path.join(args.out, "fashion_lenet_history.csv")), EpochPrinter()])
    train = DataLoader(TensorDataset(data.X_train, data.y_train), batch_size=args.batch_size, shuffle=True,
                       seed=args.seed, transform=RandomHorizontalFlip(0.5) if args.flip else None, device=args.device)
    history = trainer.fit(train, val=(data.X_val, data.y_val), epochs=epochs)

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
