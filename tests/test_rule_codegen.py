"""The CUDA kernels of optim.fused.gpu, generated from the traced rules: their source for every set of formula
choices, and, where a C++ compiler is present, that source compiled on the CPU and checked bit for bit against
the reference path (optim.functional) on special values: the only check of the CUDA form without a GPU."""

from __future__ import annotations

import numpy as np
import pytest
from cuda_source_harness import COMPILER, build, run
from kernel_helpers import (
    DECAYS,
    STATE,
    all_choices,
    assert_same_bits,
    kind_of,
    make_arrays,
    options_choices,
    rule_step,
)

from optim import functional, rule_trace
from optim.fused import gpu as fused_gpu

CHOICES = all_choices()
DTYPES = [np.float32, np.float64]
needs_compiler = pytest.mark.skipif(COMPILER is None, reason="no C++ compiler (g++ or clang++, or $CXX) to compile "
                                                             "the generated CUDA source on the CPU")


@pytest.mark.parametrize("choices", CHOICES, ids=str)
def test_source_is_generated_for_every_choice_set(choices):
    """One C statement per traced operation, then the new values stored in the arrays the kernel updates."""
    program = rule_trace.trace(choices)
    source = fused_gpu.kernel_source(choices)
    lines = source.body.splitlines()
    assert len(lines) == len(program.operations) + len(program.updated)
    assert lines[:len(program.operations)] == [line for line in lines if line.startswith("T t")]
    assert lines[len(program.operations):] == [f"{name} = {result};"
                                              for name, result in zip(program.updated, program.results)]
    assert source.out_params == ", ".join(f"T {name}" for name in program.updated)
    assert source.in_params == ", ".join(f"T {name}" for name in ("grad", *program.scalars))
    assert ("nan_max(" in source.body) == any(op.name == "maximum" for op in program.operations)


def test_every_choice_set_has_a_kernel_of_its_own_name():
    """CuPy keeps kernels by name and source: the names differ, and are C identifiers."""
    names = [fused_gpu.kernel_source(choices).name for choices in CHOICES]
    assert len(set(names)) == len(names)
    assert all(name.isidentifier() for name in names)


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """Every generated kernel compiled as C++ (float and double) into one library, loaded."""
    return build(CHOICES, tmp_path_factory.mktemp("cuda_source"))


def options_of(choices):
    """Keyword arguments of optim.functional that select ``choices``."""
    weight_decay, decoupled = DECAYS[choices.decay]
    options = {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": weight_decay,
               "decoupled_weight_decay": decoupled, "maximize": choices.maximize, "power_dtype": None,
               "slot_arithmetic": choices.slot_arithmetic}
    if kind_of(choices) == "adamax":
        return options | {"adamax_epsilon": choices.adamax_epsilon}
    return options | {"epsilon_mode": choices.epsilon_mode, "amsgrad_mode": choices.amsgrad_mode,
                      "eps_root": 1e-3 if choices.eps_root else 0.0, "nesterov": choices.nesterov}


def reference_step(choices, state, grad, step, options):
    """One step of optim.functional in place on ``state``."""
    kind = kind_of(choices)
    arrays = [state[name] for name in STATE[kind]]
    if kind == "adamax":
        functional.adamax_update(*arrays[:1], grad, *arrays[1:], step=step, **options)
    else:
        v_max = state.get("v_max")
        functional.adam_update(arrays[0], grad, state["m"], state["v"], v_max, step=step, **options)


def check_against_reference(library, index, choices, grad, state, steps, options):
    """Run ``steps`` with the compiled kernel and the reference on copies of ``state``, comparing after each."""
    kind = kind_of(choices)
    assert options_choices(kind, options) == choices, "the options must select the kernel's choices"
    compiled = {name: array.copy() for name, array in state.items()}
    reference = {name: array.copy() for name, array in state.items()}
    with np.errstate(all="ignore"):
        for step in steps:
            scalars = rule_step(kind, grad.dtype, step, options).scalars
            run(library, index, choices, scalars, grad, [compiled[name] for name in STATE[kind]])
            reference_step(choices, reference, grad.copy(), step, options)
            for name in STATE[kind]:
                assert_same_bits(compiled[name], reference[name],
                                 f"{name} after step {step} of {choices}, {grad.dtype}: C++ against the reference")


@needs_compiler
@pytest.mark.parametrize("dtype", DTYPES)
def test_compiled_source_equals_the_reference_on_special_values(library, dtype):
    """Every choice set, every (grad, m, v or u) triple of NaN, inf, +-0, subnormals, overflowing values: the
    generated source computes the reference's bits at steps 1, 2 and 1000."""
    for index, choices in enumerate(CHOICES):
        rng = np.random.default_rng(20141222)
        grad, state = make_arrays(kind_of(choices), dtype, 1728, rng)
        check_against_reference(library, index, choices, grad, state, (1, 2, 1000), options_of(choices))


@needs_compiler
@pytest.mark.parametrize("dtype", DTYPES)
def test_compiled_maximum_keeps_numpys_choice_on_a_tie_of_zeros(library, dtype):
    """A running maximum of -0.0 meets +0.0 (zero gradient, eps=0): the kernel keeps what np.maximum keeps."""
    for index, choices in enumerate(CHOICES):
        kind = kind_of(choices)
        if kind == "adam" or choices.decay != "none":  # plain Adam keeps no maximum; decay makes g nonzero
            continue
        state = {"param": np.ones(3, dtype), "m": np.array([0.0, 1.0, -1.0], dtype), "v": np.zeros(3, dtype),
                 "v_max": np.full(3, -0.0, dtype), "u": np.full(3, -0.0, dtype)}
        state = {name: state[name] for name in STATE[kind]}
        options = options_of(choices) | {"eps": 0.0}
        check_against_reference(library, index, choices, np.zeros(3, dtype), state, (1,), options)
