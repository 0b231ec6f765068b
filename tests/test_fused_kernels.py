"""The compiled chunk kernels (optim.fused.jit) against the ufunc ones (optim.fused.ufunc) and the reference rules
(optim.functional), bit for bit after every step: NaN where the other has NaN, the same bit pattern elsewhere."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from kernel_helpers import DECAYS, STATE, assert_same_bits, make_arrays, rule_step

from optim import functional
from optim.conventions import RULE_AMSGRAD_MODES, SLOT_ARITHMETIC_CHOICES
from optim.fused import cpu as fused_cpu
from optim.fused import jit as fused_jit
from optim.fused import ufunc as fused_ufunc

needs_numba = pytest.mark.skipif(not fused_jit.available(), reason="Numba is not installed (the 'fast' extra)")

DTYPES = [np.float32, np.float64]
SIZES = (1, 7, 1023, 4099)
STEPS = (1, 2, 1000)
HOWS = ("compiled", "ufunc", "reference")


# --------------------------------------------------------------------------- one step, three ways
def take_step(how, kind, state, grad, step, options):
    """One step in place on ``state``: the compiled kernel, the ufunc kernel or the function of optim.functional."""
    moments = [state[name] for name in STATE[kind] if name != "param"]
    if kind == "adam":
        moments.append(None)  # no v_max
    if how == "reference":
        update = functional.adamax_update if kind == "adamax" else functional.adam_update
        update(state["param"], grad, *moments, step=step, **options)
        return
    module = fused_jit if how == "compiled" else fused_ufunc
    kernel = module.adamax_chunk if kind == "adamax" else module.adam_chunk
    scratch = [np.empty_like(grad) for _ in range(3)] if how == "ufunc" else []  # the compiled pass needs none
    kernel(state["param"], grad, *moments, rule_step(kind, grad.dtype, step, options), *scratch)


def check_steps(kind, options, grad, state, steps, rng=None):
    """Run ``steps`` in turn on three copies of ``state``, comparing compiled with ufunc and reference after each."""
    copies = {how: {name: array.copy() for name, array in state.items()} for how in HOWS}
    with np.errstate(all="ignore"):
        for step in steps:
            if rng is not None:
                grad = rng.permutation(grad)  # new pairings of gradient and state at every step
            for how in HOWS:
                given = grad.copy()
                take_step(how, kind, copies[how], given, step, options)
                assert_same_bits(given, grad, f"grad, which {how} must not write")
            for name, other in itertools.product(state, ("ufunc", "reference")):
                what = f"{name} after step {step} of {kind} {options}, size {grad.size}: compiled against {other}"
                assert_same_bits(copies["compiled"][name], copies[other][name], what)


def fixed_options(maximize, decay, **choices):
    """Fixed hyperparameters with the given choices (epsilon_mode and amsgrad_mode, or adamax_epsilon)."""
    weight_decay, decoupled = DECAYS[decay]
    return {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": weight_decay,
            "decoupled_weight_decay": decoupled, "maximize": maximize, "power_dtype": None, **choices}


# --------------------------------------------------------------------------- every formula choice
@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("epsilon_mode", ["algorithm1", "epsilon_hat"])
@pytest.mark.parametrize("amsgrad_mode", RULE_AMSGRAD_MODES)
@pytest.mark.parametrize("decay", sorted(DECAYS))
@pytest.mark.parametrize("maximize", [False, True])
def test_adam_formula_choices(maximize, decay, amsgrad_mode, epsilon_mode, dtype):
    """Adam and AMSGrad as adam_update computes them: compiled == ufunc == reference at every size and step."""
    rng = np.random.default_rng(20141222)
    kind = "adam" if amsgrad_mode is None else "amsgrad"
    options = fixed_options(maximize, decay, amsgrad_mode=amsgrad_mode, epsilon_mode=epsilon_mode)
    for size in SIZES:
        grad, state = make_arrays(kind, dtype, size, rng)
        check_steps(kind, options, grad, state, STEPS, rng)


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("adamax_epsilon", ["denominator", "inside_max"])
@pytest.mark.parametrize("decay", sorted(DECAYS))
@pytest.mark.parametrize("maximize", [False, True])
def test_adamax_formula_choices(maximize, decay, adamax_epsilon, dtype):
    """Kingma & Ba Algorithm 2 as adamax_update computes it: compiled == ufunc == reference at every size and step."""
    rng = np.random.default_rng(20141222)
    options = fixed_options(maximize, decay, adamax_epsilon=adamax_epsilon)
    for size in SIZES:
        grad, state = make_arrays("adamax", dtype, size, rng)
        check_steps("adamax", options, grad, state, STEPS, rng)


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("slot_arithmetic", ["in_dtype", "in_dtype_sum"])
@pytest.mark.parametrize("rule", [("adam", "algorithm1", None), ("adam", "epsilon_hat", None),
                                  ("amsgrad", "epsilon_hat", "max_raw_v"), ("amsgrad", "algorithm1", "max_corrected_v"),
                                  ("amsgrad", "epsilon_hat", "no_bias_correction"), ("adamax", "denominator"),
                                  ("adamax", "inside_max")], ids=lambda rule: "-".join(map(str, rule)))
def test_slot_arithmetic_choices(rule, slot_arithmetic, dtype):
    """The kernels' arithmetic of TensorFlow and MindSpore (m += (g - m)(1 - beta), numbers in the dtype) and of
    tf.keras legacy's sparse path, with every rule it combines with: compiled == ufunc == reference."""
    rng = np.random.default_rng(20141223)
    kind, *modes = rule
    if kind == "adamax":
        options = fixed_options(False, "l2", adamax_epsilon=modes[0], slot_arithmetic=slot_arithmetic)
    else:
        options = fixed_options(True, "decoupled", epsilon_mode=modes[0], amsgrad_mode=modes[1],
                                slot_arithmetic=slot_arithmetic)
    for size in SIZES[:3]:
        grad, state = make_arrays(kind, dtype, size, rng)
        check_steps(kind, options, grad, state, STEPS, rng)


