"""The exercise checks of notebooks 01-04 (``tutorials/checks/nb01.py`` ... ``nb04.py``) pass right answers and
refuse wrong ones with the hint that names the mistake.

Each case gives a check a function written the way a student might, and states whether the check must pass it
and, if not, a piece of the hint it must print.
"""

from __future__ import annotations

import importlib
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minigrad as mg

TUTORIALS_DIR = Path(__file__).resolve().parents[1] / "tutorials"


@pytest.fixture
def load(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Any]:
    """Import a ``checks`` module the way a notebook in ``tutorials/`` does."""
    monkeypatch.syspath_prepend(str(TUTORIALS_DIR))

    def load_module(name: str) -> Any:
        return importlib.import_module(f"checks.{name}")

    yield load_module
    # Forget the modules, so that the next test starts with an empty record of outcomes.
    for name in [name for name in sys.modules if name == "checks" or name.startswith("checks.")]:
        del sys.modules[name]


# ---------------------------------------------------------------- notebook 01
def _logistic(features: np.ndarray, labels: np.ndarray, w: np.ndarray) -> np.ndarray:
    return -(features.T @ (labels / (1.0 + np.exp(labels * (features @ w))))) / len(features)


def _sum_to(gradient: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    gradient = gradient.sum(axis=tuple(range(gradient.ndim - len(shape))))
    stretched = tuple(axis for axis, size in enumerate(shape) if size == 1 and gradient.shape[axis] != 1)
    return gradient.sum(axis=stretched, keepdims=True).reshape(shape)


def _differences(central: bool, restore: bool) -> Callable[..., np.ndarray]:
    def difference(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float) -> np.ndarray:
        gradient = np.zeros_like(x)
        base = f(x)
        for index in np.ndindex(x.shape):
            original = x[index]
            x[index] = original + eps
            plus = f(x)
            x[index] = original - eps
            minus = f(x) if central else base
            if restore:
                x[index] = original
            gradient[index] = (plus - minus) / (2 * eps if central else eps)
        return gradient

    return difference


# ---------------------------------------------------------------- notebook 02
class _Value:
    def __init__(self, data: float, parents: tuple[Any, ...] = ()) -> None:
        self.data, self.grad, self.parents = float(data), 0.0, parents

    def __mul__(self, other: _Value) -> _Value:
        return _Value(self.data * other.data, ((self, other.data), (other, self.data)))

    def backward(self) -> None:
        order: list[_Value] = []
        seen: set[int] = set()

        def visit(node: _Value) -> None:
            if id(node) not in seen:
                seen.add(id(node))
                for parent, _ in node.parents:
                    visit(parent)
                order.append(node)

        visit(self)
        self.grad = 1.0
        for node in reversed(order):
            for parent, local in node.parents:
                parent.grad += node.grad * local


def _tanh(local: Callable[[float, float], float]) -> Callable[[_Value], _Value]:
    def tanh(x: _Value) -> _Value:
        t = math.tanh(x.data)
        return _Value(t, ((x, local(x.data, t)),))

    return tanh


def _softplus(forward: Callable[[np.ndarray], np.ndarray], on_tensors: bool) -> type:
    class Softplus(mg.Function):
        def forward(self, x: np.ndarray) -> np.ndarray:
            return forward(x)

        def backward(self, gy: mg.Tensor) -> mg.Tensor:
            (x,) = self.inputs
            if on_tensors:
                return gy * mg.sigmoid(x)
            return mg.tensor(gy.data / (1.0 + np.exp(-x.data)))

    return Softplus


def _newton(reset_grad: bool) -> Callable[..., list[float]]:
    def newton_minimize(f: Callable[[mg.Tensor], mg.Tensor], x0: float, steps: int) -> list[float]:
        iterates = [float(x0)]
        for _ in range(steps):
            x = mg.tensor(iterates[-1], requires_grad=True)
            f(x).backward(create_graph=True)
            first = x.grad
            if reset_grad:
                x.grad = None
            first.backward()
            iterates.append(iterates[-1] - first.item() / x.grad.item())
        return iterates

    return newton_minimize


# ---------------------------------------------------------------- notebook 03
def _cross_entropy(stable: bool, mean: bool) -> Callable[[np.ndarray, np.ndarray], float]:
    def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
        shift = logits.max(axis=1, keepdims=True) if stable else np.zeros((len(logits), 1))
        losses = shift[:, 0] + np.log(np.exp(logits - shift).sum(axis=1)) - logits[np.arange(len(labels)), labels]
        return float(losses.mean() if mean else losses.sum())

    return cross_entropy


def _cross_entropy_gradient(divide: bool) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def gradient(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities = shifted / shifted.sum(axis=1, keepdims=True)
        probabilities[np.arange(len(labels)), labels] -= 1.0
        return probabilities / len(labels) if divide else probabilities

    return gradient


def _confusion(kind: str) -> Callable[[np.ndarray, np.ndarray, int], np.ndarray]:
    def confusion_matrix(true: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
        counts = np.zeros((n_classes, n_classes), dtype=np.int64)
        if kind == "fancy":
            counts[true, predicted] += 1
        else:
            np.add.at(counts, (predicted, true) if kind == "transposed" else (true, predicted), 1)
        return counts

    return confusion_matrix


# ---------------------------------------------------------------- notebook 04
def _momentum(averaged: bool) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    def momentum_step(x: np.ndarray, velocity: np.ndarray, grad: np.ndarray, lr: float, beta: float) -> Any:
        velocity = beta * velocity + ((1 - beta) * grad if averaged else grad)
        return x - lr * velocity, velocity

    return momentum_step


def _rmsprop(eps_inside: bool) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    def rmsprop_step(x: np.ndarray, s: np.ndarray, grad: np.ndarray, lr: float, rho: float, eps: float) -> Any:
        s = rho * s + (1 - rho) * grad**2
        denominator = np.sqrt(s + eps) if eps_inside else np.sqrt(s) + eps
        return x - lr * grad / denominator, s

    return rmsprop_step


def _adam(corrected: bool) -> Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]:
    def adam_step(x: np.ndarray, m: np.ndarray, v: np.ndarray, grad: np.ndarray, t: int, lr: float, beta1: float,
                  beta2: float, eps: float) -> Any:
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        m_hat, v_hat = (m / (1 - beta1**t), v / (1 - beta2**t)) if corrected else (m, v)
        return x - lr * m_hat / (np.sqrt(v_hat) + eps), m, v

    return adam_step


def _stable_softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _naive_softplus(x: np.ndarray) -> np.ndarray:
    return np.log1p(np.exp(x))


def _none(*args: Any) -> None:
    return None


CASES = [
    # (module, check, arguments, passes, piece of the hint)
    ("nb01", "check_logistic_gradient", (_logistic,), True, ""),
    ("nb01", "check_logistic_gradient", (lambda *a: -_logistic(*a),), False, "sign is flipped"),
    ("nb01", "check_logistic_gradient", (lambda f, y, w: len(f) * _logistic(f, y, w),), False, "factor n"),
    ("nb01", "check_logistic_gradient", (_none,), False, "got None"),
    ("nb01", "check_sum_to", (_sum_to,), True, ""),
    ("nb01", "check_sum_to", (lambda g, shape: g.sum(axis=0),), False, "shape"),
    ("nb01", "check_central_difference", (_differences(central=True, restore=True),), True, ""),
    ("nb01", "check_central_difference", (_differences(central=False, restore=True),), False, "one-sided"),
    ("nb01", "check_central_difference", (_differences(central=True, restore=False),), False, "x was changed"),
    ("nb02", "check_value_tanh", (_tanh(lambda x, t: 1.0 - t * t), _Value), True, ""),
    ("nb02", "check_value_tanh", (_tanh(lambda x, t: 1.0 - x * x), _Value), False, "not 1 - x^2"),
    ("nb02", "check_value_tanh", (lambda x: _Value(math.tanh(x.data)), _Value), False, "Nothing reached x"),
    ("nb02", "check_value_tanh", (_none, _Value), False, "return a Value"),
    ("nb02", "check_softplus", (_softplus(_stable_softplus, on_tensors=True),), True, ""),
    ("nb02", "check_softplus", (_softplus(_naive_softplus, on_tensors=True),), False, "overflows"),
    ("nb02", "check_softplus", (_softplus(_stable_softplus, on_tensors=False),), False, "Tensor operations"),
    ("nb02", "check_softplus", (object,), False, "subclass of mg.Function"),
    ("nb02", "check_newton_minimize", (_newton(reset_grad=True),), True, ""),
    ("nb02", "check_newton_minimize", (_newton(reset_grad=False),), False, "x.grad = None"),
    ("nb03", "check_cross_entropy", (_cross_entropy(stable=True, mean=True),), True, ""),
    ("nb03", "check_cross_entropy", (_cross_entropy(stable=False, mean=True),), False, "maximum"),
    ("nb03", "check_cross_entropy", (_cross_entropy(stable=True, mean=False),), False, "take the mean"),
    ("nb03", "check_cross_entropy_gradient", (_cross_entropy_gradient(divide=True),), True, ""),
    ("nb03", "check_cross_entropy_gradient", (_cross_entropy_gradient(divide=False),), False, "divide by N"),
    ("nb03", "check_confusion_matrix", (_confusion("add.at"),), True, ""),
    ("nb03", "check_confusion_matrix", (_confusion("transposed"),), False, "Transposed"),
    ("nb03", "check_confusion_matrix", (_confusion("fancy"),), False, "np.add.at"),
    ("nb04", "check_momentum_step", (_momentum(averaged=False),), True, ""),
    ("nb04", "check_momentum_step", (_momentum(averaged=True),), False, "plain sum"),
    ("nb04", "check_momentum_step", (_none,), False, "return the pair"),
    ("nb04", "check_rmsprop_step", (_rmsprop(eps_inside=False),), True, ""),
    ("nb04", "check_rmsprop_step", (_rmsprop(eps_inside=True),), False, "outside the square root"),
    ("nb04", "check_adam_step", (_adam(corrected=True),), True, ""),
    ("nb04", "check_adam_step", (_adam(corrected=False),), False, "bias correction"),
    ("nb04", "check_adam_step", (_none,), False, "return the triple"),
]


@pytest.mark.parametrize(("module", "check", "arguments", "passes", "hint"), CASES,
                         ids=[f"{case[1]}-{index}" for index, case in enumerate(CASES)])
def test_check_passes_right_answers_and_explains_wrong_ones(
    load: Callable[[str], Any], capsys: pytest.CaptureFixture[str], module: str, check: str,
    arguments: tuple[Any, ...], passes: bool, hint: str,
) -> None:
    check_module = load(module)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        getattr(check_module, check)(*arguments)
    printed = capsys.readouterr().out
    assert list(importlib.import_module("checks").outcomes().values()) == [passes], printed
    assert printed.rstrip().endswith(": pass") is passes, printed
    assert hint in printed, f"the hint should mention {hint!r}: {printed}"
