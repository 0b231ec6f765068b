"""``python -m optim identify``: which convention made the numbers in a run file.

Reads a trajectory saved with numpy.savez (the arrays initial, grads and params, and optionally
the algorithm and hyperparameters), replays it with every convention and every one-choice
variant, and prints the ranked candidates. Exit status: 0 when at least one candidate matches, 1
when none does, 2 on bad input (a missing array, shapes that disagree, NaN in initial, an unknown
algorithm...), with a message that names the array or option.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from optim.cli.types import positive_int
from optim.identify.candidates import ALGORITHMS
from optim.identify.npz import RunFileError, load_run
from optim.identify.search import SAMPLE_SIZE, Request, prepare, run

__all__ = ["DESCRIPTION", "EPILOG", "ProgressLine", "add_arguments", "main", "run_command"]

DESCRIPTION = __doc__.split("\n\n")[1].replace("\n", " ").strip() if __doc__ else ""
EPILOG = """\
run file: numpy.savez("run.npz", initial=..., grads=..., params=..., algorithm="adam", lr=1e-3)
  initial  the parameter before the first step (any shape, float32 or float64)
  grads    shape (T, *initial.shape): the gradient fed at each step
  params   shape (T, *initial.shape): the parameter after each step
  optional 0-d values: algorithm, lr, beta1, beta2, eps, weight_decay, maximize (the options override them)
hyperparameters that are given neither way come from each candidate convention's defaults.
"""
PROGRAM = "python -m optim identify"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m optim identify``."""
    parser.add_argument("run_file", type=Path, metavar="RUN.npz", help="the recorded trajectory")
    parser.add_argument("--algorithm", choices=tuple(ALGORITHMS), help="what the framework ran (default: the "
                        "file's, else adam)")
    parser.add_argument("--lr", type=float, help="the learning rate")
    parser.add_argument("--betas", type=float, nargs=2, metavar=("BETA1", "BETA2"), help="beta1 and beta2")
    parser.add_argument("--eps", type=float, help="epsilon")
    parser.add_argument("--weight-decay", type=float, help="weight decay (default: the file's, else 0)")
    parser.add_argument("--maximize", action=argparse.BooleanOptionalAction, default=None,
                        help="whether the run ascended (default: the file's, else no)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of the table")
    parser.add_argument("--sample-size", type=positive_int, default=SAMPLE_SIZE,
                        help=f"coordinates replayed first on a larger parameter (default {SAMPLE_SIZE})")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m optim identify`` on its own."""
    parser = argparse.ArgumentParser(prog=PROGRAM, description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return parser


class ProgressLine:
    """Prints ``phase: step k/T`` to ``stream`` once a run has taken ``delay`` seconds, then every ``interval``."""

    def __init__(self, stream: TextIO, delay: float = 2.0, interval: float = 2.0) -> None:
        self.stream, self.delay, self.interval = stream, delay, interval
        self.start = time.monotonic()
        self.last = self.start

    def __call__(self, phase: str, step: int, steps: int) -> None:
        now = time.monotonic()
        if now - self.start < self.delay or now - self.last < self.interval:
            return
        self.last = now
        print(f"identify: {phase}: step {step}/{steps} ({now - self.start:.0f} s)", file=self.stream, flush=True)


def _settings(file_settings: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The keywords of :func:`~optim.identify.search.prepare`: the file's values, overridden by the options."""
    settings = {name: file_settings[name] for name in ("algorithm", "lr", "eps", "weight_decay", "maximize")
                if name in file_settings}
    given = [name for name in ("beta1", "beta2") if name in file_settings]
    if len(given) == 1 and args.betas is None:
        other = "beta2" if given == ["beta1"] else "beta1"
        raise RunFileError(f"{other}: the file gives {given[0]} but not {other}; save both, or pass --betas")
    if given == ["beta1", "beta2"]:
        settings["betas"] = (file_settings["beta1"], file_settings["beta2"])
    options = {"algorithm": args.algorithm, "lr": args.lr, "eps": args.eps, "weight_decay": args.weight_decay,
               "maximize": args.maximize, "betas": None if args.betas is None else tuple(args.betas)}
    settings.update({name: value for name, value in options.items() if value is not None})
    return settings


def _prepare(args: argparse.Namespace) -> Request:
    run_file = load_run(args.run_file)
    settings = _settings(run_file.settings, args)
    return prepare(run_file.initial, run_file.grads, run_file.params, **settings)


def _error(message: Any) -> int:
    print(f"{PROGRAM}: error: {message}", file=sys.stderr)
    return 2


def run_command(args: argparse.Namespace) -> int:
    """Identify the run file of ``args``, print the table (or JSON), and return the exit status."""
    try:
        request = _prepare(args)
    except (OSError, ValueError, TypeError, zipfile.BadZipFile) as error:
        return _error(error)
    try:
        report = run(request, progress=ProgressLine(sys.stderr), sample_size=args.sample_size)
    except (RunFileError, zipfile.BadZipFile, OSError) as error:
        return _error(f"{args.run_file}: {error}")
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(f"run file: {args.run_file}")
        print(report)
    return 0 if report.matches else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (the process arguments after ``identify`` by default), run, return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help (0) and usage errors (2): argparse has printed the message
        return int(stop.code or 0)
    return run_command(args)
