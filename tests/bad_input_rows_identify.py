"""Bad-input rows for optim.identify and its run files (see tests/test_bad_inputs.py)."""

from __future__ import annotations

import math

import numpy as np
from bad_input_world import case

import optim
from optim.identify.npz import RunFileError, load_run

NAN, INF = math.nan, math.inf
INITIAL = np.zeros(3, np.float32)
STEPS = np.zeros((2, 3), np.float32)


def identify(**changes):
    """optim.identify on a valid two-step run, with ``changes`` to its arguments."""
    arguments = {"initial": INITIAL, "grads": STEPS, "params": STEPS, "lr": 0.1, **changes}
    return optim.identify(**arguments)


def run_file(w, drop: tuple[str, ...] = (), **arrays):
    """A run file in the world's folder: a valid run with ``arrays`` added or replaced and ``drop`` left out."""
    entries = {"initial": INITIAL, "grads": STEPS, "params": STEPS, **arrays}
    path = w.folder / "run.npz"
    np.savez(path, **{name: value for name, value in entries.items() if name not in drop})
    return path


ROWS = [
    # ----------------------------------------------------------------- identify
    case("identify-algorithm", lambda w: identify(algorithm="adamw"), ValueError, "algorithm", "'adamw'"),
    case("identify-lr-nan", lambda w: identify(lr=NAN), ValueError, "lr", "nan"),
    case("identify-betas", lambda w: identify(betas=(0.9, 1.0)), ValueError, "betas[1]", "1.0"),
    case("identify-eps-negative", lambda w: identify(eps=-1e-8), ValueError, "eps", "-1e-08"),
    case("identify-weight-decay-inf", lambda w: identify(weight_decay=INF), ValueError, "weight_decay", "inf"),
    case("identify-maximize", lambda w: identify(maximize="yes"), TypeError, "maximize", "'yes'"),
    case("identify-initial-nan", lambda w: identify(initial=np.array([0, NAN, 0], np.float32)), ValueError,
         "initial", "(1,)", "nan"),
    case("identify-initial-dtype", lambda w: identify(initial=np.zeros(3, np.int64)), TypeError, "initial",
         "int64"),
    case("identify-initial-float16", lambda w: identify(initial=np.zeros(3, np.float16),
                                                        grads=STEPS.astype(np.float16),
                                                        params=STEPS.astype(np.float16)), TypeError, "initial",
         "float16"),
    case("identify-grads-shape", lambda w: identify(grads=np.zeros((2, 4), np.float32)), ValueError, "grads",
         "(2, 4)"),
    case("identify-params-steps", lambda w: identify(params=np.zeros((3, 3), np.float32)), ValueError, "params",
         "3 steps"),
    case("identify-dtypes-differ", lambda w: identify(params=np.zeros((2, 3))), TypeError, "params", "float64",
         "float32"),
    case("identify-no-steps", lambda w: identify(grads=np.zeros((0, 3), np.float32),
                                                 params=np.zeros((0, 3), np.float32)), ValueError, "grads", "(0, ...)"),
    # ----------------------------------------------------------------- run files
    case("run-file-missing", lambda w: load_run(w.folder / "missing.npz"), FileNotFoundError, "missing.npz"),
    case("run-file-not-npz", lambda w: load_run(w.folder / "notes.txt"), RunFileError, "notes.txt",
         "not an .npz archive", setup=lambda w: (w.folder / "notes.txt").write_text("hello")),
    case("run-file-missing-array", lambda w: load_run(w.run), RunFileError, "params", "missing",
         setup=lambda w: setattr(w, "run", run_file(w, drop=("params",)))),
    case("run-file-unknown-array", lambda w: load_run(w.run), RunFileError, "'momentum'",
         setup=lambda w: setattr(w, "run", run_file(w, momentum=np.zeros(3)))),
    case("run-file-setting-shape", lambda w: load_run(w.run), RunFileError, "lr", "(2,)",
         setup=lambda w: setattr(w, "run", run_file(w, lr=np.array([0.1, 0.2])))),
    case("run-file-objects", lambda w: load_run(w.run), RunFileError, "grads", "objects",
         setup=lambda w: setattr(w, "run", run_file(w, grads=np.array([None, 1.0], dtype=object)))),
]

