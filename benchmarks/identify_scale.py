"""Time and peak memory of ``python -m optim identify`` on a large run file (float32).

The run file is made by the library itself: Adam with the Keras convention (lr 1e-3) on one
parameter of ``--size`` coordinates for ``--steps`` steps, with gradients from a seeded generator
(sizes from 1e-6 to 1 across coordinates). It is written one step at a time into an uncompressed
``.npz`` (about 8 GB at the default 10,000 x 100,000), in a temporary folder unless ``--out`` names
one; it is deleted afterwards unless ``--keep``. The command then runs in a child process; the
script prints its wall time, its peak resident memory and whether keras was among the matches.

Run from the repository root::

    python benchmarks/identify_scale.py                          # 10,000 steps x 100,000 coordinates
    python benchmarks/identify_scale.py --steps 200 --size 5000  # a quick look
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

try:
    import minigrad as mg
except ImportError:  # run from a checkout without installing it
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import minigrad as mg
import optim
from optim.cli.types import positive_int

ROOT = Path(__file__).resolve().parents[1]
SEED = 0
LR = 1e-3


def gradients(steps: int, size: int) -> Iterator[np.ndarray]:
    """The gradient of every step, drawn again identically on every call."""
    rng = np.random.default_rng(SEED)
    scales = np.logspace(-6, 0, size).astype(np.float32)
    for _ in range(steps):
        yield rng.standard_normal(size, dtype=np.float32) * scales


def _write_member(archive: zipfile.ZipFile, name: str, shape: tuple[int, ...], rows: Iterator[np.ndarray]) -> None:
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)), "fortran_order": False, "shape": shape}
    with archive.open(f"{name}.npy", "w", force_zip64=True) as stream:
        np.lib.format.write_array_header_1_0(stream, header)
        for row in rows:
            stream.write(np.ascontiguousarray(row, dtype=np.float32).tobytes())


def _trajectory(initial: np.ndarray, steps: int) -> Iterator[np.ndarray]:
    param = mg.tensor(initial.copy(), requires_grad=True)
    optimizer = optim.Adam([param], lr=LR, convention="keras")
    for grad in gradients(steps, initial.size):
        optimizer.apply_gradients([(grad, param)])
        yield param.data


def write_run(path: Path, steps: int, size: int) -> None:
    """The run file: initial, the gradients, the parameters after every step, and the settings; streamed."""
    initial = (np.random.default_rng(SEED + 1).standard_normal(size) * 0.1).astype(np.float32)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        _write_member(archive, "initial", (size,), iter([initial]))
        _write_member(archive, "grads", (steps, size), gradients(steps, size))
        _write_member(archive, "params", (steps, size), _trajectory(initial, steps))
        for name, value in (("algorithm", "adam"), ("lr", LR)):
            with archive.open(f"{name}.npy", "w") as stream:
                np.lib.format.write_array(stream, np.asarray(value))


def measure(path: Path) -> dict[str, object]:
    """Run ``python -m optim identify PATH --json`` in a child process: time, peak memory, the matches."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "optim", "identify", str(path), "--json"], cwd=ROOT,
                          stdout=subprocess.PIPE, text=True, check=False)
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux: kibibytes
    report = json.loads(done.stdout)
    return {"status": done.returncode, "seconds": seconds, "peak_mib": peak_mib, "matches": report["matches"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=positive_int, default=10_000)
    parser.add_argument("--size", type=positive_int, default=100_000)
    parser.add_argument("--out", type=Path, help="folder for the run file (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the run file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.out) as folder:
        path = Path(folder) / "run.npz"
        start = time.perf_counter()
        write_run(path, args.steps, args.size)
        print(f"wrote {path.stat().st_size / 2**30:.2f} GiB in {time.perf_counter() - start:.0f} s "
              f"({args.steps} steps x {args.size} coordinates, float32)")
        result = measure(path)
        if args.keep:
            path.rename(Path(args.out or ".") / "run.npz")
    print(f"python -m optim identify: {result['seconds']:.1f} s, peak memory {result['peak_mib']:.0f} MiB, "
          f"exit status {result['status']}, matches: {'; '.join(result['matches'])}")
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"NumPy {np.__version__}")
    return 0 if result["status"] == 0 and "keras" in result["matches"] else 1


if __name__ == "__main__":
    sys.exit(main())
