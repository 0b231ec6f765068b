"""Argument types shared by the command-line tools (``python -m optim ...`` and ``benchmarks/``).

Each parses one option value and raises ``argparse.ArgumentTypeError`` with the
offending text, which argparse turns into a usage error naming the option.
"""

from __future__ import annotations

import argparse

__all__ = ["nonnegative_int", "positive_float", "positive_int"]


def positive_int(text: str) -> int:
    """An integer >= 1."""
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def nonnegative_int(text: str) -> int:
    """An integer >= 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a nonnegative integer, got {text}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0."""
    value = float(text)
    if not 0.0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite positive number, got {text}")
    return value
