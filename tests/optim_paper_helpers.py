"""Shared by the tests/test_optim_paper_*.py files: drive the library and the transcriptions
(tests/optim_reference.py) over the same gradient sequences and compare them.

Gradient sequences have sign flips, exact zeros, a whole zero step, a coordinate that is
zero for the first steps, and scale jumps (x1e3, then x1e-3) -- see
``optim_reference.make_gradient_sequence``.  Float64 runs must agree to rtol 1e-12 (the
absolute floor 1e-13 covers iterates that pass near 0: x is O(1), so each update rounds
at ~1e-16 absolute); float32 runs agree with the float64 transcription to ~1e-5.
"""

from __future__ import annotations

import numpy as np
import optim_reference as ref

import minigrad as mg

SHAPES = [(), (1,), (5,), (3, 4), (2, 3, 4)]
STEPS = 36
RTOL64 = 1e-12
ATOL64 = 1e-13


# --------------------------------------------------------------------------- drivers
def make_problem(seed: int, *, with_none: bool, nonzero_first: bool = False, first_call_complete: bool = False,
                 shapes=SHAPES):
    """Initial values and per-call gradients for one parameter of each shape.

    With ``with_none``, parameter 2 has no gradient at calls 3, 7 and 20 and parameter 4 none
    at call 0 (its first update then happens at the second call), or at call 1 instead when
    ``first_call_complete`` (for optimizers that bind their parameters at the first call).
    """
    rng = np.random.default_rng(seed)
    x0s = [rng.standard_normal(shape) for shape in shapes]
    per_param = [
        ref.make_gradient_sequence(rng, STEPS, shape, nonzero_first=nonzero_first) for shape in shapes
    ]
    if with_none:
        for k in (3, 7, 20):
            per_param[2][k] = None
        per_param[4][1 if first_call_complete else 0] = None
    return x0s, per_param


def run_library(make_opt, x0s, per_param, device, dtype=np.float64, via="step"):
    """Drive an optimizer over the gradient sequences; returns (params, opt, trajectories)."""
    params = [mg.tensor(np.asarray(x0, dtype=dtype), requires_grad=True, device=device) for x0 in x0s]
    opt = make_opt(params)
    trajectories: list[list[np.ndarray]] = [[] for _ in params]
    for k in range(len(per_param[0])):
        if via == "step":
            for p, seq in zip(params, per_param, strict=True):
                g = seq[k]
                p.grad = None if g is None else mg.tensor(np.asarray(g, dtype=dtype), device=device)
            opt.step()
        else:
            xp = params[0].xp
            opt.apply_gradients(
                [(xp.asarray(np.asarray(seq[k], dtype=dtype)), p)
                 for p, seq in zip(params, per_param, strict=True) if seq[k] is not None]
            )
        for traj, p in zip(trajectories, params, strict=True):
            traj.append(p.numpy().astype(np.float64, copy=True))
    return params, opt, trajectories


def reference_trajectories(scalar_fn, x0s, per_param, dtype=np.float64, **kwargs):
    """The transcription on every parameter (inputs rounded to ``dtype`` first, computed in float64)."""
    out = []
    for x0, seq in zip(x0s, per_param, strict=True):
        x0r = np.asarray(x0, dtype=dtype).astype(np.float64)
        seqr = [None if g is None else np.asarray(g, dtype=dtype).astype(np.float64) for g in seq]
        out.append(ref.run_elementwise(scalar_fn, seqr, x0r, **kwargs))
    return out


def assert_trajectories(actual, expected, rtol=RTOL64, atol=ATOL64):
    for i, (a_traj, e_traj) in enumerate(zip(actual, expected, strict=True)):
        for k, (a, e) in enumerate(zip(a_traj, e_traj, strict=True)):
            np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=f"parameter {i}, after call {k}")


def to_numpy(array):
    return mg.backend.to_numpy(array)


def assert_state_close(actual, expected, what):
    """rtol 1e-12, with an absolute floor of 1e-12 times the largest entry (m cancels on sign flips)."""
    scale = float(np.max(np.abs(expected))) if np.size(expected) else 0.0
    np.testing.assert_allclose(to_numpy(actual), expected, rtol=1e-12, atol=1e-12 * scale, err_msg=what)
