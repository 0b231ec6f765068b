"""Bad-input rows for checkpoints (see tests/test_bad_inputs.py)."""

from __future__ import annotations

import math

from bad_input_world import case

import optim

NAN, INF = math.nan, math.inf


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
]
