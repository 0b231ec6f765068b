"""Every recorded framework run of optim/reference that identify can replay is identified: its framework's
convention is among the matches, and no candidate that differs observably from it on that case matches."""

from __future__ import annotations

import numpy as np
import pytest
from identify_helpers import (
    case_arrays,
    case_hyperparameters,
    library_trajectory,
    reference_cases,
    why_not_replayable,
)

import optim
from optim.conventions import CONVENTIONS
from optim.identify.candidates import FLOATX
from optim.identify.replay import Replay
from optim.identify.search import prepare
from optim.reference import DATA_DIR
from optim.reference.cases import load_reference

CASES = reference_cases()
REPLAYABLE = [(framework, case, scenario) for framework, case, scenario in CASES if why_not_replayable(case) is None]
IDS = [case["id"] for _, case, _ in REPLAYABLE]
#: Candidates that compute farther than this many tolerances from the framework's convention on a case differ
#: observably there: the framework runs stay within 1/8 of a tolerance of that convention (2 of its 16 units in
#: the last place), so such a candidate is more than 2 tolerances from the framework run and cannot match.
OBSERVABLY = 3.0


def largest_ratio(settings, initial: np.ndarray, grads: np.ndarray, params: np.ndarray) -> float:
    """The largest difference, in tolerances, of a candidate's replay over every step (not only up to its first
    mismatch, where identify stops)."""
    replay = Replay(settings, initial.size, initial.dtype)
    before = initial
    for step, (grad, param) in enumerate(zip(grads, params), start=1):
        replay.advance(step, before, grad, param)
        before = param
    return replay.tracker.max_ratio


def expected_overrides(case: dict) -> list[dict]:
    """The overrides a candidate of the case's convention may have to match: the choices the case's library
    keywords change, or else the convention's floatx (where the framework keeps hyperparameters in float32)."""
    kwargs = case["library"]["kwargs"]
    convention = CONVENTIONS[kwargs["convention"]]
    changed = {name: kwargs[name] for name in ("decoupled_weight_decay", "amsgrad_mode")
               if name in kwargs and kwargs[name] != getattr(convention, name)}
    if changed:
        return [changed]
    return [{}, {"floatx": "float32"}] if convention.name in FLOATX else [{}]


def framework_matches(case: dict, scenario: dict) -> list:
    initial, grads, params = case_arrays(case, scenario)
    report = optim.identify(initial, grads, params, **case_hyperparameters(case))
    convention = case["library"]["kwargs"]["convention"]
    return [result for result in report.matches
            if result.convention == convention and result.overrides in expected_overrides(case)], report


def test_the_cases_left_out_are_exactly_those_with_options_identify_does_not_replay():
    """SGD (identify knows the adaptive methods), schedules and schedulers, clipping, EMA, accumulation, loss
    scaling, the legacy decay, Optax's eps_root and nesterov, row-sparse gradients and per-name learning rates
    (pattern_lrs) are left out, and nothing else: more than 100 of the recorded cases are replayed."""
    left_out = {case["id"]: why_not_replayable(case) for _, case, _ in CASES if why_not_replayable(case)}
    for case_id in left_out:
        assert any(word in case_id for word in ("/sgd", "clip", "ema", "accum", "loss_scale", "decay0.5",
                                                "inverse_time", "exponential", "piecewise", "polynomial", "cosine",
                                                "indexed_slices", "pattern_lrs", "steplr", "linearlr", "onecyclelr",
                                                "eps_root", "nesterov", "nadam")), case_id
    assert len(REPLAYABLE) >= 100
    assert len(REPLAYABLE) + len(left_out) == len(CASES)


@pytest.mark.parametrize(("framework", "case", "scenario"), REPLAYABLE, ids=IDS)
def test_reference_case_is_identified_as_its_framework(framework, case, scenario):
    """The framework's convention (with the choices its case names, or its floatx) is among the matches, within
    2 of the 16 units in the last place that the float32 tolerance allows (the docs say so)."""
    matches, report = framework_matches(case, scenario)
    assert matches, f"{case['id']}: matches are {[r.description for r in report.matches]}"
    assert min(result.max_ratio for result in matches) < 2 / 16


def observably_different(case: dict, scenario: dict) -> set[str]:
    """The candidates that compute more than OBSERVABLY tolerances away from the framework's convention somewhere
    on the case, found by replaying the library's own run of that convention."""
    matches, _ = framework_matches(case, scenario)
    initial, grads, _ = case_arrays(case, scenario)
    own = library_trajectory(matches[0].keywords, initial, grads)
    candidates = prepare(initial, grads, own, **case_hyperparameters(case)).candidates.candidates
    return {candidate.description for candidate in candidates
            if largest_ratio(candidate.settings, initial, grads, own) > OBSERVABLY}


