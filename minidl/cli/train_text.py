"""`minidl train --dataset names|shakespeare`: character-level language models, trained by steps.

names: makemore's MLP (3 characters of context -> the next), SGD on batches of 32, rate 0.1 then 0.01.
shakespeare: `--model gpt` (nanoGPT's CPU recipe, the default) or `--model lstm`; AdamW with warm-up and
cosine decay, gradient clipping. The run folder gets model.npz, config.json and vocab.json (what `minidl
sample RUN_DIR` reads), history.json, curves.png, samples.txt and report.md. Losses are in nats per
character, with bits per character beside them.
"""

import json
import os
import shlex
import time

from minidl.cli.args import UsageError

TEXT_DATASETS = ("names", "shakespeare")
TEXT_MODELS = {"names": ("mlp",), "shakespeare": ("gpt", "lstm")}

# What each run uses when a flag is not given: steps, batch size, learning rate (--quick shrinks them).
TEXT_DEFAULTS = {
    ("names", "mlp"): dict(steps=200_000, batch_size=32, lr=0.1, dropout=0.0),
    ("shakespeare", "gpt"): dict(steps=2000, batch_size=12, lr=1e-3, dropout=0.0, block_size=64),
    ("shakespeare", "lstm"): dict(steps=1200, batch_size=32, lr=3e-3, dropout=0.0, block_size=32),
}
# Flags of the image/tabular recipe that do not apply here.
NOT_FOR_TEXT = ("epochs", "optimizer", "momentum", "weight_decay", "patience", "limit")


def resolve_text_settings(args):
    """The run's settings: TEXT_DEFAULTS for the data set and model, overridden by --steps, --batch-size, --lr."""
    model = args.model or TEXT_MODELS[args.dataset][0]
    if model not in TEXT_MODELS[args.dataset]:
        raise UsageError(f"--model {model} does not apply to --dataset {args.dataset}; choose "
                         f"{' or '.join(TEXT_MODELS[args.dataset])}")
    given = [f"--{key.replace('_', '-')}" for key in NOT_FOR_TEXT if getattr(args, key, None) not in (None, False)]
    if given or args.kfold:
        raise UsageError(f"{', '.join(given or ['--kfold'])}: not for text data sets, which train by --steps "
                         f"(with --batch-size, --lr, --dropout, --seed)")
    settings = dict(TEXT_DEFAULTS[(args.dataset, model)], model=model)
    for key in ("steps", "batch_size", "lr", "dropout"):
        if getattr(args, key, None) is not None:
            settings[key] = getattr(args, key)
    if args.quick and args.steps is None:
        settings["steps"] = 300 if args.dataset == "names" else 30
    return settings


