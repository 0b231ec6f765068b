"""PyTorch cases: ``torch.optim.Adam`` / ``AdamW`` / ``Adamax`` / ``SGD`` (library convention ``"pytorch"``).

Runs on CPU with the default implementation (single-tensor for-loop path: ``foreach`` is chosen by
default only for accelerator tensors, ``fused`` only on request).
"""

from __future__ import annotations

from typing import Any

from reference.common import Spec, epsilon_form, library, power_precision, run_specs
from reference.scenarios import scenario_arrays
from reference.slots import slot_trajectories, torch_slots

FRAMEWORK = "torch"
CONVENTION = "pytorch"
DENSE = ("discriminating", "random")
DENSE_F64 = ("discriminating", "random", "random_f64")


def _lib(cls: str, **kwargs: Any) -> dict[str, Any]:
    return library(cls, CONVENTION, **kwargs)


def specs() -> list[Spec]:
    """The PyTorch configurations and the scenarios each runs on."""
    adam, adamax = "torch.optim.Adam(params, lr=0.1", "torch.optim.Adamax(params, lr=0.1"
    return [
        Spec("adam", "Adam", adam + ")", _lib("Adam", lr=0.1), DENSE_F64),
        Spec("adam_amsgrad", "AMSGrad", adam + ", amsgrad=True)", _lib("Adam", lr=0.1, amsgrad=True), DENSE_F64),
        Spec("adam_eps0.1", "Adam", adam + ", eps=0.1)", _lib("Adam", lr=0.1, eps=0.1), DENSE),
        Spec("adam_amsgrad_eps0.1", "AMSGrad", adam + ", eps=0.1, amsgrad=True)",
             _lib("Adam", lr=0.1, eps=0.1, amsgrad=True), DENSE),
        Spec("adam_l2_wd0.1", "Adam", adam + ", weight_decay=0.1)", _lib("Adam", lr=0.1, weight_decay=0.1), DENSE,
             notes="L2 (coupled) weight decay: g + weight_decay * param."),
        Spec("adamw_wd0.1", "Adam", "torch.optim.AdamW(params, lr=0.1, weight_decay=0.1)",
             _lib("Adam", lr=0.1, weight_decay=0.1, decoupled_weight_decay=True), DENSE_F64,
             notes="Decoupled weight decay: param *= 1 - lr * weight_decay before the Adam step."),
        Spec("adamw_amsgrad_wd0.1", "AMSGrad", "torch.optim.AdamW(params, lr=0.1, weight_decay=0.1, amsgrad=True)",
             _lib("Adam", lr=0.1, weight_decay=0.1, amsgrad=True, decoupled_weight_decay=True), DENSE),
        Spec("adam_maximize", "Adam", adam + ", maximize=True)", _lib("Adam", lr=0.1, maximize=True), DENSE),
        Spec("adam_l2_wd0.1_maximize", "Adam", adam + ", weight_decay=0.1, maximize=True)",
             _lib("Adam", lr=0.1, weight_decay=0.1, maximize=True), DENSE,
             notes="maximize negates the gradient before the L2 term is added."),
        Spec("adamax", "Adamax", adamax + ")", _lib("Adamax", lr=0.1), DENSE_F64),
        Spec("adamax_eps0.1", "Adamax", adamax + ", eps=0.1)", _lib("Adamax", lr=0.1, eps=0.1), DENSE),
        Spec("adamax_l2_wd0.1", "Adamax", adamax + ", weight_decay=0.1)",
             _lib("Adamax", lr=0.1, weight_decay=0.1), DENSE, notes="L2 (coupled) weight decay."),
        Spec("adamax_maximize", "Adamax", adamax + ", maximize=True)", _lib("Adamax", lr=0.1, maximize=True), DENSE),
        *sgd_specs(),
    ]


