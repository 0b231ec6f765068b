"""PyTorch learning-rate scheduler cases: ``torch.optim.lr_scheduler`` over ``torch.optim.Adam`` / ``AdamW`` /
``Adamax`` (library convention ``"pytorch"``, :mod:`optim.lr_scheduler`).

Each case runs the optimizer on a scenario and calls ``scheduler.step()`` after every ``optimizer.step()``.
Besides the trajectory it records ``lrs`` (every group's ``"lr"`` after each scheduler step, as the Python
floats torch computed; the replay compares them bit for bit) and, for ``OneCycleLR`` with ``cycle_momentum``,
``beta1s`` (each group's beta1 after each step). Written to ``torch_schedulers.json`` with ``framework`` "torch".
"""

from __future__ import annotations

from typing import Any

from reference.common import Spec, library, run_specs
from reference.scenarios import scenario_arrays

FRAMEWORK = "torch"
SCENARIOS = ("random", "random_f64")

# name -> (algorithm, optimizer call, library class and kwargs, scheduler call, our scheduler class and kwargs)
CONFIGURATIONS: dict[str, tuple[str, str, dict[str, Any], str, dict[str, Any]]] = {
    "adam_steplr": ("Adam", "torch.optim.Adam(params, lr=0.1)", {"class": "Adam", "lr": 0.1},
                    "StepLR(optimizer, step_size=5, gamma=0.5)",
                    {"class": "StepLR", "kwargs": {"step_size": 5, "gamma": 0.5}}),
    "adam_exponentiallr": ("Adam", "torch.optim.Adam(params, lr=0.1)", {"class": "Adam", "lr": 0.1},
                           "ExponentialLR(optimizer, gamma=0.9)",
                           {"class": "ExponentialLR", "kwargs": {"gamma": 0.9}}),
    "adamw_cosineannealinglr": (
        "Adam", "torch.optim.AdamW(params, lr=0.1, weight_decay=0.1)",
        {"class": "Adam", "lr": 0.1, "weight_decay": 0.1, "decoupled_weight_decay": True},
        "CosineAnnealingLR(optimizer, T_max=10, eta_min=0.001)",
        {"class": "CosineAnnealingLR", "kwargs": {"T_max": 10, "eta_min": 0.001}}),
    "adam_linearlr": ("Adam", "torch.optim.Adam(params, lr=0.1)", {"class": "Adam", "lr": 0.1},
                      "LinearLR(optimizer, start_factor=0.25, end_factor=1.0, total_iters=8)",
                      {"class": "LinearLR", "kwargs": {"start_factor": 0.25, "end_factor": 1.0, "total_iters": 8}}),
    "adam_onecyclelr": ("Adam", "torch.optim.Adam(params, lr=0.1)", {"class": "Adam", "lr": 0.1},
                        "OneCycleLR(optimizer, max_lr=0.2, total_steps=30)",
                        {"class": "OneCycleLR", "kwargs": {"max_lr": 0.2, "total_steps": 30}}),
    "adamax_onecyclelr_linear_three_phase": (
        "Adamax", "torch.optim.Adamax(params, lr=0.1)", {"class": "Adamax", "lr": 0.1},
        "OneCycleLR(optimizer, max_lr=0.2, total_steps=30, anneal_strategy='linear', three_phase=True)",
        {"class": "OneCycleLR", "kwargs": {"max_lr": 0.2, "total_steps": 30, "anneal_strategy": "linear",
                                           "three_phase": True}}),
    "amsgrad_onecyclelr_no_momentum": (
        "AMSGrad", "torch.optim.Adam(params, lr=0.1, amsgrad=True)", {"class": "Adam", "lr": 0.1, "amsgrad": True},
        "OneCycleLR(optimizer, max_lr=0.1, total_steps=30, pct_start=0.25, cycle_momentum=False)",
        {"class": "OneCycleLR", "kwargs": {"max_lr": 0.1, "total_steps": 30, "pct_start": 0.25,
                                           "cycle_momentum": False}}),
}


def specs() -> list[Spec]:
    """One Spec per configuration; ``call`` holds both statements, which the runner executes verbatim."""
    out = []
    for name, (algorithm, optimizer_call, ours, scheduler_call, scheduler) in CONFIGURATIONS.items():
        kwargs = {key: value for key, value in ours.items() if key not in ("class", "lr")}
        lib = {**library(ours["class"], "pytorch", ours["lr"], **kwargs), "scheduler": scheduler}
        call = f"optimizer = {optimizer_call}; scheduler = torch.optim.lr_scheduler.{scheduler_call}"
        out.append(Spec(name, algorithm, call, lib, SCENARIOS,
                        notes="scheduler.step() after every optimizer.step(); lrs holds each group's lr after it."))
    return out


def _runner(spec: Spec, scenario: dict[str, Any]) -> dict[str, Any]:
    """Execute ``spec.call`` on leaf tensors; step the optimizer, then the scheduler, recording the rates."""
    import torch

    init, grads = scenario_arrays(scenario)
    params = [torch.tensor(p, requires_grad=True) for p in init]
    namespace: dict[str, Any] = {"torch": torch, "params": params}
    exec(spec.call, namespace)  # the recorded statements, verbatim
    optimizer, scheduler = namespace["optimizer"], namespace["scheduler"]
    trajectory, lrs, beta1s = [], [], []
    for step in grads:
        for p, g in zip(params, step):
            p.grad = torch.tensor(g)
        optimizer.step()
        scheduler.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
        lrs.append([group["lr"] for group in optimizer.param_groups])
        beta1s.append([group["betas"][0] for group in optimizer.param_groups])
    result: dict[str, Any] = {"trajectory": trajectory, "lrs": lrs}
    if getattr(scheduler, "cycle_momentum", False):
        result["beta1s"] = beta1s
    return result


def generate(scenarios: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Run every case; return versions, facts, cases and failures."""
    import numpy as np
    import torch

    cases, failures = run_specs(FRAMEWORK, specs(), scenarios, _runner)
    facts = ["Run on CPU with the default single-tensor (for-loop) optimizer implementation; the scheduler's "
             "rates are Python floats, recorded with repr (exact)."]
    return {
        "versions": {"torch": torch.__version__, "numpy": np.__version__},
        "facts": facts,
        "cases": cases,
        "failures": failures,
    }
