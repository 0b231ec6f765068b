"""The SGD rule of optim.rules on every execution path, bit for bit: on whole arrays (the reference path), as the
traced ufunc program (optim.fused.ufunc), compiled by Numba (optim.fused.jit) and as the generated CUDA source
compiled as C++ on the CPU (optim.fused.gpu), for every set of SGD formula choices, on special values."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from cuda_source_harness import COMPILER, build, run
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from kernel_helpers import assert_same_bits, special_values

from optim import functional, rule_trace, rules
from optim.fused import gpu as fused_gpu
from optim.fused import jit as fused_jit
from optim.fused import ufunc as fused_ufunc
from optim.step_scalars import RuleStep, step_scalars

needs_numba = pytest.mark.skipif(not fused_jit.available(), reason="Numba is not installed (the 'fast' extra)")
needs_compiler = pytest.mark.skipif(COMPILER is None, reason="no C++ compiler (g++ or clang++, or $CXX)")


def all_sgd_choices():
    """Every SGD choice set that optim.rules.sgd_choices can give."""
    choices = set()
    for maximize, form, decays, momentum, nesterov, first_step in itertools.product(
            (False, True), rules.SGD_FORMS, (False, True), (0.0, 0.9), (False, True), (False, True)):
        choices.add(rules.sgd_choices(maximize=maximize, form=form, weight_decay=0.01 if decays else 0.0,
                                      momentum=momentum, nesterov=nesterov, first_step=first_step))
    return sorted(choices)


CHOICES = all_sgd_choices()


def numbers_of(choices):
    """Hyperparameters of optim.functional.sgd_update that select ``choices``."""
    dampening = 0.25 if choices.form == "dampened" and choices.momentum and not choices.nesterov else 0.0
    return {"lr": 0.01, "weight_decay": 0.0 if choices.decay == "none" else 0.01,
            "momentum": 0.9 if choices.momentum else 0.0, "dampening": dampening}


def scalars_of(choices, dtype, numbers):
    return step_scalars(choices, dtype=dtype, step=1, lr=numbers["lr"], beta1=0.0, beta2=0.0, eps=0.0,
                        weight_decay=numbers["weight_decay"], power_dtype=None, momentum=numbers["momentum"],
                        dampening=numbers["dampening"])


def special_arrays(dtype, rng):
    """Every (param, grad, buffer) triple of special values, shuffled (float16: float32's, cast, huge ones to inf)."""
    with np.errstate(all="ignore"):
        values = special_values(np.float32 if dtype == np.float16 else dtype).astype(dtype)
    triples = np.array(list(itertools.product(values, repeat=3)), dtype)[rng.permutation(len(values) ** 3)]
    return triples[:, 0].copy(), triples[:, 1].copy(), triples[:, 2].copy()


def reference(choices, numbers, param, grad, buffer):
    """optim.functional.sgd_update on copies: the new param and buffer (inf - inf and the like give NaN quietly)."""
    param, buffer = param.copy(), buffer.copy()
    with np.errstate(all="ignore"):
        functional.sgd_update(param, grad.copy(), buffer if choices.momentum else None, maximize=choices.maximize,
                              nesterov=choices.nesterov, form=choices.form, first_step=choices.first_step, **numbers)
    return param, buffer


def test_the_choice_sets_cover_both_forms_and_every_switch():
    """maximize x decay x (dampened: plain, or momentum x Nesterov x first step; velocity: plain, momentum,
    Nesterov): 2 x 2 x (5 + 3) sets."""
    assert len(CHOICES) == 2 * 2 * (5 + 3)
    assert {c.decay for c in CHOICES if c.form == "dampened"} == {"none", "l2"}
    assert {c.decay for c in CHOICES if c.form == "velocity"} == {"none", "decoupled"}
    assert not any(c.first_step for c in CHOICES if c.form == "velocity")


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("choices", CHOICES, ids=str)
def test_traced_ufunc_program_equals_the_reference(choices, dtype):
    """The ufunc program traced from the rule (with fma as optim.fma.fma) gives the reference path's bits."""
    param, grad, buffer = special_arrays(dtype, np.random.default_rng(1))
    numbers = numbers_of(choices)
    expected = reference(choices, numbers, param, grad, buffer)
    kernel_param, kernel_buffer = param.copy(), buffer.copy()
    scratch = [np.empty_like(grad) for _ in range(3)]
    with np.errstate(all="ignore"):
        fused_ufunc.sgd_chunk(kernel_param, grad, kernel_buffer if choices.momentum else None,
                              RuleStep(choices, scalars_of(choices, dtype, numbers)), *scratch)
    assert_same_bits(kernel_param, expected[0], f"param of {choices}")
    assert_same_bits(kernel_buffer, expected[1], f"buffer of {choices}")


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("choices", CHOICES, ids=str)
def test_compiled_loop_equals_the_reference(choices, dtype):
    """Numba's loop over the same rule (fma as LLVM's llvm.fma) gives the reference path's bits."""
    param, grad, buffer = special_arrays(dtype, np.random.default_rng(2))
    numbers = numbers_of(choices)
    expected = reference(choices, numbers, param, grad, buffer)
    kernel_param, kernel_buffer = param.copy(), buffer.copy()
    fused_jit.sgd_chunk(kernel_param, grad, kernel_buffer if choices.momentum else None,
                        RuleStep(choices, scalars_of(choices, dtype, numbers)))
    assert_same_bits(kernel_param, expected[0], f"param of {choices}")
    assert_same_bits(kernel_buffer, expected[1], f"buffer of {choices}")


@settings(max_examples=60, deadline=None)
@given(choices=st.sampled_from(CHOICES), dtype=st.sampled_from([np.float32, np.float64]), data=st.data())
def test_traced_program_on_random_arrays_and_numbers(choices, dtype, data):
    """Random arrays and hyperparameters: the ufunc program gives the reference path's bits."""
    arrays = hnp.arrays(dtype, 9, elements=st.floats(width=np.finfo(dtype).bits))
    param, grad, buffer = data.draw(arrays), data.draw(arrays), data.draw(arrays)
    numbers = {"lr": data.draw(st.floats(0.0, 1.0)),
               "weight_decay": 0.0 if choices.decay == "none" else data.draw(st.floats(1e-6, 1.0)),
               "momentum": data.draw(st.floats(1e-6, 1.0)) if choices.momentum else 0.0,
               "dampening": 0.0}
    if choices.form == "dampened" and choices.momentum and not choices.nesterov:
        numbers["dampening"] = data.draw(st.floats(0.0, 1.0))
    with np.errstate(all="ignore"):
        expected = reference(choices, numbers, param, grad, buffer)
        kernel_param, kernel_buffer = param.copy(), buffer.copy()
        fused_ufunc.sgd_chunk(kernel_param, grad, kernel_buffer if choices.momentum else None,
                              RuleStep(choices, scalars_of(choices, dtype, numbers)),
                              *(np.empty_like(grad) for _ in range(3)))
    assert_same_bits(kernel_param, expected[0], f"param of {choices}")
    assert_same_bits(kernel_buffer, expected[1], f"buffer of {choices}")


def test_first_step_of_the_dampened_form_copies_the_gradient():
    """b_1 = g_1: the traced program gives the buffer the gradient's value itself (-0.0 and NaN kept), which the
    ufunc program copies and the CUDA source assigns."""
    choices = rules.sgd_choices(maximize=False, form="dampened", weight_decay=0.0, momentum=0.9, nesterov=False,
                                first_step=True)
    program = rule_trace.trace(choices)
    assert program.results[1] == "grad"
    assert "buffer = grad;" in fused_gpu.kernel_source(choices).body


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """Every generated SGD kernel compiled as C++ (float and double) into one library, loaded."""
    return build(CHOICES, tmp_path_factory.mktemp("sgd_cuda_source"))


@needs_compiler
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_generated_cuda_source_equals_the_reference(library, dtype):
    """The CUDA C of every SGD choice set (fma as C's fma), compiled on the CPU: the reference path's bits."""
    for index, choices in enumerate(CHOICES):
        param, grad, buffer = special_arrays(dtype, np.random.default_rng(3))
        numbers = numbers_of(choices)
        expected = reference(choices, numbers, param, grad, buffer)
        updated = [param.copy(), buffer.copy()][:1 + choices.momentum]
        with np.errstate(all="ignore"):
            run(library, index, choices, scalars_of(choices, dtype, numbers), grad, updated)
        assert_same_bits(updated[0], expected[0], f"param of {choices}, {np.dtype(dtype)}")
        if choices.momentum:
            assert_same_bits(updated[1], expected[1], f"buffer of {choices}, {np.dtype(dtype)}")
