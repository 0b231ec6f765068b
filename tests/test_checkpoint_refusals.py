"""Checkpoints that must be refused with CheckpointError, loading nothing, and never running code.

Truncated files, flipped bytes, foreign .npz files, plain zips, text, pickles (renamed, or
hidden in an object array: the payload would create a marker file, which must not appear),
newer format versions, models of another shape and optimizers built differently. After each
refusal every bit of the model and optimizer that the load was aimed at is as it was.
"""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import numpy as np
import pytest
from checkpoint_helpers import batches, make_model, make_optimizer, picture, save_trained, train

import optim
from optim.saving import checkpoint


@pytest.fixture
def trained(device, tmp_path):
    """A model and optimizer after 7 steps (mid accumulation window), saved to a checkpoint."""
    return save_trained(device, tmp_path)


# --------------------------------------------------------------------------- refusals: nothing is loaded
def _refused(path, device, match=None):
    """Load ``path`` into a fresh model and optimizer: it must raise CheckpointError and change nothing."""
    model = make_model(device, seed=11)
    opt = make_optimizer(model)
    train(model, opt, batches(device), 0, 2)
    before = picture(model, opt)
    with pytest.raises(optim.CheckpointError, match=match):
        optim.load_checkpoint(path, model, opt)
    assert picture(model, opt) == before


@pytest.mark.parametrize("keep", [0, 3, 10, 100, 0.5, 0.9, -1])
def test_truncated_file_is_refused(device, trained, keep):
    *_, path = trained
    data = path.read_bytes()
    size = int(len(data) * keep) if isinstance(keep, float) else (len(data) + keep if keep < 0 else keep)
    path.write_bytes(data[:size])
    _refused(path, device)


def test_flipped_bytes_are_refused_or_harmless(device, trained):
    """Flip one byte at 80 places across the file: each is refused, or (a zip timestamp, say) the
    file still loads exactly the saved values; a flip in an array or in the metadata is refused."""
    model, opt, _, path = trained
    saved = picture(model, opt)
    data = path.read_bytes()
    weight = data.find(model[0].weight.numpy().tobytes())
    metadata = data.find(b'"format"')
    assert weight > 0 and metadata > 0
    positions = sorted({*np.linspace(0, len(data) - 1, 80).astype(int).tolist(), weight + 5, metadata + 3})
    refused = 0
    for position in positions:
        damaged = bytearray(data)
        damaged[position] ^= 0xFF
        path.write_bytes(bytes(damaged))
        target = make_model(device, seed=3)
        target_opt = make_optimizer(target)
        before = picture(target, target_opt)
        try:
            optim.load_checkpoint(path, target, target_opt)
        except optim.CheckpointError:
            assert picture(target, target_opt) == before, position
            refused += 1
            continue
        assert position not in (weight + 5, metadata + 3), position
        assert picture(target, target_opt) == saved, position
    assert refused > len(positions) // 2


def test_foreign_npz_is_refused(device, tmp_path):
    path = tmp_path / "foreign.npz"
    np.savez(path, weights=np.ones(3), metadata=np.frombuffer(b'{"format": "other"}', dtype=np.uint8))
    _refused(path, device, match="not a readable checkpoint")
    np.savez(path, a=np.zeros(2))
    _refused(path, device, match="metadata")


def test_plain_zip_and_other_files_are_refused(device, tmp_path):
    path = tmp_path / "plain.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata", "hello")
        archive.writestr("readme.txt", "not a checkpoint")
    _refused(path, device, match="not a readable checkpoint")
    path.write_text("just text")
    _refused(path, device, match="not an .npz archive")
    path.write_bytes(b"")
    _refused(path, device, match="not an .npz archive")
    with pytest.raises(FileNotFoundError, match=r"missing\.npz"):
        optim.load_checkpoint(tmp_path / "missing.npz", make_model(device))


class _Payload:
    """Unpickling this object creates the file ``marker``: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickles_are_refused_without_running_them(device, tmp_path):
    """A pickle renamed .npz, and an .npz whose member is an object array holding a pickle, are
    refused and never unpickled: the marker file that unpickling would create does not appear."""
    marker = tmp_path / "pwned"
    renamed = tmp_path / "model.npz"
    renamed.write_bytes(pickle.dumps(_Payload(marker)))
    _refused(renamed, device, match="not an .npz archive")
    hidden = tmp_path / "hidden.npz"
    buffer = io.BytesIO()
    np.save(buffer, np.array([_Payload(marker)], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(hidden, "w") as archive:
        archive.writestr("metadata.npy", buffer.getvalue())
        archive.writestr("checksum.npy", buffer.getvalue())
    _refused(hidden, device, match="not a readable checkpoint")
    assert not marker.exists()
    pickle.loads(renamed.read_bytes()).close()  # the payload is live: loading it would have run code
    assert marker.exists()


def _rewrite_metadata(path, change):
    """Edit the metadata JSON of a checkpoint and recompute its checksum (a well-formed foreign file)."""
    with np.load(path) as archive:
        members = {name: archive[name] for name in archive.files}
    metadata = json.loads(members["metadata"].tobytes())
    change(metadata)
    text = json.dumps(metadata).encode()
    members["metadata"] = np.frombuffer(text, dtype=np.uint8)
    table = metadata["arrays"]
    members["checksum"] = np.frombuffer(checkpoint._checksum(text, members, table).encode(), dtype=np.uint8)
    np.savez(path, **members)


def test_newer_format_and_other_formats_are_refused(device, trained):
    *_, path = trained
    _rewrite_metadata(path, lambda m: m.update(version=checkpoint.FORMAT_VERSION + 1))
    _refused(path, device, match=f"format version {checkpoint.FORMAT_VERSION + 1}")
    _rewrite_metadata(path, lambda m: m.update(format="someone-else", version=1))
    _refused(path, device, match="does not name the format")


def test_wrong_model_is_refused_before_anything_loads(device, trained):
    *_, path = trained
    for sizes, match in (((3, 6, 2), r"'0.weight' is saved with shape \(5, 3\).*\(6, 3\)"),
                         ((3, 5, 5, 2), r"missing parameters \['4.bias', '4.weight'\]")):
        model = make_model(device, sizes=sizes)
        opt = make_optimizer(model)
        before = picture(model, opt)
        with pytest.raises(optim.CheckpointError, match=match):
            optim.load_checkpoint(path, model, opt)
        assert picture(model, opt) == before


@pytest.mark.parametrize("change, match", [
    ({"algorithm": "adamax"}, "saved by a Adam optimizer, cannot load into Adamax"),
    ({"convention": "keras"}, "convention saved 'pytorch', here 'keras'"),
    ({"accumulation": 4}, "option gradient_accumulation_steps saved 3, here 4"),
    ({"nonfinite": "skip"}, "option nonfinite saved 'propagate', here 'skip'"),
    ({"reverse": True}, "parameters saved"),
])
def test_mismatched_optimizer_is_refused(device, trained, change, match):
    """Class, convention, options and parameter order must agree, or the resumed run would differ."""
    *_, path = trained
    model = make_model(device)
    if change.pop("reverse", False):
        opt = optim.Adam(list(model.named_parameters())[::-1], lr=0.05, weight_decay=0.01, convention="pytorch",
                         use_ema=True, ema_momentum=0.9, gradient_accumulation_steps=3)
    else:
        opt = make_optimizer(model, **change)
    before = picture(model, opt)
    with pytest.raises(optim.CheckpointError, match=match):
        optim.load_checkpoint(path, model, opt)
    assert picture(model, opt) == before


