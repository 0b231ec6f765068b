"""identify streams: the memory it uses does not grow with the number of steps of a run file, and the scale
benchmark (benchmarks/identify_scale.py) runs end to end at a small size."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc

import numpy as np
from identify_helpers import ROOT, library_trajectory, write_run

import optim
from optim.identify.npz import load_run

SIZE = 20_000


def peak_bytes_of_identify(tmp_path, steps: int) -> int:
    """The peak of NumPy's and Python's allocations while identify reads a run file of ``steps`` steps."""
    rng = np.random.default_rng(0)
    initial = rng.standard_normal(SIZE).astype(np.float32)
    grads = (rng.standard_normal((steps, SIZE)) * 1e-3).astype(np.float32)
    params = library_trajectory({"class": "Adam", "convention": "pytorch", "lr": 1e-3}, initial, grads)
    run = load_run(write_run(tmp_path / f"run{steps}.npz", initial, grads, params))
    del grads, params
    tracemalloc.start()
    try:
        report = optim.identify(run.initial, run.grads, run.params, lr=1e-3)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ("pytorch", {}) in [(result.convention, result.overrides) for result in report.matches]
    return peak


def test_memory_does_not_grow_with_the_number_of_steps(tmp_path):
    """Ten times the steps (a run file of 80 MB against 8 MB): the same peak, within 10 %, and far below the
    size of the trajectory (the steps are read one at a time)."""
    short = peak_bytes_of_identify(tmp_path, 50)
    long = peak_bytes_of_identify(tmp_path, 500)
    trajectory_bytes = 2 * 500 * SIZE * 4  # grads and params of the long run
    assert long < 1.1 * short
    assert long < trajectory_bytes / 8


def test_the_scale_benchmark_runs_at_a_small_size(tmp_path):
    """benchmarks/identify_scale.py writes a run, times the command on it, and finds keras (exit status 0); it
    imports this checkout of the library."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "identify_scale.py"), "--steps", "30",
                           "--size", "5000", "--out", str(tmp_path)], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, env=environment)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "python -m optim identify:" in done.stdout and "peak memory" in done.stdout
    assert list(tmp_path.iterdir()) == []  # the run file is gone
