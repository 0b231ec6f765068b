"""The rules of optim.rules, written once: the traced program (optim.rule_trace) run as ufuncs (optim.fused.ufunc)
gives the bits of the rule run directly on arrays, the tracer refuses what it cannot record, and the kernel modules
hold no arithmetic of their own."""

from __future__ import annotations

import ast
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from kernel_helpers import DECAYS, STATE, all_choices, assert_same_bits, kind_of, make_arrays

import minigrad as mg
import optim
from optim import functional, rule_trace, rules
from optim.fused import cpu as fused_cpu
from optim.fused import ufunc as fused_ufunc
from optim.step_scalars import Scalars, step_scalars

ROOT = Path(__file__).resolve().parents[1]
NUMBERS = {"step": 7, "lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01,
           "power_dtype": None}


def run_both(choices, grad, state, numbers):
    """The rule run directly on copies of the arrays, and the traced program run as ufuncs on other copies."""
    scalars = step_scalars(choices, dtype=grad.dtype, **numbers)
    names = STATE[kind_of(choices)]
    direct = rules.make_rule(choices, rules.array_ops(np))(scalars, state["param"].copy(), grad.copy(),
                                                           *(state[name].copy() for name in names[1:]))
    arrays = [state["param"].copy(), grad.copy(), *(state[name].copy() for name in names[1:])]
    program = fused_ufunc.compile_program(rule_trace.trace(choices))
    scratch = [np.empty_like(grad) for _ in range(program.scratch)]
    fused_ufunc.run_program(program, tuple(arrays), scalars, tuple(scratch))
    assert_same_bits(arrays[1], grad, f"grad, which the program of {choices} must not write")
    return dict(zip(names, direct)), dict(zip(names, arrays[:1] + arrays[2:]))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("choices", all_choices(), ids=str)
def test_traced_program_as_ufuncs_equals_the_rule_on_arrays(choices, dtype):
    """Every choice set and dtype, on every combination of special values: the same bits, NaN where NaN."""
    rng = np.random.default_rng(20141222)
    grad, state = make_arrays(kind_of(choices), np.float32 if dtype == np.float16 else dtype, 1728, rng)
    with np.errstate(all="ignore"):
        grad, state = grad.astype(dtype), {name: array.astype(dtype) for name, array in state.items()}
        direct, traced = run_both(choices, grad, state, NUMBERS)
    for name in direct:
        assert_same_bits(traced[name], np.asarray(direct[name]), f"{name} of {choices}, {np.dtype(dtype)}")


@settings(max_examples=60, deadline=None)
@given(choices=st.sampled_from(all_choices()), dtype=st.sampled_from([np.float16, np.float32, np.float64]),
       data=st.data())
def test_traced_program_on_random_arrays_and_numbers(choices, dtype, data):
    """Random arrays (NaN, inf, subnormals, -0.0 in the running maximum) and random numbers: the same bits."""
    width = np.finfo(dtype).bits
    arrays = hnp.arrays(dtype, 9, elements=st.floats(width=width))
    grad = data.draw(arrays)
    state = {name: data.draw(arrays) for name in STATE[kind_of(choices)]}
    numbers = {"step": data.draw(st.integers(1, 10_000)), "lr": data.draw(st.floats(0.0, 1.0)),
               "beta1": data.draw(st.floats(0.0, 0.99)), "beta2": data.draw(st.floats(0.0, 0.99)),
               "eps": data.draw(st.floats(0.0, 1.0)), "weight_decay": data.draw(st.floats(0.0, 1.0)),
               "power_dtype": data.draw(st.sampled_from([None, "float32", "param"]))}
    with np.errstate(all="ignore"):
        direct, traced = run_both(choices, grad, state, numbers)
    for name in direct:
        assert_same_bits(traced[name], np.asarray(direct[name]), f"{name} of {choices}, {np.dtype(dtype)}")


def test_every_program_fits_the_scratch_buffers_of_fused_cpu():
    """fused_cpu hands a ufunc kernel three scratch buffers per chunk: every rule needs at most that."""
    needs = {choices: fused_ufunc.compile_program(rule_trace.trace(choices)).scratch for choices in all_choices()}
    assert max(needs.values()) <= 3, needs
    assert len(fused_cpu._scratch(np.dtype(np.float32), 8)) == 3


def test_a_new_value_that_cannot_go_to_its_array_at_once_is_copied_there_at_the_end():
    """The new param is computed while the old one is still needed (for m): it waits in scratch, then moves."""
    operations = (rule_trace.Operation("multiply", ("grad", "param"), "t0"),
                  rule_trace.Operation("add", ("param", "m"), "t1"))
    program = rule_trace.Program(("param", "grad", "m"), ("param", "m"), (), operations, ("t0", "t1"))
    compiled = fused_ufunc.compile_program(program)
    param, grad, m = np.array([2.0, 3.0]), np.array([5.0, 7.0]), np.array([11.0, 13.0])
    fused_ufunc.run_program(compiled, (param, grad, m), (), (np.empty(2),))
    assert compiled.copies and param.tolist() == [10.0, 21.0] and m.tolist() == [13.0, 16.0]


