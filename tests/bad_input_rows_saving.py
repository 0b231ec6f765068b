"""Bad-input rows for checkpoints (see tests/test_bad_inputs.py)."""

from __future__ import annotations

import math

import numpy as np
from bad_input_world import World, case

import minigrad as mg
import optim

NAN, INF = math.nan, math.inf


def save_transposed_optimizer(w: World) -> None:
    """Save, without a model, an optimizer like the world's whose tensors are the transposes of the model's."""
    tensors = [(name, mg.tensor(np.zeros(param.shape[::-1], dtype=param.dtype), requires_grad=True, device=w.device))
               for name, param in w.model.named_parameters()]
    optim.save_checkpoint(w.folder / "transposed.npz", None, optim.Adam(tensors, lr=0.01, use_ema=True))


ROWS = [
    # ----------------------------------------------------------------- checkpoints
    case("checkpoint-path", lambda w: optim.save_checkpoint(5, w.model), TypeError, "path", "5"),
    case("checkpoint-model", lambda w: optim.save_checkpoint(w.folder / "c.npz", [w.model]), TypeError,
         "model", "list"),
    case("checkpoint-extra", lambda w: optim.save_checkpoint(w.folder / "c.npz", w.model, extra={"a": {1, 2}}),
         TypeError, "extra", "set"),
    case("checkpoint-missing", lambda w: optim.load_checkpoint(w.folder / "missing.npz", w.model), FileNotFoundError,
         "path", "missing.npz"),
    case("checkpoint-not-npz", lambda w: optim.load_checkpoint(w.folder / "notes.txt", w.model, w.opt),
         optim.CheckpointError, "notes.txt", "not an .npz archive",
         setup=lambda w: (w.folder / "notes.txt").write_text("hello")),
    case("checkpoint-model-none", lambda w: optim.save_checkpoint(w.folder / "c.npz", None), TypeError,
         "model", "None"),
    case("checkpoint-save-to-folder", lambda w: optim.save_checkpoint(w.folder / "runs", w.model, w.opt),
         IsADirectoryError, "path", "runs", "is a folder", setup=lambda w: (w.folder / "runs").mkdir()),
    case("checkpoint-save-missing-folder", lambda w: optim.save_checkpoint(w.folder / "gone" / "c.npz", w.model),
         FileNotFoundError, "path", "c.npz", "gone", "does not exist"),
    case("checkpoint-load-folder", lambda w: optim.load_checkpoint(w.folder / "runs", w.model, w.opt),
         IsADirectoryError, "path", "runs", "is a folder", setup=lambda w: (w.folder / "runs").mkdir()),
    case("checkpoint-no-model-in-file", lambda w: optim.load_checkpoint(w.folder / "opt.npz", w.model, w.opt),
         optim.CheckpointError, "opt.npz", "holds no model", "model=None",
         setup=lambda w: optim.save_checkpoint(w.folder / "opt.npz", None, w.opt)),
    case("checkpoint-model-left-out", lambda w: optim.load_checkpoint(w.folder / "run.npz", None, w.opt),
         optim.CheckpointError, "run.npz", "0.weight", "pass that model",
         setup=lambda w: optim.save_checkpoint(w.folder / "run.npz", w.model, w.opt)),
    case("checkpoint-outside-tensor-shape", lambda w: optim.load_checkpoint(w.folder / "transposed.npz", None, w.opt),
         optim.CheckpointError, "transposed.npz", "position 0 (outside the model)", "shape (3, 4)", "shape (4, 3)",
         setup=save_transposed_optimizer),
]
