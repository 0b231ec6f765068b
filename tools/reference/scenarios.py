"""The input scenarios of the reference trajectories (written to ``optim/reference/scenarios.json``).

A scenario is a dictionary with the keys

``name``
    Unique name, used by the cases' ``"scenario"`` field.
``dtype``
    ``"float32"`` or ``"float64"``: the dtype of the parameters and of the gradients.
``description``
    What the scenario exercises. Steps are numbered from 1 (the first optimizer call is step 1).
``params``
    The initial parameters, one nested list per parameter.
``grads``
    ``grads[s][p]`` is the gradient of parameter ``p`` at step ``s + 1``, as a nested list (dense).
``sparse`` (optional)
    ``sparse[s][p] = {"indices": [...], "values": [[...], ...]}``: the same gradient given as
    rows of the parameter (``tf.IndexedSlices``). Repeated indices add up; ``grads`` holds the dense
    equivalent (a scatter-add in the scenario's dtype).

Every value is exactly representable in the scenario's dtype (float32 values are written as the
double equal to the float32 number), so ``np.asarray(value, dtype)`` restores the exact inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["build_scenarios", "scenario_arrays"]

RANDOM_SEED = 2026
SPARSE_SEED = 2027


def _scenario(name: str, dtype: str, description: str, params: list[np.ndarray],
              grads: list[list[np.ndarray]], **extra: Any) -> dict[str, Any]:
    """Assemble a scenario dictionary from NumPy arrays (cast to ``dtype``)."""
    return {
        "name": name,
        "dtype": dtype,
        "description": description,
        "params": [np.asarray(p, dtype).tolist() for p in params],
        "grads": [[np.asarray(g, dtype).tolist() for g in step] for step in grads],
        **extra,
    }


def discriminating() -> dict[str, Any]:
    """One parameter of 4 coordinates, 5 steps: AMSGrad max, sign flip, zeros, epsilon effects."""
    x0 = np.array([1.0, -0.5, 2.0, 0.0], dtype=np.float32)
    g = np.array([
        [1.0, 0.01, -0.5, 0.0],
        [0.01, 1.0, 0.0, 0.0],
        [0.01, 0.01, 0.0, 0.3],
        [-0.5, 0.01, 0.2, 0.0],
        [0.0, 0.0, 0.0, 0.0],
    ], dtype=np.float32)
    return _scenario("discriminating", "float32",
                     "One parameter of 4 coordinates, 5 steps. A gradient spike followed by small gradients "
                     "(exercises the AMSGrad maximum), a sign flip, a coordinate whose gradient is zero until "
                     "step 3, small gradients that make epsilon visible, and an all-zero last step.",
                     [x0], [[row] for row in g])


def keras_golden() -> dict[str, Any]:
    """The inputs of Keras 3's ``test_correctness_with_golden`` (Adam and Adamax)."""
    x = np.ones(10, dtype=np.float32)
    first = np.full(10, 0.01, dtype=np.float32)
    # ops.arange(0.1, 1.1, 0.1) in float32: [0.1, ..., 0.70000005, 0.8, 0.90000004, 1.0].
    ramp = np.arange(0.1, 1.1, 0.1, dtype=np.float32)
    assert ramp.shape == (10,) and ramp[6] == np.float32(0.70000005)
    return _scenario("keras_golden", "float32",
                     "Keras 3 golden test inputs: x = ones(10); step 1 gradient = full(10, 0.01); steps 2 to 5 "
                     "gradient = ops.arange(0.1, 1.1, 0.1) in float32. Gradients only grow, so AMSGrad's maximum "
                     "is never active here.",
                     [x], [[first]] + [[ramp] for _ in range(4)])


def tf_fixture() -> dict[str, Any]:
    """The fixture of the tf_keras legacy optimizer tests (``doTestBasic``)."""
    var0, var1 = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    g0, g1 = np.array([0.1, 0.1]), np.array([0.01, 0.01])
    return _scenario("tf_fixture", "float32",
                     "tf_keras legacy test fixture: var0 = [1, 2] with constant gradient [0.1, 0.1], "
                     "var1 = [3, 4] with constant gradient [0.01, 0.01], 3 steps.",
                     [var0, var1], [[g0, g1] for _ in range(3)])


