"""`minidl train`: train a model on a data set, test it once, write the model, history, plots and a report."""

import os
import shlex
import sys
import time

import numpy as np

from minidl.cli.args import UsageError, float_in, integer, non_negative_int, positive_int


def add_parser(commands):
    from minidl.cli.train_text import TEXT_DATASETS, TEXT_MODELS
    from minidl.zoo import DATASETS, DEFAULTS, MODELS, OPTIMIZERS

    defaults = "; ".join(f"{name}: {d['model']}, {d['optimizer']} lr {d['lr']:g}, batch {d['batch_size']}, "
                         f"up to {d['epochs']} epochs" for name, d in DEFAULTS.items())
    train = commands.add_parser(
        "train", help="train a model on a data set; write the model, history, plots and a report",
        description="Train a model on a data set with early stopping, test it once, and write into --out: "
                    "model.npz, history.csv, curves.png, confusion_matrix.png (roc.png for binary tasks) "
                    "and report.md.",
        epilog=f"Defaults per data set (any flag overrides them): {defaults}. Data sets other than digits and "
               f"breast-cancer are read from $MINIDL_DATA (or the cache folder, downloading MNIST and "
               f"Fashion-MNIST).")
    train.add_argument("--dataset", choices=DATASETS + TEXT_DATASETS, default="digits",
                       help="data set (default: digits, bundled with scikit-learn, offline)")
    train.add_argument("--model", choices=MODELS + TEXT_MODELS["shakespeare"],
                       help="model (default per data set: see below; shakespeare: gpt or lstm)")
    train.add_argument("--steps", type=positive_int,
                       help="text data sets (names, shakespeare): optimizer steps (see minidl/cli/train_text.py)")
    train.add_argument("--epochs", type=positive_int, help="maximum number of epochs")
    train.add_argument("--batch-size", type=positive_int, help="samples per batch")
    train.add_argument("--optimizer", choices=OPTIMIZERS, help="optimizer")
    train.add_argument("--lr", type=float_in(0, None, low_open=True), help="learning rate")
    train.add_argument("--momentum", type=float_in(0, 1), help="SGD momentum (default 0.9 with sgd)")
    train.add_argument("--weight-decay", type=float_in(0, None), help="L2 weight decay of the optimizer")
    train.add_argument("--dropout", type=float_in(0, 1), help="dropout probability after hidden layers")
    train.add_argument("--patience", type=non_negative_int,
                       help="early stopping: epochs without a better val_loss before stopping")
    train.add_argument("--kfold", type=non_negative_int, default=0, metavar="K",
                       help="also estimate the validation score by K-fold cross-validation (K >= 2) on the "
                            "training and validation data before the final fit")
    train.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="cpu (NumPy) or cuda (CuPy)")
    train.add_argument("--seed", type=integer, default=0, help="random seed (initialisation, splits, shuffling)")
    train.add_argument("--limit", type=positive_int, metavar="N",
                       help="use at most N training samples (and N/4 for validation and test)")
    train.add_argument("--quick", action="store_true", help="a smoke run: 2 epochs on at most 500 samples")
    train.add_argument("--out", metavar="DIR",
                       help="folder for the report files (default: runs/DATASET-MODEL, e.g. runs/digits-lenet); "
                            "a folder that already holds a run is kept: the new run goes to DIR-2, DIR-3, ...")
    train.add_argument("--overwrite", action="store_true",
                       help="write into --out even if it holds an earlier run (its files are replaced)")


def resolve_settings(args):
    """The training settings: the data set's defaults (minidl.zoo.DEFAULTS), overridden by the flags."""
    from minidl.zoo import defaults_for

    settings = defaults_for(args.dataset)
    for key in ("model", "epochs", "batch_size", "optimizer", "lr", "momentum", "weight_decay", "dropout",
                "patience"):
        value = getattr(args, key)
        if value is not None:
            settings[key] = value
    base = defaults_for(args.dataset)
    if args.optimizer is not None and args.optimizer != base["optimizer"]:  # the defaults were for the other one
        if args.lr is None:
            settings["lr"] = {"sgd": 0.05, "adam": 1e-3}[args.optimizer]
        if args.optimizer == "sgd" and args.momentum is None:
            settings["momentum"] = 0.9
    if settings["optimizer"] != "sgd" and args.momentum is not None:
        raise UsageError(f"--momentum applies to --optimizer sgd only (the optimizer is {settings['optimizer']})")
    if args.quick and args.epochs is None:
        settings["epochs"] = 2
    if args.kfold == 1:
        raise UsageError("--kfold must be 0 (off) or at least 2 folds, got 1")
    return settings


