"""``python -m optim verify``: replay the frameworks' reference trajectories with the library.

Each reference case (``tests/reference/<framework>.json``, written by
``tools/generate_reference.py`` from real PyTorch, Keras, tf.keras, Optax and
MindSpore runs) names a scenario (initial parameters and gradients), the
framework call, and the library configuration that should reproduce it. This
command runs that configuration on the same inputs and compares every
parameter value after every step.

A case passes when every value satisfies
:math:`|x_\\text{ours} - x_\\text{ref}| \\le \\text{atol} + \\text{rtol}\\,|x_\\text{ref}|`,
with rtol = 2e-6 and atol = 2e-6 in float32 (the frameworks round in a
different order, and over 30 steps of values up to about 2 the float32
rounding adds up to about 1e-6) and rtol = 1e-10, atol = 1e-12 in float64.

One framework behaviour is documented rather than reproduced: Keras 3, given
``tf.IndexedSlices`` with a row listed twice in one step, squares each listed
value separately (:math:`v` sees :math:`a^2 + b^2`, not :math:`(a+b)^2`). The
library treats a row-sparse gradient as the dense gradient it stands for, so
those rows are left out of the comparison and the case is marked ``PASS*``.

Exit status: 0 when every case passes, 1 when one fails (or ``--live`` fails,
or checks nothing), 2 for a usage error: an unknown framework name, or a
reference folder that is missing, malformed (:mod:`optim.verify_reference`) or
holds no case of the frameworks asked for. A run that checks nothing never
passes.
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

import minigrad as mg
import optim
from optim import schedules
from optim.cli_types import OptionError, comma_separated_choices, existing_folder
from optim.verify_reference import CLASSES, FRAMEWORKS, TOLERANCES, ReferenceFileError, load_reference

__all__ = ["FRAMEWORKS", "CaseResult", "DESCRIPTION", "ReferenceFileError", "add_arguments", "load_reference", "main",
           "run_case", "verify_directory"]

DESCRIPTION = __doc__.split("\n\n")[1].replace("\n", " ").strip() if __doc__ else ""
DEFAULT_REFERENCE_DIR = Path(__file__).resolve().parent.parent / "tests" / "reference"
GENERATOR = Path(__file__).resolve().parent.parent / "tools" / "generate_reference.py"


@dataclasses.dataclass(frozen=True)
class CaseResult:
    """The comparison of one reference case with the library."""

    framework: str
    case_id: str
    algorithm: str
    convention: str
    scenario: str
    max_abs_error: float
    max_rel_error: float
    passed: bool
    excluded_rows: tuple[int, ...] = ()


def build_optimizer(library: dict[str, Any], params: list[mg.Tensor]) -> optim.Optimizer:
    """The library optimizer described by a case's ``"library"`` entry, on ``params``."""
    kwargs = dict(library["kwargs"])
    if isinstance(kwargs.get("lr"), dict):
        kwargs["lr"] = schedules.deserialize(kwargs["lr"]["schedule"])
    if isinstance(kwargs.get("betas"), list):
        kwargs["betas"] = tuple(kwargs["betas"])
    return CLASSES[library["class"]](params, **kwargs)


def run_case(case: dict[str, Any], scenario: dict[str, Any]) -> tuple[np.ndarray, np.ndarray | None]:
    """Run the library on a case's scenario: every parameter after every step, flattened per step.

    Returns the trajectory of shape ``(steps, n)`` and, for EMA cases, the
    trajectory of the averages (else None).
    """
    dtype = np.dtype(scenario["dtype"])
    params = [mg.tensor(np.asarray(p, dtype=dtype), requires_grad=True) for p in scenario["params"]]
    optimizer = build_optimizer(case["library"], params)
    use_sparse = case.get("gradient_input") == "indexed_slices"
    trajectory, averages = [], []
    for step, grads in enumerate(scenario["grads"]):
        pairs = []
        for index, (param, grad) in enumerate(zip(params, grads)):
            if use_sparse and "sparse" in scenario:
                rows = scenario["sparse"][step][index]
                indices = np.asarray(rows["indices"], dtype=np.int64)
                values = np.asarray(rows["values"], dtype=dtype).reshape((len(indices), *param.shape[1:]))
                pairs.append((mg.RowSparseGrad(indices, values, param.shape), param))
            else:
                pairs.append((np.asarray(grad, dtype=dtype), param))
        optimizer.apply_gradients(pairs)
        trajectory.append(np.concatenate([p.data.ravel() for p in params]))
        if optimizer.averages:
            averages.append(np.concatenate([optimizer.averages[p].ravel() for p in params]))
    return np.array(trajectory), (np.array(averages) if averages else None)


def _flatten(steps: list[Any]) -> np.ndarray:
    return np.array([np.concatenate([np.ravel(np.asarray(p, dtype=np.float64)) for p in step]) for step in steps])


def _recorded(case: dict[str, Any], key: str, shape: tuple[int, ...]) -> np.ndarray:
    """The case's recorded ``key`` (steps x values), which must have the ``shape`` of the library's run."""
    try:
        values = _flatten(case[key])
    except (TypeError, ValueError) as error:
        raise ReferenceFileError(f"case {case['id']}: {key!r} is not a list of steps of numbers ({error})") from None
    if values.shape != shape:
        raise ReferenceFileError(f"case {case['id']}: {key!r} has {values.shape} (steps, values), the scenario "
                                 f"gives {shape}")
    return values


