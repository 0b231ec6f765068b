"""The exercise checks of notebooks 05 to 08 (``tutorials/checks/nb05.py`` ... ``nb08.py``) can fail.

Each check must pass a right answer and refuse a typical wrong one with a hint that names the
mistake; the notebooks themselves only ever run the right answers.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import minigrad as mg
from optim.experiments import online

TUTORIALS_DIR = Path(__file__).resolve().parents[1] / "tutorials"


@pytest.fixture
def load_checks(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    """Import ``checks.<name>`` the way a notebook does, with ``tutorials/`` on the path."""
    monkeypatch.syspath_prepend(str(TUTORIALS_DIR))
    return lambda name: importlib.import_module(f"checks.{name}")


def adam_step(theta, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return theta - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps), m, v


def adam_step_without_bias_correction(theta, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return theta - lr * m / (np.sqrt(v) + eps), m, v


def adam_step_efficient(theta, g, m, v, t, lr, beta1, beta2, eps_hat):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return theta - lr * math.sqrt(1 - beta2**t) / (1 - beta1**t) * m / (np.sqrt(v) + eps_hat), m, v


def step_bound(beta1, beta2, t):
    ratio_sum = sum((beta1**2 / beta2) ** k for k in range(t))
    return math.sqrt(1 - beta2**t) / (1 - beta1**t) * (1 - beta1) / math.sqrt(1 - beta2) * math.sqrt(ratio_sum)


def adamax_step(theta, g, m, u, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    u = np.maximum(beta2 * u, np.abs(g))
    return theta - lr / (1 - beta1**t) * m / (u + eps), m, u


def adamax_step_inside_max(theta, g, m, u, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    u = np.maximum(beta2 * u, np.abs(g) + eps)
    return theta - lr / (1 - beta1**t) * m / u, m, u


def adamax_bound(beta1, beta2, t):
    return (1 - beta1) / (1 - beta1**t) * sum((beta1 / beta2) ** k for k in range(t))


def amsgrad_step(theta, g, m, v, v_max, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    v_max = np.maximum(v_max, v)
    return theta - lr * m / (np.sqrt(v_max) + eps), m, v, v_max


def amsgrad_step_bias_corrected(theta, g, m, v, v_max, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    v_max = np.maximum(v_max, v)
    return theta - lr * (m / (1 - beta1**t)) / (np.sqrt(v_max / (1 - beta2**t)) + eps), m, v, v_max


def average_regrets(iterates):
    rounds = np.arange(1, len(iterates))
    gradients = np.array([online.gradient_at(t) for t in rounds])
    return np.cumsum(gradients * (iterates[:-1] - online.OPTIMUM)) / rounds


def beale(point):
    x, y = point[0], point[1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def beale_on_the_array(point):
    x, y = point.data
    return mg.tensor(np.array((1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2))


def trajectory(make_optimizer, loss_fn, start, steps):
    point = mg.tensor(np.array(start, dtype=np.float64), requires_grad=True)
    optimizer = make_optimizer([point])
    path = [point.data.copy()]
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(point).backward()
        optimizer.step()
        path.append(point.data.copy())
    return np.array(path)


def trajectory_without_zero_grad(make_optimizer, loss_fn, start, steps):
    point = mg.tensor(np.array(start, dtype=np.float64), requires_grad=True)
    optimizer = make_optimizer([point])
    path = [point.data.copy()]
    for _ in range(steps):
        loss_fn(point).backward()
        optimizer.step()
        path.append(point.data.copy())
    return np.array(path)


CASES = [  # module, check, right answer, wrong answer, words the hint must contain
    ("nb05", "check_adam_step", adam_step, adam_step_without_bias_correction, "m_hat = m / (1 - beta1**t)"),
    ("nb05", "check_adam_step", adam_step, adam_step_efficient, "efficient form"),
    ("nb05", "check_step_bound", step_bound, lambda beta1, beta2, t: (1 - beta1) / math.sqrt(1 - beta2),
     "single nonzero gradient"),
    ("nb05", "check_adam_step_efficient", adam_step_efficient, adam_step, "That is Algorithm 1"),
    ("nb06", "check_adamax_step", adamax_step, adamax_step_inside_max, "PyTorch's form"),
    ("nb06", "check_adamax_bound", adamax_bound, lambda beta1, beta2, t: 1.0, "paper's bound"),
    ("nb06", "check_adamax_step_inside_max", adamax_step_inside_max, adamax_step, "exercise 1's form"),
    ("nb07", "check_average_regrets", average_regrets, lambda iterates: average_regrets(iterates) * 2, "element"),
    ("nb07", "check_amsgrad_step", amsgrad_step, amsgrad_step_bias_corrected, "no bias correction"),
    ("nb08", "check_beale", beale, beale_on_the_array, "not NumPy on point.data"),
    ("nb08", "check_trajectory", trajectory, trajectory_without_zero_grad, "zero_grad()"),
]


@pytest.mark.parametrize(("module", "check", "right", "wrong", "hint"), CASES,
                         ids=[f"{case[1]}-refuses-{case[3].__name__}" for case in CASES])
def test_check_passes_the_right_answer_and_refuses_a_wrong_one(
    load_checks: Callable[[str], ModuleType], capsys: pytest.CaptureFixture[str], module: str, check: str,
    right: Callable[..., Any], wrong: Callable[..., Any], hint: str,
) -> None:
    check_function = getattr(load_checks(module), check)
    assert check_function(right) is True
    assert capsys.readouterr().out.endswith(": pass\n")
    assert check_function(wrong) is False
    printed = capsys.readouterr().out
    assert "not yet" in printed and hint in printed, printed


@pytest.mark.parametrize(("module", "check"), sorted({case[:2] for case in CASES}))
def test_check_refuses_the_skeleton_that_returns_none(
    load_checks: Callable[[str], ModuleType], capsys: pytest.CaptureFixture[str], module: str, check: str,
) -> None:
    assert getattr(load_checks(module), check)(lambda *arguments: None) is False
    assert "not yet" in capsys.readouterr().out
