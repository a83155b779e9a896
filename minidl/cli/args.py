"""What every `minidl` command shares: the parser that fails in one line, the usage error, argument types."""

import argparse
import math

USAGE_ERROR = 2


class UsageError(Exception):
    """A bad argument or combination of arguments (exit status 2)."""


class Parser(argparse.ArgumentParser):
    """argparse, but a bad argument gives one line (what is wrong, where to look) and exit status 2."""

    def error(self, message):
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def positive_int(text):
    """An integer >= 1 (argparse type)."""
    value = integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return value


def non_negative_int(text):
    """An integer >= 0 (argparse type)."""
    value = integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}")
    return value


def integer(text):
    """An integer, with a one-line message otherwise (argparse type)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def float_in(low, high, low_open=False, high_open=True):
    """An argparse type: a finite number in [low, high) (or the open/closed ends asked for; high None: no bound)."""
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
