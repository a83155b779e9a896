"""`minidl sample RUN_DIR`: text from a language model that `minidl train --dataset names|shakespeare` saved."""

from minidl.cli.args import UsageError, float_in, integer, positive_int


def add_parser(commands):
    sample = commands.add_parser(
        "sample", help="generate text from a saved language-model run (names, shakespeare)",
        description="Load model.npz, config.json and vocab.json from RUN_DIR and print new text: names for a "
                    "names run, a continuation of --start for a shakespeare run. Each next character is drawn "
                    "from softmax(logits / temperature) over the top-k logits.")
    sample.add_argument("run_dir", metavar="RUN_DIR", help="a run folder, e.g. runs/shakespeare-gpt")
    sample.add_argument("--length", type=positive_int, default=500, help="characters to generate (default 500)")
    sample.add_argument("--count", type=positive_int, default=20, help="names to generate (names runs; default 20)")
    sample.add_argument("--start", default="\n", help="text to continue (shakespeare runs; default a new line)")
    sample.add_argument("--temperature", type=float_in(0, None), default=0.8,
                        help="0 = always the likeliest character; < 1 safer, > 1 wilder (default 0.8)")
    sample.add_argument("--top-k", type=positive_int, help="draw only from the k likeliest characters")
    sample.add_argument("--seed", type=integer, default=0, help="random seed (default 0)")


def run(args):
    """Print the generated text. Returns 0."""
    from minidl.errors import MinidlError
    from minidl.zoo import NamesMLP, generate, load_language_model, sample_names

    try:
        model, vocab, _ = load_language_model(args.run_dir)
    except (OSError, ValueError, MinidlError) as error:
        raise UsageError(f"{args.run_dir}: {error}") from None
    if isinstance(model, NamesMLP):
        print("\n".join(sample_names(model, vocab, n=args.count, temperature=args.temperature, top_k=args.top_k,
                                     seed=args.seed)))
        return 0
    try:
        context = vocab.encode(args.start or "\n")
    except MinidlError as error:
        raise UsageError(f"--start: {error}") from None
    tokens = generate(model, context, args.length, temperature=args.temperature, top_k=args.top_k, seed=args.seed)
    print(vocab.decode(tokens))
    return 0
