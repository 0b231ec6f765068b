"""Time one optimizer step: the memory floor, minigrad's reference and fused paths, and PyTorch.

This script runs the same code as ``python -m optim bench`` (:mod:`optim.cli.bench`)
and takes the same options. Run from the repository root::

    python benchmarks/optimizer_step.py                          # 1x10M, 1000x10k, 10000x1k; Adam, Adamax, AMSGrad
    python benchmarks/optimizer_step.py --algorithms adam --rounds 5
    python benchmarks/optimizer_step.py --device cuda            # 1x100M with CuPy, against torch CUDA

The printed table is Markdown; ``docs/benchmarks-optimizer.md`` records one run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    from optim.cli import bench
except ImportError:  # run from a checkout without installing it
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from optim.cli import bench


def main(argv: list[str] | None = None) -> int:
    """Parse the options of :mod:`optim.cli.bench` and run it."""
    parser = argparse.ArgumentParser(description=bench.DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    bench.add_arguments(parser)
    return bench.main(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
