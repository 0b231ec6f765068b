"""The wheel: what `pip install .` ships, and that `python -m optim verify` works from it alone.

The recorded framework outputs are package data (optim/reference/*.json), so an
installed library can replay them without the source tree; the digits data set
ships with minigrad. The wheel is built without network (no build isolation:
setuptools comes with the test extra), unpacked into an empty folder, and run
from there with the checkout out of reach.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_FILES = {"scenarios.json", "torch.json", "torch_schedulers.json", "keras.json", "keras_schedules.json",
                   "tf_keras_legacy.json", "optax.json", "mindspore.json", "README.md"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("setuptools", reason="building the wheel offline needs setuptools (the test extra)")
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
               "--disable-pip-version-check", "--quiet", "--wheel-dir", str(out)]
    subprocess.run(command, check=True, cwd=out, capture_output=True, text=True)
    (built,) = out.glob("minigrad_optim-*.whl")
    return built


def test_the_wheel_holds_the_packages_and_their_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    reference = {Path(name).name for name in names if name.startswith("optim/reference/")}
    assert REFERENCE_FILES <= reference
    assert "minigrad/datasets/digits.npz" in names
    packages = {str(Path(name).parent) for name in names if name.endswith("/__init__.py")}
    expected = {"optim", "optim/fused", "optim/saving", "optim/experiments", "optim/cli", "optim/reference",
                "minigrad", "minigrad/nn", "minigrad/functions", "minigrad/datasets"}
    assert expected <= packages
    assert not any(name.startswith(("tests/", "tools/", "docs/")) for name in names)


def test_verify_passes_from_the_unpacked_wheel_alone(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    environment = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run([sys.executable, "-c", "import optim, minigrad; print(optim.__file__, minigrad.__file__)"],
                           cwd=tmp_path, env=environment, capture_output=True, text=True, check=True)
    assert all(Path(path).is_relative_to(site) for path in where.stdout.split())
    run = subprocess.run([sys.executable, "-m", "optim", "verify"], cwd=tmp_path, env=environment,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    closing = run.stdout.strip().splitlines()[-1]
    assert closing.endswith(" passed, 0 failed") and not closing.startswith("0 passed")
