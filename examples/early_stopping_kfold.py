"""Choosing a learning rate the course's way: K-fold grid search with early stopping, refit, test once.

    python examples/early_stopping_kfold.py [--k 5] [--jobs 1] [--out out/] [--quick]

1. Hold out a test set (20 % of the bundled digits) and do not look at it until the end.
2. For each learning rate in the grid, train on k-1 folds of the rest and validate on the k-th, k times;
   every fold stops early when its validation loss has not improved for `patience` epochs and keeps
   its best weights. The candidate's score is the mean validation loss over the k folds.
3. Refit the best learning rate on all the non-test data, for the mean number of epochs its folds
   needed (there is no validation data left to stop on), and test it once.
`--jobs 2` runs the folds in two processes (joblib); results are identical.
"""

import argparse
import functools
import os

import minidl as mdl
from minidl.data import train_val_test_split
from minidl.data.datasets import load_digits
from minidl.train import EarlyStopping, Trainer, grid_search
from minidl.zoo import make_optimizer, mlp
import minidl.nn as nn


def build(lr, patience=5):
    """One candidate: a dense network on the 64 pixels, Adam with learning rate `lr`, early stopping."""
    model = mlp(64, 10, hidden=(128, 64))
    return Trainer(model, nn.CrossEntropyLoss(), make_optimizer("adam", model.parameters(), lr=lr),
                   callbacks=[EarlyStopping(patience=patience, restore_best_weights=True)], progress=False)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=60, help="most epochs per fold (early stopping ends sooner)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out")
    parser.add_argument("--quick", action="store_true", help="2 folds, 2 rates, 3 epochs (smoke test)")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    grid = {"lr": [1e-3, 1e-2]} if args.quick else {"lr": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2]}
    k, epochs = (2, 3) if args.quick else (args.k, args.epochs)

    mdl.manual_seed(args.seed)
    X, y = load_digits()
    X = X.reshape(len(X), -1)  # 64 pixels in [0, 1]
    X_rest, _, X_test, y_rest, _, y_test = train_val_test_split(X, y, val_size=0.0, test_size=0.2, seed=args.seed)
    print(f"{len(y_rest)} samples for the {k}-fold search, {len(y_test)} held out for the test")

    search = grid_search(functools.partial(build), grid, X_rest, y_rest, k=k, scoring="val_loss", seed=args.seed,
                         epochs=epochs, batch_size=32, n_jobs=args.jobs)
    print(f"\n{'lr':>8}  {'val_loss (mean ± std)':>22}  {'val_accuracy':>12}  {'epochs to best':>14}  rank")
    for row, cv in zip(search.results, search.cv_results):
        best_epochs = [h.best_epoch + 1 for h in cv.histories]
        print(f"{row['lr']:8.0e}  {row['mean_val_loss']:12.4f} ± {row['std_val_loss']:.4f}  "
              f"{row['mean_val_accuracy']:12.4f}  {sum(best_epochs) / len(best_epochs):14.1f}  {row['rank_val_loss']}")

    test = search.best_trainer.evaluate((X_test, y_test))
    print(f"\nbest lr {search.best_params['lr']:g} (mean val_loss {search.best_score:.4f}); refit on all "
          f"{len(y_rest)} samples for {search.refit_epochs} epochs")
    print(f"test_loss {test['loss']:.4f}  test_accuracy {test['accuracy']:.4f}")
    with open(os.path.join(args.out, "grid_search.csv"), "w") as f:
        keys = list(search.results[0])
        f.write(",".join(keys) + "\n")
        f.writelines(",".join(str(row[key]) for key in keys) + "\n" for row in search.results)
    mdl.save(search.best_model.state_dict(), os.path.join(args.out, "best_model.npz"))
    return search, test


if __name__ == "__main__":
    main()