def run(args, argv):
    """`minidl train`: see build_parser. Returns 0."""
    from minidl.cli import train_text

    if args.dataset in train_text.TEXT_DATASETS:  # language models train by steps: their own module
        return train_text.run(args, argv)
    import minidl as mdl
    from minidl.data import DataError
    from minidl.train import CSVLogger, EarlyStopping, Trainer, cross_validate
    from minidl.viz.plots import plot_confusion_matrix, plot_roc
    from minidl.saved_run import run_info, write_run_info
    from minidl.zoo import build_model, loss_for, make_optimizer, metrics_for, prepare_data

    settings = resolve_settings(args)
    mdl.get_backend("cpu").tuning.enable()  # a command may tune the process: keep freed memory, threads (CpuTuning)
    if args.device == "cuda" and not mdl.cuda.is_available():
        raise UsageError("--device cuda: no working GPU (install CuPy with pip install 'minidl[gpu]' on a machine "
                         "with a CUDA GPU; 'minidl info' says what was found)")
    limit = args.limit if args.limit is not None else (500 if args.quick else None)
    out = run_folder(args.out or os.path.join("runs", f"{args.dataset}-{settings['model']}"), args.overwrite)
    started = time.perf_counter()
    mdl.manual_seed(args.seed)
    try:
        data = prepare_data(args.dataset, seed=args.seed, limit=limit)
    except DataError as error:
        print(f"minidl train: error: {error}", file=sys.stderr)  # every line: where to get the files, too
        return 1
    try:
        model = build_model(settings["model"], data, dropout=settings["dropout"])
    except ValueError as error:
        raise UsageError(str(error)) from None
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--out {out}: cannot create the folder ({error.strerror})") from None
    sizes = data.sizes()
    print(f"minidl train: {settings['model']} on {args.dataset} ({sizes['train']} train, {sizes['val']} validation, "
          f"{sizes['test']} test samples), {settings['optimizer']} lr {settings['lr']:g}, up to "
          f"{settings['epochs']} epochs, device {args.device}; writing into {out}")
    summary = _capture(lambda: model.summary(data.input_shape))
    metrics = metrics_for(data)

    def make_trainer(model, callbacks=()):
        optimizer = make_optimizer(settings["optimizer"], model.parameters(), lr=settings["lr"],
                                   momentum=settings["momentum"], weight_decay=settings["weight_decay"])
        early = EarlyStopping(monitor="val_loss", patience=settings["patience"], restore_best_weights=True)
        return Trainer(model, loss_for(data), optimizer, metrics=metrics, device=args.device,
                       callbacks=[early, *callbacks])

    cv = None
    if args.kfold:
        X = np.concatenate([data.X_train, data.X_val])
        y = np.concatenate([data.y_train, data.y_val])
        print(f"{args.kfold}-fold cross-validation on the {len(y)} training and validation samples ...")
        try:
            cv = cross_validate(lambda: make_trainer(build_model(settings["model"], data, dropout=settings["dropout"])),
                                X, y, k=args.kfold, seed=args.seed, epochs=settings["epochs"],
                                batch_size=settings["batch_size"], metrics=metrics, device=args.device)
        except mdl.ArgumentError as error:  # too few samples for k folds (e.g. --limit): the arguments' fault
            raise UsageError(f"--kfold {args.kfold}: {error}") from None
        print(f"cross-validation: {cv.summary()}")

    mdl.manual_seed(args.seed)
    model = mdl.nn.fuse(build_model(settings["model"], data, dropout=settings["dropout"]))  # conv-ReLU-pool: 1 layer
    paths = {name: os.path.join(out, file) for name, file in
             (("model", "model.npz"), ("info", "model.json"), ("history", "history.csv"), ("curves", "curves.png"),
              ("confusion", "confusion_matrix.png"), ("roc", "roc.png"), ("report", "report.md"))}
    trainer = make_trainer(model, [CSVLogger(paths["history"])])
    history = trainer.fit((data.X_train, data.y_train), val=(data.X_val, data.y_val), epochs=settings["epochs"],
                          batch_size=settings["batch_size"], seed=args.seed)
    train_seconds = time.perf_counter() - started
    test = trainer.evaluate((data.X_test, data.y_test))
    outputs = trainer.predict(data.X_test)

    mdl.save(model.state_dict(), paths["model"])
    write_run_info(paths["info"], run_info(data, settings))
    _save_figure(history.plot(), paths["curves"])
    y_true = data.labels(data.y_test)
    if data.task == "binary":
        scores = 1.0 / (1.0 + np.exp(-outputs.astype(np.float64).reshape(-1)))
        y_pred = (scores > 0.5).astype(np.int64)
        plot_roc(y_true, scores, path=paths["roc"], label=settings["model"],
                 title=f"ROC curve: {settings['model']} on {args.dataset}, test set")
    else:
        y_pred = outputs.argmax(axis=1)
        paths.pop("roc")
    plot_confusion_matrix(y_true, y_pred, class_names=data.class_names, path=paths["confusion"],
                          title=f"{settings['model']} on {args.dataset}: test set")

    shown = "  ".join(f"test_{k} {v:.4f}" for k, v in test.items())
    print(shown)
    write_report(paths, args, argv, settings, data, summary, history, test, cv, train_seconds)
    print(f"wrote {', '.join(sorted(os.path.basename(p) for p in paths.values()))} in {out}")
    return 0


