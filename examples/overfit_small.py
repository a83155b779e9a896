"""Sanity check first: a network must be able to overfit a tiny data set.

    python examples/overfit_small.py [--samples 50] [--out out/] [--quick]

Before a long run, train on a handful of samples with no regularisation and watch the training loss go
to (nearly) zero and the training accuracy to 100 %. If it cannot, something is broken before any
question of generalisation arises: a wrong loss or label format, a learning rate far off, a layer
that blocks gradients, data and labels shuffled apart. The held-out accuracy stays low: memorising
50 images is not learning digits, which is the point of the check.
"""

import argparse
import os

import numpy as np

import minidl as mdl
from minidl.train import Trainer
from minidl.zoo import build_model, loss_for, make_optimizer, prepare_data


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out")
    parser.add_argument("--quick", action="store_true", help="fewer epochs (smoke test)")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    mdl.manual_seed(args.seed)
    data = prepare_data("digits", seed=args.seed)
    X_small, y_small = data.X_train[:args.samples], data.y_train[:args.samples]
    model = build_model("lenet", data)
    trainer = Trainer(model, loss_for(data), make_optimizer("adam", model.parameters(), lr=3e-3), progress=False)
    history = trainer.fit((X_small, y_small), epochs=20 if args.quick else args.epochs, batch_size=10,
                          seed=args.seed)

    final_loss, final_acc = history["loss"][-1], history["accuracy"][-1]
    for epoch in sorted({0, 4, 9, 19, 39, history.epochs - 1} & set(range(history.epochs))):
        print(f"epoch {epoch + 1:4d}  train loss {history['loss'][epoch]:.5f}  train accuracy "
              f"{history['accuracy'][epoch]:.3f}")
    train_eval = trainer.evaluate((X_small, y_small))
    test = trainer.evaluate((data.X_test, data.y_test))
    passed = train_eval["accuracy"] == 1.0 and train_eval["loss"] < 0.05
    print(f"overfit check on {args.samples} samples: train loss {train_eval['loss']:.5f}, train accuracy "
          f"{train_eval['accuracy']:.3f} -> {'PASS: the model can fit data' if passed else 'not yet'}")
    print(f"test_accuracy {test['accuracy']:.4f} on {len(data.y_test)} unseen digits (memorised, not learnt)")
    fig = history.plot(["loss"])
    fig.axes[0].set_yscale("log")
    fig.savefig(os.path.join(args.out, "overfit_small_loss.png"), dpi=100)
    np.savetxt(os.path.join(args.out, "overfit_small_loss.txt"), history["loss"])
    return final_loss, final_acc


if __name__ == "__main__":
    main()
