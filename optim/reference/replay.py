"""Replay a recorded reference case with the library and compare, value by value.

A case of :mod:`optim.reference.cases` names a scenario (initial parameters and
the gradients of every step), the library configuration that should reproduce
the framework, and the framework's trajectory, with its slots where the
framework exposes them (``"m_trajectory"``, ``"v_trajectory"``,
``"v_max_trajectory"``, ``"u_trajectory"``: the library's state names), the
gradient accumulators (``"accumulator_trajectory"``) and the moving average of
the weights (``"ema_trajectory"``). :func:`run_case` runs that
configuration with :meth:`~optim.Optimizer.apply_gradients` on the same inputs
(the parameters named ``p0``, ``p1``, ... as in the framework, for
``pattern_lrs``); :func:`compare` measures the largest differences of every
recorded array, applies the tolerances of
:data:`~optim.reference.cases.TOLERANCES` and says where a failing case first
diverges; :func:`verify_directory` does it for a whole folder.
``python -m optim verify`` (:mod:`optim.cli.verify`) prints the results.
A case whose ``"library"`` entry has a ``"scheduler"`` (``torch_schedulers.json``)
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

__all__ = ["CaseResult", "Comparison", "build_optimizer", "compare", "excluded_rows", "recorded_arrays", "run_case",
           "verify_directory"]


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
    compared: tuple[str, ...] = ("param",)
    divergence: str = ""


def build_optimizer(library: dict[str, Any], params: list[mg.Tensor]) -> optim.Optimizer:
    """The library optimizer described by a case's ``"library"`` entry, on ``params``."""
    kwargs = dict(library["kwargs"])
    if isinstance(kwargs.get("lr"), dict):
        kwargs["lr"] = schedules.deserialize(kwargs["lr"]["schedule"])
    if isinstance(kwargs.get("betas"), list):
        kwargs["betas"] = tuple(kwargs["betas"])
    return CLASSES[library["class"]](params, **kwargs)


def run_case(case: dict[str, Any], scenario: dict[str, Any]) -> dict[str, np.ndarray]:
    """Run the library on a case's scenario: every array after every step, flattened per step.

    Returns ``{"param": trajectory, "ema": averages, "m": ..., ...}``, each of shape ``(steps, n)``: the
    parameters, the moving averages (EMA cases only) and each state array of the optimizer.
    """
    arrays, _ = _replay(case, scenario)
    return arrays


def _replay(case: dict[str, Any], scenario: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, list]]:
    """:func:`run_case`, and with a scheduler the groups' ``lrs`` and ``beta1s`` after each of its steps."""
    dtype = np.dtype(scenario["dtype"])
    params = [mg.tensor(np.asarray(p, dtype=dtype), requires_grad=True) for p in scenario["params"]]
    optimizer = build_optimizer(case["library"], [(f"p{index}", param) for index, param in enumerate(params)])
    scheduler_entry = case["library"].get("scheduler")
    scheduler = None
    if scheduler_entry is not None:
        scheduler = SCHEDULERS[scheduler_entry["class"]](optimizer, **scheduler_entry["kwargs"])
    rates: dict[str, list] = {"lrs": [], "beta1s": []}
    use_sparse = case.get("gradient_input") == "indexed_slices"
    trajectory, averages, states = [], [], []
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
        states.append(_state_arrays(optimizer, params))
    arrays = {"param": np.array(trajectory)}
    if averages:
        arrays["ema"] = np.array(averages)
    for name in states[-1]:
        arrays[name] = np.array([step.get(name, np.zeros_like(trajectory[0])) for step in states])
    return arrays, rates


def _state_arrays(optimizer: optim.Optimizer, params: list[mg.Tensor]) -> dict[str, np.ndarray]:
    """The optimizer's state arrays (``m``, ``v``, ...) of every parameter, flattened, once each has state
    (before a parameter's first update its slots are zeros, as the frameworks create them), and with gradient
    accumulation the ``"accumulator"`` (zeros after an update, as Keras resets its accumulators)."""
    names = [name for name, value in next(iter(optimizer.state.values()), {}).items() if isinstance(value, np.ndarray)]
    arrays = {name: np.concatenate([optimizer.state[p][name].ravel() if p in optimizer.state
                                    else np.zeros(p.data.size, dtype=p.data.dtype) for p in params])
              for name in names}
    if optimizer.options.gradient_accumulation_steps:
        arrays["accumulator"] = np.concatenate([optimizer.accumulators[p].ravel() if p in optimizer.accumulators
                                                else np.zeros(p.data.size, dtype=p.data.dtype) for p in params])
    return arrays


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
    """Rows left out of the comparison of the parameters and of v, v_max or u (m is compared on every row): Keras 3
    squares (or takes the absolute value of) each listed value of a repeated sparse row separately."""
    if framework != "keras" or case.get("gradient_input") != "indexed_slices":
        return ()
    return tuple(case.get("rows_differing_from_dense", [[]])[0])


