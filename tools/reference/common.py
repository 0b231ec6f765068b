"""Helpers shared by the framework modules: case specifications, the run loop, JSON conversion.

A framework module describes its cases as :class:`Spec` objects and provides a *runner*: a
function ``runner(spec, scenario) -> dict`` that evaluates ``spec.call`` (the exact constructor call,
as written in the output) on the scenario's parameters, applies every step's gradients and returns
``{"trajectory": [...]}`` (parameter values after every step; optionally more keys such as
``"ema_trajectory"``). :func:`run_specs` turns the specs into the case dictionaries of the output.
"""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "Spec", "compare_sparse", "describe_sparse", "epsilon_form", "indexed_slices", "library", "power_precision",
    "run_specs", "to_nested",
]


@dataclasses.dataclass(frozen=True)
class Spec:
    """One framework configuration, run on one or more scenarios.

    Attributes
    ----------
    name : str
        Short descriptive name, unique within the framework (``"adam_amsgrad"``); the case ids are
        ``"<framework>/<name>/<scenario>"``.
    algorithm : str
        ``"Adam"``, ``"AMSGrad"``, ``"Adamax"`` or ``"SGD"``: the algorithm the framework actually runs.
    call : str
        The exact constructor call. The runner evaluates this very string, so the output cannot
        disagree with what ran.
    library : dict
        How the library reproduces it: ``{"class": ..., "kwargs": {...}}`` (see :func:`library`).
    scenarios : tuple of str
        The scenario names to run it on.
    notes : str
        Free text copied into every case.
    options : dict
        Runner-specific switches, not written out. ``{"sparse": True}`` feeds the scenario's row-sparse
        gradients; the cases of a scenario with rows then say ``"gradient_input": "indexed_slices"``
        (or ``"dense"``).
    """

    name: str
    algorithm: str
    call: str
    library: dict[str, Any]
    scenarios: tuple[str, ...]
    notes: str = ""
    options: dict[str, Any] = dataclasses.field(default_factory=dict)


def library(cls: str, convention: str, lr: Any, **kwargs: Any) -> dict[str, Any]:
    """The ``"library"`` field: our class and its keyword arguments (``lr`` first, convention last).

    Parameters
    ----------
    cls : str
        ``"Adam"``, ``"AMSGrad"``, ``"Adamax"`` or ``"SGD"``.
    convention : str
        The library convention reproducing the framework.
    lr : float or dict
        The learning rate, or ``{"schedule": {"class_name": ..., "config": {...}}}``.
    **kwargs
        The keyword arguments that differ from the convention's defaults.
    """
    return {"class": cls, "kwargs": {"lr": lr, **kwargs, "convention": convention}}


def to_nested(values: Sequence[Any], dtype: np.dtype) -> list[Any]:
    """Arrays as nested lists of Python floats holding exactly the ``dtype`` values.

    Raises ``ValueError`` on a non-finite value (JSON cannot hold it).
    """
    out = []
    for value in values:
        arr = np.asarray(value).astype(dtype, copy=False)
        if not np.all(np.isfinite(arr)):
            raise ValueError("non-finite value in a trajectory")
        out.append(arr.tolist())
    return out


def _trajectories(result: dict[str, Any], dtype: np.dtype) -> dict[str, Any]:
    """Convert every ``*trajectory`` entry of a runner result (steps of lists of arrays)."""
    out = {}
    for key, steps in result.items():
        if key.endswith("trajectory"):
            out[key] = [to_nested(step, dtype) for step in steps]
        else:
            out[key] = result[key]
    return out


