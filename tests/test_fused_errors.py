"""What the fused path refuses (non-bool ``fused``, algorithms without a fused path, lazy updates), its
configuration, and the ``python -m optim bench`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fused_helpers import CLASSES, host, make_params

import optim
from minigrad import backend
from minigrad.sparse import RowSparseGrad
from optim.fused import jit as fused_jit


# --------------------------------------------------------------------------- errors and configuration
def test_fused_must_be_a_bool(device):
    (x,) = make_params([(2,)], np.float64, device)
    with pytest.raises(TypeError, match=r"fused: expected True or False, got 1"):
        optim.Adam([x], fused=1)


def test_algorithms_without_a_fused_path_are_refused(device):
    """An optimizer class that does not provide a fused engine (the base class's default) refuses fused=True."""
    (x,) = make_params([(2,)], np.float64, device)
    with pytest.raises(TypeError, match=r"fused: Optimizer has no fused path"):
        optim.Optimizer([x], {"lr": 0.1}, fused=True)


def test_lazy_updates_are_refused(device):
    """lazy=True is refused at construction; a convention's lazy default is refused when a sparse gradient
    arrives, before anything changes."""
    (table,) = make_params([(4, 2)], np.float64, device)
    with pytest.raises(ValueError, match=r"lazy: .*lazy=True cannot be combined with fused=True"):
        optim.Adam([table], lr=0.1, lazy=True, fused=True)
    optimizer = optim.Adamax([table], convention="tensorflow", fused=True)
    before = host(table.data)
    grad = RowSparseGrad(backend.to_device(np.array([1]), device), backend.to_device(np.ones((1, 2)), device), (4, 2))
    with pytest.raises(ValueError, match=r"shape \(4, 2\) has a row-sparse gradient.*lazy=False"):
        optimizer.apply_gradients([(grad, table)])
    assert np.array_equal(host(table.data), before)
    assert optimizer.iterations == 0 and optimizer.calls == 0 and not optimizer.state


@pytest.mark.parametrize("cls", CLASSES)
def test_get_config_keeps_fused(device, cls):
    (x,) = make_params([(2,)], np.float64, device)
    config = json.loads(json.dumps(cls([x], lr=0.01, fused=True).get_config()))
    assert config["fused"] is True
    assert cls.from_config(config, [x]).fused is True
    assert "fused" not in cls([x], lr=0.01).get_config()


def test_bench_command_prints_the_table_and_the_goals(capsys):
    """``python -m optim bench`` on a tiny shape: the floor, both minigrad paths, a Markdown table, the goals."""
    from optim.cli import main

    assert main(["bench", "--shapes", "3x1000", "--algorithms", "adam", "--steps", "1", "--rounds", "1",
                 "--warmup", "0"]) == 0
    out = capsys.readouterr().out
    for row in ("| adam | 3 x 1000 | - | floor |", "| adam | 3 x 1000 | - | floor (copy) |",
                "| adam | 3 x 1000 | plain | reference |", "| adam | 3 x 1000 | plain | fused |",
                "| adam | 3 x 1000 | kept | reference |", "| adam | 3 x 1000 | kept | fused |",
                "| adam | 3 x 1000 | kept | fused (general path) |"):
        assert row in out
    for loop in ("plain", "kept"):
        assert (f"| adam | 3 x 1000 | {loop} | fused (ufunc kernels) |" in out) == fused_jit.available()
    assert "read-modify-write bandwidth" in out and "copy bandwidth" in out and "adam 3 x 1000: fused" in out
    assert "| adam | 3 x 1000 | - | ufunc arithmetic (in cache) |" in out
    assert "x floor, ufunc kernels (their arithmetic alone: " in out  # the bound beside the ufunc goal


def test_the_ufunc_arithmetic_bound_runs_the_ufunc_kernel_on_one_chunk(monkeypatch):
    """The bound times the ufunc kernel of the algorithm (even with Numba installed) over one core's share of the
    elements, in pieces of one cache-sized chunk, on one thread."""
    from optim.cli import bench_methods
    from optim.fused import cpu as fused_cpu

    calls = []
    monkeypatch.setattr(fused_cpu, "num_threads", lambda: 2)
    original = fused_cpu.run_pieces
    monkeypatch.setattr(fused_cpu, "run_pieces",
                        lambda pieces, threads=None: calls.append((list(pieces), threads)) or original(pieces, threads))
    length = fused_cpu.CHUNK_BYTES // 4
    run = bench_methods.ufunc_arithmetic("adamax", 6 * length, "float32")  # binding the buffers takes a step
    calls.clear()
    run()
    (pieces, threads), = calls
    assert threads == 1 and len(pieces) == 3  # 6 chunks' worth of elements, half of them on this core
    assert {piece.kernel for piece in pieces} == {fused_cpu._UFUNC_KERNELS["adamax"]}
    assert all(piece.stop - piece.start == length and piece.arrays is pieces[0].arrays for piece in pieces)
