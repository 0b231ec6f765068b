"""A trajectory perturbed by more than rounding matches nothing, and the near misses say where it starts; one
perturbed by rounding only still matches; a large parameter is screened on a sample and confirmed on all."""

from __future__ import annotations

import numpy as np
import pytest
from identify_helpers import library_trajectory, probe, write_run

import optim
from optim.cli.identify import main

KERAS = {"class": "Adam", "convention": "keras", "lr": 0.1}


def keras_run(dtype=np.float32, size: int = 64, steps: int = 40):
    initial, grads = probe(dtype, steps=steps, size=size)
    return initial, grads, library_trajectory(KERAS, initial, grads)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("start", [1, 17, 40])
def test_a_perturbation_from_step_k_on_matches_nothing_and_the_closest_part_at_step_k(dtype, start):
    """Every parameter from step ``start`` on is moved by 1e-4 relative: no match, and the best near miss (keras,
    which agrees before) parts exactly at ``start``; no candidate agrees beyond it."""
    initial, grads, params = keras_run(dtype)
    params[start - 1:] *= 1 + 1e-4
    params[start - 1:] += 1e-4  # the zeros move too
    report = optim.identify(initial, grads, params, lr=0.1)
    assert not report.matches
    assert report.best.parted_at == start and max(result.parted_at for result in report.results) == start
    assert f"parts at step {start}" in str(report)
    if start > 1:  # at step 1 every candidate parts; later only the ties of keras are still there
        assert ("keras", {}) == (report.best.convention, report.best.overrides)


def test_the_near_miss_names_the_coordinate_where_one_value_was_changed():
    """One coordinate of one step changed: the best near miss parts at that step, at that coordinate."""
    initial, grads, params = keras_run()
    params[9, 33] += 1e-3
    report = optim.identify(initial, grads, params, lr=0.1)
    assert not report.matches
    assert report.best.parted_at == 10 and report.best.parting_index == (33,)
    assert report.best.parting_abs_diff == pytest.approx(1e-3, rel=1e-3)


def test_a_change_by_one_unit_in_the_last_place_is_rounding_and_still_matches():
    """Moving every recorded value by one unit in the last place (as another order of the same operations
    might) keeps the match."""
    initial, grads, params = keras_run()
    params = np.nextafter(params, np.float32(np.inf))
    report = optim.identify(initial, grads, params, lr=0.1)
    assert ("keras", {}) in [(result.convention, result.overrides) for result in report.matches]


def test_the_command_exits_1_and_prints_where_the_run_parts(tmp_path, capsys):
    """python -m optim identify on a perturbed run: exit status 1, and the table says where the closest part."""
    initial, grads, params = keras_run()
    params[24:] += 1e-3
    path = write_run(tmp_path / "run.npz", initial, grads, params, lr=0.1)
    assert main([str(path)]) == 1
    out = capsys.readouterr().out
    closest = out.split("no candidate matches; the closest:\n")[1].splitlines()[0]
    assert closest.startswith("  keras; ") and "agrees for 24 steps, parts at step 25" in closest


def test_a_large_parameter_is_screened_on_a_sample_and_confirmed_on_every_coordinate():
    """With more coordinates than the sample, a change at a coordinate outside the sample is still found: the
    screening passes it, the confirmation on every coordinate does not."""
    initial, grads, params = keras_run(size=400, steps=12)
    sample = np.sort(np.random.default_rng(0).choice(400, size=32, replace=False))
    outside = int(np.setdiff1d(np.arange(400), sample)[0])
    params[5:, outside] += 1e-3
    report = optim.identify(initial, grads, params, lr=0.1, sample_size=32)
    assert not report.matches
    assert report.best.parted_at == 6 and report.best.parting_index == (outside,) and not report.best.sampled
    clean = optim.identify(initial, grads, library_trajectory(KERAS, initial, grads), lr=0.1, sample_size=32)
    ruled_out_on_the_sample = [result for result in clean.results if result.sampled]
    assert ruled_out_on_the_sample and all(not result.matched for result in ruled_out_on_the_sample)
    assert all(result.coordinates == 32 for result in ruled_out_on_the_sample)
    assert all(not result.sampled and result.coordinates == 400 for result in clean.matches)


def test_nan_in_the_run_agrees_with_nan_and_not_with_a_number():
    """AdaMax with eps = 0 divides 0 by 0 on a coordinate without gradient: the recorded NaN matches the
    replay's NaN; a recorded number there does not."""
    initial = np.array([1.0, 2.0], np.float32)
    grads = np.array([[0.5, 0.0], [0.25, 0.0]], np.float32)
    keywords = {"class": "Adamax", "convention": "keras", "lr": 0.1, "eps": 0.0}
    with np.errstate(invalid="ignore"):
        params = library_trajectory(keywords, initial, grads)
    assert np.isnan(params[:, 1]).all()
    report = optim.identify(initial, grads, params, "adamax", lr=0.1, eps=0.0)
    assert ("keras", {}) in [(result.convention, result.overrides) for result in report.matches]
    params[1, 1] = 2.0
    report = optim.identify(initial, grads, params, "adamax", lr=0.1, eps=0.0)
    assert report.best.parted_at == 2 and report.best.parting_index == (1,)