@pytest.mark.parametrize(("framework", "case", "scenario"), REPLAYABLE, ids=IDS)
def test_candidates_that_differ_observably_from_the_framework_do_not_match(framework, case, scenario):
    """No candidate that differs observably from the framework's convention on a case matches its recorded run."""
    _, report = framework_matches(case, scenario)
    assert not observably_different(case, scenario) & {result.description for result in report.matches}


def test_most_cases_have_observably_different_candidates():
    """The test above checks something: over the cases, more than 1,500 candidates differ observably, and on
    every Adam or AMSGrad case of the discriminating scenario some other convention itself does."""
    counts = {case["id"]: observably_different(case, scenario) for _, case, scenario in REPLAYABLE}
    assert sum(len(names) for names in counts.values()) > 1500
    for case_id, names in counts.items():
        if case_id.endswith("/discriminating") and "adamax" not in case_id:
            assert set(CONVENTIONS) & names, case_id


@pytest.mark.parametrize("case_id", [case_id for case_id in IDS if "eps0.1/discriminating" in case_id])
def test_the_other_epsilon_placement_is_ruled_out_on_the_discriminating_inputs(case_id):
    """With eps = 0.1 on the discriminating scenario, the framework's convention with epsilon moved is no match
    (Optax's AMSGrad, whose maximum of the corrected v has no epsilon choice, says so instead)."""
    _, case, scenario = next(item for item in REPLAYABLE if item[1]["id"] == case_id)
    _, report = framework_matches(case, scenario)
    convention = case["library"]["kwargs"]["convention"]
    moved = [result for result in report.results if result.convention == convention
             and set(result.overrides) & {"epsilon_mode", "adamax_epsilon"}]
    if case_id.startswith("optax/amsgrad"):
        assert not moved and any(entry.startswith("epsilon_mode=") and "optax" in entry
                                 for entry in report.unobservable)
    else:
        assert moved and not any(result.matched for result in moved)


@pytest.mark.parametrize("case_id", ["tf_keras_legacy/adam/random", "mindspore/adam/random"])
def test_tf_keras_legacy_and_mindspore_adam_compute_their_moments_in_float32(case_id):
    """Their recorded Adam runs match the convention itself, whose kernels' arithmetic (1 - beta and beta^t from
    float32 betas, slot_arithmetic="in_dtype") it models, and not the convention with double-precision numbers
    (slot_arithmetic="double", about 30 units in the last place away)."""
    _, case, scenario = next(item for item in REPLAYABLE if item[1]["id"] == case_id)
    _, report = framework_matches(case, scenario)
    convention = case["library"]["kwargs"]["convention"]
    by_overrides = {tuple(result.overrides.items()): result for result in report.results
                    if result.convention == convention}
    assert by_overrides[()].matched
    assert not by_overrides[(("slot_arithmetic", "double"),)].matched


def test_keras_float64_runs_keep_the_learning_rate_in_float32():
    """Keras 3 with float64 variables, lr=0.1 as the user typed it: the keras candidate (lr_dtype="float32",
    Keras's floatx) matches, the one that uses lr as given parts at the first step (Keras uses float32(0.1))."""
    _, case, scenario = next(item for item in REPLAYABLE if item[1]["id"] == "keras/adam_x64/random_f64")
    initial, grads, params = case_arrays(case, scenario)
    report = optim.identify(initial, grads, params, "adam", lr=0.1)
    keras = {tuple(result.overrides.items()): result for result in report.results if result.convention == "keras"}
    assert keras[()].matched
    assert keras[(("lr_dtype", None),)].parted_at == 1
    assert np.float32(report.best.keywords["lr"]) == np.float32(0.1) and report.best.max_abs_diff == 0


def test_among_exact_matches_a_convention_as_it_is_ranks_first():
    """tf.keras legacy Adam is matched exactly by "tensorflow" and by "keras" with the TF moment arithmetic: the
    convention without an override is named best (the simplest explanation first)."""
    scenarios, documents = load_reference(DATA_DIR)
    document = next(document for document in documents if document["framework"] == "tf_keras_legacy")
    case = next(case for case in document["cases"] if case["id"] == "tf_keras_legacy/adam/random")
    scenario = scenarios[case["scenario"]]

    def flat(parameters):
        return np.concatenate([np.ravel(np.asarray(p, dtype=np.float32)) for p in parameters])

    report = optim.identify(flat(scenario["params"]), np.array([flat(step) for step in scenario["grads"]]),
                            np.array([flat(step) for step in case["trajectory"]]), algorithm="adam", lr=0.1)
    assert report.best.convention == "tensorflow" and not report.best.overrides
    assert any(match.overrides and match.max_ratio == report.best.max_ratio for match in report.matches)
