"""The `minidl` command.

    minidl train [--dataset digits] [--model lenet] [--epochs N] ... --out DIR   train, test, write a report
    minidl bench [...]                                                          CPU/GPU (and PyTorch) timings
    minidl gradcheck                                                            every op against finite differences
    minidl info                                                                 version, backends, GPU, BLAS

`minidl <command> --help` lists each command's options. A bad argument prints one line and exits with
status 2; a failed gradient check exits with 1.
"""

import argparse
import importlib.metadata
import importlib.util
import math
import os
import platform
import shlex
import shutil
import sys
import time

import numpy as np

USAGE_ERROR = 2


class UsageError(Exception):
    """A bad argument or combination of arguments (exit status 2)."""


class Parser(argparse.ArgumentParser):
    """argparse, but a bad argument gives one line (what is wrong, where to look) and exit status 2."""

    def error(self, message):
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# ------------------------------------------------------------------------------------------------------------------
# Argument parsing
# ------------------------------------------------------------------------------------------------------------------
def _positive_int(text):
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return value


def _non_negative_int(text):
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}")
    return value


def _int(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def _float_in(low, high, low_open=False, high_open=True):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
        too_low = value <= low if low_open else value < low
        too_high = high is not None and (value >= high if high_open else value > high)
        if not math.isfinite(value) or too_low or too_high:
            lo = f"{'>' if low_open else '>='} {low:g}"
            hi = "" if high is None else f" and {'<' if high_open else '<='} {high:g}"
            raise argparse.ArgumentTypeError(f"must be a number {lo}{hi}, got {text!r}")
        return value

    return parse


def build_parser():
    from minidl import __version__
    from minidl.zoo import DATASETS, DEFAULTS, MODELS, OPTIMIZERS

    parser = Parser(prog="minidl", description="minidl: a small deep-learning engine on NumPy and CuPy. "
                                               "Train a model, benchmark backends, check gradients.",
                    epilog="Run 'minidl COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"minidl {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

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
    train.add_argument("--dataset", choices=DATASETS, default="digits",
                       help="data set (default: digits, bundled with scikit-learn, offline)")
    train.add_argument("--model", choices=MODELS, help="model (default per data set: see below)")
    train.add_argument("--epochs", type=_positive_int, help="maximum number of epochs")
    train.add_argument("--batch-size", type=_positive_int, help="samples per batch")
    train.add_argument("--optimizer", choices=OPTIMIZERS, help="optimizer")
    train.add_argument("--lr", type=_float_in(0, None, low_open=True), help="learning rate")
    train.add_argument("--momentum", type=_float_in(0, 1), help="SGD momentum (default 0.9 with sgd)")
    train.add_argument("--weight-decay", type=_float_in(0, None), help="L2 weight decay of the optimizer")
    train.add_argument("--dropout", type=_float_in(0, 1), help="dropout probability after hidden layers")
    train.add_argument("--patience", type=_non_negative_int,
                       help="early stopping: epochs without a better val_loss before stopping")
    train.add_argument("--kfold", type=_non_negative_int, default=0, metavar="K",
                       help="also estimate the validation score by K-fold cross-validation (K >= 2) on the "
                            "training and validation data before the final fit")
    train.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="cpu (NumPy) or cuda (CuPy)")
    train.add_argument("--seed", type=_int, default=0, help="random seed (initialisation, splits, shuffling)")
    train.add_argument("--limit", type=_positive_int, metavar="N",
                       help="use at most N training samples (and N/4 for validation and test)")
    train.add_argument("--quick", action="store_true", help="a smoke run: 2 epochs on at most 500 samples")
    train.add_argument("--out", metavar="DIR",
                       help="folder for the report files (default: runs/DATASET-MODEL, e.g. runs/digits-lenet)")

    bench = commands.add_parser("bench", add_help=False, help="benchmark minidl (and PyTorch) on CPU and GPU",
                                description="Run 'minidl bench --help' for its options.")
    bench.add_argument("args", nargs=argparse.REMAINDER)

    parity = commands.add_parser(
        "parity", help="run a model on two devices from the same weights; name the first op that differs",
        description="Run LeNet-5 or the MLP (random weights, a random batch of 28x28 images) forward and "
                    "backward on two devices and report the first op whose outputs differ beyond the "
                    "tolerance, and any parameter gradient that differs. Exit status 1 on a mismatch.")
    parity.add_argument("--model", choices=("lenet", "mlp"), default="lenet", help="model (default lenet)")
    parity.add_argument("--devices", default="cpu,cuda", help="two devices, comma-separated (default cpu,cuda; "
                                                               "cpu,strict checks the stand-in device)")
    parity.add_argument("--batch-size", type=_positive_int, default=16, help="batch size (default 16)")
    parity.add_argument("--rtol", type=_float_in(0, None), default=1e-4, help="relative tolerance (1e-4)")
    parity.add_argument("--atol", type=_float_in(0, None), default=1e-5, help="absolute tolerance (1e-5)")
    parity.add_argument("--seed", type=_int, default=0, help="random seed (weights and data)")

    commands.add_parser("gradcheck", help="check every op's backward against finite differences (float64)",
                        description="Run the numerical gradient check of every differentiable op on small "
                                    "float64 inputs and print a table; exit status 1 if any fails.")
    commands.add_parser("info", help="version, backends, whether a GPU works, BLAS in use",
                        description="Print minidl's version, NumPy and its BLAS, CuPy and whether a GPU "
                                    "works, PyTorch if installed, and the data folder.")
    return parser


def main(argv=None):
    """Entry point of the `minidl` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "bench":  # its own parser lives in minidl.benchmark
        return bench(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error("a command is required: train, bench, parity, gradcheck or info")
    sub = f"minidl {args.command}"
    try:
        if args.command == "train":
            return train(args, argv)
        if args.command == "parity":
            return parity(args)
        if args.command == "gradcheck":
            return gradcheck()
        if args.command == "info":
            return info()
    except UsageError as error:
        print(f"{sub}: error: {error} (see '{sub} --help')", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print(f"{sub}: interrupted", file=sys.stderr)
        return 130
    raise AssertionError(args.command)


# ------------------------------------------------------------------------------------------------------------------
# minidl parity
# ------------------------------------------------------------------------------------------------------------------
def parity(args):
    """`minidl parity`: the same model and batch on two devices, compared op by op."""
    import numpy as np

    import minidl as mdl
    import minidl.nn as nn
    from minidl.parity import check_parity
    from minidl.zoo import lenet, mlp

    devices = tuple(d.strip() for d in args.devices.split(","))
    if len(devices) != 2:
        raise UsageError(f"--devices needs two devices such as cpu,cuda, got {args.devices!r}")
    if "cuda" in devices and not mdl.cuda.is_available():
        raise UsageError("--devices includes cuda, but no working GPU was found (CuPy: pip install 'minidl[gpu]'); "
                         "try --devices cpu,strict to exercise the check on the CPU stand-in device")
    mdl.manual_seed(args.seed)
    model = lenet((1, 28, 28), 10) if args.model == "lenet" else mlp(784, 10)
    rng = np.random.default_rng(args.seed)
    x = rng.random((args.batch_size, 1, 28, 28), dtype=np.float32)
    if args.model == "mlp":
        x = x.reshape(args.batch_size, 784)
    report = check_parity(model, x, devices=devices, rtol=args.rtol, atol=args.atol,
                          loss_fn=nn.CrossEntropyLoss(), target=rng.integers(0, 10, args.batch_size))
    print(report)
    return 0 if report.ok else 1


# ------------------------------------------------------------------------------------------------------------------
# minidl train
# ------------------------------------------------------------------------------------------------------------------
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


def train(args, argv):
    """`minidl train`: see build_parser. Returns 0."""
    import minidl as mdl
    from minidl.data import DataError
    from minidl.train import CSVLogger, EarlyStopping, Trainer, cross_validate
    from minidl.viz.plots import plot_confusion_matrix, plot_roc
    from minidl.zoo import EpochPrinter, build_model, loss_for, make_optimizer, metrics_for, prepare_data

    settings = resolve_settings(args)
    if args.device == "cuda" and not mdl.cuda.is_available():
        raise UsageError("--device cuda: no working GPU (install CuPy with pip install 'minidl[gpu]' on a machine "
                         "with a CUDA GPU; 'minidl info' says what was found)")
    limit = args.limit if args.limit is not None else (500 if args.quick else None)
    out = args.out or os.path.join("runs", f"{args.dataset}-{settings['model']}")
    started = time.perf_counter()
    mdl.manual_seed(args.seed)
    try:
        data = prepare_data(args.dataset, seed=args.seed, limit=limit)
    except DataError as error:
        print(f"minidl train: error: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1
    try:
        model = build_model(settings["model"], data, dropout=settings["dropout"])
    except ValueError as error:
        raise UsageError(str(error)) from None
    os.makedirs(out, exist_ok=True)
    sizes = data.sizes()
    print(f"minidl train: {settings['model']} on {args.dataset} ({sizes['train']} train, {sizes['val']} validation, "
          f"{sizes['test']} test samples), {settings['optimizer']} lr {settings['lr']:g}, up to "
          f"{settings['epochs']} epochs, device {args.device}")
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
        cv = cross_validate(lambda: make_trainer(build_model(settings["model"], data, dropout=settings["dropout"])),
                            X, y, k=args.kfold, seed=args.seed, epochs=settings["epochs"],
                            batch_size=settings["batch_size"], metrics=metrics, device=args.device)
        print(f"cross-validation: {cv.summary()}")

    mdl.manual_seed(args.seed)
    model = build_model(settings["model"], data, dropout=settings["dropout"])
    paths = {name: os.path.join(out, file) for name, file in
             (("model", "model.npz"), ("history", "history.csv"), ("curves", "curves.png"),
              ("confusion", "confusion_matrix.png"), ("roc", "roc.png"), ("report", "report.md"))}
    trainer = make_trainer(model, [CSVLogger(paths["history"]), EpochPrinter()])
    history = trainer.fit((data.X_train, data.y_train), val=(data.X_val, data.y_val), epochs=settings["epochs"],
                          batch_size=settings["batch_size"], seed=args.seed)
    train_seconds = time.perf_counter() - started
    test = trainer.evaluate((data.X_test, data.y_test))
    outputs = trainer.predict(data.X_test)

    mdl.save(model.state_dict(), paths["model"])
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
              "- `history.csv`: one row per epoch", "",
              "![training curves](curves.png)", "",
              "![confusion matrix](confusion_matrix.png)", ""]
    if "roc" in paths:
        lines += ["![ROC curve](roc.png)", ""]
    with open(paths["report"], "w") as f:
        f.write("\n".join(lines))


# ------------------------------------------------------------------------------------------------------------------
# minidl bench
# ------------------------------------------------------------------------------------------------------------------
def bench(argv):
    """`minidl bench`: the benchmark harness in minidl.benchmark (its own --help)."""
    try:
        from minidl import benchmark
    except ImportError as error:
        print(f"minidl bench: error: the benchmark harness is not available ({error})", file=sys.stderr)
        return USAGE_ERROR
    status = benchmark.main(argv)
    return 0 if status is None else int(status)


# ------------------------------------------------------------------------------------------------------------------
# minidl gradcheck
# ------------------------------------------------------------------------------------------------------------------
def gradcheck_cases():
    """(name, input shapes, fn, inputs) for every differentiable op, on small float64 inputs."""
    import minidl as mdl
    import minidl.nn.functional as F

    rng = np.random.default_rng(0)

    def t(*shape, low=None, high=None, grad=True):
        a = rng.uniform(low, high, shape) if low is not None else rng.standard_normal(shape)
        return mdl.tensor(a.astype(np.float64), requires_grad=grad)

    def away(*shape):  # |x| in [0.5, 1.5]: no kinks (abs, relu, max) within a finite-difference step
        a = rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
        return mdl.tensor(a, requires_grad=True)

    def distinct(*shape):  # well-separated values: no ties for max/min/pooling
        a = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 + rng.uniform(0, 0.01, shape)
        return mdl.tensor(a.astype(np.float64), requires_grad=True)

    labels = mdl.tensor(np.array([0, 2, 1, 2]))
    binary = mdl.tensor(np.array([0.0, 1.0, 1.0, 0.0]))
    rm, rv = mdl.zeros(3, dtype=mdl.float64), mdl.ones(3, dtype=mdl.float64)
    return [
        ("add", lambda a, b: a + b, (t(3, 4), t(4))),
        ("sub", lambda a, b: a - b, (t(3, 4), t(3, 1))),
        ("mul", lambda a, b: a * b, (t(3, 4), t(4))),
        ("div", lambda a, b: a / b, (t(3, 4), t(3, 4, low=0.5, high=2.0))),
        ("pow", lambda a: a ** 3, (t(3, 4),)),
        ("neg", lambda a: -a, (t(3, 4),)),
        ("matmul", lambda a, b: a @ b, (t(3, 4), t(4, 5))),
        ("matmul (batched)", lambda a, b: a @ b, (t(2, 3, 4), t(4, 2))),
        ("exp", mdl.exp, (t(3, 4),)),
        ("log", mdl.log, (t(3, 4, low=0.5, high=2.0),)),
        ("sqrt", mdl.sqrt, (t(3, 4, low=0.5, high=2.0),)),
        ("abs", mdl.abs, (away(3, 4),)),
        ("clip", lambda a: mdl.clip(a, -0.2, 0.2), (away(3, 4),)),
        ("maximum", mdl.maximum, (distinct(3, 4), t(3, 4))),
        ("minimum", mdl.minimum, (distinct(3, 4), t(3, 4))),
        ("where", lambda a, b: mdl.where(a > 0, a, b), (away(3, 4), t(3, 4))),
        ("relu", mdl.relu, (away(3, 4),)),
        ("leaky_relu", lambda a: mdl.leaky_relu(a, 0.1), (away(3, 4),)),
        ("sigmoid", mdl.sigmoid, (t(3, 4),)),
        ("tanh", mdl.tanh, (t(3, 4),)),
        ("softmax", lambda a: mdl.softmax(a, axis=-1), (t(3, 4),)),
        ("log_softmax", lambda a: mdl.log_softmax(a, axis=-1), (t(3, 4),)),
        ("logsumexp", lambda a: mdl.logsumexp(a, axis=1), (t(3, 4),)),
        ("sum", lambda a: mdl.sum(a, axis=(0, 2)), (t(2, 3, 4),)),
        ("mean", lambda a: mdl.mean(a, axis=1, keepdims=True), (t(2, 3, 4),)),
        ("max", lambda a: mdl.max(a, axis=1), (distinct(3, 4),)),
        ("min", lambda a: mdl.min(a, axis=0), (distinct(3, 4),)),
        ("var", lambda a: mdl.var(a, axis=1, ddof=1), (t(3, 4),)),
        ("reshape", lambda a: mdl.reshape(a, (4, 3)), (t(3, 4),)),
        ("transpose", lambda a: mdl.transpose(a, (2, 0, 1)), (t(2, 3, 4),)),
        ("getitem", lambda a: a[1:, [0, 2, 2]], (t(3, 4),)),
        ("concatenate", lambda a, b: mdl.concatenate([a, b], axis=1), (t(3, 2), t(3, 4))),
        ("stack", lambda a, b: mdl.stack([a, b], axis=0), (t(3, 4), t(3, 4))),
        ("pad", lambda a: mdl.pad(a, ((0, 0), (1, 2))), (t(3, 4),)),
        ("expand_dims", lambda a: mdl.expand_dims(a, 1), (t(3, 4),)),
        ("squeeze", lambda a: mdl.squeeze(a, 1), (t(3, 1, 4),)),
        ("linear", F.linear, (t(5, 4), t(3, 4), t(3))),
        ("conv2d", lambda x, w, b: F.conv2d(x, w, b, padding=1), (t(2, 3, 5, 5), t(4, 3, 3, 3), t(4))),
        ("conv2d (stride 2)", lambda x, w: F.conv2d(x, w, stride=2), (t(2, 2, 6, 6), t(3, 2, 2, 2))),
        ("max_pool2d", lambda x: F.max_pool2d(x, 2), (distinct(2, 2, 4, 4),)),
        ("avg_pool2d", lambda x: F.avg_pool2d(x, 2, padding=1), (t(2, 2, 4, 4),)),
        ("batch_norm (train)", lambda x, w, b: F.batch_norm(x, rm.astype(mdl.float64), rv.astype(mdl.float64), w, b,
                                                             training=True), (t(6, 3), t(3), t(3))),
        ("batch_norm 2d (train)", lambda x: F.batch_norm(x, mdl.zeros(2, dtype=mdl.float64),
                                                         mdl.ones(2, dtype=mdl.float64), training=True),
         (t(3, 2, 3, 3),)),
        ("batch_norm (eval)", lambda x, w: F.batch_norm(x, rm, rv, w, training=False), (t(4, 3), t(3))),
        ("cross_entropy", lambda x: F.cross_entropy(x, labels), (t(4, 3),)),
        ("cross_entropy (smoothing)", lambda x: F.cross_entropy(x, labels, label_smoothing=0.1), (t(4, 3),)),
        ("nll_loss", lambda x: F.nll_loss(F.log_softmax(x, axis=-1), labels), (t(4, 3),)),
        ("binary_cross_entropy", lambda p: F.binary_cross_entropy(p, binary), (t(4, low=0.1, high=0.9),)),
        ("bce_with_logits", lambda x: F.binary_cross_entropy_with_logits(x, binary), (t(4),)),
        ("mse_loss", F.mse_loss, (t(3, 4), t(3, 4))),
        ("l1_loss", lambda a, b: F.l1_loss(a, b + 3.0), (t(3, 4), t(3, 4))),
        ("huber_loss", lambda a: F.huber_loss(a, mdl.zeros(3, 4, dtype=mdl.float64) + 0.05), (away(3, 4),)),
    ]


def _max_abs_error(fn, inputs, eps=1e-6):
    """max |analytic - numeric| over every input's gradient of sum(w * fn(inputs)), w fixed random."""
    import minidl as mdl

    xs = [x.detach() for x in inputs]
    for x, original in zip(xs, inputs):
        x.requires_grad = original.requires_grad
    out = fn(*xs)
    weights = np.random.default_rng(1).standard_normal(out.shape)
    (out * mdl.tensor(weights)).sum().backward()
    worst = 0.0
    for x in xs:
        if not x.requires_grad:
            continue
        analytic = np.zeros(x.shape) if x.grad is None else x.grad.numpy()
        data = x.data
        numeric = np.zeros(x.shape)
        with mdl.no_grad():
            for i in np.ndindex(*x.shape):
                saved = data[i]
                data[i] = saved + eps
                up = float((fn(*xs).numpy() * weights).sum())
                data[i] = saved - eps
                down = float((fn(*xs).numpy() * weights).sum())
                data[i] = saved
                numeric[i] = (up - down) / (2 * eps)
        worst = max(worst, float(np.max(np.abs(analytic - numeric))) if analytic.size else 0.0)
    return worst


def gradcheck():
    """`minidl gradcheck`: a table of ops, their input shapes, the largest gradient error, pass or FAIL."""
    import minidl as mdl

    rows, failures = [], []
    started = time.perf_counter()
    for name, fn, inputs in gradcheck_cases():
        shapes = " ".join("x".join(map(str, x.shape)) or "()" for x in inputs)
        try:
            mdl.gradcheck(fn, inputs)
            ok, note = True, ""
        except Exception as error:  # GradcheckError, or the op raised
            ok, note = False, str(error).splitlines()[0]
        try:
            error_value = f"{_max_abs_error(fn, inputs):.1e}"
        except Exception as error:
            error_value, note = "-", note or f"{type(error).__name__}: {error}"
        rows.append((name, shapes, error_value, "pass" if ok else "FAIL"))
        if not ok:
            failures.append(f"{name}: {note}")
    widths = [max(len(r[i]) for r in rows + [("op", "input shapes", "max abs error", "result")]) for i in range(4)]
    line = lambda r: f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}"  # noqa: E731
    print(line(("op", "input shapes", "max abs error", "result")))
    print("-" * (sum(widths) + 8))
    for row in rows:
        print(line(row))
    print("-" * (sum(widths) + 8))
    passed = len(rows) - len(failures)
    print(f"{passed} of {len(rows)} ops pass (float64, central differences, eps 1e-6, atol 1e-5, rtol 1e-3) "
          f"in {time.perf_counter() - started:.1f} s")
    for failure in failures:
        print(f"FAIL {failure}")
    return 1 if failures else 0


# ------------------------------------------------------------------------------------------------------------------
# minidl info
# ------------------------------------------------------------------------------------------------------------------
def _version(distribution):
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def blas_info():
    """[(library, version, threads, api)] of the BLAS/OpenMP libraries NumPy has loaded (threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [(pool.get("internal_api", "?"), pool.get("version") or "", pool.get("num_threads", "?"),
             pool.get("user_api", "?"), _owner(pool.get("filepath", ""))) for pool in threadpool_info()]


def _owner(filepath):
    """The package a shared library came with ("numpy.libs" -> "numpy"), or its file name."""
    folder = os.path.basename(os.path.dirname(filepath))
    return folder.removesuffix(".libs") if folder.endswith(".libs") else os.path.basename(filepath)


def info():
    """`minidl info`: what minidl runs on."""
    import minidl as mdl
    from minidl.data.download import data_home

    print(f"minidl     {mdl.__version__} ({os.path.dirname(mdl.__file__)})")
    print(f"python     {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPUs")
    print(f"numpy      {np.__version__}")
    pools = blas_info()
    if pools:
        for library, version, threads, api, owner in pools:
            print(f"  {api:<8} {library} {version} (loaded by {owner}), {threads} threads".replace("  (", " ("))
    else:
        print(f"  blas     {_numpy_blas_name()}")
    cupy = next((f"{d} {_version(d)}" for d in ("cupy", "cupy-cuda12x", "cupy-cuda11x", "cupy-cuda13x")
                 if _version(d)), None)
    if cupy is None and importlib.util.find_spec("cupy") is not None:
        cupy = "cupy (version unknown)"
    print("cupy       " + (cupy or "not installed (pip install 'minidl[gpu]')"))
    available = mdl.cuda.is_available()
    gpu = "yes" if available else "no"
    if available:
        try:
            xp = mdl.get_backend("cuda").xp
            props = xp.cuda.runtime.getDeviceProperties(0)
            name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
            gpu = f"yes: {name}, {props['totalGlobalMem'] / 2**30:.0f} GiB (device 0 of {xp.cuda.runtime.getDeviceCount()})"
        except Exception as error:  # a name is a nicety; availability is what counts
            gpu = f"yes ({type(error).__name__} reading its name)"
    print(f"gpu works  {gpu}  (mdl.cuda.is_available())")
    torch = _version("torch")
    print(f"pytorch    {torch or 'not installed'}")
    for dist in ("scikit-learn", "matplotlib", "tqdm", "joblib"):
        print(f"{dist:<10} {_version(dist) or 'not installed'}")
    print(f"graphviz   {'dot found' if shutil.which('dot') else 'no dot (graphs are drawn with matplotlib)'}")
    source = "$MINIDL_DATA" if os.environ.get("MINIDL_DATA") else "cache folder; set MINIDL_DATA to change it"
    print(f"data       {data_home()} ({source})")
    return 0


def _numpy_blas_name():
    try:
        config = np.show_config(mode="dicts")
        return config["Build Dependencies"]["blas"]["name"]
    except Exception:
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
