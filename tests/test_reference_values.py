"""The library against real framework outputs (optim/reference, written by tools/generate_reference.py).

Each case names the framework call that produced it (PyTorch 2.13.0, Keras 3.15.1, tf_keras 2.21.0
legacy, Optax 0.2.8, MindSpore 2.10.0; versions are recorded in each JSON file) and the library
configuration that must reproduce it. Every recorded array (parameters, moving averages, slots) must agree
after every step to 1e-6 (float32) or 1e-12 (float64) relative to the larger of the value and its array's
largest magnitude at that step (see optim.cli.verify).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from optim.cli import verify
from optim.reference import DATA_DIR as REFERENCE
from optim.reference import replay
from optim.reference.cases import load_reference

SCENARIOS, DOCUMENTS = load_reference(REFERENCE)
CASES = [(doc["framework"], case) for doc in DOCUMENTS for case in doc["cases"]]


def test_every_framework_and_convention_has_reference_values() -> None:
    """Every framework file is present, and every convention except 'paper' is covered by one of them."""
    frameworks = {doc["framework"] for doc in DOCUMENTS}
    assert frameworks == {"torch", "keras", "tf_keras_legacy", "optax", "mindspore", "capreolus"}
    conventions = {case["library"]["kwargs"]["convention"] for _, case in CASES}
    assert conventions == {"pytorch", "keras", "tensorflow", "optax", "mindspore", "capreolus"}
    algorithms = {(case["library"]["kwargs"]["convention"], case["algorithm"]) for _, case in CASES}
    for convention in conventions:
        expected = {(convention, "Adam"), (convention, "AMSGrad")} if convention == "capreolus" else {
            (convention, "Adam"), (convention, "Adamax")}  # capreolus has no AdaMax
        assert expected <= algorithms
    for doc in DOCUMENTS:
        assert doc["versions"], doc["framework"]


@pytest.mark.parametrize(("framework", "case"), CASES, ids=[case["id"] for _, case in CASES])
def test_library_reproduces_framework_trajectory(framework: str, case: dict) -> None:
    """Parameters after every step equal the framework's, within the float32 (or float64) tolerance."""
    rows = replay.excluded_rows(case, framework)
    found = replay.compare(case, SCENARIOS[case["scenario"]], rows)
    assert found.passed, (f"{case['id']}: diverges at {found.divergence}; max abs error {found.max_abs_error:.3e}, "
                          f"max rel error {found.max_rel_error:.3e}")


@pytest.mark.parametrize("case", [c for f, c in CASES if replay.excluded_rows(c, f)], ids=lambda c: c["id"])
def test_keras_repeated_sparse_rows_are_a_real_difference(case: dict) -> None:
    """Keras 3 squares each repeated IndexedSlices value separately: the left-out rows really differ from dense."""
    ours = replay.run_case(case, SCENARIOS[case["scenario"]])["param"]
    reference = np.array([np.ravel(step[0]) for step in case["trajectory"]])
    width = np.shape(SCENARIOS[case["scenario"]]["params"][0])[1]
    for row in replay.excluded_rows(case, "keras"):
        columns = slice(row * width, (row + 1) * width)
        assert np.abs(ours[:, columns] - reference[:, columns]).max() > 1e-3


def test_tensorflow_adamax_sparse_is_lazy() -> None:
    """tf.keras legacy Adamax with IndexedSlices: a row never listed keeps its initial value (lazy update)."""
    case = next(c for f, c in CASES if c["id"] == "tf_keras_legacy/adamax_indexed_slices/sparse")
    scenario = SCENARIOS["sparse"]
    touched = {i for step in scenario["sparse"] for i in step[0]["indices"]}
    untouched = sorted(set(range(len(scenario["params"][0]))) - touched)
    assert untouched, "the scenario must leave a row untouched"
    ours = replay.run_case(case, scenario)["param"]
    width = len(scenario["params"][0][0])
    initial = np.ravel(np.asarray(scenario["params"][0], dtype=np.float32))
    for row in untouched:
        columns = slice(row * width, (row + 1) * width)
        np.testing.assert_array_equal(ours[:, columns], np.tile(initial[columns], (len(ours), 1)))


def test_verify_command_fails_on_a_wrong_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m optim verify` exits 1 and prints FAIL when a reference value is off by 1e-4."""
    shutil.copy(REFERENCE / "scenarios.json", tmp_path / "scenarios.json")
    document = json.loads((REFERENCE / "torch.json").read_text())
    document["cases"] = [c for c in document["cases"] if c["scenario"] == "discriminating"][:2]
    document["cases"][1]["trajectory"][-1][0][0] += 1e-4  # last step, parameter 0, coordinate 0
    (tmp_path / "torch.json").write_text(json.dumps(document))
    parser = argparse.ArgumentParser()
    verify.add_arguments(parser)
    assert verify.main(parser.parse_args(["--reference-dir", str(tmp_path)])) == 1
    output = capsys.readouterr().out
    assert "FAIL" in output and "1 passed, 1 failed" in output


@pytest.mark.parametrize(("array", "step"), [("trajectory", 5), ("v_trajectory", 2), ("m_trajectory", 3)])
def test_a_failing_case_names_the_first_step_and_array_that_diverge(tmp_path: Path, array: str, step: int) -> None:
    """The slots are compared too: a value of v (or m, or the parameters) off by 1e-5 relative at one step fails
    the case, and the result names that step and that array."""
    shutil.copy(REFERENCE / "scenarios.json", tmp_path / "scenarios.json")
    document = json.loads((REFERENCE / "tf_keras_legacy.json").read_text())
    document["cases"] = [c for c in document["cases"] if c["id"] == "tf_keras_legacy/adam/discriminating"]
    document["cases"][0][array][step - 1][0][1] *= 1 + 1e-5  # parameter 0, coordinate 1
    (tmp_path / "tf_keras_legacy.json").write_text(json.dumps(document))
    result, = replay.verify_directory(tmp_path)
    name = "param" if array == "trajectory" else array.removesuffix("_trajectory")
    assert not result.passed and result.divergence == f"step {step}, {name}"
    assert "m" in result.compared and "v" in result.compared
    assert verify.format_table([result]).count(f"FAIL (first at step {step}, {name})") == 1


def test_keras_gradient_accumulators_are_compared() -> None:
    """Keras 3 exposes its gradient accumulators: the accumulation cases compare them with the library's after every
    call (the sum of the pending gradients, zeros after an update)."""
    case = next(c for _, c in CASES if c["id"] == "keras/adam_accum2/random")
    found = replay.compare(case, SCENARIOS["random"])
    assert found.passed and "accumulator" in found.compared
    assert np.any(np.asarray(case["accumulator_trajectory"][0][0]) != 0)  # the first call only accumulates
