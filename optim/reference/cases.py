"""The reference folder of ``python -m optim verify``: its files read and checked before any comparison.

A reference folder holds ``scenarios.json`` (the inputs: initial parameters and
the gradients of every step) and one file per framework (``torch.json``, ...)
whose cases name a scenario, the library configuration that should reproduce the
framework, and the framework's trajectory. :func:`load_reference` reads them and
checks every entry the comparison reads, so that a missing folder, a file that
is not JSON or a case without a trajectory is refused with a message naming the
file and the case (:class:`ReferenceFileError`), never met half-way through a run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import optim
from optim import lr_scheduler

__all__ = ["CLASSES", "COMPANION_FILES", "FRAMEWORKS", "SCHEDULERS", "TOLERANCES", "ReferenceFileError",
           "load_reference"]

#: The frameworks whose outputs ``tools/generate_reference.py`` records.
FRAMEWORKS = ("torch", "keras", "tf_keras_legacy", "optax", "mindspore", "capreolus")
#: The further files of a framework (``<name>.json``, whose document names that framework), by generator name.
COMPANION_FILES = {"torch": ("torch_schedulers",), "keras": ("keras_schedules",)}
#: The optimizer classes a case's ``"library"`` entry may name.
CLASSES = {"Adam": optim.Adam, "AMSGrad": optim.AMSGrad, "Adamax": optim.Adamax, "SGD": optim.SGD}
#: The learning-rate schedulers a case's ``"library"`` entry may add under ``"scheduler"`` (torch_schedulers.json).
SCHEDULERS = {cls.__name__: cls for cls in (lr_scheduler.StepLR, lr_scheduler.ExponentialLR,
                                            lr_scheduler.CosineAnnealingLR, lr_scheduler.LinearLR,
                                            lr_scheduler.OneCycleLR)}
#: The relative tolerance for each dtype a scenario may have: a value passes when it is within this fraction of the
#: larger of its own magnitude and the largest magnitude of its array at that step (explained in
#: :mod:`optim.cli.verify`).
TOLERANCES = {"float32": 1e-6, "float64": 1e-12}
SCENARIO_ENTRIES = {"name": str, "dtype": str, "params": list, "grads": list}
CASE_ENTRIES = {"id": str, "scenario": str, "algorithm": str, "library": dict, "trajectory": list}


class ReferenceFileError(ValueError):
    """A reference folder that cannot be checked: missing or malformed files, or no case of what was asked for."""


def load_reference(directory: Path) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """The scenarios by name, and every framework file in ``directory``.

    Raises
    ------
    ReferenceFileError
        When ``directory`` has no ``scenarios.json`` or no framework file, or a
        file is not JSON or lacks an entry that the comparison reads.
    """
    scenarios_file = directory / "scenarios.json"
    if not scenarios_file.is_file():
        raise ReferenceFileError(f"the reference folder {directory} has no scenarios.json")
    scenario_list = _read_json(scenarios_file).get("scenarios")
    if not isinstance(scenario_list, list) or not scenario_list:
        raise ReferenceFileError(f"{scenarios_file}: expected a non-empty list 'scenarios'")
    for index, scenario in enumerate(scenario_list):
        missing = _missing_entries(scenario, SCENARIO_ENTRIES)
        if missing:
            raise ReferenceFileError(f"{scenarios_file}: scenario {index}: missing or malformed entries {missing}")
        if scenario["dtype"] not in TOLERANCES:
            raise ReferenceFileError(f"{scenarios_file}: scenario {scenario['name']!r}: dtype {scenario['dtype']!r} "
                                     f"is not one of {sorted(TOLERANCES)}")
    scenarios = {scenario["name"]: scenario for scenario in scenario_list}
    paths = [path for path in sorted(directory.glob("*.json")) if path.name != "scenarios.json"]
    if not paths:
        raise ReferenceFileError(f"the reference folder {directory} has no framework file (such as torch.json)")
    documents = []
    for path in paths:
        document = _read_json(path)
        problem = _document_problem(document, scenarios)
        if problem:
            raise ReferenceFileError(f"{path}: {problem}")
        documents.append(document)
    return scenarios, documents


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ReferenceFileError(f"cannot read {path}: {error.strerror}") from None
    except ValueError as error:  # json.JSONDecodeError, UnicodeDecodeError
        raise ReferenceFileError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise ReferenceFileError(f"{path}: expected a JSON object, got {type(document).__name__}")
    return document


def _missing_entries(entry: Any, expected: dict[str, type]) -> list[str]:
    """The keys of ``expected`` that ``entry`` lacks or holds with another type."""
    if not isinstance(entry, dict):
        return sorted(expected)
    return [key for key, kind in expected.items() if not isinstance(entry.get(key), kind)]


def _document_problem(document: dict[str, Any], scenarios: dict[str, dict[str, Any]]) -> str | None:
    """What keeps a framework file from being compared, in words, or None."""
    if not isinstance(document.get("framework"), str) or not isinstance(document.get("cases"), list):
        return "expected a 'framework' name and a list of 'cases'"
    for index, case in enumerate(document["cases"]):
        missing = _missing_entries(case, CASE_ENTRIES)
        if missing:
            return f"case {index}: missing or malformed entries {missing}"
        scenario = scenarios.get(case["scenario"])
        if scenario is None:
            return f"case {case['id']}: unknown scenario {case['scenario']!r}"
        if case["library"].get("class") not in CLASSES or not isinstance(case["library"].get("kwargs"), dict):
            return f"case {case['id']}: 'library' needs a 'class' among {sorted(CLASSES)} and a dict 'kwargs'"
        if len(case["trajectory"]) != len(scenario["grads"]):
            return f"case {case['id']}: {len(case['trajectory'])} steps, its scenario has {len(scenario['grads'])}"
        problem = _scheduler_problem(case, len(scenario["grads"]))
        if problem:
            return f"case {case['id']}: {problem}"
    return None


def _scheduler_problem(case: dict[str, Any], steps: int) -> str | None:
    """What is wrong with a case's scheduler and its recorded rates, in words, or None (also without a scheduler)."""
    scheduler = case["library"].get("scheduler")
    if scheduler is None:
        return None
    if not isinstance(scheduler, dict) or scheduler.get("class") not in SCHEDULERS or not isinstance(
            scheduler.get("kwargs"), dict):
        return f"'library']['scheduler'] needs a 'class' among {sorted(SCHEDULERS)} and a dict 'kwargs'"
    for key in ("lrs", "beta1s"):
        if key == "lrs" or key in case:
            recorded = case.get(key)
            if not isinstance(recorded, list) or len(recorded) != steps:
                return f"a case with a scheduler needs {key!r}, a list of {steps} steps"
    return None
