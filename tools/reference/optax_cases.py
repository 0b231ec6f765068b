"""Optax cases: ``optax.adam`` / ``adamw`` / ``amsgrad`` / ``adamax`` / ``adamaxw`` (library convention ``"optax"``).

Each step is ``updates, state = tx.update(grads, state, params)`` then ``optax.apply_updates``, run
eagerly on CPU (not under ``jax.jit``), on a list of ``jax.numpy`` arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.common import Spec, epsilon_form, library, power_precision, run_specs
from reference.scenarios import scenario_arrays
from reference.slots import optax_slots, slot_trajectories

FRAMEWORK = "optax"
CONVENTION = "optax"
DENSE = ("discriminating", "random")


def _lib(cls: str, lr: Any, **kwargs: Any) -> dict[str, Any]:
    return library(cls, CONVENTION, lr, **kwargs)


def specs() -> list[Spec]:
    """The Optax configurations and their scenarios."""
    exponential = {"schedule": {"class_name": "ExponentialDecay", "config": {
        "initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5, "staircase": False}}}
    return [
        Spec("adam", "Adam", "optax.adam(0.1)", _lib("Adam", 0.1), DENSE),
        Spec("adam_eps0.1", "Adam", "optax.adam(0.1, eps=0.1)", _lib("Adam", 0.1, eps=0.1), DENSE),
        Spec("adamw_wd0.1", "Adam", "optax.adamw(0.1, weight_decay=0.1)",
             _lib("Adam", 0.1, weight_decay=0.1, decoupled_weight_decay=True), DENSE,
             notes="update = -lr * (adam_update + weight_decay * param)."),
        Spec("amsgrad", "AMSGrad", "optax.amsgrad(0.1)", _lib("AMSGrad", 0.1), DENSE,
             notes="Optax's default AMSGrad takes the maximum of the bias-corrected v."),
        Spec("amsgrad_eps0.1", "AMSGrad", "optax.amsgrad(0.1, eps=0.1)", _lib("AMSGrad", 0.1, eps=0.1), DENSE),
        Spec("amsgrad_no_bias_correction", "AMSGrad",
             "optax.amsgrad(0.1, bias_correction_mu=False, bias_correction_nu=False)",
             _lib("AMSGrad", 0.1, amsgrad_mode="no_bias_correction"), DENSE,
             notes="Reddi et al.'s Algorithm 2 with a constant step: no bias correction, maximum of the raw v. "
                   "Uses the library's amsgrad_mode keyword."),
        Spec("adamax", "Adamax", "optax.adamax(0.1)", _lib("Adamax", 0.1), DENSE),
        Spec("adamax_eps0.1", "Adamax", "optax.adamax(0.1, eps=0.1)", _lib("Adamax", 0.1, eps=0.1), DENSE),
        Spec("adamaxw_wd0.1", "Adamax", "optax.adamaxw(0.1, weight_decay=0.1)",
             _lib("Adamax", 0.1, weight_decay=0.1, decoupled_weight_decay=True), DENSE,
             notes="update = -lr * (adamax_update + weight_decay * param)."),
        Spec("adam_exponential_decay", "Adam", "optax.adam(optax.exponential_decay(0.1, 2, 0.5))",
             _lib("Adam", exponential), DENSE,
             notes="optax.exponential_decay(init_value=0.1, transition_steps=2, decay_rate=0.5) is "
                   "0.1 * 0.5**(count / 2) with count = 0 at the first update: Keras's ExponentialDecay(0.1, 2, 0.5)."),
        Spec("adam_eps_root1e-3", "Adam", "optax.adam(0.1, eps_root=1e-3)", _lib("Adam", 0.1, eps_root=1e-3), DENSE,
             notes="eps_root goes inside the square root: m_hat / (sqrt(v_hat + eps_root) + eps)."),
        Spec("adam_nesterov", "Adam", "optax.adam(0.1, nesterov=True)", _lib("Adam", 0.1, nesterov=True), DENSE,
             notes="scale_by_adam(nesterov=True): m_hat = b1 m / (1 - b1^(t+1)) + (1 - b1) g / (1 - b1^t)."),
        Spec("nadam", "Adam", "optax.nadam(0.1)", _lib("Adam", 0.1, nesterov=True), DENSE,
             notes="optax.nadam is optax.adam with nesterov=True."),
        Spec("adamw_wd0.1_nesterov_eps_root1e-4", "Adam",
             "optax.adamw(0.1, weight_decay=0.1, eps_root=1e-4, nesterov=True)",
             _lib("Adam", 0.1, weight_decay=0.1, decoupled_weight_decay=True, eps_root=1e-4, nesterov=True), DENSE),
        Spec("amsgrad_eps_root1e-3", "AMSGrad", "optax.amsgrad(0.1, eps_root=1e-3)",
             _lib("AMSGrad", 0.1, eps_root=1e-3), DENSE,
             notes="eps_root goes inside the square root of the running maximum of v_hat."),
    ]


def x64_specs() -> list[Spec]:
    """Float64 configurations (JAX with x64 enabled, the only way JAX holds float64): Optax computes the bias
    corrections in float64 there (the library's ``power_dtype="float32_or_wider"``)."""
    f64 = ("random_f64",)
    notes = "JAX_ENABLE_X64=1: float64 parameters, gradients and bias corrections."
    return [
        Spec("adam_x64", "Adam", "optax.adam(0.1)", _lib("Adam", 0.1), f64, notes),
        Spec("amsgrad_x64", "AMSGrad", "optax.amsgrad(0.1)", _lib("AMSGrad", 0.1), f64, notes),
        Spec("adamw_wd0.1_x64", "Adam", "optax.adamw(0.1, weight_decay=0.1)",
             _lib("Adam", 0.1, weight_decay=0.1, decoupled_weight_decay=True), f64, notes),
        Spec("adamax_x64", "Adamax", "optax.adamax(0.1)", _lib("Adamax", 0.1), f64, notes),
    ]


def _runner(spec: Spec, scenario: dict[str, Any]) -> dict[str, Any]:
    """Evaluate ``spec.call`` (a GradientTransformation) and apply every step's gradients."""
    import jax.numpy as jnp
    import optax

    init, grads = scenario_arrays(scenario)
    params = [jnp.asarray(p) for p in init]
    if any(p.dtype != init[0].dtype for p in params):
        raise TypeError("JAX changed the parameter dtype (enable x64 for float64)")
    tx = eval(spec.call, {"optax": optax})  # the recorded call, verbatim
    state = tx.init(params)
    trajectory, slots = [], []
    for step in grads:
        updates, state = tx.update([jnp.asarray(g) for g in step], state, params)
        params = optax.apply_updates(params, updates)
        trajectory.append([np.asarray(p).copy() for p in params])
        slots.append(optax_slots(state, spec.algorithm))
    return {"trajectory": trajectory, **slot_trajectories(slots)}


def generate(scenarios: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Run every case; return versions, facts, cases and failures."""
    import jax
    import optax

    cases, failures = run_specs(FRAMEWORK, specs(), scenarios, _runner)
    by_id = {case["id"]: case for case in cases}
    disc = scenarios["discriminating"]
    facts = [epsilon_form(by_id[f"optax/{name}/discriminating"], disc, 0.1, 0.1)[1]
             for name in ("adam_eps0.1", "adamax_eps0.1")]
    facts.append(power_precision(by_id["optax/adam/random"], scenarios["random"], 0.1, 1e-08, "algorithm1"))
    facts.append("Updates computed eagerly (no jax.jit), float32, CPU.")
    return {
        "versions": {"optax": optax.__version__, "jax": jax.__version__, "jaxlib": _jaxlib_version(),
                     "numpy": np.__version__},
        "facts": facts,
        "cases": cases,
        "failures": failures,
    }


def generate_x64(scenarios: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The float64 cases (run with ``JAX_ENABLE_X64=1``)."""
    import jax

    cases, failures = run_specs(FRAMEWORK, x64_specs(), scenarios, _runner)
    facts = [f"With JAX_ENABLE_X64=1 (jax {jax.__version__}) float64 parameters keep float64 moments, and the "
             "bias corrections 1 - decay**count are computed in float64: the cases *_x64 follow the library's "
             "power_dtype='float32_or_wider'."]
    return {"versions": {}, "facts": facts, "cases": cases, "failures": failures}


def _jaxlib_version() -> str:
    try:
        import jaxlib

        return jaxlib.__version__
    except Exception:  # jaxlib is bundled differently in some releases
        return "unknown"
