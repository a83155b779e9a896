"""Binary classification with binary cross-entropy: logistic regression and a dense network, on the
credit-card default data and on breast cancer.

    MINIDL_DATA=/path/to/data python examples/binary_classification.py [--out out/] [--quick]

Both models end in one logit per sample and are trained with BCEWithLogitsLoss (sigmoid and binary
cross-entropy fused, finite for any logit). Features are standardised with the training part's
statistics; 60/20/20 stratified splits; early stopping on the validation loss. The credit data is
imbalanced (22 % defaults): accuracy alone flatters a model that always says "no default", so the
ROC AUC and F1 are printed beside it. Without the credit CSV (see README: Datasets) it is skipped.
"""

import argparse
import os

import minidl as mdl
from minidl.data import DataError
from minidl.train import EarlyStopping, Trainer
from minidl.zoo import build_model, loss_for, make_optimizer, metrics_for, prepare_data

SETTINGS = {  # data set -> (max epochs, batch size, learning rate)
    "breast-cancer": (200, 32, 1e-2),
    "credit-default": (30, 256, 1e-3),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out")
    parser.add_argument("--quick", action="store_true", help="small subsets, few epochs (smoke test)")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    rows = []
    for name, (epochs, batch_size, lr) in SETTINGS.items():
        try:
            data = prepare_data(name, seed=args.seed, limit=400 if args.quick else None)
        except DataError as error:
            print(f"{name}: skipped ({str(error).splitlines()[0]})")
            continue
        print(f"\n{name}: {data.sizes()}, {data.y_train.mean():.1%} positive in training")
        for model_name in ("logreg", "mlp"):
            mdl.manual_seed(args.seed)
            model = build_model(model_name, data, dropout=0.2 if model_name == "mlp" else 0.0)
            trainer = Trainer(model, loss_for(data), make_optimizer("adam", model.parameters(), lr=lr),
                              metrics=metrics_for(data), progress=False,
                              callbacks=[EarlyStopping(patience=10 if name == "breast-cancer" else 4,
                                                       restore_best_weights=True)])
            history = trainer.fit((data.X_train, data.y_train), val=(data.X_val, data.y_val),
                                  epochs=3 if args.quick else epochs, batch_size=batch_size, seed=args.seed)
            test = trainer.evaluate((data.X_test, data.y_test))
            mdl.save(model.state_dict(), os.path.join(args.out, f"{name}_{model_name}.npz"))
            print(f"  {model_name:6s} {history.epochs:3d} epochs  test_accuracy {test['accuracy']:.4f}  "
                  f"test_roc_auc {test['roc_auc']:.4f}  test_f1 {test['f1']:.4f}")
            rows.append((name, model_name, test))

    with open(os.path.join(args.out, "binary_results.md"), "w") as f:
        f.write("| data | model | test accuracy | test ROC AUC | test F1 |\n| --- | --- | ---: | ---: | ---: |\n")
        for name, model_name, test in rows:
            f.write(f"| {name} | {model_name} | {test['accuracy']:.4f} | {test['roc_auc']:.4f} | {test['f1']:.4f} |\n")
    print(f"\nwrote {os.path.join(args.out, 'binary_results.md')} (test metrics of every model)")
    return rows


if __name__ == "__main__":
    main()