# The tests above keep the running maximum >= +0.0, as the rules do from a zero state. A loaded state may hold
# -0.0: on the tie max(-0.0, +0.0) np.maximum keeps its second operand, and so must the compiled maximum.
@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("choice", [*RULE_AMSGRAD_MODES[1:], "denominator", "inside_max"])
def test_negative_zero_in_the_running_maximum(choice, dtype):
    """A running maximum of -0.0 meets +0.0 (zero gradient, eps=0): the kernels keep what np.maximum keeps."""
    kind = "adamax" if choice in ("denominator", "inside_max") else "amsgrad"
    state = {"param": np.ones(3, dtype), "m": np.array([0.0, 1.0, -1.0], dtype), "v": np.zeros(3, dtype),
             "v_max": np.full(3, -0.0, dtype), "u": np.full(3, -0.0, dtype)}
    state = {name: state[name] for name in STATE[kind]}
    if kind == "adamax":
        options = fixed_options(False, "none", adamax_epsilon=choice)
    else:
        options = fixed_options(False, "none", amsgrad_mode=choice, epsilon_mode="algorithm1")
    check_steps(kind, options | {"eps": 0.0}, np.zeros(3, dtype), state, (1,))


# --------------------------------------------------------------------------- random arrays and hyperparameters
def float_arrays(dtype, size, running_max=False):
    """Arrays of any float of ``dtype``; a running maximum holds NaN, +inf or a value >= +0.0."""
    width = np.finfo(dtype).bits
    if running_max:
        return hnp.arrays(dtype, size, elements=st.floats(min_value=0.0, width=width) | st.just(math.nan))
    return hnp.arrays(dtype, size, elements=st.floats(width=width))


@st.composite
def random_cases(draw):
    """(kind, options, grad, state, step) with random arrays and random hyperparameters."""
    dtype = draw(st.sampled_from(DTYPES))
    size = draw(st.integers(1, 40))
    kind = draw(st.sampled_from(sorted(STATE)))
    beta = st.floats(0.0, 0.999999, exclude_min=True)  # float32(beta) < 1, so power_dtype="float32" has 1 - beta^t > 0
    options = {
        "lr": draw(st.floats(0.0, 1.0)), "beta1": draw(beta), "beta2": draw(beta),
        "eps": draw(st.sampled_from([0.0, 1e-8]) | st.floats(0.0, 1.0)),
        "weight_decay": draw(st.sampled_from([0.0, 0.01]) | st.floats(0.0, 1.0)),
        "decoupled_weight_decay": draw(st.booleans()), "maximize": draw(st.booleans()),
        "power_dtype": draw(st.sampled_from([None, "float32", "param", "float32_or_wider"])),
        "slot_arithmetic": draw(st.sampled_from(SLOT_ARITHMETIC_CHOICES)),
    }
    if kind == "adamax":
        options["adamax_epsilon"] = draw(st.sampled_from(["denominator", "inside_max"]))
    else:
        options["epsilon_mode"] = draw(st.sampled_from(["algorithm1", "epsilon_hat"]))
        options["amsgrad_mode"] = draw(st.sampled_from(RULE_AMSGRAD_MODES[1:] if kind == "amsgrad" else [None]))
    grad = draw(float_arrays(dtype, size))
    state = {name: draw(float_arrays(dtype, size, running_max=name in ("v_max", "u"))) for name in STATE[kind]}
    step = draw(st.integers(1, 10_000))
    return kind, options, grad, state, step