def run(args, argv):
    """Train, evaluate, sample and write the run folder. Returns 0 (1 when the data is missing)."""
    import sys

    import minidl as mdl
    from minidl.cli.train import run_folder
    from minidl.data import DataError, text

    settings = resolve_text_settings(args)
    if args.device == "cuda" and not mdl.cuda.is_available():
        raise UsageError("--device cuda: no working GPU ('minidl info' says what was found)")
    out = run_folder(args.out or os.path.join("runs", f"{args.dataset}-{settings['model']}"), args.overwrite)
    mdl.manual_seed(args.seed)
    try:
        corpus = text.load_names() if args.dataset == "names" else text.load_tiny_shakespeare()
    except DataError as error:
        print(f"minidl train: error: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1
    print(f"minidl train: {settings['model']} on {args.dataset}, {settings['steps']} steps of "
          f"{settings['batch_size']}, "
          f"lr {settings['lr']:g}, device {args.device}; writing into {out}", flush=True)
    started = time.perf_counter()
    if args.dataset == "names":
        model, vocab, history, results, samples = _train_names(corpus, settings, args)
    else:
        model, vocab, history, results, samples = _train_shakespeare(corpus, settings, args)
    seconds = time.perf_counter() - started

    from minidl.zoo import save_language_model

    save_language_model(out, model, vocab, dataset=args.dataset, steps=settings["steps"], seed=args.seed, **results)
    with open(os.path.join(out, "history.json"), "w") as f:
        json.dump(history, f)
    with open(os.path.join(out, "samples.txt"), "w") as f:
        f.write(samples + "\n")
    _plot_curves(history, os.path.join(out, "curves.png"), f"{settings['model']} on {args.dataset}")
    _write_report(out, args, argv, settings, model, results, seconds, samples)
    shown = "  ".join(f"{key} {value:.4f} nats/char ({value / 0.6931471805599453:.3f} bits)"
                      for key, value in results.items())
    print(f"{shown}\nwrote config.json, curves.png, history.json, model.npz, report.md, samples.txt, vocab.json "
          f"in {out}")
    return 0


def _train_names(names, settings, args):
    from minidl.data import text
    from minidl.train.language_model import mean_loss, train_on_contexts
    from minidl.zoo import NamesMLP, sample_names

    if args.quick:
        names = names[:2000]
    vocab = text.CharVocab.from_text("".join(names), specials=(".",))
    train, dev, test = (text.context_windows(part, vocab, context=3) for part in text.split_names(names, seed=42))
    model = NamesMLP(len(vocab), context=3, embed_dim=10, hidden=200).to(args.device)
    history = train_on_contexts(model, train, dev, settings["steps"], settings["batch_size"], settings["lr"],
                                seed=args.seed, device=args.device)
    results = {"val_loss": mean_loss(model, [dev], device=args.device),
               "test_loss": mean_loss(model, [test], device=args.device)}
    return model, vocab, history, results, "\n".join(sample_names(model.to("cpu"), vocab, n=20, seed=args.seed))


def _train_shakespeare(corpus, settings, args):
    from minidl.data import text
    from minidl.train.language_model import train_on_text
    from minidl.zoo import GPT, LSTMLanguageModel, generate

    vocab = text.CharVocab.from_text(corpus)
    train, val = text.split_tokens(vocab.encode(corpus), 0.9)
    block = settings["block_size"]
    if args.quick:
        train, val, block = train[:20000], val[:4000], 16
    if settings["model"] == "gpt":
        sizes = dict(n_layer=1, n_head=2, n_embd=32) if args.quick else dict(n_layer=4, n_head=4, n_embd=128)
        model = GPT(len(vocab), block_size=block, dropout=settings["dropout"], **sizes)
    else:
        model = LSTMLanguageModel(len(vocab), embed_dim=64, hidden_size=32 if args.quick else 256,
                                  dropout=settings["dropout"], block_size=block)
    model.to(args.device)
    history = train_on_text(model, train, val, settings["steps"], settings["batch_size"], block, lr=settings["lr"],
                            eval_every=max(settings["steps"] // 8, 1), eval_batches=2 if args.quick else 20,
                            seed=args.seed, device=args.device)
    results = {"val_loss": history["val_loss_full"]}
    model.to("cpu")
    sample = vocab.decode(generate(model, vocab.encode("\n"), 60 if args.quick else 500, temperature=0.8,
                                   seed=args.seed))
    return model, vocab, history, results, sample


def _plot_curves(history, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    loss = np.asarray(history["loss"])
    window = max(len(loss) // 100, 1)
    smooth = np.convolve(loss, np.ones(window) / window, mode="valid")
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(np.arange(window, len(loss) + 1), smooth, label=f"training loss (mean of {window} steps)")
    for key in history:
        if key.endswith("_loss") and isinstance(history[key], list) and len(history[key]) == len(history["eval_step"]):
            ax.plot(history["eval_step"], history[key], "o-", label=key)
    ax.set(xlabel="step", ylabel="nats per character", title=title)
    ax.legend()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def _write_report(out, args, argv, settings, model, results, seconds, samples):
    n_params = sum(p.size for p in model.parameters())
    lines = [f"# minidl train: {settings['model']} on {args.dataset}", "",
             "```", "minidl " + shlex.join(["train", *argv[1:]]) if argv else "minidl train", "```", "",
             f"{type(model).__name__} ({n_params:,} parameters, {json.dumps(model.config())}); "
             f"{settings['steps']} steps of batches of {settings['batch_size']}, lr {settings['lr']:g}, seed "
             f"{args.seed}, device {args.device}; {seconds:.0f} s.", "",
             "| loss | nats per character | bits per character |", "| --- | ---: | ---: |",
             *(f"| {key} | {value:.4f} | {value / 0.6931471805599453:.4f} |" for key, value in results.items()), "",
             "![curves](curves.png)", "", "## Samples", "", "```", samples, "```", "",
             f"More: `minidl sample {out}`.", ""]
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(lines))
