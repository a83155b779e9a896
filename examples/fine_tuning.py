"""Fine-tuning: reuse a network trained on one task for another, with a frozen first layer and
smaller learning rates for the early layers.

    python examples/fine_tuning.py [--target-samples 100] [--out out/] [--quick]

Source task: digits 0-4 (all their training images). Target task: digits 5-9 with only
`--target-samples` labelled images. The pretrained LeNet's convolutions learnt strokes and curves
that digits share, so on the target we:
  - keep every layer but the last, and put a new 5-class head on top;
  - freeze the first convolution (`requires_grad = False`: no gradient, no update);
  - give each remaining layer its own learning rate through optimizer param groups: small for the
    second convolution (adjust gently), larger for the dense layer, largest for the new head.
The same network trained from scratch on the same few images is the baseline.
"""

import argparse
import os

import numpy as np

import minidl as mdl
import minidl.nn as nn
import minidl.optim as optim
from minidl.data import train_val_test_split
from minidl.data.datasets import load_digits
from minidl.train import EarlyStopping, Trainer
from minidl.zoo import lenet


def split(X, y, digits, seed):
    keep = np.isin(y, digits)
    return train_val_test_split(X[keep], y[keep] - min(digits), val_size=0.2, test_size=0.3, seed=seed)


def fit(model, optimizer, train, val, epochs, seed):
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, progress=False,
                      callbacks=[EarlyStopping(patience=8, restore_best_weights=True)])
    trainer.fit(train, val=val, epochs=epochs, batch_size=16, seed=seed)
    return trainer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-samples", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out")
    parser.add_argument("--quick", action="store_true", help="3 epochs per stage (smoke test)")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    epochs = 3 if args.quick else args.epochs
    X, y = load_digits()

    # 1. Pretrain on digits 0-4.
    mdl.manual_seed(args.seed)
    Xs_train, Xs_val, Xs_test, ys_train, ys_val, ys_test = split(X, y, [0, 1, 2, 3, 4], args.seed)
    source = lenet((1, 8, 8), 5)  # conv(16) pool conv(32) pool | 128 -> 64 -> 5
    trainer = fit(source, optim.Adam(source.parameters(), lr=3e-3), (Xs_train, ys_train), (Xs_val, ys_val),
                  epochs, args.seed)
    print(f"source task (digits 0-4): test_accuracy {trainer.evaluate((Xs_test, ys_test))['accuracy']:.4f}")
    mdl.save(source.state_dict(), os.path.join(args.out, "pretrained_0-4.npz"))

    # 2. The target task: digits 5-9, only a few labelled training images.
    Xt_train, Xt_val, Xt_test, yt_train, yt_val, yt_test = split(X, y, [5, 6, 7, 8, 9], args.seed)
    small = (Xt_train[:args.target_samples], yt_train[:args.target_samples])
    print(f"target task (digits 5-9): {len(small[1])} training images, {len(yt_val)} validation, "
          f"{len(yt_test)} test")

    # 3. Fine-tune: same body with the pretrained weights, a new head, first layer frozen, rates per layer.
    mdl.manual_seed(args.seed + 1)
    model = lenet((1, 8, 8), 5)
    model.load_state_dict(source.state_dict())
    model.add_module("9", nn.Linear(64, 5))      # replaces the head: a fresh one for the new classes
    conv1, conv2, dense, head = model[0], model[3], model[7], model[9]
    for p in conv1.parameters():
        p.requires_grad = False                   # frozen: no gradient is computed, nothing changes
    frozen_before = conv1.weight.numpy().copy()
    optimizer = optim.Adam([
        {"params": conv2.parameters(), "lr": 1e-4},
        {"params": dense.parameters(), "lr": 5e-4},
        {"params": head.parameters(), "lr": 3e-3},
    ])
    tuned = fit(model, optimizer, small, (Xt_val, yt_val), epochs, args.seed)
    tuned_test = tuned.evaluate((Xt_test, yt_test))
    change = float(np.abs(conv1.weight.numpy() - frozen_before).max())
    print(f"fine-tuned (conv1 frozen, change {change:g}; lr 1e-4 / 5e-4 / 3e-3): "
          f"test_accuracy {tuned_test['accuracy']:.4f}")

    # 4. Baseline: the same network from scratch on the same few images.
    mdl.manual_seed(args.seed + 1)
    scratch = lenet((1, 8, 8), 5)
    baseline = fit(scratch, optim.Adam(scratch.parameters(), lr=3e-3), small, (Xt_val, yt_val), epochs, args.seed)
    scratch_test = baseline.evaluate((Xt_test, yt_test))
    print(f"from scratch: test_accuracy {scratch_test['accuracy']:.4f}")
    mdl.save(model.state_dict(), os.path.join(args.out, "fine_tuned_5-9.npz"))
    return tuned_test["accuracy"], scratch_test["accuracy"]


if __name__ == "__main__":
    main()
