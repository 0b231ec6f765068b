"""Checks for the exercises of ``03-training-on-digits.ipynb``.

The cross-entropy and its gradient are compared with :func:`minigrad.cross_entropy`
and its backward; the confusion matrix with a count made by ``numpy.add.at``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import minigrad as mg
from checks import compare, report

__all__ = ["check_confusion_matrix", "check_cross_entropy", "check_cross_entropy_gradient"]


def _sentence(text: str) -> str:
    """``text`` ending with one full stop (or its own question mark)."""
    return text if text.endswith((".", "?")) else text + "."


def _cases(seed: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Logits and labels: ordinary, a single sample, and logits in the thousands (where exp overflows)."""
    rng = np.random.default_rng(seed)
    return [
        ("8 samples", rng.standard_normal((8, 10)), rng.integers(0, 10, size=8)),
        ("1 sample", rng.standard_normal((1, 4)), rng.integers(0, 4, size=1)),
        ("logits near 1000", 1000.0 + 50.0 * rng.standard_normal((6, 10)), rng.integers(0, 10, size=6)),
    ]


def check_cross_entropy(cross_entropy: Callable[[np.ndarray, np.ndarray], Any]) -> None:
    """Compare ``cross_entropy(logits, labels)`` with ``mg.cross_entropy`` (the mean over the samples)."""
    exercise = "Exercise 1 (cross-entropy)"
    for label, logits, labels in _cases(301):
        expected = mg.cross_entropy(mg.tensor(logits), labels).item()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            got = cross_entropy(logits.copy(), labels.copy())
        problem = compare(got, expected, rtol=1e-10, atol=1e-12)
        if problem:
            hint = _sentence(f"{label}: {problem}")
            if got is not None and np.size(got) == 1:
                value = float(np.asarray(got))
                if not np.isfinite(value):
                    hint += " exp overflows for large logits: subtract each row's maximum first."
                elif np.isclose(value, expected * len(labels), rtol=1e-10):
                    hint += " That is the sum over the samples: take the mean."
            hint += " Expected the mean over samples of logsumexp(z_n) - z_n[y_n]."
            report(exercise, False, hint)
            return
    report(exercise, True)


def check_cross_entropy_gradient(cross_entropy_gradient: Callable[[np.ndarray, np.ndarray], Any]) -> None:
    """Compare ``cross_entropy_gradient(logits, labels)`` with the backward of ``mg.cross_entropy``."""
    exercise = "Exercise 2 (gradient of the cross-entropy)"
    for label, logits, labels in _cases(302):
        point = mg.tensor(logits, requires_grad=True)
        mg.cross_entropy(point, labels).backward()
        expected = point.grad.numpy()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            got = cross_entropy_gradient(logits.copy(), labels.copy())
        problem = compare(got, expected, rtol=1e-9, atol=1e-15)
        if problem:
            hint = _sentence(f"{label}: {problem}")
            if got is not None and np.shape(got) == expected.shape:
                if np.allclose(got, expected * len(labels), rtol=1e-9, atol=1e-15):
                    hint += " Off by the number of samples: the loss is a mean, so divide by N."
                elif np.allclose(got, -expected, rtol=1e-9, atol=1e-15):
                    hint += " The sign is flipped."
                elif not np.all(np.isfinite(got)):
                    hint += " exp overflows for large logits: subtract each row's maximum first."
            hint += " Expected (softmax(z) - onehot(y)) / N."
            report(exercise, False, hint)
            return
    report(exercise, True)


def check_confusion_matrix(confusion_matrix: Callable[[np.ndarray, np.ndarray, int], Any]) -> None:
    """Compare ``confusion_matrix(true, predicted, n_classes)`` with a count made by ``numpy.add.at``."""
    exercise = "Exercise 3 (confusion matrix)"
    rng = np.random.default_rng(303)
    true_small = np.array([0, 0, 1, 2, 2, 2])
    cases = [
        ("6 labels, 3 classes", true_small, np.array([0, 1, 1, 2, 0, 2]), 3),
        ("200 labels, 10 classes", rng.integers(0, 10, size=200), rng.integers(0, 10, size=200), 10),
        ("class 4 never predicted", rng.integers(0, 5, size=50), rng.integers(0, 4, size=50), 5),
    ]
    for label, true, predicted, n_classes in cases:
        expected = np.zeros((n_classes, n_classes), dtype=np.int64)
        np.add.at(expected, (true, predicted), 1)
        got = confusion_matrix(true.copy(), predicted.copy(), n_classes)
        problem = compare(got, expected, rtol=0.0)
        if problem:
            hint = _sentence(f"{label}: {problem}")
            if got is not None and np.shape(got) == expected.shape and np.array_equal(got, expected.T):
                hint += " Transposed: rows are the true classes, columns the predictions."
            elif got is not None and np.shape(got) == expected.shape and np.array_equal(got, expected > 0):
                hint += (" Each pair counted at most once: counts[true, predicted] += 1 does not add repeated "
                         "pairs; np.add.at(counts, (true, predicted), 1) does.")
            hint += " Entry (i, j) counts the samples of true class i predicted as j."
            report(exercise, False, hint)
            return
    report(exercise, True)
