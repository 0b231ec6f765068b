"""Argument types shared by the command-line tools (``python -m optim ...`` and ``benchmarks/``).

Each parses one option value and raises ``argparse.ArgumentTypeError`` with the
offending text, which argparse turns into a usage error naming the option.
A value that can only be judged after parsing (a folder's contents, a
combination of options) is refused by raising :class:`OptionError` from the
subcommand; ``python -m optim`` reports it the same way (exit status 2).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["OptionError", "comma_separated_choices", "existing_folder", "nonnegative_int", "positive_float",
           "positive_int", "unwritable_file_reason"]


class OptionError(Exception):
    """An option's value that cannot be used, found after parsing.

    Parameters
    ----------
    option : str
        The option, as typed on the command line (``"--reference-dir"``).
    message : str
        What is wrong with its value, naming the value.
    """

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"argument {option}: {message}")
        self.option = option
        self.message = message


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


def existing_folder(text: str) -> Path:
    """The path of a folder that exists."""
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"no such folder: {text}")
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"not a folder: {text}")
    return path


def comma_separated_choices(choices: Sequence[str]) -> Callable[[str], list[str]]:
    """A type for a comma-separated subset of ``choices``: at least one, each known, in the order given, once."""

    def parse(text: str) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        if not names:
            raise argparse.ArgumentTypeError(f"expected comma-separated names from {', '.join(choices)}, got {text!r}")
        unknown = [name for name in names if name not in choices]
        if unknown:
            raise argparse.ArgumentTypeError(
                f"unknown name(s) {', '.join(unknown)} in {text!r}; choose from {', '.join(choices)}"
            )
        return list(dict.fromkeys(names))

    return parse


def unwritable_file_reason(path: Path) -> str | None:
    """Why a file cannot be written at ``path``, creating the folders it lacks; None when it can be."""
    if path.is_dir():
        return "it is a folder"
    folder = path.parent
    while not folder.exists():  # the nearest folder that exists: the missing ones are created in it
        folder = folder.parent
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if path.exists() and not os.access(path, os.W_OK):
        return "no permission to write it"
    if not path.exists() and not os.access(folder, os.W_OK | os.X_OK):
        return f"no permission to create files in {folder}"
    return None
