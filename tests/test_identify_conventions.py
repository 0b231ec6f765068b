"""Each convention's own trajectories, made by the library's optimizers, identify themselves, on inputs chosen so
that the choices are observable (gradients from 1e-9 to 10, sign flips, zeros, a spike; betas whose float32
rounding shows in 1 - beta^t)."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from identify_helpers import library_trajectory, probe

import optim
from optim.conventions import CONVENTIONS
from optim.identify.search import prepare

DTYPES = (np.float32, np.float64)
ALGORITHMS = ("adam", "amsgrad", "adamax")
BETAS = (0.999, 0.999)  # float32(0.999) is off by 1.3e-5 relative in 1 - beta: every power_dtype is observable
CASES = [(dtype, algorithm, name) for dtype in DTYPES for algorithm in ALGORITHMS for name in CONVENTIONS
         if ("adamax" if algorithm == "adamax" else "adam") in CONVENTIONS[name].algorithms]


def own_report(dtype, algorithm: str, name: str, weight_decay: float = 0.0):
    """The report on the library's run of convention ``name``, and that convention's candidate."""
    initial, grads = probe(dtype)
    request = prepare(initial, grads, grads, algorithm, lr=0.1, betas=BETAS, weight_decay=weight_decay)
    candidate = next(c for c in request.candidates.candidates if c.convention == name and not c.overrides)
    params = library_trajectory(candidate.keywords, initial, grads)
    return optim.identify(initial, grads, params, algorithm, lr=0.1, betas=BETAS, weight_decay=weight_decay)


@pytest.mark.parametrize(("dtype", "algorithm", "name"), CASES)
def test_a_conventions_own_run_matches_it_exactly(dtype, algorithm, name):
    """The convention is a match with no difference at all (the replay runs the optimizer's own rule)."""
    report = own_report(dtype, algorithm, name)
    own = next(result for result in report.matches if result.convention == name and not result.overrides)
    assert own.max_abs_diff == 0 and own.steps_compared == 40
    assert report.best.max_abs_diff == 0


@pytest.mark.parametrize(("dtype", "algorithm", "name"), CASES)
def test_every_one_choice_variant_of_the_convention_is_ruled_out(dtype, algorithm, name):
    """On the probe inputs no variant of the convention matches its run: each choice is observable."""
    report = own_report(dtype, algorithm, name)
    variants = [result for result in report.results if result.convention == name and result.overrides]
    assert variants
    assert not [result.description for result in variants if result.matched]


@pytest.mark.parametrize(("dtype", "algorithm", "name"), CASES)
def test_the_other_weight_decay_is_ruled_out(dtype, algorithm, name):
    """With weight decay, the convention with L2 and decoupled decay swapped parts from its run."""
    report = own_report(dtype, algorithm, name, weight_decay=0.01)
    swapped = [result for result in report.results
               if result.convention == name and "decoupled_weight_decay" in result.overrides]
    assert len(swapped) == 1 and not swapped[0].matched


def test_identical_computations_tie_and_are_all_reported():
    """Plain Adam of paper and pytorch compute the same numbers: both match, with the same difference."""
    initial, grads = probe(np.float32)
    params = library_trajectory({"class": "Adam", "convention": "pytorch", "lr": 0.1}, initial, grads)
    report = optim.identify(initial, grads, params, "adam", lr=0.1)
    plain = {result.convention: result for result in report.matches if not result.overrides}
    assert {"paper", "pytorch"} <= set(plain)
    assert plain["paper"].max_abs_diff == plain["pytorch"].max_abs_diff == 0


def test_missing_hyperparameters_come_from_each_conventions_defaults():
    """Without lr, betas and eps, each candidate uses its convention's (Keras: eps 1e-7), the report says so,
    and Optax, which has no default learning rate, is not run."""
    initial, grads = probe(np.float32)
    params = library_trajectory({"class": "Adam", "convention": "keras"}, initial, grads)
    report = optim.identify(initial, grads, params)
    keras = next(result for result in report.matches if result.convention == "keras" and not result.overrides)
    assert keras.defaults == ("lr", "betas", "eps") and keras.keywords["eps"] == 1e-7
    assert "lr" not in report.given and "each candidate uses its convention's default: lr, betas, eps" in str(report)
    assert not [result for result in report.results if result.convention == "optax"]
    assert any("optax" in entry and "no default learning rate" in entry for entry in report.skipped)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), index=st.integers(0, 10**6), dtype=st.sampled_from(DTYPES),
       algorithm=st.sampled_from(ALGORITHMS), steps=st.integers(1, 12), weight_decay=st.sampled_from([0.0, 0.05]))
def test_any_candidate_run_by_its_keywords_is_matched_exactly(seed, index, dtype, algorithm, steps, weight_decay):
    """Property: for any candidate, the optimizer its ``keywords`` describe produces a run that the candidate
    matches with no difference (so ``report.best.keywords`` reproduces what identify found)."""
    initial, grads = probe(dtype, steps=steps, size=12, seed=seed)
    candidates = prepare(initial, grads, grads, algorithm, lr=0.05, weight_decay=weight_decay).candidates.candidates
    candidate = candidates[index % len(candidates)]
    params = library_trajectory(candidate.keywords, initial, grads)
    report = optim.identify(initial, grads, params, algorithm, lr=0.05, weight_decay=weight_decay)
    result = next(r for r in report.results if r.description == candidate.description)
    assert result.matched and result.max_abs_diff == 0


def test_the_package_docstring_example_runs():
    """The example in optim.identify's docstring gives what it shows."""
    import importlib

    package = importlib.import_module("optim.identify")
    failures, tried = doctest.testmod(package)
    assert tried > 0 and failures == 0
