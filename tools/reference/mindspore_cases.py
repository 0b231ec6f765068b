"""MindSpore cases: ``mindspore.experimental.optim.Adam`` / ``Adamax`` (library convention ``"mindspore"``).

The optimizer is called with a tuple of gradient tensors (``optimizer(grads)``), in the default
execution mode on CPU.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from reference.common import Spec, epsilon_form, library, power_precision, run_specs
from reference.scenarios import scenario_arrays
from reference.slots import mindspore_slots, slot_trajectories

FRAMEWORK = "mindspore"
CONVENTION = "mindspore"
DENSE = ("discriminating", "random")
ADAM = "mindspore.experimental.optim.Adam(params, lr=0.1"
ADAMAX = "mindspore.experimental.optim.Adamax(params, lr=0.1"


def _lib(cls: str, lr: Any, **kwargs: Any) -> dict[str, Any]:
    return library(cls, CONVENTION, lr, **kwargs)


def specs() -> list[Spec]:
    """The MindSpore configurations and their scenarios."""
    return [
        Spec("adam", "Adam", ADAM + ")", _lib("Adam", 0.1), DENSE),
        Spec("adam_amsgrad_ignored", "Adam", ADAM + ", amsgrad=True)", _lib("Adam", 0.1), DENSE,
             notes="amsgrad=True is accepted but ignored in this version: the run equals plain Adam, so the "
                   "library reproduces it WITHOUT amsgrad (see the facts)."),
        Spec("adam_eps0.1", "Adam", ADAM + ", eps=0.1)", _lib("Adam", 0.1, eps=0.1), DENSE),
        Spec("adam_l2_wd0.1", "Adam", ADAM + ", weight_decay=0.1)", _lib("Adam", 0.1, weight_decay=0.1), DENSE,
             notes="L2 (coupled) weight decay: g + weight_decay * param."),
        Spec("adam_maximize", "Adam", ADAM + ", maximize=True)", _lib("Adam", 0.1, maximize=True), DENSE),
        Spec("adamax", "Adamax", ADAMAX + ")", _lib("Adamax", 0.1), DENSE),
        Spec("adamax_eps0.1", "Adamax", ADAMAX + ", eps=0.1)", _lib("Adamax", 0.1, eps=0.1), DENSE),
        Spec("adamax_l2_wd0.1", "Adamax", ADAMAX + ", weight_decay=0.1)",
             _lib("Adamax", 0.1, weight_decay=0.1), DENSE, notes="L2 (coupled) weight decay."),
        Spec("adamax_maximize", "Adamax", ADAMAX + ", maximize=True)", _lib("Adamax", 0.1, maximize=True), DENSE),
    ]


def _runner(spec: Spec, scenario: dict[str, Any]) -> dict[str, Any]:
    """Evaluate ``spec.call`` on ``Parameter`` objects and call the optimizer with each step's gradients."""
    import mindspore

    init, grads = scenario_arrays(scenario)
    params = [mindspore.Parameter(mindspore.Tensor(p), name=f"p{i}") for i, p in enumerate(init)]
    opt = eval(spec.call, {"mindspore": mindspore, "params": params})  # the recorded call, verbatim
    trajectory, slots = [], []
    for step in grads:
        opt(tuple(mindspore.Tensor(g) for g in step))
        trajectory.append([p.asnumpy().copy() for p in params])
        slots.append(mindspore_slots(opt, spec.algorithm))
    return {"trajectory": trajectory, **slot_trajectories(slots)}


def _amsgrad_facts(by_id: dict[str, dict[str, Any]], scenario: dict[str, Any]) -> list[str]:
    """Check, from the runs, the optimizer state and the installed source, that ``amsgrad=True`` changes nothing."""
    import mindspore
    from mindspore.experimental.optim import Adam

    facts = []
    for name in DENSE:
        same = by_id[f"mindspore/adam/{name}"]["trajectory"] == by_id[f"mindspore/adam_amsgrad_ignored/{name}"][
            "trajectory"]
        facts.append(f"MindSpore {mindspore.__version__}: Adam(params, lr=0.1, amsgrad=True) is "
                     f"{'bit-identical to' if same else 'DIFFERENT from'} Adam(params, lr=0.1) on '{name}'.")
    init, grads = scenario_arrays(scenario)
    params = [mindspore.Parameter(mindspore.Tensor(p), name=f"p{i}") for i, p in enumerate(init)]
    opt = Adam(params, lr=0.1, amsgrad=True)
    for step in grads:
        opt(tuple(mindspore.Tensor(g) for g in step))
    vmax = {n: float(np.max(np.abs(p.asnumpy()))) for n, p in opt.parameters_and_names() if "max_exp_avg_sq" in n}
    source = inspect.getsource(Adam.construct) + inspect.getsource(Adam.implementation)
    facts.append(f"With amsgrad=True the optimizer creates the state {sorted(vmax) or 'none'}, whose largest "
                 f"|value| after the '{scenario['name']}' run is {max(vmax.values(), default=float('nan'))}; "
                 f"Adam.construct/implementation {'never mention' if 'amsgrad' not in source else 'mention'} "
                 "'amsgrad' and always call the non-AMSGrad ops.Adam kernel.")
    return facts


def generate(scenarios: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Run every case; return versions, facts (amsgrad ignored, epsilon placements), cases and failures."""
    import mindspore

    cases, failures = run_specs(FRAMEWORK, specs(), scenarios, _runner)
    by_id = {case["id"]: case for case in cases}
    disc = scenarios["discriminating"]
    facts = _amsgrad_facts(by_id, disc)
    adam_form, adam_text = epsilon_form(by_id["mindspore/adam_eps0.1/discriminating"], disc, 0.1, 0.1)
    facts += [adam_text, epsilon_form(by_id["mindspore/adamax_eps0.1/discriminating"], disc, 0.1, 0.1)[1]]
    facts.append(power_precision(by_id["mindspore/adam/random"], scenarios["random"], 0.1, 1e-08, "epsilon_hat"))
    if adam_form != "algorithm1":
        facts.append(f"The experimental Adam's docstring shows the Algorithm-1 formula, but the run follows the "
                     f"'{adam_form}' placement (the code calls ops.Adam).")
    return {
        "versions": {"mindspore": mindspore.__version__, "numpy": np.__version__},
        "facts": facts,
        "cases": cases,
        "failures": failures,
    }
