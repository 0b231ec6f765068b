"""``python -m optim verify | demo | bench``: options that cannot be used are refused, never ignored.

An unknown value, a missing or malformed reference folder, an unwritable figure
path, or a run that would check nothing ends with a usage error that names the
option and the value (exit status 2) or a clear message and a non-zero status:
never a traceback, and never "0 passed, 0 failed" with status 0. Each case goes
through the real command line: ``optim.cli.main(argv)``, or a subprocess.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import minigrad as mg
from optim.cli import main, verify
from optim.reference import DATA_DIR

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = DATA_DIR
FRAMEWORK_NAMES = "torch, keras, tf_keras_legacy, optax, mindspore"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``python -m optim ARGV`` in this process: the exit status, standard output and standard error."""
    try:
        status = main(argv)
    except SystemExit as stop:
        status = stop.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def small_reference(folder: Path, framework: str = "torch", count: int = 2) -> Path:
    """A reference folder: the committed scenarios and the first ``count`` discriminating cases of ``framework``."""
    folder.mkdir(exist_ok=True)
    shutil.copy(REFERENCE / "scenarios.json", folder / "scenarios.json")
    document = json.loads((REFERENCE / f"{framework}.json").read_text())
    document["cases"] = [case for case in document["cases"] if case["scenario"] == "discriminating"][:count]
    (folder / f"{framework}.json").write_text(json.dumps(document))
    return folder


def edit_case(folder: Path, edit) -> Path:
    """Apply ``edit`` to the first case of the folder's torch.json."""
    document = json.loads((folder / "torch.json").read_text())
    edit(document["cases"][0])
    (folder / "torch.json").write_text(json.dumps(document))
    return folder


