"""The `minidl` command: one module per command, this file only dispatches.

    minidl train [--dataset digits] [--model lenet] [--epochs N] ... --out DIR   train, test, write a report
    minidl predict RUN_DIR IMAGE...                                             your own pictures, top classes
    minidl sample RUN_DIR [--length N] [--temperature T] [--top-k K]            text from a names/shakespeare run
    minidl bench [...]                                                          CPU/GPU (and PyTorch) timings
    minidl parity [--devices cpu,cuda]                                          two devices, op by op
    minidl gradcheck                                                            every op against finite differences
    minidl info                                                                 version, backends, GPU, BLAS

`minidl <command> --help` lists each command's options. A bad argument prints one line and exits with
status 2; a failed check exits with 1.
"""

import sys

from minidl.cli import bench, gradcheck, info, parity, predict, sample, train
from minidl.cli.args import USAGE_ERROR, Parser, UsageError

# name -> the module that adds its parser (add_parser) and runs it (run).
COMMANDS = {"train": train, "predict": predict, "sample": sample, "bench": bench, "parity": parity, "gradcheck": gradcheck,
            "info": info}


def build_parser():
    from minidl import __version__

    parser = Parser(prog="minidl", description="minidl: a small deep-learning engine on NumPy and CuPy. "
                                               "Train a model, benchmark backends, check gradients.",
                    epilog="Run 'minidl COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"minidl {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for module in COMMANDS.values():
        module.add_parser(commands)
    return parser


def main(argv=None):
    """Entry point of the `minidl` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "bench":  # its own parser lives in minidl.benchmark
        return bench.run(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error(f"a command is required: {', '.join(COMMANDS)}")
    sub = f"minidl {args.command}"
    try:
        if args.command == "train":
            return train.run(args, argv)
        if args.command == "predict":
            return predict.run(args)
        if args.command == "sample":
            return sample.run(args)
        if args.command == "parity":
            return parity.run(args)
        if args.command == "gradcheck":
            return gradcheck.run()
        if args.command == "info":
            return info.run()
    except UsageError as error:
        print(f"{sub}: error: {error} (see '{sub} --help')", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print(f"{sub}: interrupted", file=sys.stderr)
        return 130
    raise AssertionError(args.command)


__all__ = ["COMMANDS", "Parser", "USAGE_ERROR", "UsageError", "build_parser", "main"]
