"""Replay a recorded reference case with the library and compare, value by value.

A case of :mod:`optim.reference.cases` names a scenario (initial parameters and
the gradients of every step), the library configuration that should reproduce
the framework, and the framework's trajectory. :func:`run_case` runs that
configuration with :meth:`~optim.Optimizer.apply_gradients` on the same inputs;
:func:`compare` measures the largest differences and applies the tolerances of
:data:`~optim.reference.cases.TOLERANCES`; :func:`verify_directory` does it for
a whole folder. ``python -m optim verify`` (:mod:`optim.cli.verify`) prints the
results. A case whose ``"library"`` entry has a ``"scheduler"`` (``torch_schedulers.json``)
also builds that :mod:`optim.lr_scheduler` scheduler, steps it after every call, and
passes only if the groups' rates (``lrs``, and ``beta1s`` where recorded) are the
recorded floats, bit for bit.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

import minigrad as mg
import optim
from optim import schedules
from optim.reference.cases import CLASSES, SCHEDULERS, TOLERANCES, ReferenceFileError, load_reference

__all__ = ["CaseResult", "build_optimizer", "compare", "excluded_rows", "run_case", "verify_directory"]


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
    trajectory, averages, _ = _replay(case, scenario)
    return trajectory, averages


def _replay(case: dict[str, Any], scenario: dict[str, Any]) -> tuple[np.ndarray, np.ndarray | None, dict[str, list]]:
    """:func:`run_case`, and with a scheduler the groups' ``lrs`` and ``beta1s`` after each of its steps."""
    dtype = np.dtype(scenario["dtype"])
    params = [mg.tensor(np.asarray(p, dtype=dtype), requires_grad=True) for p in scenario["params"]]
    optimizer = build_optimizer(case["library"], params)
    scheduler_entry = case["library"].get("scheduler")
    scheduler = None
    if scheduler_entry is not None:
        scheduler = SCHEDULERS[scheduler_entry["class"]](optimizer, **scheduler_entry["kwargs"])
    rates: dict[str, list] = {"lrs": [], "beta1s": []}
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
        if scheduler is not None:
            scheduler.step()
            rates["lrs"].append([group["lr"] for group in optimizer.param_groups])
            rates["beta1s"].append([group["betas"][0] for group in optimizer.param_groups])
        trajectory.append(np.concatenate([p.data.ravel() for p in params]))
        if optimizer.averages:
            averages.append(np.concatenate([optimizer.averages[p].ravel() for p in params]))
    return np.array(trajectory), (np.array(averages) if averages else None), rates


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
        ours, averages, rates = _replay(case, scenario)
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
    for key in ("lrs", "beta1s"):  # a scheduler's rates: the same Python floats, bit for bit
        if key in case and rates[key] != case[key]:
            passed = False
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