def _random_draws() -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    """Float64 draws of the random scenario (seeded); see :func:`random_scenarios`."""
    rng = np.random.default_rng(RANDOM_SEED)
    shapes = [(3, 4), (5,)]
    params = [rng.standard_normal(s) for s in shapes]
    steps = 30
    grads: list[list[np.ndarray]] = []
    for t in range(1, steps + 1):
        g0, g1 = (rng.standard_normal(s) for s in shapes)
        # Sign flips: these coordinates alternate sign from one step to the next.
        g0[1, :] = np.abs(g0[1, :]) * (-1.0) ** t
        g1[:2] = np.abs(g1[:2]) * (-1.0) ** (t + 1)
        # Exact zeros: coordinates whose gradient is 0 during the first steps.
        if t <= 6:
            g0[0, :2] = 0.0
        if t <= 8:
            g1[4] = 0.0
        if 10 <= t <= 14:
            g0, g1 = g0 * 100.0, g1 * 100.0
        if 20 <= t <= 24:
            g0, g1 = g0 * 0.01, g1 * 0.01
        if t == 17:
            g0, g1 = np.zeros_like(g0), np.zeros_like(g1)
        grads.append([g0, g1])
    return params, grads


RANDOM_DESCRIPTION = (
    "np.random.default_rng({seed}): two parameters of shapes (3, 4) and (5,), 30 steps, standard normal "
    "initial values and gradients, then: row 1 of parameter 0 alternates sign (-1)**t and coordinates 0:2 of "
    "parameter 1 alternate sign (-1)**(t+1); parameter 0 [0, 0:2] is exactly 0 for steps 1-6 and parameter 1 "
    "[4] for steps 1-8; gradients are multiplied by 100 for steps 10-14 and by 0.01 for steps 20-24; step 17 "
    "is all zero. {extra}"
)


def random_scenarios() -> list[dict[str, Any]]:
    """The ``random`` scenario (float32) and ``random_f64`` (the same draws, not rounded)."""
    params, grads = _random_draws()
    f32 = _scenario("random", "float32", RANDOM_DESCRIPTION.format(seed=RANDOM_SEED, extra="Rounded to float32."),
                    params, grads, seed=RANDOM_SEED)
    f64 = _scenario("random_f64", "float64",
                    RANDOM_DESCRIPTION.format(seed=RANDOM_SEED, extra="The float64 draws behind 'random'."),
                    params, grads, seed=RANDOM_SEED)
    return [f32, f64]


# Rows touched at each step of the sparse scenario (a repeated index at step 2, no row at step 4,
# row 5 first touched at step 5, row 4 never touched).
SPARSE_ROWS = [[0, 2], [1, 2, 2], [0, 3], [], [5, 0], [2, 5], [0, 1, 2, 3, 5], [3]]


def sparse() -> dict[str, Any]:
    """One (6, 3) parameter, 8 steps of row-sparse gradients, with their dense equivalents."""
    rng = np.random.default_rng(SPARSE_SEED)
    x0 = rng.standard_normal((6, 3)).astype(np.float32)
    dense, rows = [], []
    for idx in SPARSE_ROWS:
        values = rng.standard_normal((len(idx), 3)).astype(np.float32)
        if idx == [1, 2, 2]:
            # The two values of the repeated row get opposite signs in column 0, so that
            # |a + b| != |a| + |b| and (a + b)**2 != a**2 + b**2 there.
            values[2, 0] = -np.copysign(values[2, 0], values[1, 0])
        g = np.zeros((6, 3), dtype=np.float32)
        np.add.at(g, np.asarray(idx, dtype=np.int64), values)
        dense.append([g])
        rows.append([{"indices": list(idx), "values": values.reshape(len(idx), 3).tolist()}])
    description = (
        f"np.random.default_rng({SPARSE_SEED}): one parameter of shape (6, 3), 8 steps; each step's gradient touches "
        f"the rows {SPARSE_ROWS} (step 2 repeats row 2, step 4 touches no row, row 5 is first touched at step 5, "
        "row 4 never; the two values of the repeated row have opposite signs in column 0). 'grads' is the dense "
        "equivalent (repeated rows added)."
    )
    return _scenario("sparse", "float32", description, [x0], dense, sparse=rows, seed=SPARSE_SEED)


