"""`minidl bench`: the benchmark harness in minidl.benchmark, which parses its own arguments (--help)."""

import argparse
import sys

from minidl.cli.args import USAGE_ERROR


def add_parser(commands):
    bench = commands.add_parser("bench", add_help=False, help="benchmark minidl (and PyTorch) on CPU and GPU",
                                description="Run 'minidl bench --help' for its options.")
    bench.add_argument("args", nargs=argparse.REMAINDER)


def run(argv):
    """`minidl bench`: the benchmark harness in minidl.benchmark (its own --help)."""
    try:
        from minidl import benchmark
    except ImportError as error:
        print(f"minidl bench: error: the benchmark harness is not available ({error})", file=sys.stderr)
        return USAGE_ERROR
    status = benchmark.main(argv)
    return 0 if status is None else int(status)