def excluded_rows(case: dict[str, Any], framework: str) -> tuple[int, ...]:
    """Rows left out of the comparison: Keras's separate squaring of repeated sparse rows (see above)."""
    if framework != "keras" or case.get("gradient_input") != "indexed_slices":
        return ()
    return tuple(case.get("rows_differing_from_dense", [[]])[0])


def compare(case: dict[str, Any], scenario: dict[str, Any], rows: tuple[int, ...] = ()) -> tuple[float, float, bool]:
    """Max absolute and relative errors against the case, and whether it passes (``rows`` of parameter 0 left out)."""
    try:
        ours, averages = run_case(case, scenario)
    except (TypeError, ValueError, KeyError, IndexError) as error:
        raise ReferenceFileError(f"case {case['id']} cannot be replayed on scenario {case['scenario']!r}: "
                                 f"{type(error).__name__}: {error}") from error
    pairs = [(ours, _recorded(case, "trajectory", ours.shape))]
    if rows:
        shape = np.shape(scenario["params"][0])
        keep = np.ones(ours.shape[1], dtype=bool)
        keep[: int(np.prod(shape))] = ~np.isin(np.arange(int(np.prod(shape))) // int(np.prod(shape[1:])), rows)
        pairs = [(mine[:, keep], reference[:, keep]) for mine, reference in pairs]
    if "ema_trajectory" in case and averages is not None:
        pairs.append((averages, _recorded(case, "ema_trajectory", averages.shape)))
    rtol, atol = TOLERANCES[scenario["dtype"]]
    max_abs = max_rel = 0.0
    passed = True
    for mine, reference in pairs:
        error = np.abs(mine.astype(np.float64) - reference)
        max_abs = max(max_abs, float(error.max()))
        max_rel = max(max_rel, float((error / np.maximum(np.abs(reference), 1e-30)).max()))
        passed = passed and bool(np.all(error <= atol + rtol * np.abs(reference)))
    return max_abs, max_rel, passed


def verify_directory(directory: Path, frameworks: list[str] | None = None) -> list[CaseResult]:
    """Compare the library with every case of every framework file in ``directory`` (of ``frameworks`` if given).

    Raises
    ------
    ReferenceFileError
        When the folder cannot be read (see :func:`load_reference`), or holds
        no case of a framework in ``frameworks``, or no case at all: a run that
        checks nothing is not a pass.
    """
    scenarios, documents = load_reference(directory)
    with_cases = {document["framework"] for document in documents if document["cases"]}
    missing = [name for name in frameworks or () if name not in with_cases]
    if missing:
        raise ReferenceFileError(f"the reference folder {directory} has no case of {', '.join(missing)}")
    if not with_cases:
        raise ReferenceFileError(f"the reference folder {directory} has no case to check")
    results = []
    for document in documents:
        framework = document["framework"]
        if frameworks and framework not in frameworks:
            continue
        for case in document["cases"]:
            rows = excluded_rows(case, framework)
            try:
                max_abs, max_rel, passed = compare(case, scenarios[case["scenario"]], rows)
            except ReferenceFileError as error:
                raise ReferenceFileError(f"the reference folder {directory}: {error}") from error
            results.append(CaseResult(
                framework, case["id"], case["algorithm"], case["library"]["kwargs"].get("convention", "paper"),
                case["scenario"], max_abs, max_rel, passed, rows,
            ))
    return results


def format_table(results: list[CaseResult]) -> str:
    """A plain-text table, one row per case, and a closing count."""
    header = (
        f"{'case':<52} {'algorithm':<8} {'convention':<10} {'scenario':<14} "
        f"{'max abs err':>11} {'max rel err':>11}  result"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.case_id:<52} {r.algorithm:<8} {r.convention:<10} {r.scenario:<14} "
            f"{r.max_abs_error:>11.2e} {r.max_rel_error:>11.2e}  {_verdict(r)}"
        )
    failed = sum(not r.passed for r in results)
    if any(r.excluded_rows for r in results):
        lines.append("PASS*: rows with a repeated sparse index left out (Keras squares each listed value separately)")
    lines.append(f"{len(results) - failed} passed, {failed} failed")
    return "\n".join(lines)


def _verdict(result: CaseResult) -> str:
    if not result.passed:
        return "FAIL"
    return "PASS*" if result.excluded_rows else "PASS"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m optim verify``."""
    parser.add_argument("--reference-dir", type=existing_folder, default=DEFAULT_REFERENCE_DIR,
                        help="folder with scenarios.json and the frameworks' files (default: the repository's "
                        "tests/reference)")
    parser.add_argument("--frameworks", type=comma_separated_choices(FRAMEWORKS), default=None,
                        help=f"comma-separated subset: {', '.join(FRAMEWORKS)} (default: all)")
    parser.add_argument("--live", action="store_true",
                        help="also run every installed framework now (tools/generate_reference.py into a temporary "
                        "folder) and compare with those fresh outputs")


def _verify_live(frameworks: list[str]) -> bool:
    """Run the frameworks now and compare with their fresh outputs; True when that fails or checks nothing."""
    wanted = frameworks or list(FRAMEWORKS)
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, str(GENERATOR), "--out", tmp, "--frameworks", ",".join(wanted)]
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
