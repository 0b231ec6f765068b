"""The fused path (``fused=True``) against the reference path, which is the specification: every algorithm
x convention, every formula choice and every optimizer-wide option.

Both paths run the same gradient sequences; the parameters, the state arrays and
the step counts must agree: float64 to a relative 1e-12, float32 to 2 units in
the last place (on the CPU they are in fact identical, which one test states).
The other fused tests: chunk boundaries and threads (test_fused_chunks.py), the
flat buffers, binding and resuming (test_fused_buffers.py), and the errors for
what the fused path does not do (test_fused_errors.py); the helpers are in
fused_helpers.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from fused_helpers import CLASSES, DTYPES, SHAPES, assert_close, check, make_params, run

import minigrad as mg
import optim
from minigrad import backend
from optim import schedules

pytestmark = pytest.mark.usefixtures("cpu_kernels")  # every test with the ufunc and with the compiled kernels


# --------------------------------------------------------------------------- algorithms x conventions x choices
CLASS_CONVENTIONS = [(cls, convention) for convention in sorted(optim.CONVENTIONS) for cls in CLASSES
                     if (cls.algorithm in optim.CONVENTIONS[convention].algorithms)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls, convention", CLASS_CONVENTIONS, ids=[f"{c.__name__}-{n}" for c, n in CLASS_CONVENTIONS])
@pytest.mark.parametrize("extra", [{}, {"weight_decay": 0.1, "maximize": True}], ids=["plain", "decay-maximize"])
def test_every_convention(device, cls, convention, dtype, extra):
    """Each algorithm under each convention, with and without weight decay and maximize."""
    check(cls, {"lr": 0.01, "convention": convention, **extra}, dtype, device)


ADAM_CHOICES = [
    {"epsilon_mode": epsilon_mode, "amsgrad": amsgrad, "amsgrad_mode": amsgrad_mode}
    for epsilon_mode in ("algorithm1", "epsilon_hat")
    for amsgrad, amsgrad_mode in [(False, "max_raw_v"), (True, "max_raw_v"), (True, "max_corrected_v"),
                                  (True, "no_bias_correction"), (True, "ignored")]
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("decoupled", [False, True])
@pytest.mark.parametrize("choice", ADAM_CHOICES, ids=lambda c: "-".join(str(value) for value in c.values()))
def test_every_adam_choice(device, choice, decoupled, dtype):
    """epsilon_mode x amsgrad_mode, with L2 or decoupled weight decay."""
    kwargs = {"lr": 0.02, "weight_decay": 0.05, "decoupled_weight_decay": decoupled, **choice}
    check(optim.Adam, kwargs, dtype, device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("decoupled", [False, True])
@pytest.mark.parametrize("adamax_epsilon", ["denominator", "inside_max"])
def test_every_adamax_choice(device, adamax_epsilon, decoupled, dtype):
    """adamax_epsilon, with L2 or decoupled weight decay, and maximize."""
    kwargs = {"lr": 0.02, "weight_decay": 0.05, "decoupled_weight_decay": decoupled, "maximize": True,
              "adamax_epsilon": adamax_epsilon}
    check(optim.Adamax, kwargs, dtype, device)


@pytest.mark.parametrize("power_dtype", [None, "float32", "param"])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("cls", CLASSES)
def test_power_dtype(cls, dtype, power_dtype):
    """The bias corrections in double, single or the parameter's precision (float16 included, on the CPU;
    with an epsilon that float16 can hold)."""
    check(cls, {"lr": 0.01, "eps": 1e-3, "power_dtype": power_dtype}, dtype, "cpu", steps=6)


@pytest.mark.parametrize("cls", CLASSES)
def test_cpu_results_are_identical_bit_for_bit(cls):
    """On the CPU the fused kernels repeat the reference operations in order: the bits are the same."""
    for dtype in DTYPES:
        kwargs = {"lr": 0.01, "convention": "pytorch", "weight_decay": 0.01}
        (ref, _), (got, _) = (run(cls, kwargs, SHAPES, dtype, "cpu", fused=f) for f in (False, True))
        for a, b in zip(ref, got):
            np.testing.assert_array_equal(b.data, a.data)


# --------------------------------------------------------------------------- options
OPTIONS = {
    "clipnorm": {"clipnorm": 0.5},
    "clipvalue": {"clipvalue": 0.3},
    "global_clipnorm": {"global_clipnorm": 0.7},
    "loss_scale_factor": {"loss_scale_factor": 128.0},
    "accumulation": {"gradient_accumulation_steps": 2},
    "ema": {"use_ema": True, "ema_momentum": 0.9, "ema_overwrite_frequency": 3},
    "legacy_decay": {"decay": 0.1},
    "schedule": {"lr": schedules.ExponentialDecay(0.05, decay_steps=2, decay_rate=0.5)},
    "callable_lr": {"lr": lambda k: 0.01 / (1 + k)},
    "sparse_dense": {"lazy": False},
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("option", sorted(OPTIONS))
@pytest.mark.parametrize("cls", CLASSES)
def test_every_option(device, cls, option, dtype):
    """The pipeline around the rule (clipping, scaling, accumulation, EMA, schedules) is the reference's."""
    kwargs = {"lr": 0.01, **OPTIONS[option]}
    fused = check(cls, kwargs, dtype, device, steps=6)
    reference = run(cls, kwargs, SHAPES, dtype, device, fused=False, steps=6)
    for ref, got in zip(reference[0], fused[0]):
        if ref in reference[1].averages:
            assert_close(fused[1].averages[got], reference[1].averages[ref], dtype)


