"""``python -m optim verify``: replay the frameworks' reference trajectories with the library.

Each reference case (``optim/reference/<framework>.json``, package data written by
``tools/generate_reference.py`` from real PyTorch, Keras, tf.keras, Optax,
MindSpore and capreolus runs) names a scenario (initial parameters and
gradients), the framework call, and the library configuration that should
reproduce it. This command runs that configuration on the same inputs and
compares every recorded array after every step: the parameters, the moving
average of the weights, and the optimizer's slots (m, v, v_max, u, the gradient
accumulators) wherever the framework exposes them.

A case passes when every value satisfies
:math:`|x_\\text{ours} - x_\\text{ref}| \\le \\text{rtol}\\,\\max(|x_\\text{ref}|, s_t)`, where
:math:`s_t` is the largest magnitude of that array at that step (a moment that
cancels to nearly 0 keeps the rounding of the terms that cancelled), with
rtol = 1e-6 in float32 and 1e-12 in float64. A failing case names the first
step and the array where it leaves the tolerance.

One framework behaviour is documented rather than reproduced: Keras 3, given
``tf.IndexedSlices`` with a row listed twice in one step, squares each listed
value separately (:math:`v` sees :math:`a^2 + b^2`, not :math:`(a+b)^2`). The
library treats a row-sparse gradient as the dense gradient it stands for, so
those rows are left out of the parameters and of v (m, linear in the gradient,
is compared on every row) and the case is marked ``PASS*``.

Exit status: 0 when every case passes, 1 when one fails (or ``--live`` fails,
or checks nothing), 2 for a usage error: an unknown framework name, or a
reference folder that is missing, malformed (:mod:`optim.reference.cases`) or
holds no case of the frameworks asked for. A run that checks nothing never
passes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from optim.cli.types import OptionError, comma_separated_choices, existing_folder
from optim.reference import DATA_DIR
from optim.reference.cases import COMPANION_FILES, FRAMEWORKS, ReferenceFileError
from optim.reference.replay import CaseResult, verify_directory

__all__ = ["DESCRIPTION", "add_arguments", "format_table", "main"]

DESCRIPTION = __doc__.split("\n\n")[1].replace("\n", " ").strip() if __doc__ else ""
#: The recorded cases shipped with the package.
DEFAULT_REFERENCE_DIR = DATA_DIR
#: The script that runs the real frameworks; present in a source checkout only (for ``--live``).
GENERATOR = Path(__file__).resolve().parents[2] / "tools" / "generate_reference.py"


def format_table(results: list[CaseResult]) -> str:
    """A plain-text table, one row per case, and a closing count."""
    header = (
        f"{'case':<52} {'algorithm':<8} {'convention':<10} {'scenario':<14} {'arrays':<16} "
        f"{'max abs err':>11} {'max rel err':>11}  result"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.case_id:<52} {r.algorithm:<8} {r.convention:<10} {r.scenario:<14} {','.join(r.compared):<16} "
            f"{r.max_abs_error:>11.2e} {r.max_rel_error:>11.2e}  {_verdict(r)}"
        )
    failed = sum(not r.passed for r in results)
    if any(r.excluded_rows for r in results):
        lines.append("PASS*: rows with a repeated sparse index left out of the parameters and v (Keras squares each "
                     "listed value separately)")
    lines.append(f"{len(results) - failed} passed, {failed} failed")
    return "\n".join(lines)


def _verdict(result: CaseResult) -> str:
    if not result.passed:
        return f"FAIL (first at {result.divergence})"
    return "PASS*" if result.excluded_rows else "PASS"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m optim verify``."""
    parser.add_argument("--reference-dir", type=existing_folder, default=DEFAULT_REFERENCE_DIR,
                        help="folder with scenarios.json and the frameworks' files (default: the cases recorded "
                        "with the package, optim/reference)")
    parser.add_argument("--frameworks", type=comma_separated_choices(FRAMEWORKS), default=None,
                        help=f"comma-separated subset: {', '.join(FRAMEWORKS)} (default: all)")
    parser.add_argument("--live", action="store_true",
                        help="also run every installed framework now (tools/generate_reference.py into a temporary "
                        "folder) and compare with those fresh outputs")


def _verify_live(frameworks: list[str]) -> bool:
    """Run the frameworks now and compare with their fresh outputs; True when that fails or checks nothing."""
    wanted = frameworks or list(FRAMEWORKS)
    generated = [file for name in wanted for file in (name, *COMPANION_FILES.get(name, ()))]
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, str(GENERATOR), "--out", tmp, "--frameworks", ",".join(generated)]
        status = subprocess.run(command, check=False).returncode
        if status != 0:
            print(f"verify --live: {GENERATOR.name} failed with exit status {status}", file=sys.stderr)
            return True
        produced = [name for name in wanted if (Path(tmp) / f"{name}.json").is_file()]
        not_run = [name for name in wanted if name not in produced]
        if not produced:
            print(f"verify --live: could not run {', '.join(wanted)} (not installed); nothing was checked live",
                  file=sys.stderr)
            return True
        try:
            live_results = verify_directory(Path(tmp), produced)
        except ReferenceFileError as error:
            print(f"verify --live: the fresh outputs cannot be checked: {error}", file=sys.stderr)
            return True
    print("\nlive framework runs:")
    print(format_table(live_results))
    if not_run:
        print(f"not run live (not installed): {', '.join(not_run)}")
    if frameworks and not_run:  # asked for by name: not checking them is a failure
        print(f"verify --live: not checked live, because they could not be run: {', '.join(not_run)}",
              file=sys.stderr)
        return True
    return any(not r.passed for r in live_results)


def main(args: argparse.Namespace) -> int:
    """Print the table for the committed values (and the live ones); 1 when any case fails.

    Raises
    ------
    OptionError
        When ``--reference-dir`` holds no usable case of the frameworks asked
        for, or ``--live`` cannot run (no source checkout).
    """
    frameworks = args.frameworks or []
    if args.live and not GENERATOR.is_file():
        raise OptionError("--live", f"needs a source checkout: {GENERATOR} was not found")
    try:
        results = verify_directory(args.reference_dir, frameworks)
    except ReferenceFileError as error:
        raise OptionError("--reference-dir", str(error)) from None
    print(f"reference values: {args.reference_dir}")
    print(format_table(results))
    failed = any(not r.passed for r in results)
    if args.live:
        failed = _verify_live(frameworks) or failed
    return 1 if failed else 0
