"""The command line of the optim package: ``python -m optim COMMAND [options]``.

Each subcommand lives in its own module, which provides ``add_arguments(parser)``,
``main(args) -> int`` and, optionally, the plain-text ``DESCRIPTION`` and ``EPILOG`` of its help.
This file only wires them into :mod:`argparse`: to add a subcommand, write such a module and list it
in :data:`SUBCOMMANDS`. A subcommand listed in :data:`OWN_PARSERS` instead parses its own arguments:
its module's ``main(argv) -> int`` gets everything after the subcommand's name.

Subcommands
-----------
demo
    Train an MLP on the digits with Adam, Adamax, AMSGrad and SGD, run the online problem of
    Reddi et al., print the results and draw them (:mod:`optim.demo`).
verify
    Compare the library with the frameworks' reference trajectories, print a table, and exit
    non-zero on any failure (:mod:`optim.verify`).
identify
    Say which convention and choices reproduce a trajectory recorded in any framework
    (:mod:`optim.identify.command`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["OWN_PARSERS", "SUBCOMMANDS", "build_parser", "main"]

SUBCOMMANDS = {
    "bench": ("optim.bench", "time one optimizer step: copy-bandwidth floor, reference, fused path, PyTorch"),
    "demo": (
        "optim.demo",
        "compare Adam, Adamax, AMSGrad and SGD on the digits and on Reddi et al.'s online problem",
    ),
    "verify": (
        "optim.verify",
        "replay the reference trajectories of PyTorch, Keras, tf.keras, Optax and MindSpore and compare",
    ),
}
"""Subcommand name -> (module implementing it, one-line help)."""

OWN_PARSERS = {
    "identify": ("optim.identify.command", "say which convention and choices reproduce a recorded trajectory"),
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
        subparser.set_defaults(handler=module.main)
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
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
