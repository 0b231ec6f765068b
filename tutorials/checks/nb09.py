"""Checks for the exercises of ``09-matching-frameworks.ipynb``.

Each check runs the student's function on seeded random inputs and compares it
with the library: :func:`optim.functional.adam_update` for the two steps, and
:func:`optim.identify` for the replay by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import minigrad as mg
import optim
from checks import compare, report
from optim import functional

LR, BETA1, BETA2 = 0.01, 0.9, 0.999


def _random_state(rng: np.random.Generator, size: int = 7) -> tuple[np.ndarray, ...]:
    """A parameter, a gradient of sizes from 1e-9 to 10, and moments as after a few steps."""
    param = rng.standard_normal(size)
    grad = rng.standard_normal(size) * 10.0 ** rng.integers(-9, 2, size)
    m = rng.standard_normal(size) * 0.1
    v = rng.random(size) * 0.01
    return param, grad, m, v


def _compare_all(got: Any, expected: tuple[np.ndarray, ...], labels: tuple[str, ...]) -> str:
    if not isinstance(got, tuple | list) or len(got) != len(labels):
        return f"return a tuple ({', '.join(labels)}), got {type(got).__name__}"
    for label, mine, reference in zip(labels, got, expected):
        problem = compare(mine, reference, rtol=1e-10)
        if problem:
            return f"{label}: {problem}"
    return ""


def check_adam_epsilon_hat(adam_step_epsilon_hat: Callable[..., Any]) -> None:
    """Compare the student's efficient-form step with ``adam_update(epsilon_mode="epsilon_hat")``."""
    name = "Adam step with a constant epsilon-hat"
    rng = np.random.default_rng(909)
    for t in (1, 2, 10, 1000):
        param, grad, m, v = _random_state(rng)
        expected = (param.copy(), m.copy(), v.copy())
        functional.adam_update(expected[0], grad, expected[1], expected[2], None, step=t, lr=LR, beta1=BETA1,
                               beta2=BETA2, eps=1e-7, epsilon_mode="epsilon_hat")
        got = adam_step_epsilon_hat(param.copy(), grad.copy(), m.copy(), v.copy(), t, LR, BETA1, BETA2, 1e-7)
        problem = _compare_all(got, expected, ("param", "m", "v"))
        if problem:
            algorithm1 = (param.copy(), m.copy(), v.copy())
            functional.adam_update(algorithm1[0], grad, algorithm1[1], algorithm1[2], None, step=t, lr=LR, beta1=BETA1,
                                   beta2=BETA2, eps=1e-7)
            if got is not None and not _compare_all(got, algorithm1, ("param", "m", "v")):
                report(name, False, f"at t={t} you computed Algorithm 1 (epsilon added to sqrt(v_hat)); "
                       "here alpha_t = alpha sqrt(1-beta2^t)/(1-beta1^t) multiplies m_t/(sqrt(v_t)+eps_hat).")
                return
            report(name, False, f"at t={t}, {problem}. Update m and v first, then "
                   "theta - alpha_t m_t / (sqrt(v_t) + eps_hat) with the raw (uncorrected) m_t and v_t.")
            return
    report(name, True)


def check_optax_amsgrad(amsgrad_step_optax: Callable[..., Any]) -> None:
    """Compare the student's Optax AMSGrad step with ``adam_update(amsgrad_mode="max_corrected_v")``."""
    name = "Optax's AMSGrad step"
    rng = np.random.default_rng(910)
    for t in (1, 3, 50):
        param, grad, m, v = _random_state(rng)
        v_max = rng.random(v.size) * 0.02  # above v_hat_t on some coordinates, below on others
        expected = (param.copy(), m.copy(), v.copy(), v_max.copy())
        functional.adam_update(expected[0], grad, expected[1], expected[2], expected[3], step=t, lr=LR, beta1=BETA1,
                               beta2=BETA2, eps=1e-8, amsgrad_mode="max_corrected_v")
        got = amsgrad_step_optax(param.copy(), grad.copy(), m.copy(), v.copy(), v_max.copy(), t, LR, BETA1, BETA2,
                                 1e-8)
        problem = _compare_all(got, expected, ("param", "m", "v", "v_max"))
        if problem:
            hint = ("v_max keeps the maximum of the bias-corrected v_hat_t = v_t/(1-beta2^t), and the step is "
                    "alpha m_hat_t/(sqrt(v_max_t) + eps) with m_hat_t = m_t/(1-beta1^t).")
            report(name, False, f"at t={t}, {problem}. {hint}")
            return
    report(name, True)


def _record(convention: str, grads: np.ndarray, initial: np.ndarray, lr: float) -> np.ndarray:
    x = mg.tensor(initial.copy(), requires_grad=True)
    optimizer = optim.Adam([x], lr=lr, convention=convention)
    params = []
    for grad in grads:
        optimizer.apply_gradients([(grad, x)])
        params.append(x.data.copy())
    return np.array(params)


def check_matching_conventions(matching_conventions: Callable[..., Any]) -> None:
    """Compare the student's set of matching conventions with the plain conventions ``optim.identify`` matches."""
    name = "Which conventions reproduce a trajectory"
    rng = np.random.default_rng(911)
    for made_by in ("keras", "pytorch", "optax", "mindspore"):
        initial = rng.standard_normal(5)
        grads = rng.standard_normal((12, 5)) * 10.0 ** rng.integers(-8, 0, (12, 5))
        params = _record(made_by, grads, initial, 0.01)
        identified = optim.identify(initial, grads, params, algorithm="adam", lr=0.01)
        expected = {result.convention for result in identified.matches if not result.overrides}
        got = matching_conventions(initial.copy(), grads.copy(), params.copy(), 0.01)
        if got is None:
            report(name, False, "got None: return a set of convention names such as {'keras'}")
            return
        got = set(got)
        if got != expected:
            report(name, False, f"on a trajectory made by {made_by!r} you found {sorted(got)}, expected "
                   f"{sorted(expected)}. For each name in optim.CONVENTIONS run optim.Adam([x], lr=lr, "
                   "convention=name) from initial with apply_gradients, and keep the name when every step is "
                   "within np.allclose(..., rtol=1e-9, atol=1e-12) of params.")
            return
    report(name, True)
