"""Property test: random optimizer configurations against the literal float64 transcriptions.

Hypothesis draws an algorithm (Adam, AMSGrad through ``Adam(amsgrad=True)`` or the
``AMSGrad`` class, Adamax), a convention, betas, eps, a constant or scheduled learning
rate, L2 or decoupled weight decay, maximize, and every formula choice
(``epsilon_mode``, ``amsgrad_mode``, ``adamax_epsilon``, ``step_counting``), plus a
gradient sequence with sign flips, exact zeros, scale jumps and calls where a parameter
has no gradient. The library's float64 trajectory must match
``optim_reference.adam_reference`` / ``adamax_reference`` (scalar recurrences in Python
floats, written from the algorithm boxes; see tests/optim_reference.py) to 1e-12.

Every formula choice is passed explicitly, so the convention only contributes what is not
a formula (lazy defaults, clipping rules); ``power_dtype=None`` keeps the bias corrections
in double precision, as the transcriptions compute them.
"""

from __future__ import annotations

import numpy as np
import optim_reference as ref
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
import optim

SHAPES = [(), (3,), (2, 2)]
STEPS = 24
RTOL, ATOL = 1e-12, 1e-13


@st.composite
def configurations(draw):
    """``(library constructor kwargs, reference function, reference kwargs, class)``."""
    algorithm = draw(st.sampled_from(["adam", "amsgrad", "amsgrad_class", "adamax"]))
    constant_lr = draw(st.floats(1e-3, 0.1))
    decay = draw(st.floats(0.8, 1.0))
    scheduled = draw(st.booleans())

    def schedule(k):
        return constant_lr * decay**k

    lr = schedule if scheduled else constant_lr
    shared = {
        "lr": lr,
        "betas": (draw(st.floats(0.0, 0.99)), draw(st.floats(0.5, 0.9999))),
        "eps": draw(st.sampled_from([1e-8, 1e-6, 1e-3, 0.1])),
        "weight_decay": draw(st.sampled_from([0.0, 0.01, 0.1])),
        "maximize": draw(st.booleans()),
        "decoupled_weight_decay": draw(st.booleans()),
    }
    step_counting = draw(st.sampled_from(["global", "per_parameter"]))
    conventions = sorted(name for name, convention in optim.CONVENTIONS.items()
                         if ("adamax" if algorithm == "adamax" else "adam") in convention.algorithms)
    library = {**shared, "convention": draw(st.sampled_from(conventions)), "step_counting": step_counting,
               "power_dtype": None, "slot_arithmetic": "double", "lr_dtype": None}
    if algorithm == "adamax":
        adamax_epsilon = draw(st.sampled_from(["denominator", "inside_max"]))
        library["adamax_epsilon"] = adamax_epsilon
        reference = {**shared, "adamax_epsilon": adamax_epsilon, "step_counting": step_counting}
        return library, ref.adamax_reference, reference, optim.Adamax
    amsgrad = algorithm != "adam"
    epsilon_mode = draw(st.sampled_from(["algorithm1", "epsilon_hat"]))
    amsgrad_mode = draw(st.sampled_from(["max_raw_v", "max_corrected_v", "no_bias_correction"]))
    library.update(epsilon_mode=epsilon_mode, amsgrad_mode=amsgrad_mode)
    reference = {**shared, "amsgrad": amsgrad, "amsgrad_mode": amsgrad_mode, "epsilon_mode": epsilon_mode,
                 "step_counting": step_counting}
    if algorithm == "amsgrad_class":
        return library, ref.adam_reference, reference, optim.AMSGrad
    return {**library, "amsgrad": amsgrad}, ref.adam_reference, reference, optim.Adam


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(configuration=configurations(), seed=st.integers(0, 2**32 - 1), with_none=st.booleans())
def test_random_configurations_match_the_transcriptions(device, configuration, seed, with_none):
    library, reference_fn, reference, cls = configuration
    rng = np.random.default_rng(seed)
    x0s = [rng.standard_normal(shape) for shape in SHAPES]
    sequences = [ref.make_gradient_sequence(rng, STEPS, shape) for shape in SHAPES]
    if with_none:  # parameter 0 always has a gradient, so every call updates something
        for k in rng.choice(STEPS, size=5, replace=False):
            sequences[1 + int(k) % 2][int(k)] = None
    params = [mg.tensor(x0, requires_grad=True, device=device) for x0 in x0s]
    opt = cls(params, **library)
    for k in range(STEPS):
        for p, sequence in zip(params, sequences):
            g = sequence[k]
            p.grad = None if g is None else mg.tensor(g, device=device)
        opt.step()
    for i, (p, x0, sequence) in enumerate(zip(params, x0s, sequences)):
        expected = ref.run_elementwise(reference_fn, sequence, x0, **reference)[-1]
        np.testing.assert_allclose(p.numpy(), expected, rtol=RTOL, atol=ATOL,
                                   err_msg=f"parameter {i}, {cls.__name__}({library})")
