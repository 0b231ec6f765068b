"""Checkpoints of optimizers that hold parameters outside the saved model.

An optimizer may update tensors that the model passed to ``save_checkpoint`` does
not hold: a scale vector of its own, the parameters of a second model, or every
parameter when the model is ``None``. Their values are saved by position in the
optimizer's parameter order (format version 2), so that resuming is bitwise, on
the reference and on the fused path (whose ``param.data`` are views of flat
buffers), EMA averages included. A file whose tensors outside the model do not
fit the optimizer is refused, loading nothing; a file of format version 1 (which
did not save them) still loads, with a warning.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
from checkpoint_helpers import STEPS, batches, make_model, picture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
import optim
from optim.saving import checkpoint

LAYOUTS = ["scale vector", "two models", "no model"]
FORMAT_V1 = Path(__file__).resolve().parent / "checkpoints" / "format-v1.npz"


class Run(NamedTuple):
    """A model, the tensors its optimizer holds outside it, the optimizer, and what is passed as ``model``."""

    model: mg.nn.Module
    outside: list[mg.Tensor]
    opt: optim.Optimizer
    forward: Any
    saved_model: mg.nn.Module | None


def build(layout: str, device: str, seed: int = 0, fused: bool = False, scale_shape: tuple[int, ...] = (2,),
          scale_dtype: Any = np.float64) -> Run:
    """An MLP and, outside it, a scale vector or a second MLP; Adam with EMA and weight decay over both."""
    model = make_model(device, seed)
    if layout == "two models":
        head = make_model(device, seed + 1, sizes=(2, 2))
        outside = list(head.parameters())
        named_outside = [(f"head.{name}", param) for name, param in head.named_parameters()]

        def forward(x):
            return head(model(x))
    else:
        values = np.linspace(0.5, 1.5, int(np.prod(scale_shape))).reshape(scale_shape) + seed
        scale = mg.tensor(values.astype(scale_dtype), requires_grad=True, device=device)
        outside, named_outside = [scale], [("scale", scale)]

        def forward(x):
            return model(x) * scale
    opt = optim.Adam([*model.named_parameters(), *named_outside], lr=0.05, convention="pytorch", weight_decay=0.01,
                     use_ema=True, ema_momentum=0.9, fused=fused)
    return Run(model, outside, opt, forward, None if layout == "no model" else model)


def train(run: Run, data: list, start: int, stop: int) -> None:
    for x, y in data[start:stop]:
        run.opt.zero_grad()
        mg.cross_entropy(run.forward(x), y).backward()
        run.opt.step()


def every_bit(run: Run) -> dict[str, Any]:
    """The model, the optimizer (moments and EMA averages included) and the tensors outside the model."""
    out = picture(run.model, run.opt)
    for index, tensor in enumerate(run.outside):
        out[f"outside[{index}]"] = (tensor.dtype.str, tensor.shape, tensor.numpy().tobytes())
    return out


# --------------------------------------------------------------------------- resuming is exact
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=st.sampled_from(LAYOUTS), fused=st.booleans(), split=st.integers(1, STEPS - 1))
def test_resume_restores_the_parameters_outside_the_model(device, tmp_path, layout, fused, split):
    """Train STEPS steps straight, or `split` steps, save, load into a run built from other initial
    values (already trained, so that its fused buffers are bound), and train the rest: bit for bit."""
    data = batches(device)
    straight = build(layout, device, fused=fused)
    train(straight, data, 0, STEPS)

    first = build(layout, device, fused=fused)
    train(first, data, 0, split)
    assert all(tensor in first.opt.averages for tensor in first.outside)  # EMA averages outside the model exist
    path = tmp_path / "outside.npz"
    optim.save_checkpoint(path, first.saved_model, first.opt)
    resumed = build(layout, device, seed=3, fused=fused)
    train(resumed, data, 0, 2)
    optim.load_checkpoint(path, resumed.saved_model, resumed.opt)
    assert every_bit(resumed) == every_bit(first)
    train(resumed, data, split, STEPS)
    assert every_bit(resumed) == every_bit(straight)


def test_the_file_lists_the_parameters_outside_the_model_by_position(tmp_path):
    run = build("two models", "cpu")
    train(run, batches("cpu"), 0, 2)
    path = tmp_path / "outside.npz"
    optim.save_checkpoint(path, run.model, run.opt)
    with np.load(path, allow_pickle=False) as archive:
        metadata = json.loads(archive["metadata"].tobytes())
        entries = metadata["optimizer"]["optimizer_only_parameters"]
        assert [entry["position"] for entry in entries] == [4, 5]  # the head's weight and bias, after the model's 4
        for entry, tensor in zip(entries, run.outside):
            assert (entry["dtype"], entry["shape"]) == (tensor.dtype.str, list(tensor.shape))
            np.testing.assert_array_equal(archive[entry["array"]], tensor.numpy())
    assert metadata["version"] == checkpoint.FORMAT_VERSION == 2


# --------------------------------------------------------------------------- refusals
def _refused(path, run: Run, match: str) -> None:
    before = every_bit(run)
    with pytest.raises(optim.CheckpointError, match=match):
        optim.load_checkpoint(path, run.saved_model, run.opt)
    assert every_bit(run) == before


@pytest.fixture
def saved_scale(device, tmp_path):
    """A checkpoint of a model and an optimizer that also holds a scale vector of shape (2,), float64."""
    run = build("scale vector", device)
    train(run, batches(device), 0, 3)
    path = tmp_path / "outside.npz"
    optim.save_checkpoint(path, run.model, run.opt)
    return path


@pytest.mark.parametrize("change, match", [
    ({"scale_shape": (1, 2)}, r"position 4 \(outside the model\) is saved with shape \(2,\) and dtype float64, "
                            r"this optimizer's has shape \(1, 2\) and dtype float64"),
    ({"scale_dtype": np.float32}, r"position 4 \(outside the model\) is saved with shape \(2,\) and dtype float64, "
                                  r"this optimizer's has shape \(2,\) and dtype float32"),
])
def test_a_tensor_outside_the_model_that_does_not_fit_is_refused(device, saved_scale, change, match):
    run = build("scale vector", device, seed=5, **change)
    train(run, batches(device), 0, 2)
    _refused(saved_scale, run, match)


def test_files_with_and_without_a_model_do_not_mix(device, tmp_path, saved_scale):
    """A file saved with model=None loads only with model=None, and a file with a model only with it."""
    without = build("no model", device)
    train(without, batches(device), 0, 2)
    optim.save_checkpoint(tmp_path / "no-model.npz", None, without.opt)
    _refused(tmp_path / "no-model.npz", build("scale vector", device, seed=1), "holds no model")
    _refused(saved_scale, build("no model", device, seed=1), r"holds the parameters \['0.bias'.*pass that model")


def _rewrite_metadata(path, change):
    """Edit the metadata JSON of a checkpoint and recompute its checksum (a well-formed foreign file)."""
    with np.load(path) as archive:
        members = {name: archive[name] for name in archive.files}
    metadata = json.loads(members["metadata"].tobytes())
    change(metadata["optimizer"])
    text = json.dumps(metadata).encode()
    members["metadata"] = np.frombuffer(text, dtype=np.uint8)
    members["checksum"] = np.frombuffer(checkpoint._checksum(text, members, metadata["arrays"]).encode(),
                                        dtype=np.uint8)
    np.savez(path, **members)


def test_a_file_without_the_values_outside_the_model_is_refused(device, saved_scale):
    _rewrite_metadata(saved_scale, lambda saved: saved.update(optimizer_only_parameters=[]))
    _refused(saved_scale, build("scale vector", device, seed=5),
             r"outside the model are at positions \[\] in the checkpoint, at \[4\] in this optimizer")


@pytest.mark.parametrize("change", [
    lambda entries: entries[0].update(dtype="<f4"),
    lambda entries: entries[0].update(shape=[3]),
    lambda entries: entries[0].update(position=True),
    lambda entries: entries.append(dict(entries[0])),
])
def test_a_malformed_list_of_tensors_outside_the_model_is_refused(device, saved_scale, change):
    _rewrite_metadata(saved_scale, lambda saved: change(saved["optimizer_only_parameters"]))
    _refused(saved_scale, build("scale vector", device, seed=5), "optimizer_only_parameters entry .* is malformed")


# --------------------------------------------------------------------------- format version 1
def test_a_version_1_file_still_loads_and_warns_about_tensors_outside_the_model():
    """A file written by format version 1 (a model (3, 5, 2), Adam with EMA over it and a scale vector,
    3 steps): everything it holds loads; the scale vector, which it did not save, keeps its value."""
    with np.load(FORMAT_V1, allow_pickle=False) as archive:
        metadata = json.loads(archive["metadata"].tobytes())
        saved = {entry["name"]: archive[entry["array"]] for entry in metadata["model"]["parameters"]}
    assert metadata["version"] == 1 and "optimizer_only_parameters" not in metadata["optimizer"]
    run = build("scale vector", "cpu", seed=4)
    run.opt.param_groups[0]["lr"] = 0.5  # the file's hyperparameters replace the loading optimizer's
    scale_before = run.outside[0].numpy().copy()
    with pytest.warns(UserWarning, match=r"format version 1 .* outside the model \(positions \[4\]\)"):
        assert optim.load_checkpoint(FORMAT_V1, run.model, run.opt) == {"format": 1}
    for name, param in run.model.named_parameters():
        np.testing.assert_array_equal(param.numpy(), saved[name])
    np.testing.assert_array_equal(run.outside[0].numpy(), scale_before)
    assert run.opt.iterations == 3 and run.opt.param_groups[0]["lr"] == 0.05
    assert set(run.opt.averages) == {*run.model.parameters(), *run.outside}


def test_a_version_1_file_loads_without_a_warning_when_nothing_is_outside_the_model(recwarn):
    model = make_model("cpu", seed=4)
    with np.load(FORMAT_V1, allow_pickle=False) as archive:
        metadata = json.loads(archive["metadata"].tobytes())
    assert optim.load_checkpoint(FORMAT_V1, model) == metadata["extra"]
    assert not [w for w in recwarn if "format version 1" in str(w.message)]