@needs_numba
@settings(max_examples=150, deadline=None)
@given(case=random_cases())
def test_random_arrays_and_hyperparameters(case):
    """Random arrays (NaN, inf, subnormals) and hyperparameters: compiled == ufunc == reference, bit for bit."""
    kind, options, grad, state, step = case
    check_steps(kind, options, grad, state, (step, step + 1))


# --------------------------------------------------------------------------- choosing the kernels
@pytest.fixture
def kernels_choice():
    """The current choice of fused_cpu.set_kernels, restored after the test."""
    previous = fused_cpu.set_kernels("auto")
    fused_cpu.set_kernels(previous)
    yield previous
    fused_cpu.set_kernels(previous)  # pytest runs this after a failing test too


def test_set_kernels_returns_the_previous_choice(kernels_choice):
    """set_kernels answers the choice it replaces, and "ufunc" hands out the ufunc kernels for every dtype."""
    assert fused_cpu.set_kernels("ufunc") == kernels_choice
    assert fused_cpu.set_kernels("auto") == "ufunc"
    assert fused_cpu.set_kernels("ufunc") == "auto"
    for dtype in (np.float16, np.float32, np.float64):
        assert fused_cpu.kernel("adam", dtype) is fused_ufunc.adam_chunk
        assert fused_cpu.kernel("adamax", dtype) is fused_ufunc.adamax_chunk


def test_set_kernels_rejects_an_unknown_kind(kernels_choice):
    """An unknown kind raises a ValueError naming ``kind`` and the value, and leaves the choice as it was."""
    with pytest.raises(ValueError, match=r"kind: .*got 'fast'"):
        fused_cpu.set_kernels("fast")
    assert fused_cpu.set_kernels(kernels_choice) == kernels_choice


def test_compiled_needs_numba(kernels_choice, monkeypatch):
    """Without Numba, "compiled" is refused and "auto" falls back to the ufunc kernels."""
    monkeypatch.setattr(fused_jit, "available", lambda: False)
    with pytest.raises(ValueError, match="Numba"):
        fused_cpu.set_kernels("compiled")
    fused_cpu.set_kernels("auto")
    assert fused_cpu.kernel("adam", np.float32) is fused_ufunc.adam_chunk
    assert fused_cpu.kernel("adamax", np.float64) is fused_ufunc.adamax_chunk


@needs_numba
@pytest.mark.parametrize("kind", ["auto", "compiled"])
def test_compiled_kernels_where_they_apply(kernels_choice, kind):
    """"auto" and "compiled" hand out the compiled kernels for float32 and float64, the ufunc ones for float16."""
    fused_cpu.set_kernels("ufunc")
    assert fused_cpu.set_kernels(kind) == "ufunc"
    for dtype, module in ((np.float16, fused_ufunc), (np.float32, fused_jit), (np.float64, fused_jit)):
        assert fused_cpu.kernel("adam", dtype) is module.adam_chunk
        assert fused_cpu.kernel("adamax", dtype) is module.adamax_chunk


@needs_numba
@pytest.mark.parametrize("errors", [{"invalid": "raise"}, {"divide": "raise"}, {"all": "call", "call": print}])
def test_errstate_that_reports_selects_the_ufunc_kernels(kernels_choice, errors):
    """Under np.errstate set to raise or call, kernel() gives the ufunc kernels: only ufuncs report FP errors."""
    fused_cpu.set_kernels("compiled")
    with np.errstate(**errors):
        assert fused_cpu.kernel("adam", np.float64) is fused_ufunc.adam_chunk
        assert fused_cpu.kernel("adamax", np.float32) is fused_ufunc.adamax_chunk
    assert fused_cpu.kernel("adam", np.float64) is fused_jit.adam_chunk