def test_a_program_that_gives_an_array_another_arrays_value_is_refused():
    """Each updated array needs a value of its own: a program returning m's old value for param is refused."""
    program = rule_trace.Program(("param", "grad", "m"), ("param", "m"), (), (), ("m", "m"))
    with pytest.raises(ValueError, match="param"):
        fused_ufunc.compile_program(program)


def test_the_tracer_refuses_a_branch_on_a_value_and_a_constant():
    """A rule may branch on its choices only, and take every number from its scalars: the tracer says so."""
    tape = rule_trace._Tape()
    value = rule_trace.Value("g", tape)
    with pytest.raises(TypeError, match="branch on a value"):
        bool(value)
    with pytest.raises(TypeError, match=r"constant 2"):
        value * 2


def test_the_traced_program_is_the_rule_operation_by_operation():
    """AdaMax with the paper's choices, as recorded: the lines of Algorithm 2 in order, nothing added."""
    program = rule_trace.trace(rules.AdamaxChoices(False, "none", "denominator"))
    recorded = [(operation.name, operation.operands) for operation in program.operations]
    assert recorded == [("multiply", ("m", "beta1")), ("multiply", ("one_minus_beta1", "grad")),
                        ("add", ("t0", "t1")), ("multiply", ("u", "beta2")), ("absolute", ("grad",)),
                        ("maximum", ("t3", "t4")), ("multiply", ("step_size", "t2")), ("add", ("t5", "eps")),
                        ("divide", ("t6", "t7")), ("subtract", ("param", "t8"))]
    assert program.results == ("t9", "t2", "t5")


# --------------------------------------------------------------------------- the numbers
def test_numbers_the_rule_does_not_read_are_zero_and_never_converted():
    """float16 and a weight decay of 1e5, decoupled: only 1 - lr * lambda is converted, so nothing overflows."""
    choices = rules.adamax_choices(maximize=False, weight_decay=1e5, decoupled_weight_decay=True,
                                   adamax_epsilon="denominator")
    with np.errstate(all="raise"):
        scalars = step_scalars(choices, dtype=np.float16, **(NUMBERS | {"lr": 1e-6, "weight_decay": 1e5}))
    assert scalars.weight_decay == 0 and scalars.bias2 == 0 and scalars.decay_factor == np.float16(1 - 1e-6 * 1e5)
    assert all(type(value) is np.float16 for value in scalars)


def test_every_number_a_rule_reads_is_a_field_of_the_scalars():
    """step_scalars computes what the rules read: no rule reads a number it does not provide."""
    for choices in all_choices():
        assert set(rule_trace.trace(choices).scalars) <= set(Scalars._fields), choices