def run_specs(framework: str, specs: Sequence[Spec], scenarios: dict[str, dict[str, Any]],
              runner: Callable[[Spec, dict[str, Any]], dict[str, Any]]) -> tuple[list[dict], list[dict]]:
    """Run every spec on each of its scenarios.

    Parameters
    ----------
    framework : str
        Prefix of the case ids.
    specs : sequence of Spec
        The cases to produce.
    scenarios : dict
        Scenario dictionaries by name (as written to ``scenarios.json``).
    runner : callable
        ``runner(spec, scenario) -> {"trajectory": ..., ...}``.

    Returns
    -------
    cases : list of dict
        The case dictionaries, in spec order then scenario order.
    failures : list of dict
        ``{"id": ..., "reason": ...}`` for each case the framework could not produce.
    """
    cases, failures, seen = [], [], set()
    for spec in specs:
        for name in spec.scenarios:
            case_id = f"{framework}/{spec.name}/{name}"
            if case_id in seen:
                raise ValueError(f"duplicate case id {case_id}")
            seen.add(case_id)
            scenario = scenarios[name]
            try:
                result = runner(spec, scenario)
                extra = _trajectories(result, np.dtype(scenario["dtype"]))
            except Exception as exc:  # a case the framework cannot run is reported, not fatal
                reason = f"{type(exc).__name__}: {exc}".strip()
                print(f"  [{framework}] {case_id} FAILED: {reason}")
                traceback.print_exc()
                failures.append({"id": case_id, "reason": reason[:500]})
                continue
            case = {
                "id": case_id,
                "scenario": name,
                "algorithm": spec.algorithm,
                "framework_call": spec.call,
                "library": spec.library,
                "dtype": scenario["dtype"],
            }
            if "sparse" in scenario:
                case["gradient_input"] = "indexed_slices" if spec.options.get("sparse") else "dense"
            case.update(extra)
            if spec.notes:
                case["notes"] = spec.notes
            cases.append(case)
    return cases, failures


def compare_sparse(case: dict[str, Any], dense_trajectory: list[list[np.ndarray]],
                   scenario: dict[str, Any]) -> dict[str, Any]:
    """How a run fed with ``IndexedSlices`` relates to the run fed with the dense gradients.

    Parameters
    ----------
    case : dict
        The case of the sparse run (its ``"trajectory"`` as nested lists).
    dense_trajectory : list
        The same configuration run on the scenario's dense ``grads``.
    scenario : dict
        The scenario (with its ``"sparse"`` row lists).

    Returns
    -------
    dict
        ``dense_equivalent`` (bool: bit-identical to the dense run), ``rows_differing_from_dense``
        (per parameter, the rows that differ at some step), ``max_abs_difference_from_dense`` and
        ``untouched_rows_move`` (whether a row absent from a step's indices changed at that step, i.e.
        the update is not lazy).
    """
    sparse_traj = [[np.asarray(p) for p in step] for step in case["trajectory"]]
    init = [np.asarray(p) for p in scenario["params"]]
    differing = [sorted({int(r) for step_s, step_d in zip(sparse_traj, dense_trajectory)
                         for r in np.nonzero(np.any((step_s[p] != step_d[p]).reshape(len(step_s[p]), -1), axis=1))[0]})
                 for p in range(len(init))]
    deviation = max(float(np.max(np.abs(step_s[p] - step_d[p])))
                    for step_s, step_d in zip(sparse_traj, dense_trajectory) for p in range(len(init)))
    moves = False
    previous = init
    for step, rows in zip(sparse_traj, scenario["sparse"]):
        for p, spec in enumerate(rows):
            untouched = sorted(set(range(len(init[p]))) - set(spec["indices"]))
            moves |= bool(np.any(step[p][untouched] != previous[p][untouched]))
        previous = step
    return {"dense_equivalent": not any(differing), "rows_differing_from_dense": differing,
            "max_abs_difference_from_dense": deviation, "untouched_rows_move": moves}


def describe_sparse(case: dict[str, Any]) -> tuple[str, str]:
    """Two phrases from :func:`compare_sparse`'s fields: relation to the dense run, and laziness."""
    dev, rows = case["max_abs_difference_from_dense"], case["rows_differing_from_dense"]
    if case["dense_equivalent"]:
        text = "bit-identical to the same run on the dense gradients"
    elif dev < 1e-6:
        text = f"equal to the same run on the dense gradients up to float32 rounding (max |difference| {dev:.2g})"
    else:
        text = f"different from the same run on the dense gradients in the rows {rows} (max |difference| {dev:.3g})"
    lazy = ("not lazy (rows absent from a step's indices still move)" if case["untouched_rows_move"]
            else "lazy (rows absent from a step's indices never move, not even at a step with no rows)")
    return text, lazy


