"""Keras 3 ``CosineDecayRestarts`` cases (library ``optim.schedules.CosineDecayRestarts``, convention ``"keras"``).

Run by ``tools/generate_reference.py`` with ``KERAS_BACKEND=jax`` and written to ``keras_schedules.json`` (with
``framework`` "keras"). Each case is a Keras ``Adam`` or ``Adamax`` whose learning rate is the schedule; besides
the trajectory it records ``schedule_values``: the schedule's float32 value at the steps 0 to 59, called as the
optimizer calls it (on an int64 step), so that the tests can compare the schedule alone, value by value.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.common import Spec, run_specs
from reference.keras_cases import _lib, _runner, _schedule, _versions

FRAMEWORK = "keras"
STEPS = 60
# name -> (Keras optimizer class, schedule expression, scenarios)
CONFIGURATIONS = {
    "adam_cosine_restarts": ("Adam", "CosineDecayRestarts(0.1, 3, t_mul=2.0, m_mul=0.8, alpha=0.1)",
                             ("discriminating", "random")),
    "adam_cosine_restarts_tmul1": ("Adam", "CosineDecayRestarts(0.1, 4, t_mul=1.0, m_mul=0.5)", ("random",)),
    "adam_cosine_restarts_tmul1.5": ("Adam", "CosineDecayRestarts(0.05, 2, t_mul=1.5)", ("random",)),
    "adamax_cosine_restarts_tmul3": ("Adamax", "CosineDecayRestarts(0.1, 5, t_mul=3.0, m_mul=0.9, alpha=0.05)",
                                     ("random",)),
}


def specs() -> list[Spec]:
    """One Spec per configuration."""
    out = []
    for name, (cls, expr, scenarios) in CONFIGURATIONS.items():
        call = f"keras.optimizers.{cls}(learning_rate=keras.optimizers.schedules.{expr})"
        out.append(Spec(name, cls, call, _lib(cls, _schedule(expr)), scenarios,
                        notes="The schedule is evaluated at the 0-based iteration count, in float32."))
    return out


def _schedule_values(expr: str) -> list[float]:
    """The schedule at the int64 steps 0 .. STEPS - 1, as Keras computes it (float32 values as Python floats)."""
    import keras

    schedule = eval("keras.optimizers.schedules." + expr, {"keras": keras})
    values = []
    for step in range(STEPS):
        value = np.asarray(keras.ops.convert_to_numpy(schedule(keras.ops.convert_to_tensor(step, dtype="int64"))))
        if value.dtype != np.float32:
            raise TypeError(f"{expr} at step {step} gave {value.dtype}, not float32")
        values.append(float(value))
    return values


def generate(scenarios: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Run every case and record each schedule's values; return versions, facts, cases and failures."""
    cases, failures = run_specs(FRAMEWORK, specs(), scenarios, _runner)
    values = {name: _schedule_values(expr) for name, (_, expr, _) in CONFIGURATIONS.items()}
    for case in cases:
        case["schedule_values"] = values[case["id"].split("/")[1]]
    facts = ["CosineDecayRestarts computes in float32 (the dtype of its initial_learning_rate tensor); "
             f"schedule_values holds its value at the steps 0 to {STEPS - 1}."]
    return {"versions": _versions(), "facts": facts, "cases": cases, "failures": failures}