@pytest.mark.parametrize("cls", CLASSES)
def test_pattern_lrs_and_weight_decay_exclusion(device, cls):
    """Per-parameter learning rates (pattern_lrs) and exclusions from weight decay, by object and by name."""
    names = ["encoder.weight", "encoder.bias", "head.weight", "head.bias"]
    kwargs = {"lr": 0.01, "weight_decay": 0.1, "pattern_lrs": [{"patterns": ["^head"], "lr": 0.05}]}

    def configure(optimizer, params):
        optimizer.exclude_from_weight_decay(var_list=[params[0]], var_names=["bias$"])

    fused = check(cls, kwargs, np.float64, device, names=names, configure=configure)
    assert len(fused[1]._fused_engine.stores) == 1


@pytest.mark.parametrize("cls", CLASSES)
def test_groups_and_mixed_dtypes(device, cls):
    """Several parameter groups with their own hyperparameters, and float32 next to float64."""
    results = []
    for fused in (False, True):
        a = make_params([(4, 3), (7,)], np.float32, device, seed=1)
        b = make_params([(6,), (2, 2)], np.float64, device, seed=2)
        optimizer = cls([{"params": a, "lr": 0.03}, {"params": b, "weight_decay": 0.2}], lr=0.01, fused=fused)
        rng = np.random.default_rng(3)
        for _ in range(4):
            for p in a + b:
                p.grad = mg.Tensor(backend.to_device(rng.standard_normal(p.shape).astype(p.dtype), device))
            optimizer.step()
        results.append((a + b, optimizer))
    for ref, got in zip(results[0][0], results[1][0]):
        assert_close(got.data, ref.data, ref.dtype)
    assert len(results[1][1]._fused_engine.stores) == 2


@pytest.mark.parametrize("convention", ["pytorch", "paper"])
@pytest.mark.parametrize("cls", CLASSES)
def test_missing_gradients(device, cls, convention):
    """Parameters without a gradient are left alone; per-parameter step counts then differ, and each run of
    equal counts gets its own bias corrections."""
    missing = {(0, 1), (1, 1), (2, 0), (2, 3), (3, 2)}
    check(cls, {"lr": 0.01, "convention": convention}, np.float64, device, steps=5, missing=missing)
