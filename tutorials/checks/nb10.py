"""Checks for the exercises of ``10-sparse-gradients.ipynb``.

The student's functions are compared with :class:`minigrad.RowSparseGrad` (the
dense gradient a row-sparse one stands for) and with :class:`optim.Adam`
applying row-sparse gradients, lazily or densely, on seeded random tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import minigrad as mg
import optim
from checks import compare, report

LR, BETA1, BETA2, EPS = 0.01, 0.9, 0.999, 1e-8


def check_dense_gradient(dense_gradient: Callable[..., Any]) -> None:
    """Compare the student's scatter-add with :meth:`RowSparseGrad.to_dense`, repeated rows included."""
    name = "The dense gradient of a lookup"
    rng = np.random.default_rng(1010)
    for rows, count in ((6, 4), (10, 25), (3, 9)):
        indices = rng.integers(0, rows, count)
        values = rng.standard_normal((count, 3))
        expected = mg.RowSparseGrad(indices, values, (rows, 3)).to_dense()
        got = dense_gradient(indices.copy(), values.copy(), rows)
        problem = compare(got, expected, rtol=1e-12)
        if problem:
            repeated = np.unique(indices).size < indices.size
            hint = ("A row listed twice must receive the sum of its values: table[indices] = values keeps only "
                    "the last one; np.add.at(table, indices, values) adds them all."
                    if repeated else "Start from zeros of shape (num_rows, values.shape[1]).")
            report(name, False, f"{problem}. {hint}")
            return
    report(name, True)


def check_lazy_adam_step(lazy_adam_step: Callable[..., Any]) -> None:
    """Run the student's lazy step three times and compare with ``Adam(lazy=True)`` after each."""
    name = "A lazy Adam step"
    rng = np.random.default_rng(1011)
    table = rng.standard_normal((8, 3))
    x = mg.tensor(table.copy(), requires_grad=True)
    optimizer = optim.Adam([x], lr=LR, betas=(BETA1, BETA2), eps=EPS, lazy=True)
    param, m, v = table.copy(), np.zeros_like(table), np.zeros_like(table)
    for t, indices in enumerate(([0, 2, 2], [5], [2, 7, 0, 7]), start=1):
        indices = np.array(indices)
        values = rng.standard_normal((indices.size, 3)) * 10.0 ** rng.integers(-3, 1, (indices.size, 1))
        optimizer.apply_gradients([(mg.RowSparseGrad(indices, values, table.shape), x)])
        got = lazy_adam_step(param.copy(), m.copy(), v.copy(), indices.copy(), values.copy(), t, LR, BETA1, BETA2,
                             EPS)
        if not isinstance(got, tuple | list) or len(got) != 3:
            report(name, False, f"return a tuple (param, m, v), got {type(got).__name__}")
            return
        state = optimizer.state[x]
        for label, mine, expected in zip(("param", "m", "v"), got, (x.data, state["m"], state["v"])):
            problem = compare(mine, expected, rtol=1e-10)
            if problem:
                untouched = np.setdiff1d(np.arange(table.shape[0]), indices)
                if not np.array_equal(np.asarray(mine)[untouched], np.asarray(expected)[untouched]):
                    hint = f"rows {untouched.tolist()} were not looked up at step {t}: leave them, and their m and v, "
                    hint += "exactly as they were."
                else:
                    hint = ("sum the values of a repeated row first (np.unique(indices, return_inverse=True) and "
                            "np.add.at), then apply Algorithm 1 with the global t to those rows only.")
                report(name, False, f"step {t}, {label}: {problem}. {hint}")
                return
        param, m, v = (np.array(array, dtype=np.float64) for array in got)
    report(name, True)


def check_untouched_step(untouched_step: Callable[..., Any]) -> None:
    """Compare the student's closed form with dense Adam on a row looked up at step 1 only."""
    name = "The step of a row nobody looks up"
    rng = np.random.default_rng(1012)
    gradients = rng.choice([-1.0, 1.0], 4) * 10.0 ** rng.uniform(-9, 1, 4)
    x = mg.tensor(np.zeros((4, 1)), requires_grad=True)
    optimizer = optim.Adam([x], lr=LR, betas=(BETA1, BETA2), eps=EPS)
    optimizer.apply_gradients([(mg.RowSparseGrad(np.arange(4), gradients[:, None].copy(), (4, 1)), x)])
    for k in range(2, 30):
        before = x.data[:, 0].copy()
        optimizer.apply_gradients([(mg.RowSparseGrad(np.array([], dtype=np.int64), np.zeros((0, 1)), (4, 1)), x)])
        expected = x.data[:, 0] - before
        got = np.array([untouched_step(g, k, LR, BETA1, BETA2, EPS) for g in gradients])
        problem = compare(got, expected, rtol=1e-9)
        if problem:
            report(name, False, f"k={k}, {problem}. After step 1, m_k = beta1^(k-1) (1-beta1) g and "
                   "v_k = beta2^(k-1) (1-beta2) g^2; bias-correct both with t = k and take theta_k - theta_{k-1} "
                   "(a negative number for g > 0).")
            return
    report(name, True)