@dataclasses.dataclass(frozen=True)
class Comparison:
    """What :func:`compare` finds: the largest errors, the verdict, the arrays compared and, for a failing case,
    where it first diverges (``"step 3, v"``: the first step with a value out of tolerance, and its array)."""

    max_abs_error: float
    max_rel_error: float
    passed: bool
    compared: tuple[str, ...]
    divergence: str = ""


def recorded_arrays(case: dict[str, Any]) -> tuple[str, ...]:
    """The arrays a case records: ``"param"``, then ``"ema"`` and the slots (``"m"``, ``"v"``...) it holds."""
    slots = [key[: -len("_trajectory")] for key in case if key.endswith("_trajectory")]
    return ("param", *slots)


def compare(case: dict[str, Any], scenario: dict[str, Any], rows: tuple[int, ...] = ()) -> Comparison:
    """Every recorded array of the case (parameters, EMA, slots) against the library's run; ``rows`` of parameter 0
    are left out."""
    try:
        ours, rates = _replay(case, scenario)
    except (TypeError, ValueError, KeyError, IndexError) as error:
        raise ReferenceFileError(f"case {case['id']} cannot be replayed on scenario {case['scenario']!r}: "
                                 f"{type(error).__name__}: {error}") from error
    names = recorded_arrays(case)
    missing = [name for name in names if name not in ours]
    if missing:
        raise ReferenceFileError(f"case {case['id']}: records {missing}, which the library's "
                                 f"{case['library']['class']} does not keep (it keeps {sorted(ours)})")
    keep = np.ones(ours["param"].shape[1], dtype=bool)
    if rows:
        shape = np.shape(scenario["params"][0])
        size = int(np.prod(shape))
        keep[:size] = ~np.isin(np.arange(size) // int(np.prod(shape[1:])), rows)
    rtol = TOLERANCES[scenario["dtype"]]
    max_abs = max_rel = 0.0
    first_failure: tuple[int, str] | None = None
    for name in names:
        key = "trajectory" if name == "param" else f"{name}_trajectory"
        columns = keep if name != "m" else slice(None)  # m is linear in the gradient: Keras's m is the dense one's
        mine, reference = ours[name][:, columns], _recorded(case, key, ours[name].shape)[:, columns]
        error = np.abs(mine.astype(np.float64) - reference)
        # Each value against the larger of its own magnitude and its array's largest at that step: a moment that
        # cancels to nearly 0 carries the rounding of the terms that cancelled.
        scale = np.maximum(np.abs(reference), np.abs(reference).max(axis=1, keepdims=True, initial=0.0))
        max_abs = max(max_abs, float(error.max(initial=0.0)))
        max_rel = max(max_rel, float((error / np.maximum(scale, 1e-300)).max(initial=0.0)))
        failing = np.nonzero(np.any(error > rtol * scale, axis=1))[0]
        if failing.size and (first_failure is None or failing[0] < first_failure[0]):
            first_failure = (int(failing[0]), name)
    passed = first_failure is None
    divergence = "" if first_failure is None else f"step {first_failure[0] + 1}, {first_failure[1]}"
    for key in ("lrs", "beta1s"):  # a scheduler's rates: the same Python floats, bit for bit
        if key in case and rates[key] != case[key]:
            passed = False
            divergence = divergence or f"the scheduler's {key}"
    return Comparison(max_abs, max_rel, passed, names, divergence)


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
                found = compare(case, scenarios[case["scenario"]], rows)
            except ReferenceFileError as error:
                raise ReferenceFileError(f"the reference folder {directory}: {error}") from error
            results.append(CaseResult(
                framework, case["id"], case["algorithm"], case["library"]["kwargs"].get("convention", "paper"),
                case["scenario"], found.max_abs_error, found.max_rel_error, found.passed, rows, found.compared,
                found.divergence,
            ))
    return results