def test_overflowing_number_warns_as_the_array_operation_did():
    """lr / (1 - beta1^t) beyond float16: the cast warns, once, as NumPy's own rounding of a Python float does."""
    choices = rules.adam_choices(maximize=False, weight_decay=0.0, decoupled_weight_decay=False,
                                 epsilon_mode="algorithm1", amsgrad_mode=None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scalars = step_scalars(choices, dtype=np.float16, **(NUMBERS | {"lr": 1e6}))
    assert math.isinf(scalars.step_size)
    assert [str(warning.message) for warning in caught] == ["overflow encountered in cast"]


def test_fused_step_does_not_convert_a_number_its_rule_does_not_read():
    """float16, decoupled weight decay 1e5 (beyond float16, never used as such) under np.errstate(over="raise"):
    the fused step, like the reference, converts only 1 - lr * lambda, and both give the same bits."""
    results = []
    for fused in (False, True):
        param = mg.tensor(np.array([0.5, -2.0, 3.0], np.float16), requires_grad=True)
        opt = optim.Adamax([param], lr=1e-6, weight_decay=1e5, decoupled_weight_decay=True, fused=fused)
        param.grad = mg.tensor(np.array([0.25, -1.0, 0.5], np.float16))
        with np.errstate(over="raise"):
            opt.step()
        results.append(param.data.copy())
    assert_same_bits(results[1], results[0], "fused against reference")


# --------------------------------------------------------------------------- the reference path
@pytest.mark.parametrize("choices", all_choices(), ids=str)
def test_reference_step_that_raises_a_floating_point_error_changes_nothing(choices):
    """Under np.errstate(invalid="raise"), inf - inf in the moments raises, and no array has changed: the rule
    computes every new value before optim.functional writes any back."""
    kind = kind_of(choices)
    state = {"param": np.array([1.0, 2.0]), "m": np.array([-np.inf, 0.5]), "v": np.array([0.25, 0.5]),
             "v_max": np.array([0.5, 0.5]), "u": np.array([0.5, 0.5])}
    arrays = [state[name] for name in STATE[kind]]
    before = [array.copy() for array in arrays]
    weight_decay, decoupled = DECAYS[choices.decay]
    options = {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": weight_decay,
               "decoupled_weight_decay": decoupled, "maximize": choices.maximize}
    grad = np.array([-np.inf if choices.maximize else np.inf, 1.0])
    with np.errstate(invalid="raise"), pytest.raises(FloatingPointError, match="invalid value"):
        if kind == "adamax":
            functional.adamax_update(*arrays[:1], grad, *arrays[1:], step=3, adamax_epsilon=choices.adamax_epsilon,
                                     **options)
        else:
            functional.adam_update(arrays[0], grad, state["m"], state["v"], state["v_max"], step=3,
                                   epsilon_mode=choices.epsilon_mode, amsgrad_mode=choices.amsgrad_mode, **options)
    for name, array, old in zip(STATE[kind], arrays, before):
        assert_same_bits(array, old, f"{name} after the refused step of {choices}")


@pytest.mark.parametrize("choices", all_choices(), ids=str)
def test_reference_rounds_numpy_float64_numbers_to_the_parameters_dtype(choices):
    """float32 arrays with hyperparameters given as np.float64: every number is rounded to float32 first, as a
    Python float is (the arithmetic happens in the parameter's dtype), so both give the same bits."""
    kind = kind_of(choices)
    rng = np.random.default_rng(20141222)
    weight_decay, decoupled = DECAYS[choices.decay]
    numbers = {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": weight_decay}
    if kind == "adamax":
        modes = {"adamax_epsilon": choices.adamax_epsilon}
    else:
        modes = {"epsilon_mode": choices.epsilon_mode, "amsgrad_mode": choices.amsgrad_mode}
    start = {name: rng.random(64, dtype=np.float32) for name in STATE[kind]}
    grad = rng.standard_normal(64, dtype=np.float32)
    results = []
    for convert in (float, np.float64):
        arrays = [start[name].copy() for name in STATE[kind]]
        options = {name: convert(value) for name, value in numbers.items()}
        options |= {"decoupled_weight_decay": decoupled, "maximize": choices.maximize, **modes}
        if kind == "adamax":
            functional.adamax_update(*arrays[:1], grad, *arrays[1:], step=5, **options)
        else:
            functional.adam_update(arrays[0], grad, arrays[1], arrays[2], arrays[3] if kind == "amsgrad" else None,
                                   step=5, **options)
        results.append(arrays)
    for name, python, numpy in zip(STATE[kind], *results):
        assert_same_bits(numpy, python, f"{name} of {choices} with np.float64 numbers against Python floats")


# --------------------------------------------------------------------------- written once
KERNEL_MODULES = ("ufunc.py", "jit.py", "gpu.py", "cpu.py", "store.py")


def _docstrings(tree):
    """The docstring nodes of a module and of its classes and functions."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant):
                yield body[0].value


@pytest.mark.parametrize("module", KERNEL_MODULES)
def test_kernel_modules_have_no_arithmetic_of_their_own(module):
    """No kernel module names a number of a step (beta1, eps, step_size...), in code or in a string of C: they
    run or generate optim.rules, which is the one place that combines them."""
    tree = ast.parse((ROOT / "optim" / "fused" / module).read_text())
    numbers = set(Scalars._fields)
    docstrings = {id(node) for node in _docstrings(tree)}
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in numbers:
            found.add(node.id)
        elif isinstance(node, ast.Attribute) and node.attr in numbers:
            found.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found.update(word for word in numbers if re.search(rf"\b{word}\b", node.value))
    assert not found, f"{module} uses {sorted(found)}"


def test_the_remembered_numbers_tell_minus_zero_from_zero():
    """step_scalars remembers a step's numbers by the exact bits of its floats: lr = 0.0 and lr = -0.0 (equal, with
    equal hashes) give -alpha of opposite signs, not one remembered for the other."""
    from optim.step_scalars import step_scalars

    choices = rules.sgd_choices(maximize=False, form="dampened", weight_decay=0.0, momentum=0.0, nesterov=False,
                                first_step=False)
    numbers = [step_scalars(choices, dtype=np.float64, step=1, lr=lr, beta1=0.0, beta2=0.0, eps=0.0,
                            weight_decay=0.0, power_dtype=None).negative_lr for lr in (0.0, -0.0, 0.0)]
    assert [bool(np.signbit(number)) for number in numbers] == [True, False, True]