# --------------------------------------------------------------------------- verify: --frameworks
def test_an_unknown_framework_is_a_usage_error_listing_the_names():
    """Through a subprocess: exit status 2, the valid names listed, no traceback, nothing compared."""
    completed = subprocess.run([sys.executable, "-m", "optim", "verify", "--frameworks", "foo"], cwd=ROOT,
                               capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 2
    assert "argument --frameworks: unknown name(s) foo" in completed.stderr
    assert FRAMEWORK_NAMES in completed.stderr
    assert "Traceback" not in completed.stderr and "passed" not in completed.stdout


@pytest.mark.parametrize("value, needle", [
    ("torch,bogus", "unknown name(s) bogus in 'torch,bogus'"),
    ("Torch", "unknown name(s) Torch"),
    ("", "expected comma-separated names from"),
    (" , ", "expected comma-separated names from"),
])
def test_every_framework_name_must_be_known(capsys, value, needle):
    status, out, err = run(["verify", "--frameworks", value], capsys)
    assert status == 2
    assert f"argument --frameworks: {needle}" in err and FRAMEWORK_NAMES in err
    assert out == ""


def test_a_subset_checks_exactly_the_frameworks_named(capsys, tmp_path):
    folder = small_reference(tmp_path / "reference")
    small_reference(folder, "keras", count=3)
    status, out, _ = run(["verify", "--reference-dir", str(folder), "--frameworks", "keras, keras"], capsys)
    assert status == 0 and "3 passed, 0 failed" in out and "torch/" not in out
    status, out, _ = run(["verify", "--reference-dir", str(folder), "--frameworks", "torch,keras"], capsys)
    assert status == 0 and "5 passed, 0 failed" in out


# --------------------------------------------------------------------------- verify: --reference-dir
def test_a_missing_reference_folder_is_a_usage_error_naming_it():
    completed = subprocess.run([sys.executable, "-m", "optim", "verify", "--reference-dir", "/nonexistent"], cwd=ROOT,
                               capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 2
    assert "argument --reference-dir: no such folder: /nonexistent" in completed.stderr
    assert "Traceback" not in completed.stderr


def _no_scenarios(folder: Path) -> Path:
    folder.mkdir()
    return folder


def _only_scenarios(folder: Path) -> Path:
    folder.mkdir()
    shutil.copy(REFERENCE / "scenarios.json", folder / "scenarios.json")
    return folder


def _file_instead_of_folder(folder: Path) -> Path:
    folder.write_text("not a folder")
    return folder


def _broken_json(folder: Path) -> Path:
    small_reference(folder)
    (folder / "torch.json").write_text('{"framework": "torch", "cases": [')
    return folder


def _not_an_object(folder: Path) -> Path:
    small_reference(folder)
    (folder / "optax.json").write_text("[1, 2]")
    return folder


def _no_cases(folder: Path) -> Path:
    small_reference(folder, count=0)
    return folder


@pytest.mark.parametrize("make, needles", [
    (_no_scenarios, ["has no scenarios.json"]),
    (_only_scenarios, ["has no framework file"]),
    (_file_instead_of_folder, ["not a folder"]),
    (_broken_json, ["torch.json is not valid JSON", "line 1"]),
    (_not_an_object, ["optax.json: expected a JSON object, got list"]),
    (_no_cases, ["has no case to check"]),
    (lambda folder: edit_case(small_reference(folder), lambda case: case.pop("trajectory")),
     ["torch.json: case 0: missing or malformed entries ['trajectory']"]),
    (lambda folder: edit_case(small_reference(folder), lambda case: case.update(scenario="nowhere")),
     ["unknown scenario 'nowhere'"]),
    (lambda folder: edit_case(small_reference(folder), lambda case: case["library"].update({"class": "Lion"})),
     ["'library' needs a 'class' among"]),
    (lambda folder: edit_case(small_reference(folder), lambda case: case["trajectory"].pop()),
     ["4 steps, its scenario has 5"]),
    (lambda folder: edit_case(small_reference(folder), lambda case: case["trajectory"][0][0].append(1.0)),
     ["'trajectory' is not a list of steps of numbers"]),
    (lambda folder: edit_case(small_reference(folder), lambda case: case["library"]["kwargs"].update(lr=-1)),
     ["cannot be replayed on scenario 'discriminating'", "ValueError", "lr"]),
])
def test_an_unusable_reference_folder_is_a_usage_error_naming_it(capsys, tmp_path, make, needles):
    folder = make(tmp_path / "reference")
    status, out, err = run(["verify", "--reference-dir", str(folder)], capsys)
    assert status == 2
    assert "argument --reference-dir: " in err and str(folder) in err
    for needle in needles:
        assert needle in err
    assert "passed" not in out


def test_a_framework_without_cases_in_the_folder_is_refused(capsys, tmp_path):
    folder = small_reference(tmp_path / "reference")
    status, out, err = run(["verify", "--reference-dir", str(folder), "--frameworks", "torch,optax"], capsys)
    assert status == 2 and out == ""
    assert f"argument --reference-dir: the reference folder {folder} has no case of optax" in err


# --------------------------------------------------------------------------- verify: --live
def test_live_without_the_generator_is_a_usage_error(capsys, tmp_path, monkeypatch):
    """An installed package has no tools/ folder: --live cannot run and says so before checking anything."""
    monkeypatch.setattr(verify, "GENERATOR", tmp_path / "tools" / "generate_reference.py")
    status, out, err = run(["verify", "--live"], capsys)
    assert status == 2
    assert "argument --live: needs a source checkout" in err and "generate_reference.py" in err
    assert out == ""


def test_live_fails_when_the_generator_fails(capsys, tmp_path, monkeypatch):
    script = tmp_path / "generate_reference.py"
    script.write_text("import sys\nsys.exit(3)\n")
    monkeypatch.setattr(verify, "GENERATOR", script)
    status, out, err = run(["verify", "--reference-dir", str(small_reference(tmp_path / "ref")), "--live"], capsys)
    assert status == 1
    assert "2 passed, 0 failed" in out
    assert "verify --live: generate_reference.py failed with exit status 3" in err


@pytest.mark.skipif(importlib.util.find_spec("mindspore") is not None, reason="MindSpore is installed here")
def test_live_that_runs_no_framework_fails(capsys, tmp_path):
    folder = small_reference(tmp_path / "reference", "mindspore")
    status, out, err = run(["verify", "--reference-dir", str(folder), "--frameworks", "mindspore", "--live"], capsys)
    assert status == 1
    assert "2 passed, 0 failed" in out  # the committed values were checked
    assert "could not run mindspore (not installed); nothing was checked live" in err


@pytest.mark.skipif(importlib.util.find_spec("torch") is None or importlib.util.find_spec("mindspore") is not None,
                    reason="needs PyTorch installed and MindSpore not installed")
def test_live_fails_when_a_framework_asked_for_cannot_run(capsys, tmp_path):
    folder = small_reference(tmp_path / "reference")
    small_reference(folder, "mindspore")
    status, out, err = run(["verify", "--reference-dir", str(folder), "--frameworks", "torch,mindspore", "--live"],
                           capsys)
    assert status == 1
    assert "live framework runs:" in out and "torch/" in out.split("live framework runs:")[1]
    assert "torch/adam_onecyclelr/" in out.split("live framework runs:")[1]  # torch_schedulers.json, run with torch
    assert "not checked live, because they could not be run: mindspore" in err


# --------------------------------------------------------------------------- demo and bench
@pytest.mark.parametrize("argv, needle", [
    (["demo", "--seed", "-1"], "argument --seed: expected a nonnegative integer, got -1"),
    (["demo", "--out", "figure.png", "--no-plot"], "argument --no-plot: not allowed with argument --out"),
    (["bench", "--warmup", "-1"], "argument --warmup: expected a nonnegative integer, got -1"),
])
def test_values_that_would_be_ignored_or_crash_are_usage_errors(capsys, argv, needle):
    status, out, err = run(argv, capsys)
    assert status == 2 and needle in err and out == ""


def _under_a_file(folder: Path) -> Path:
    (folder / "notes.txt").write_text("a file, not a folder")
    return folder / "notes.txt" / "figure.png"


@pytest.mark.parametrize("make, reason", [
    (lambda folder: folder, "it is a folder"),
    (_under_a_file, "notes.txt is not a folder"),
])
def test_an_unwritable_figure_path_is_refused_before_training(capsys, tmp_path, make, reason):
    out_path = make(tmp_path)
    status, out, err = run(["demo", "--fast", "--quiet", "--out", str(out_path)], capsys)
    assert status == 2
    assert f"argument --out: cannot write the figure to {out_path}: " in err and reason in err
    assert out == ""  # nothing was trained


def test_a_figure_path_without_write_permission_is_refused(capsys, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o555)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("this process may write into read-only folders (the superuser), so nothing is refused")
        status, out, err = run(["demo", "--fast", "--quiet", "--out", str(locked / "new" / "figure.png")], capsys)
    finally:
        os.chmod(locked, 0o755)
    assert status == 2 and f"no permission to create files in {locked}" in err and out == ""


def test_a_figure_without_matplotlib_is_refused_before_training(tmp_path):
    """Matplotlib made unimportable in a subprocess: the demo stops at once with a message, exit status 2."""
    program = ("import sys; sys.modules['matplotlib'] = None\n"
               "from optim.cli import main\n"
               f"sys.exit(main(['demo', '--fast', '--quiet', '--out', {str(tmp_path / 'figure.png')!r}]))\n")
    completed = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True,
                               timeout=120, check=False)
    assert completed.returncode == 2
    assert "argument --out: drawing the figure needs Matplotlib" in completed.stderr and "--no-plot" in completed.stderr
    assert completed.stdout == "" and "Traceback" not in completed.stderr


@pytest.mark.skipif(mg.cuda_available(), reason="a GPU is visible here")
@pytest.mark.parametrize("argv, status, needle", [
    (["demo", "--fast", "--device", "cuda"], 2, "--device cuda needs CuPy and a visible GPU"),
    (["bench", "--device", "cuda"], 1, "--device cuda needs CuPy and a visible GPU; none was found"),
])
def test_cuda_without_a_gpu_stops_with_a_message(capsys, argv, status, needle):
    code, out, err = run(argv, capsys)
    assert code == status and needle in out + err
