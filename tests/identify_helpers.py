"""Shared by the tests of ``optim.identify``: trajectories made by the library, the reference cases, run files."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

import minigrad as mg
import optim
from optim.reference import DATA_DIR as DEFAULT_REFERENCE_DIR
from optim.reference.cases import load_reference

ROOT = Path(__file__).resolve().parents[1]


def load_recording_tools() -> Any:
    """tools/recording.py, the recording functions that docs/how-to-identify.md shows."""
    spec = importlib.util.spec_from_file_location("recording", ROOT / "tools" / "recording.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RECORDING = load_recording_tools()


def probe(dtype: Any, steps: int = 40, size: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """An initial parameter (half zeros, half small) and probe gradients on which the choices are observable."""
    grads = RECORDING.probe_gradients((size,), steps, dtype, seed)
    rng = np.random.default_rng(seed + 1)
    initial = np.concatenate([np.zeros(size // 2), rng.standard_normal(size - size // 2) * 0.05]).astype(dtype)
    return initial, grads


def library_trajectory(keywords: dict[str, Any], initial: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """The parameter after every step of the optimizer ``keywords`` describes (``{"class": ..., **kwargs}``)."""
    kwargs = dict(keywords)
    optimizer_class = getattr(optim, kwargs.pop("class"))
    param = mg.tensor(initial.copy(), requires_grad=True)
    optimizer = optimizer_class([param], **kwargs)
    params = []
    for grad in grads:
        optimizer.apply_gradients([(grad, param)])
        params.append(param.data.copy())
    return np.array(params).reshape(grads.shape)


def flatten_steps(steps: list[Any], dtype: Any) -> np.ndarray:
    """A reference case's per-step lists of parameters as one flat vector per step."""
    return np.array([np.concatenate([np.ravel(np.asarray(p, dtype)) for p in step]) for step in steps])


#: The library keywords a reference case may use for identify to replay it: a constant learning rate, the
#: hyperparameters and the formula choices. Schedules, clipping, EMA, accumulation, loss scaling, the legacy
#: decay and row-sparse gradients change the gradients or the learning rate in ways identify does not model.
REPLAYABLE_KEYWORDS = {"lr", "betas", "eps", "weight_decay", "decoupled_weight_decay", "maximize", "amsgrad",
                       "amsgrad_mode", "convention"}


def reference_cases() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Every recorded case: ``(framework, case, scenario)``."""
    scenarios, documents = load_reference(DEFAULT_REFERENCE_DIR)
    return [(document["framework"], case, scenarios[case["scenario"]])
            for document in documents for case in document["cases"]]


def why_not_replayable(case: dict[str, Any]) -> str | None:
    """Why identify cannot replay a case (the options it uses), or None when it can."""
    kwargs = case["library"]["kwargs"]
    if case["library"]["class"] == "SGD":
        return "SGD (identify knows Adam, AMSGrad and Adamax)"
    if isinstance(kwargs["lr"], dict):
        return "a learning-rate schedule"
    if "scheduler" in case["library"]:
        return "a learning-rate scheduler"
    if case.get("gradient_input") == "indexed_slices":
        return "row-sparse gradients"
    extra = sorted(set(kwargs) - REPLAYABLE_KEYWORDS)
    return f"options {extra}" if extra else None


def case_arrays(case: dict[str, Any], scenario: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``initial``, ``grads`` and ``params`` of a case, every parameter of the scenario flattened into one."""
    dtype = np.dtype(scenario["dtype"])
    initial = np.concatenate([np.ravel(np.asarray(p, dtype)) for p in scenario["params"]])
    return initial, flatten_steps(scenario["grads"], dtype), flatten_steps(case["trajectory"], dtype)


def case_hyperparameters(case: dict[str, Any]) -> dict[str, Any]:
    """The keywords of optim.identify for a case: its algorithm and the hyperparameters its run used."""
    kwargs = case["library"]["kwargs"]
    given = {"algorithm": case["algorithm"].lower(), "lr": kwargs["lr"],
             "weight_decay": kwargs.get("weight_decay", 0.0), "maximize": kwargs.get("maximize", False)}
    if "betas" in kwargs:
        given["betas"] = tuple(kwargs["betas"])
    if "eps" in kwargs:
        given["eps"] = kwargs["eps"]
    return given


def write_run(path: Path, initial: np.ndarray, grads: np.ndarray, params: np.ndarray, compressed: bool = False,
              **settings: Any) -> Path:
    """A run file at ``path`` (numpy.savez, or savez_compressed)."""
    save = np.savez_compressed if compressed else np.savez
    save(path, initial=initial, grads=grads, params=params, **settings)
    return path
