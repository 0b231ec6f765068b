"""Self-checks for the exercises of the tutorials.

Each notebook imports the check functions of its own module (``checks.nb05`` for
``05-adam-from-the-paper.ipynb``, and so on). A check runs the student's code on
random inputs, compares the result with the library, prints ``pass`` or a hint,
and records the outcome here, so that the notebook's closing cell can assert that
every exercise passed.

The helpers below are shared by those modules:

* :func:`report` prints and records one outcome;
* :func:`compare` compares two arrays (or numbers) and explains the first mismatch;
* :func:`outcomes` and :func:`assert_all_passed` read the record.

>>> from checks import report, outcomes
>>> report("demo exercise", True)
demo exercise: pass
True
>>> outcomes()["demo exercise"]
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

_OUTCOMES: dict[str, bool] = {}


def report(exercise: str, passed: bool, hint: str = "") -> bool:
    """Print ``<exercise>: pass`` or ``<exercise>: not yet`` with a hint, and record it.

    Parameters
    ----------
    exercise : str
        The exercise's name as the notebook states it.
    passed : bool
        Whether the student's code gave the expected result.
    hint : str
        What to look at when it did not.

    Returns
    -------
    bool
        ``passed``, so that a check can end with ``return report(...)``.
    """
    _OUTCOMES[exercise] = bool(passed)
    if passed:
        print(f"{exercise}: pass")
    else:
        print(f"{exercise}: not yet. {hint}".rstrip())
    return bool(passed)


def compare(got: Any, expected: Any, *, rtol: float = 1e-12, atol: float = 0.0) -> str:
    """Return ``""`` when ``got`` matches ``expected``, else a sentence on the first difference.

    Shapes must agree; values must satisfy ``|got - expected| <= atol + rtol * |expected|``
    element by element (NaN matches NaN).

    >>> compare(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    ''
    >>> compare(np.array([1.0, 2.5]), np.array([1.0, 2.0]))
    'element 1: got 2.5, expected 2.0'
    """
    if got is None:
        return "got None: does your function return its result?"
    got_array = np.asarray(got, dtype=np.float64)
    expected_array = np.asarray(expected, dtype=np.float64)
    if got_array.shape != expected_array.shape:
        return f"shape {got_array.shape}, expected {expected_array.shape}"
    close = np.isclose(got_array, expected_array, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return ""
    first = np.unravel_index(int(np.argmin(close.ravel())), close.shape) if close.ndim else ()
    where = ", ".join(str(int(i)) for i in first)
    label = f"element {where}" if where else "value"
    return f"{label}: got {got_array[first].item()!r}, expected {expected_array[first].item()!r}"


def outcomes() -> dict[str, bool]:
    """The outcome of every exercise checked so far in this kernel, by name."""
    return dict(_OUTCOMES)


def assert_all_passed(expected_count: int) -> None:
    """Raise ``AssertionError`` unless ``expected_count`` exercises were checked and all passed."""
    failed = [name for name, passed in _OUTCOMES.items() if not passed]
    assert not failed, f"exercises not passed: {failed}"
    assert len(_OUTCOMES) == expected_count, f"{len(_OUTCOMES)} exercises checked, expected {expected_count}"