def sgd_specs() -> list[Spec]:
    """``torch.optim.SGD``: plain, with momentum, dampening, Nesterov, L2 weight decay and maximize."""
    sgd = "torch.optim.SGD(params, lr=0.1"
    momentum = {"lr": 0.1, "momentum": 0.9}
    return [
        Spec("sgd", "SGD", sgd + ")", _lib("SGD", lr=0.1), DENSE_F64,
             notes="param.add_(grad, alpha=-lr): one fused multiply-add per element."),
        Spec("sgd_momentum0.9", "SGD", sgd + ", momentum=0.9)", _lib("SGD", **momentum), DENSE_F64,
             notes="The buffer starts as the first gradient, then b = momentum * b + (1 - dampening) * g."),
        Spec("sgd_momentum0.9_dampening0.5", "SGD", sgd + ", momentum=0.9, dampening=0.5)",
             _lib("SGD", **momentum, dampening=0.5), DENSE),
        Spec("sgd_nesterov", "SGD", sgd + ", momentum=0.9, nesterov=True)", _lib("SGD", **momentum, nesterov=True),
             DENSE_F64),
        Spec("sgd_momentum0.9_l2_wd0.1", "SGD", sgd + ", momentum=0.9, weight_decay=0.1)",
             _lib("SGD", **momentum, weight_decay=0.1), DENSE,
             notes="L2 (coupled) weight decay: g + weight_decay * param."),
        Spec("sgd_nesterov_l2_wd0.1_maximize", "SGD", sgd + ", momentum=0.9, weight_decay=0.1, nesterov=True, "
             "maximize=True)", _lib("SGD", **momentum, weight_decay=0.1, nesterov=True, maximize=True), DENSE),
    ]


def _runner(spec: Spec, scenario: dict[str, Any]) -> dict[str, Any]:
    """Evaluate ``spec.call`` on leaf tensors and apply every step's gradients through ``.grad``."""
    import torch

    init, grads = scenario_arrays(scenario)
    params = [torch.tensor(p, requires_grad=True) for p in init]
    opt = eval(spec.call, {"torch": torch, "params": params})  # the recorded call, verbatim
    trajectory, slots = [], []
    for step in grads:
        for p, g in zip(params, step):
            p.grad = torch.tensor(g)
        opt.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
        slots.append(torch_slots(opt, params, spec.algorithm))
    return {"trajectory": trajectory, **slot_trajectories(slots)}


def _max_diff(a: list, b: list) -> str:
    """``"bit-identical"`` or the largest absolute difference between two trajectories."""
    diff = max(float(abs(x - y).max()) for sa, sb in zip(a, b) for x, y in zip(sa, sb))
    return "bit-identical" if diff == 0.0 else f"max |difference| {diff:.2g}"


def _implementation_facts(scenario: dict[str, Any]) -> list[str]:
    """Compare the recorded (default) implementation with AdamW's spelling and with the fused CPU kernel."""
    def run(call: str) -> list:
        return _runner(Spec("probe", "Adam", call, {}, ()), scenario)["trajectory"]

    name = scenario["name"]
    adamw = run("torch.optim.AdamW(params, lr=0.1, weight_decay=0.1)")
    decoupled = run("torch.optim.Adam(params, lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)")
    facts = [f"AdamW(params, lr=0.1, weight_decay=0.1) vs Adam(..., weight_decay=0.1, decoupled_weight_decay=True) "
             f"on '{name}': {_max_diff(adamw, decoupled)}."]
    for extra in ("", ", amsgrad=True", ", weight_decay=0.1"):
        default = run(f"torch.optim.Adam(params, lr=0.1{extra})")
        fused = run(f"torch.optim.Adam(params, lr=0.1{extra}, fused=True)")
        facts.append(f"Adam(params, lr=0.1{extra}): default (single-tensor) vs fused=True CPU kernel on '{name}': "
                     f"{_max_diff(default, fused)}.")
    return facts


def generate(scenarios: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Run every case; return versions, facts, cases and failures."""
    import numpy as np
    import torch

    torch.manual_seed(0)
    cases, failures = run_specs(FRAMEWORK, specs(), scenarios, _runner)
    by_id = {case["id"]: case for case in cases}
    disc = scenarios["discriminating"]
    facts = ["Run on CPU with the default single-tensor (for-loop) implementation; the cases use no fused/foreach "
             "option."]
    facts += [epsilon_form(by_id[f"torch/{name}/discriminating"], disc, 0.1, 0.1)[1]
              for name in ("adam_eps0.1", "adamax_eps0.1")]
    facts.append(power_precision(by_id["torch/adam/random"], scenarios["random"], 0.1, 1e-08, "algorithm1"))
    facts += _implementation_facts(scenarios["random"])
    return {
        "versions": {"torch": torch.__version__, "numpy": np.__version__},
        "facts": facts,
        "cases": cases,
        "failures": failures,
    }
