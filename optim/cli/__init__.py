"""The command line of the optim package: ``python -m optim COMMAND [options]``: argparse and printing only.

The work itself lives in the library (:mod:`optim.reference`, :mod:`optim.experiments`,
:mod:`optim.fused`); the modules of this folder parse options, call it and print.

Each subcommand lives in its own module, which provides ``add_arguments(parser)``,
``main(args) -> int`` and, optionally, the plain-text ``DESCRIPTION`` and ``EPILOG`` of its help.
This file only wires them into :mod:`argparse`: to add a subcommand, write such a module and list it
in :data:`SUBCOMMANDS`. A subcommand listed in :data:`OWN_PARSERS` instead parses its own arguments:
its module's ``main(argv) -> int`` gets everything after the subcommand's name. A subcommand that
finds an option's value unusable after parsing raises
:class:`optim.cli.types.OptionError`, reported here as argparse reports a bad value: the
subcommand's usage, the message, exit status 2.

Subcommands
-----------
demo
    Train an MLP on the digits with Adam, Adamax, AMSGrad and SGD, run the online problem of
    Reddi et al., print the results and draw them (:mod:`optim.cli.demo`).
verify
    Compare the library with the frameworks' reference trajectories, print a table, and exit
    non-zero on any failure (:mod:`optim.cli.verify`).
identify
    Say which convention and choices reproduce a trajectory recorded in any framework
    (:mod:`optim.cli.identify`, on :mod:`optim.identify`).
bench
    Time one optimizer step on every path against the memory floor and PyTorch (:mod:`optim.cli.bench`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from optim.cli.types import OptionError

__all__ = ["OWN_PARSERS", "SUBCOMMANDS", "build_parser", "main"]

SUBCOMMANDS = {
    "bench": ("optim.cli.bench", "time one optimizer step: memory floor, reference, fused path, PyTorch"),
    "demo": (
        "optim.cli.demo",
        "compare Adam, Adamax, AMSGrad and SGD on the digits and on Reddi et al.'s online problem",
    ),
    "verify": (
        "optim.cli.verify",
        "replay the reference trajectories of PyTorch, Keras, tf.keras, Optax and MindSpore and compare",
    ),
}
"""Subcommand name -> (module implementing it, one-line help)."""

OWN_PARSERS = {
    "identify": ("optim.cli.identify", "say which convention and choices reproduce a recorded trajectory"),
}
"""Subcommands whose module parses its own arguments: name -> (module with ``main(argv)``, one-line help)."""


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m optim``, with one subparser per entry of :data:`SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="python -m optim",
        description="Readable, exact Adam, Adamax and AMSGrad on minigrad: demonstrations and checks.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, summary) in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        subparser = subparsers.add_parser(
            name, help=summary, description=getattr(module, "DESCRIPTION", summary),
            epilog=getattr(module, "EPILOG", None), formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(subparser)
        subparser.set_defaults(handler=module.main, command_parser=subparser)
    for name, (_module, summary) in OWN_PARSERS.items():
        subparsers.add_parser(name, help=summary, add_help=False)  # listed in the help; main() dispatches it
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (the process arguments by default), run the subcommand, return its exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in OWN_PARSERS:
        return importlib.import_module(OWN_PARSERS[argv[0]][0]).main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except OptionError as error:
        args.command_parser.error(str(error))  # prints the usage and the message, exits with status 2
