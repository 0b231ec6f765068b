"""The recording functions of tools/recording.py: the PyTorch one run for real (torch 2.13.0), its run file
identified as pytorch by ``python -m optim identify``; every one of them shown on the how-to page."""

from __future__ import annotations

import inspect
import re
import sys

import numpy as np
import pytest
from identify_helpers import RECORDING, ROOT, probe

import optim
from optim.cli.identify import main

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

TORCH_RUNS = [
    ("adam", lambda p: torch.optim.Adam(p, lr=0.1), {}),
    ("amsgrad", lambda p: torch.optim.Adam(p, lr=0.1, amsgrad=True), {}),
    ("adam", lambda p: torch.optim.AdamW(p, lr=0.1, weight_decay=0.01), {"decoupled_weight_decay": True}),
    ("adamax", lambda p: torch.optim.Adamax(p, lr=0.1, maximize=True), {}),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("algorithm", "make_optimizer", "overrides"), TORCH_RUNS,
                         ids=["Adam", "Adam-amsgrad", "AdamW", "Adamax-maximize"])
def test_a_run_recorded_in_pytorch_is_identified_as_pytorch(tmp_path, capsys, dtype, algorithm, make_optimizer,
                                                             overrides):
    """record_torch + save_run, then the command: status 0, and pytorch (AdamW: with decoupled decay) matches."""
    initial, grads = probe(dtype)
    params = RECORDING.record_torch(make_optimizer, initial, grads)
    settings = {"weight_decay": 0.01} if overrides else {"maximize": algorithm == "adamax"}
    path = tmp_path / "run.npz"
    RECORDING.save_run(path, initial, grads, params, algorithm=algorithm, lr=0.1, **settings)
    assert main([str(path), "--json"]) == 0
    report = optim.identify(initial, grads, params, algorithm, lr=0.1, **settings)
    assert ("pytorch", overrides) in [(result.convention, result.overrides) for result in report.matches]


def test_a_long_pytorch_adam_run_stays_within_the_tolerance():
    """3,000 steps of torch.optim.Adam on gradients of every size: PyTorch's other order of operations stays
    below half the float32 tolerance, and pytorch matches."""
    rng = np.random.default_rng(1)
    initial = (rng.standard_normal(256) * 0.01).astype(np.float32)
    grads = (rng.standard_normal((3000, 256)) * np.exp(rng.standard_normal((3000, 256)))).astype(np.float32)
    grads[rng.random(grads.shape) < 0.1] = 0
    params = RECORDING.record_torch(lambda p: torch.optim.Adam(p, lr=1e-3), initial, grads)
    report = optim.identify(initial, grads, params, "adam", lr=1e-3)
    pytorch = next(result for result in report.matches if result.convention == "pytorch" and not result.overrides)
    assert pytorch.max_ratio < 0.5


def test_every_recording_function_is_shown_on_the_how_to_page():
    """docs/how-to-identify.md includes each record_* function and save_run from tools/recording.py itself."""
    page = (ROOT / "docs" / "how-to-identify.md").read_text()
    names = [name for name, _ in inspect.getmembers(RECORDING, inspect.isfunction)
             if name.startswith("record_") or name == "save_run"]
    assert len(names) == 6
    for name in names:
        assert f":pyobject: {name}\n" in page, name


def test_the_pytorch_example_of_the_how_to_page_runs_and_is_identified(tmp_path, capsys):
    """The page's example (record_torch with torch.optim.Adamax, then save_run) runs as written, with the run file
    put in a temporary folder, and python -m optim identify finds pytorch in it."""
    page = (ROOT / "docs" / "how-to-identify.md").read_text()
    example = next(block for block in re.findall(r"```python\n(.*?)```", page, re.S) if "record_torch(lambda" in block)
    path = tmp_path / "run.npz"
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        exec(example.replace('"run.npz"', repr(str(path))), {})
    finally:
        sys.path.remove(str(ROOT / "tools"))
    assert main([str(path), "--json"]) == 0
    assert "pytorch" in capsys.readouterr().out