SPARSE_CLIP_SEED = 2028
SPARSE_CLIP_STEPS = 20


def _sparse_clip_rows(rng: np.random.Generator, step: int) -> tuple[list[int], np.ndarray]:
    """The rows and values of one step of :func:`sparse_clip` (see its description)."""
    if step == 1:  # the row listed as (0.3, -0.4) and (0.3, 0.4): summed (0.6, 0), clipped apart (0.2, +-0.2)
        return [0, 0, 2], np.array([[0.3, -0.4], [0.3, 0.4], [0.1, 0.05]])
    if step == 8:
        return [], np.zeros((0, 2))
    rows = sorted(rng.choice(5, size=int(rng.integers(1, 4)), replace=False).tolist())
    repeats = int(rng.integers(1, 3))
    cancelling = step % 3 == 0  # the repeated row listed twice, its two values summing to exactly 0 in column 1
    rows += [rows[0]] * (1 if cancelling else repeats)  # the first row repeated once or twice
    scale = 100.0 if step in (5, 6) else (0.01 if step in (14, 15) else 1.0)  # scale jumps
    values = rng.standard_normal((len(rows), 2)) * 0.4 * scale
    if cancelling:
        values[-1, 1] = -values[0, 1]
    if step % 4 == 0:
        values[0, 0] = 0.0  # an exact zero
    return rows, values


def sparse_clip() -> dict[str, Any]:
    """One (5, 2) parameter, 20 steps of row-sparse gradients whose repeated rows make clipping order matter."""
    rng = np.random.default_rng(SPARSE_CLIP_SEED)
    x0 = rng.standard_normal((5, 2)).astype(np.float32)
    dense, sparse_rows = [], []
    for step in range(1, SPARSE_CLIP_STEPS + 1):
        rows, values = _sparse_clip_rows(rng, step)
        values = values.astype(np.float32)
        g = np.zeros((5, 2), dtype=np.float32)
        np.add.at(g, np.asarray(rows, dtype=np.int64), values)
        dense.append([g])
        sparse_rows.append([{"indices": rows, "values": values.reshape(len(rows), 2).tolist()}])
    description = (
        f"np.random.default_rng({SPARSE_CLIP_SEED}): one parameter of shape (5, 2), {SPARSE_CLIP_STEPS} steps of "
        "row-sparse gradients, each listing one to three rows and repeating the first of them once or twice. "
        "Step 1 lists row 0 as (0.3, -0.4) and (0.3, 0.4) (sum (0.6, 0)); every 3rd step the repeated row cancels "
        "exactly in column 1; every 4th step one value is exactly 0; steps 5-6 are scaled by 100 and steps 14-15 by "
        "0.01; step 8 lists no row; a row absent from a step keeps a zero gradient. Clipping the listed values "
        "before or after the repeated rows are summed gives different gradients. 'grads' is the dense equivalent."
    )
    return _scenario("sparse_clip", "float32", description, [x0], dense, sparse=sparse_rows, seed=SPARSE_CLIP_SEED)


def build_scenarios() -> list[dict[str, Any]]:
    """All scenarios, in the order they are written."""
    return [discriminating(), keras_golden(), tf_fixture(), *random_scenarios(), sparse(), sparse_clip()]


def scenario_arrays(scenario: dict[str, Any]) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    """The initial parameters and the dense gradients of ``scenario`` as NumPy arrays of its dtype."""
    dtype = np.dtype(scenario["dtype"])
    params = [np.asarray(p, dtype=dtype) for p in scenario["params"]]
    grads = [[np.asarray(g, dtype=dtype).reshape(p.shape) for g, p in zip(step, params)]
             for step in scenario["grads"]]
    return params, grads