def run_folder(requested, overwrite=False):
    """The folder this run writes into: `requested`, unless it already holds files and `overwrite` is not
    set; then the first free `requested-2`, `requested-3`, ... (an earlier run is never overwritten)."""
    if os.path.exists(requested) and not os.path.isdir(requested):
        raise UsageError(f"--out {requested}: is a file, not a folder")
    if overwrite or not os.path.isdir(requested) or not os.listdir(requested):
        return requested
    n = 2
    while os.path.exists(f"{requested}-{n}"):
        n += 1
    return f"{requested}-{n}"


def _capture(fn):
    """The string `fn` returns, without what it prints (Module.summary prints its table)."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        return fn()


def _save_figure(fig, path):
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(paths, args, argv, settings, data, summary, history, test, cv, seconds):
    """report.md: the command, the split sizes, the model, the training, the test metrics, the pictures."""
    sizes = data.sizes()
    best = history.best_epoch
    lines = [
        f"# minidl train: {settings['model']} on {args.dataset}", "",
        "```", "minidl " + shlex.join(["train", *argv[1:]]) if argv else "minidl train", "```", "",
        "## Data", "",
        "| part | samples |", "| --- | ---: |",
        *(f"| {part} | {n:,} |" for part, n in sizes.items()), "",
        f"Task: {data.task}, {data.n_classes} classes; input shape {data.input_shape}"
        + ("; features standardised with the training part's mean and standard deviation" if data.scaler else "")
        + ".", "",
        "## Model", "", "```", summary.strip(), "```", "",
        "## Training", "",
        f"{settings['optimizer']} (lr {settings['lr']:g}"
        + (f", momentum {settings['momentum']:g}" if settings["optimizer"] == "sgd" else "")
        + (f", weight decay {settings['weight_decay']:g}" if settings["weight_decay"] else "")
        + f"), batch size {settings['batch_size']}, dropout {settings['dropout']:g}, "
          f"early stopping on val_loss with patience {settings['patience']} (best weights restored), "
          f"seed {args.seed}, device {args.device}.", "",
        f"{history.epochs} of at most {settings['epochs']} epochs"
        + (f"; best epoch {best + 1}" if best is not None else "")
        + (f" ({history.stop_reason})" if history.stop_reason else "")
        + f"; {seconds:.1f} s from start to the end of training.", "",
    ]
    if cv is not None:
        lines += [f"{cv.k}-fold cross-validation on training + validation data: "
                  + ", ".join(f"{name} {cv.mean[name]:.4f} ± {cv.std[name]:.4f}" for name in cv.scores) + ".", ""]
    lines += ["## Test", "", "| metric | value |", "| --- | ---: |",
              *(f"| {name} | {value:.4f} |" for name, value in test.items()), "",
              "## Files", "",
              "- `model.npz`: the state dict (`model.load_state_dict(mdl.load('model.npz'))`)",
              "- `model.json`: the model, input shape, class names and preprocessing "
              "(`minidl predict FOLDER picture.png`)",
              "- `history.csv`: one row per epoch", "",
              "![training curves](curves.png)", "",
              "![confusion matrix](confusion_matrix.png)", ""]
    if "roc" in paths:
        lines += ["![ROC curve](roc.png)", ""]
    with open(paths["report"], "w") as f:
        f.write("\n".join(lines))
