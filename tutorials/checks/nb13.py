"""Checks for the exercises of ``13-fast-optimizer-steps.ipynb``.

The student's traffic count is compared with the rule that the library traces
(:func:`optim.rule_trace.trace`: the arrays a step reads and writes), the flat
buffer with the one that ``fused=True`` builds, and the in-place step with
:func:`optim.functional.adam_update`, with its allocations measured by
:mod:`tracemalloc` (NumPy reports its array memory there).
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import minigrad as mg
import optim
from checks import compare, report
from optim import functional, rule_trace, rules

_CHOICES = {
    "adam": rules.adam_choices(maximize=False, weight_decay=0.0, decoupled_weight_decay=False,
                               epsilon_mode="algorithm1", amsgrad_mode=None),
    "amsgrad": rules.adam_choices(maximize=False, weight_decay=0.0, decoupled_weight_decay=False,
                                  epsilon_mode="algorithm1", amsgrad_mode="max_raw_v"),
    "adamax": rules.adamax_choices(maximize=False, weight_decay=0.0, decoupled_weight_decay=False,
                                   adamax_epsilon="denominator"),
}


def check_bytes_per_step(bytes_per_step: Callable[..., Any]) -> None:
    """Compare the student's least traffic of a step with the arrays the traced rule reads and writes."""
    name = "The bytes a step must move"
    for algorithm, choices in _CHOICES.items():
        program = rule_trace.trace(choices)
        for size, dtype in ((1000, np.float32), (12345, np.float64), (1, np.float16)):
            expected = (len(program.arrays) + len(program.updated)) * size * np.dtype(dtype).itemsize
            got = bytes_per_step(algorithm, size, np.dtype(dtype))
            problem = compare(got, expected)
            if problem:
                report(name, False, f"{algorithm}, {size} elements of {np.dtype(dtype)}: {problem}. Count the "
                       f"arrays read ({', '.join(program.arrays)}) and written ({', '.join(program.updated)}), "
                       "each once, times the size in bytes.")
                return
    report(name, True)


def check_flatten(flatten: Callable[..., Any]) -> None:
    """Compare the student's flat buffer with the one ``fused=True`` builds, and check that the views are views."""
    name = "One flat buffer"
    rng = np.random.default_rng(1313)
    arrays = [rng.standard_normal(shape).astype(np.float32) for shape in ((3, 4), (5,), (2, 3, 2))]
    params = [mg.tensor(a.copy(), requires_grad=True) for a in arrays]
    optimizer = optim.Adam(params, lr=0.1, fused=True)
    for param in params:
        param.grad = mg.tensor(np.zeros_like(param.data))
    optimizer.zero_grad(set_to_none=False)  # binds: each param.data is now a view of the flat buffer
    library_flat = params[0].data.base
    got = flatten([a.copy() for a in arrays])
    if not isinstance(got, tuple | list) or len(got) != 2:
        report(name, False, f"return (flat, views), got {type(got).__name__}")
        return
    flat, views = got
    problem = compare(flat, library_flat)
    if problem:
        report(name, False, f"flat: {problem}. Put the arrays one after the other, each raveled, in order.")
        return
    if len(views) != len(arrays) or any(np.shape(v) != a.shape for v, a in zip(views, arrays)):
        report(name, False, "views: one per array, each of its array's shape (reshape a slice of flat).")
        return
    if not all(np.shares_memory(view, flat) for view in views):
        report(name, False, "views: each must share memory with flat (a slice of it, reshaped), not be a copy.")
        return
    if flat.dtype != arrays[0].dtype:
        report(name, False, f"flat has dtype {flat.dtype}; keep the arrays' dtype {arrays[0].dtype}.")
        return
    report(name, True)


def check_adam_in_place(adam_in_place: Callable[..., Any]) -> None:
    """Compare the student's step with ``adam_update`` and check that it allocates no full-size array."""
    name = "An Adam step without temporaries"
    rng = np.random.default_rng(1314)
    size = 200_000
    for t in (1, 7):
        param, grad = rng.standard_normal(size).astype(np.float32), rng.standard_normal(size).astype(np.float32)
        m = (rng.standard_normal(size) * 0.1).astype(np.float32)
        v = (rng.random(size) * 0.01).astype(np.float32)
        expected = [param.copy(), m.copy(), v.copy()]
        functional.adam_update(expected[0], grad, expected[1], expected[2], None, step=t, lr=0.01, beta1=0.9,
                               beta2=0.999, eps=1e-8)
        mine = [param.copy(), m.copy(), v.copy()]
        scratch = np.empty_like(param)
        tracemalloc.start()
        try:
            adam_in_place(mine[0], grad, mine[1], mine[2], scratch, t, 0.01, 0.9, 0.999, 1e-8)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        for label, got, reference in zip(("param", "m", "v"), mine, expected):
            problem = compare(got, reference, rtol=1e-5, atol=1e-7)
            if problem:
                report(name, False, f"t={t}, {label}: {problem}. Update param, m and v in place with Algorithm 1.")
                return
        if peak > param.nbytes // 4:
            report(name, False, f"t={t}: the step allocated {peak / 1e6:.1f} MB at its peak, the parameter is "
                   f"{param.nbytes / 1e6:.1f} MB. Write every result into an existing array with out= (np.multiply("
                   "m, beta1, out=m), np.sqrt(v, out=scratch), ...) so that no temporary array is created.")
            return
    report(name, True)
