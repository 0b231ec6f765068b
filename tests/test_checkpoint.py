"""Checkpoints (optim.save_checkpoint / optim.load_checkpoint): bitwise round trips and resumes, safe saves.

* A round trip restores every parameter and every piece of optimizer state bit for bit.
* Resuming at any step gives the uninterrupted run's trajectory bit for bit (hypothesis
  over the split point, every algorithm and convention, with a schedule, EMA, weight
  decay and gradient accumulation, the split often falling inside an accumulation window).
* An interrupted save leaves the previous checkpoint intact and no temporary file behind.

The refusals (truncated, corrupted, foreign, pickled and mismatched files) are in
tests/test_checkpoint_refusals.py; the helpers in tests/checkpoint_helpers.py.
"""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest
from checkpoint_helpers import (
    ALGORITHMS,
    CONVENTIONS,
    STEPS,
    batches,
    make_model,
    make_optimizer,
    picture,
    save_trained,
    train,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
import optim
from optim.saving import checkpoint


@pytest.fixture
def trained(device, tmp_path):
    """A model and optimizer after 7 steps (mid accumulation window), saved to a checkpoint."""
    return save_trained(device, tmp_path)


# --------------------------------------------------------------------------- round trip and resume
def test_round_trip_is_bitwise(device, trained):
    model, opt, data, path = trained
    saved = picture(model, opt)
    assert opt.accumulators and opt.averages  # the interesting state exists
    fresh_model = make_model(device, seed=99)
    fresh_opt = make_optimizer(fresh_model)
    assert optim.load_checkpoint(path, fresh_model, fresh_opt) == {"epoch": 7, "note": "mid-window"}
    assert picture(fresh_model, fresh_opt) == saved
    train(model, opt, data, 7, 12)  # the original moves on; loading brings it back exactly
    optim.load_checkpoint(path, model, opt)
    assert picture(model, opt) == saved


def test_the_file_holds_only_numeric_arrays_and_json(trained):
    """Readable with allow_pickle=False; metadata is JSON with the format name and version."""
    *_, path = trained
    with np.load(path, allow_pickle=False) as archive:
        members = {name: archive[name] for name in archive.files}
    assert all(a.dtype.kind in "biufc" for a in members.values())
    metadata = json.loads(members["metadata"].tobytes())
    assert (metadata["format"], metadata["version"]) == (checkpoint.FORMAT_NAME, checkpoint.FORMAT_VERSION)
    assert metadata["library_version"] == mg.__version__
    assert metadata["optimizer"]["class"] == "Adam" and metadata["optimizer"]["config"]["convention"] == "pytorch"
    assert [p["name"] for p in metadata["model"]["parameters"]] == ["0.weight", "0.bias", "2.weight", "2.bias"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(algorithm=st.sampled_from(sorted(ALGORITHMS)), convention=st.sampled_from(CONVENTIONS),
       split=st.integers(0, STEPS), accumulation=st.sampled_from([None, 3]))
def test_resuming_at_any_step_is_bitwise(device, tmp_path, algorithm, convention, split, accumulation):
    """Train STEPS steps straight, or `split` steps, save, load into a freshly built (differently
    initialised) model and optimizer, and train the rest: the results agree bit for bit."""
    assume(("adamax" if algorithm == "adamax" else "adam") in optim.CONVENTIONS[convention].algorithms)
    data = batches(device)
    straight = make_model(device)
    straight_opt = make_optimizer(straight, algorithm, convention, accumulation)
    train(straight, straight_opt, data, 0, STEPS)

    first = make_model(device)
    first_opt = make_optimizer(first, algorithm, convention, accumulation)
    train(first, first_opt, data, 0, split)
    path = tmp_path / "resume.npz"
    optim.save_checkpoint(path, first, first_opt, extra={"step": split})
    resumed = make_model(device, seed=123)
    resumed_opt = make_optimizer(resumed, algorithm, convention, accumulation)
    assert optim.load_checkpoint(path, resumed, resumed_opt) == {"step": split}
    train(resumed, resumed_opt, data, split, STEPS)
    assert picture(resumed, resumed_opt) == picture(straight, straight_opt)


def test_model_only_and_plain_callable_learning_rates(device, tmp_path):
    """A model without optimizer round-trips; a plain-callable lr is not saved (config is null)
    and the loading optimizer keeps its own; asking for optimizer state a file lacks is refused."""
    model = make_model(device)
    optim.save_checkpoint(tmp_path / "model.npz", model)
    other = make_model(device, seed=5)
    optim.load_checkpoint(tmp_path / "model.npz", other)
    assert picture(other) == picture(model)
    with pytest.raises(optim.CheckpointError, match="holds no optimizer state"):
        optim.load_checkpoint(tmp_path / "model.npz", other, make_optimizer(other))

    def schedule(k):
        return 0.01 / (1 + k)

    opt = optim.Adam(model.parameters(), lr=schedule)
    train(model, opt, batches(device), 0, 3)
    optim.save_checkpoint(tmp_path / "callable.npz", model, opt)
    with np.load(tmp_path / "callable.npz") as archive:
        assert json.loads(archive["metadata"].tobytes())["optimizer"]["config"] is None

    def own(k):
        return 0.5

    loader = optim.Adam(other.parameters(), lr=own)
    optim.load_checkpoint(tmp_path / "callable.npz", other, loader)
    assert loader.param_groups[0]["lr"] is own and loader.iterations == 3


# --------------------------------------------------------------------------- saving
def test_interrupted_save_keeps_the_previous_checkpoint(device, trained, monkeypatch):
    """np.savez fails half-way through writing: the exception reaches the caller, the previous
    checkpoint is intact and loads, and no temporary file is left in the folder."""
    model, opt, data, path = trained
    saved = picture(model, opt)
    original = path.read_bytes()
    train(model, opt, data, 7, 10)

    def failing_savez(file, **arrays):
        file.write(b"PK\x03\x04 half a file")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(OSError, match="simulated"):
        optim.save_checkpoint(path, model, opt)
    monkeypatch.undo()
    assert path.read_bytes() == original
    assert os.listdir(path.parent) == [path.name]
    optim.load_checkpoint(path, model, opt)
    assert picture(model, opt) == saved


def test_save_validates_its_arguments_before_writing(device, tmp_path):
    model = make_model(device)
    path = tmp_path / "c.npz"
    with pytest.raises(TypeError, match=r"path: expected a str or os\.PathLike, got 5"):
        optim.save_checkpoint(5, model)
    with pytest.raises(TypeError, match=r"model: expected a minigrad\.nn\.Module, got list"):
        optim.save_checkpoint(path, [model])
    with pytest.raises(TypeError, match=r"optimizer: expected an optim\.Optimizer or None, got str"):
        optim.save_checkpoint(path, model, "adam")
    with pytest.raises(TypeError, match="extra: cannot be stored as JSON"):
        optim.save_checkpoint(path, model, extra={"data": np.ones(2)})
    with pytest.raises(FileNotFoundError, match="does not exist"):
        optim.save_checkpoint(tmp_path / "no" / "c.npz", model)
    with pytest.raises(TypeError, match=r"model: expected a minigrad\.nn\.Module, got None"):
        optim.save_checkpoint(path, None)
    assert os.listdir(tmp_path) == []


def test_a_path_that_cannot_be_written_is_refused_naming_it(device, tmp_path):
    """A folder, a path ending in a separator, a path in a missing folder or under a file: each refused with
    an error that names the path, before anything is written (no temporary file appears)."""
    model = make_model(device)
    (tmp_path / "runs").mkdir()
    (tmp_path / "notes.txt").write_text("a file")
    for path, error in ((tmp_path / "runs", IsADirectoryError), (f"{tmp_path / 'new'}{os.sep}", IsADirectoryError),
                        (tmp_path / "missing" / "c.npz", FileNotFoundError),
                        (tmp_path / "notes.txt" / "c.npz", NotADirectoryError)):
        with pytest.raises(error, match=f"path: .*{re.escape(repr(str(path)))}"):
            optim.save_checkpoint(path, model, make_optimizer(model))
    assert sorted(os.listdir(tmp_path)) == ["notes.txt", "runs"] and os.listdir(tmp_path / "runs") == []
    with pytest.raises(IsADirectoryError, match=f"path: {re.escape(repr(str(tmp_path / 'runs')))} is a folder"):
        optim.load_checkpoint(tmp_path / "runs", model)


def test_a_path_without_write_permission_is_refused_naming_it(device, tmp_path):
    """A read-only checkpoint, and a path in a read-only folder: PermissionError naming the path; the
    read-only file keeps its bytes."""
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o555)
    if os.access(locked, os.W_OK):
        os.chmod(locked, 0o755)
        pytest.skip("this process may write into read-only folders (the superuser), so nothing is refused")
    model = make_model(device)
    path = tmp_path / "c.npz"
    optim.save_checkpoint(path, model)
    original = path.read_bytes()
    os.chmod(path, 0o444)
    with pytest.raises(PermissionError, match=f"path: cannot write {re.escape(repr(str(path)))}: the file is read"):
        optim.save_checkpoint(path, model, extra={"again": True})
    assert path.read_bytes() == original
    try:
        with pytest.raises(PermissionError, match=f"path: cannot write {re.escape(repr(str(locked / 'c.npz')))}"):
            optim.save_checkpoint(locked / "c.npz", model)
        assert os.listdir(locked) == []
    finally:
        os.chmod(locked, 0o755)


def test_overwriting_keeps_permissions_and_replaces_atomically(device, tmp_path):
    model = make_model(device)
    path = tmp_path / "c.npz"
    optim.save_checkpoint(path, model)
    os.chmod(path, 0o640)
    optim.save_checkpoint(path, model, extra={"again": True})
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert optim.load_checkpoint(path, make_model(device, seed=2)) == {"again": True}