def _float64_models(algorithm: str, scenario: dict[str, Any], lr: float, eps: float,
                    power32: bool = False) -> dict[str, np.ndarray]:
    """Float64 trajectories of the two epsilon placements (default betas, no extras).

    Adam: ``"algorithm1"`` (lr*m_hat/(sqrt(v_hat)+eps)) and ``"epsilon_hat"``
    (lr*sqrt(1-b2^t)/(1-b1^t)*m/(sqrt(v)+eps)). Adamax: ``"inside_max"`` (u = max(b2*u, |g|+eps))
    and ``"denominator"`` (m/(u+eps)). With ``power32`` the bias corrections ``1 - b**t`` are
    computed in float32 from ``float32(b)``. Parameters are concatenated into one flat vector.
    """
    b1, b2 = 0.9, 0.999
    x0 = np.concatenate([np.ravel(p) for p in scenario["params"]]).astype(np.float64)
    grads = [np.concatenate([np.ravel(g) for g in step]).astype(np.float64) for step in scenario["grads"]]
    forms = ("inside_max", "denominator") if algorithm == "Adamax" else ("algorithm1", "epsilon_hat")
    f = np.float32

    def bc(b: float, t: int) -> float:
        return float(f(1) - f(b) ** f(t)) if power32 else 1 - b**t

    out = {}
    for form in forms:
        x, m, v, traj = x0.copy(), np.zeros_like(x0), np.zeros_like(x0), []
        for t, g in enumerate(grads, start=1):
            m = b1 * m + (1 - b1) * g
            if form == "inside_max":
                v = np.maximum(b2 * v, np.abs(g) + eps)
                x = x - lr / bc(b1, t) * m / v
            elif form == "denominator":
                v = np.maximum(b2 * v, np.abs(g))
                x = x - lr / bc(b1, t) * m / (v + eps)
            else:
                v = b2 * v + (1 - b2) * g * g
                if form == "algorithm1":
                    x = x - lr * (m / bc(b1, t)) / (np.sqrt(v / bc(b2, t)) + eps)
                else:
                    x = x - lr * np.sqrt(bc(b2, t)) / bc(b1, t) * m / (np.sqrt(v) + eps)
            traj.append(x)
        out[form] = np.asarray(traj)
    return out


def _flat(case: dict[str, Any]) -> np.ndarray:
    """A case's trajectory as one row per step of all parameters' values."""
    return np.asarray([np.concatenate([np.ravel(p) for p in step]) for step in case["trajectory"]])


def power_precision(case: dict[str, Any], scenario: dict[str, Any], lr: float, eps: float, form: str) -> str:
    """A sentence comparing a plain Adam run with float64 models whose ``1 - b**t`` is double or float32."""
    devs = [float(np.max(np.abs(_float64_models("Adam", scenario, lr, eps, p32)[form] - _flat(case))))
            for p32 in (False, True)]
    closer = "float32" if devs[1] < devs[0] else "double"
    return (f"{case['framework_call']} on '{case['scenario']}' is closer to a model with {closer} bias corrections: "
            f"max |difference| {devs[0]:.2g} with double 1-b**t, {devs[1]:.2g} with 1-b**t in float32 from "
            "float32(b).")


def epsilon_form(case: dict[str, Any], scenario: dict[str, Any], lr: float, eps: float) -> tuple[str, str]:
    """Which epsilon placement a case follows: the placement's name and a sentence with the evidence.

    ``case`` must be a plain Adam or Adamax run (default betas) with learning rate ``lr`` and
    epsilon ``eps``; its trajectory is compared with the float64 models of both placements.
    """
    traj = _flat(case)
    deviations = {form: float(np.max(np.abs(model - traj)))
                  for form, model in _float64_models(case["algorithm"], scenario, lr, eps).items()}
    best = min(deviations, key=deviations.get)
    shown = ", ".join(f"{form} {dev:.2g}" for form, dev in deviations.items())
    return best, (f"{case['framework_call']} on '{case['scenario']}' follows the '{best}' epsilon placement "
                  f"(max |difference| from float64 models: {shown}).")


def indexed_slices(step: list[np.ndarray], scenario: dict[str, Any], s: int) -> list[Any]:
    """Step ``s`` of the sparse scenario as ``tf.IndexedSlices`` (its listed rows and values, repeats kept)."""
    import tensorflow as tf

    out = []
    for g, rows in zip(step, scenario["sparse"][s]):
        values = np.asarray(rows["values"], dtype=scenario["dtype"]).reshape((-1, *g.shape[1:]))
        out.append(tf.IndexedSlices(tf.constant(values), tf.constant(rows["indices"], dtype=tf.int64),
                                    tf.constant(g.shape, dtype=tf.int64)))
    return out
